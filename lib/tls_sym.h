/* SPDX-License-Identifier: MIT */
/*
 * libssl without linking it.  Linking libssl (shared: two more libraries to
 * map and relocate; static: thousands of relocations) costs every command
 * 30-90% of its startup, so lib/tls calls OpenSSL through this table, which
 * tls_load() fills from dlopen("libssl.so.3") the first time TLS is asked
 * for.  Include it after the OpenSSL headers: each name below becomes a call
 * through the table, so OpenSSL's own macros (SSL_set_tlsext_host_name ->
 * SSL_ctrl) work unchanged.  A function lib/tls starts to use goes into
 * TLS_SYMS and gets its #define (the link fails until it does).
 */
#ifndef SOCKCTL_TLS_SYM_H
#define SOCKCTL_TLS_SYM_H

#define TLS_SYMS(X) \
	X(ASN1_STRING_get0_data) \
	X(ASN1_STRING_length) \
	X(ASN1_TIME_diff) \
	X(ASN1_TIME_to_tm) \
	X(BIO_ctrl) \
	X(BIO_free) \
	X(BIO_new) \
	X(BIO_new_file) \
	X(BIO_s_mem) \
	X(BN_bin2bn) \
	X(BN_free) \
	X(BN_to_ASN1_INTEGER) \
	X(CRYPTO_free) \
	X(ERR_clear_error) \
	X(ERR_get_error) \
	X(ERR_peek_error) \
	X(ERR_reason_error_string) \
	X(EVP_Digest) \
	X(EVP_PKEY_Q_keygen) \
	X(EVP_PKEY_free) \
	X(EVP_PKEY_get0_type_name) \
	X(EVP_PKEY_get_bits) \
	X(EVP_sha256) \
	X(GENERAL_NAMES_free) \
	X(OPENSSL_sk_num) \
	X(OPENSSL_sk_value) \
	X(PEM_read_bio_SSL_SESSION) \
	X(PEM_write_bio_SSL_SESSION) \
	X(RAND_bytes) \
	X(SSL_CIPHER_get_name) \
	X(SSL_CTX_check_private_key) \
	X(SSL_CTX_ctrl) \
	X(SSL_CTX_free) \
	X(SSL_CTX_load_verify_locations) \
	X(SSL_CTX_new) \
	X(SSL_CTX_sess_set_new_cb) \
	X(SSL_CTX_set_alpn_protos) \
	X(SSL_CTX_set_alpn_select_cb) \
	X(SSL_CTX_set_cipher_list) \
	X(SSL_CTX_set_ciphersuites) \
	X(SSL_CTX_set_default_verify_paths) \
	X(SSL_CTX_set_options) \
	X(SSL_CTX_set_verify) \
	X(SSL_CTX_use_PrivateKey) \
	X(SSL_CTX_use_PrivateKey_file) \
	X(SSL_CTX_use_certificate) \
	X(SSL_CTX_use_certificate_chain_file) \
	X(SSL_SESSION_free) \
	X(SSL_SESSION_is_resumable) \
	X(SSL_accept) \
	X(SSL_connect) \
	X(SSL_ctrl) \
	X(SSL_free) \
	X(SSL_get0_alpn_selected) \
	X(SSL_get0_param) \
	X(SSL_get0_peer_certificate) \
	X(SSL_get_current_cipher) \
	X(SSL_get_error) \
	X(SSL_get_ex_data) \
	X(SSL_get_ex_data_X509_STORE_CTX_idx) \
	X(SSL_get_peer_cert_chain) \
	X(SSL_get_rbio) \
	X(SSL_get_servername) \
	X(SSL_get_verify_result) \
	X(SSL_get_version) \
	X(SSL_get_wbio) \
	X(SSL_group_to_name) \
	X(SSL_new) \
	X(SSL_set_default_read_buffer_len) \
	X(SSL_version) \
	X(SSL_peek_ex) \
	X(OPENSSL_init_ssl) \
	X(BIO_int_ctrl) \
	X(BIO_test_flags) \
	X(SSL_set0_wbio) \
	X(BIO_up_ref) \
	X(BIO_push) \
	X(BIO_f_buffer) \
	X(SSL_CTX_set_default_read_buffer_len) \
	X(SSL_has_pending) \
	X(SSL_read_ex) \
	X(SSL_select_next_proto) \
	X(SSL_session_reused) \
	X(SSL_set1_host) \
	X(SSL_set_ex_data) \
	X(SSL_set_accept_state) \
	X(SSL_set_connect_state) \
	X(SSL_set_fd) \
	X(SSL_set_session) \
	X(SSL_shutdown) \
	X(SSL_write_ex) \
	X(TLS_client_method) \
	X(TLS_server_method) \
	X(X509V3_EXT_conf_nid) \
	X(X509V3_set_ctx) \
	X(X509_EXTENSION_free) \
	X(X509_NAME_add_entry_by_txt) \
	X(X509_NAME_print_ex) \
	X(X509_STORE_CTX_get_current_cert) \
	X(X509_STORE_CTX_get_error) \
	X(X509_STORE_CTX_get_error_depth) \
	X(X509_STORE_CTX_get_ex_data) \
	X(X509_VERIFY_PARAM_set1_ip_asc) \
	X(X509_add_ext) \
	X(X509_digest) \
	X(X509_free) \
	X(X509_get0_notAfter) \
	X(X509_get0_notBefore) \
	X(X509_get0_pubkey) \
	X(X509_get_X509_PUBKEY) \
	X(X509_get_ext_d2i) \
	X(X509_get_issuer_name) \
	X(X509_get_serialNumber) \
	X(X509_get_subject_name) \
	X(X509_getm_notAfter) \
	X(X509_getm_notBefore) \
	X(X509_gmtime_adj) \
	X(X509_new) \
	X(X509_set_issuer_name) \
	X(X509_set_pubkey) \
	X(X509_set_version) \
	X(X509_sign) \
	X(X509_get_default_cert_file) \
	X(X509_verify_cert_error_string) \
	X(i2d_X509_PUBKEY) \
	X(OpenSSL_version_num) \

#define TLS_SYM_FIELD(n) __typeof__(n) *p_##n;
struct tls_syms {
	TLS_SYMS(TLS_SYM_FIELD)
};
#undef TLS_SYM_FIELD
extern struct tls_syms tls_sym;

/* tls_sym.c fills the table by name: it sets TLS_SYM_NO_DEFINES. */
#ifndef TLS_SYM_NO_DEFINES
#define ASN1_STRING_get0_data (*tls_sym.p_ASN1_STRING_get0_data)
#define ASN1_STRING_length (*tls_sym.p_ASN1_STRING_length)
#define ASN1_TIME_diff (*tls_sym.p_ASN1_TIME_diff)
#define ASN1_TIME_to_tm (*tls_sym.p_ASN1_TIME_to_tm)
#define BIO_ctrl (*tls_sym.p_BIO_ctrl)
#define BIO_free (*tls_sym.p_BIO_free)
#define BIO_new (*tls_sym.p_BIO_new)
#define BIO_new_file (*tls_sym.p_BIO_new_file)
#define BIO_s_mem (*tls_sym.p_BIO_s_mem)
#define BN_bin2bn (*tls_sym.p_BN_bin2bn)
#define BN_free (*tls_sym.p_BN_free)
#define BN_to_ASN1_INTEGER (*tls_sym.p_BN_to_ASN1_INTEGER)
#define CRYPTO_free (*tls_sym.p_CRYPTO_free)
#define ERR_clear_error (*tls_sym.p_ERR_clear_error)
#define ERR_get_error (*tls_sym.p_ERR_get_error)
#define ERR_peek_error (*tls_sym.p_ERR_peek_error)
#define ERR_reason_error_string (*tls_sym.p_ERR_reason_error_string)
#define EVP_Digest (*tls_sym.p_EVP_Digest)
#define EVP_PKEY_Q_keygen (*tls_sym.p_EVP_PKEY_Q_keygen)
#define EVP_PKEY_free (*tls_sym.p_EVP_PKEY_free)
#define EVP_PKEY_get0_type_name (*tls_sym.p_EVP_PKEY_get0_type_name)
#define EVP_PKEY_get_bits (*tls_sym.p_EVP_PKEY_get_bits)
#define EVP_sha256 (*tls_sym.p_EVP_sha256)
#define GENERAL_NAMES_free (*tls_sym.p_GENERAL_NAMES_free)
#define OPENSSL_sk_num (*tls_sym.p_OPENSSL_sk_num)
#define OPENSSL_sk_value (*tls_sym.p_OPENSSL_sk_value)
#define PEM_read_bio_SSL_SESSION (*tls_sym.p_PEM_read_bio_SSL_SESSION)
#define PEM_write_bio_SSL_SESSION (*tls_sym.p_PEM_write_bio_SSL_SESSION)
#define RAND_bytes (*tls_sym.p_RAND_bytes)
#define SSL_CIPHER_get_name (*tls_sym.p_SSL_CIPHER_get_name)
#define SSL_CTX_check_private_key (*tls_sym.p_SSL_CTX_check_private_key)
#define SSL_CTX_ctrl (*tls_sym.p_SSL_CTX_ctrl)
#define SSL_CTX_free (*tls_sym.p_SSL_CTX_free)
#define SSL_CTX_load_verify_locations (*tls_sym.p_SSL_CTX_load_verify_locations)
#define SSL_CTX_new (*tls_sym.p_SSL_CTX_new)
#define SSL_CTX_sess_set_new_cb (*tls_sym.p_SSL_CTX_sess_set_new_cb)
#define SSL_CTX_set_alpn_protos (*tls_sym.p_SSL_CTX_set_alpn_protos)
#define SSL_CTX_set_alpn_select_cb (*tls_sym.p_SSL_CTX_set_alpn_select_cb)
#define SSL_CTX_set_cipher_list (*tls_sym.p_SSL_CTX_set_cipher_list)
#define SSL_CTX_set_ciphersuites (*tls_sym.p_SSL_CTX_set_ciphersuites)
#define SSL_CTX_set_default_verify_paths (*tls_sym.p_SSL_CTX_set_default_verify_paths)
#define SSL_CTX_set_options (*tls_sym.p_SSL_CTX_set_options)
#define SSL_CTX_set_verify (*tls_sym.p_SSL_CTX_set_verify)
#define SSL_CTX_use_PrivateKey (*tls_sym.p_SSL_CTX_use_PrivateKey)
#define SSL_CTX_use_PrivateKey_file (*tls_sym.p_SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_use_certificate (*tls_sym.p_SSL_CTX_use_certificate)
#define SSL_CTX_use_certificate_chain_file (*tls_sym.p_SSL_CTX_use_certificate_chain_file)
#define SSL_SESSION_free (*tls_sym.p_SSL_SESSION_free)
#define SSL_SESSION_is_resumable (*tls_sym.p_SSL_SESSION_is_resumable)
#define SSL_accept (*tls_sym.p_SSL_accept)
#define SSL_connect (*tls_sym.p_SSL_connect)
#define SSL_ctrl (*tls_sym.p_SSL_ctrl)
#define SSL_free (*tls_sym.p_SSL_free)
#define SSL_get0_alpn_selected (*tls_sym.p_SSL_get0_alpn_selected)
#define SSL_get0_param (*tls_sym.p_SSL_get0_param)
#define SSL_get0_peer_certificate (*tls_sym.p_SSL_get0_peer_certificate)
#define SSL_get_current_cipher (*tls_sym.p_SSL_get_current_cipher)
#define SSL_get_error (*tls_sym.p_SSL_get_error)
#define SSL_get_ex_data (*tls_sym.p_SSL_get_ex_data)
#define SSL_get_ex_data_X509_STORE_CTX_idx (*tls_sym.p_SSL_get_ex_data_X509_STORE_CTX_idx)
#define SSL_get_peer_cert_chain (*tls_sym.p_SSL_get_peer_cert_chain)
#define SSL_get_rbio (*tls_sym.p_SSL_get_rbio)
#define SSL_get_servername (*tls_sym.p_SSL_get_servername)
#define SSL_get_verify_result (*tls_sym.p_SSL_get_verify_result)
#define SSL_get_version (*tls_sym.p_SSL_get_version)
#define SSL_get_wbio (*tls_sym.p_SSL_get_wbio)
#define SSL_group_to_name (*tls_sym.p_SSL_group_to_name)
#define SSL_new (*tls_sym.p_SSL_new)
#define SSL_set_default_read_buffer_len (*tls_sym.p_SSL_set_default_read_buffer_len)
#define SSL_version (*tls_sym.p_SSL_version)
#define SSL_peek_ex (*tls_sym.p_SSL_peek_ex)
#define OPENSSL_init_ssl (*tls_sym.p_OPENSSL_init_ssl)
#define BIO_int_ctrl (*tls_sym.p_BIO_int_ctrl)
#define BIO_test_flags (*tls_sym.p_BIO_test_flags)
#define SSL_set0_wbio (*tls_sym.p_SSL_set0_wbio)
#define BIO_up_ref (*tls_sym.p_BIO_up_ref)
#define BIO_push (*tls_sym.p_BIO_push)
#define BIO_f_buffer (*tls_sym.p_BIO_f_buffer)
#define SSL_CTX_set_default_read_buffer_len (*tls_sym.p_SSL_CTX_set_default_read_buffer_len)
#define SSL_has_pending (*tls_sym.p_SSL_has_pending)
#define SSL_read_ex (*tls_sym.p_SSL_read_ex)
#define SSL_select_next_proto (*tls_sym.p_SSL_select_next_proto)
#define SSL_session_reused (*tls_sym.p_SSL_session_reused)
#define SSL_set1_host (*tls_sym.p_SSL_set1_host)
#define SSL_set_ex_data (*tls_sym.p_SSL_set_ex_data)
#define SSL_set_accept_state (*tls_sym.p_SSL_set_accept_state)
#define SSL_set_connect_state (*tls_sym.p_SSL_set_connect_state)
#define SSL_set_fd (*tls_sym.p_SSL_set_fd)
#define SSL_set_session (*tls_sym.p_SSL_set_session)
#define SSL_shutdown (*tls_sym.p_SSL_shutdown)
#define SSL_write_ex (*tls_sym.p_SSL_write_ex)
#define TLS_client_method (*tls_sym.p_TLS_client_method)
#define TLS_server_method (*tls_sym.p_TLS_server_method)
#define X509V3_EXT_conf_nid (*tls_sym.p_X509V3_EXT_conf_nid)
#define X509V3_set_ctx (*tls_sym.p_X509V3_set_ctx)
#define X509_EXTENSION_free (*tls_sym.p_X509_EXTENSION_free)
#define X509_NAME_add_entry_by_txt (*tls_sym.p_X509_NAME_add_entry_by_txt)
#define X509_NAME_print_ex (*tls_sym.p_X509_NAME_print_ex)
#define X509_STORE_CTX_get_current_cert (*tls_sym.p_X509_STORE_CTX_get_current_cert)
#define X509_STORE_CTX_get_error (*tls_sym.p_X509_STORE_CTX_get_error)
#define X509_STORE_CTX_get_error_depth (*tls_sym.p_X509_STORE_CTX_get_error_depth)
#define X509_STORE_CTX_get_ex_data (*tls_sym.p_X509_STORE_CTX_get_ex_data)
#define X509_VERIFY_PARAM_set1_ip_asc (*tls_sym.p_X509_VERIFY_PARAM_set1_ip_asc)
#define X509_add_ext (*tls_sym.p_X509_add_ext)
#define X509_digest (*tls_sym.p_X509_digest)
#define X509_free (*tls_sym.p_X509_free)
#define X509_get0_notAfter (*tls_sym.p_X509_get0_notAfter)
#define X509_get0_notBefore (*tls_sym.p_X509_get0_notBefore)
#define X509_get0_pubkey (*tls_sym.p_X509_get0_pubkey)
#define X509_get_X509_PUBKEY (*tls_sym.p_X509_get_X509_PUBKEY)
#define X509_get_ext_d2i (*tls_sym.p_X509_get_ext_d2i)
#define X509_get_issuer_name (*tls_sym.p_X509_get_issuer_name)
#define X509_get_serialNumber (*tls_sym.p_X509_get_serialNumber)
#define X509_get_subject_name (*tls_sym.p_X509_get_subject_name)
#define X509_getm_notAfter (*tls_sym.p_X509_getm_notAfter)
#define X509_getm_notBefore (*tls_sym.p_X509_getm_notBefore)
#define X509_gmtime_adj (*tls_sym.p_X509_gmtime_adj)
#define X509_new (*tls_sym.p_X509_new)
#define X509_set_issuer_name (*tls_sym.p_X509_set_issuer_name)
#define X509_set_pubkey (*tls_sym.p_X509_set_pubkey)
#define X509_set_version (*tls_sym.p_X509_set_version)
#define X509_sign (*tls_sym.p_X509_sign)
#define X509_get_default_cert_file (*tls_sym.p_X509_get_default_cert_file)
#define X509_verify_cert_error_string (*tls_sym.p_X509_verify_cert_error_string)
#define i2d_X509_PUBKEY (*tls_sym.p_i2d_X509_PUBKEY)
#define OpenSSL_version_num (*tls_sym.p_OpenSSL_version_num)
#endif

#endif
