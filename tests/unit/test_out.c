/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "unit.h"

static char *buf;
static size_t len;

static FILE *mem(void)
{
	free(buf);
	buf = NULL;
	return open_memstream(&buf, &len);
}

static const char *json_of(const void *s, size_t n)
{
	FILE *f = mem();

	out_json_string(f, s, n);
	fclose(f);
	return buf;
}

int main(void)
{
	FILE *f;
	struct jsonw w;
	struct table t;

	CHECK_STR(json_of("a\"b\\c", 5), "\"a\\\"b\\\\c\"", "quote and backslash");
	CHECK_STR(json_of("\n\r\t\x01\x1f\x7f", 6), "\"\\n\\r\\t\\u0001\\u001f\\u007f\"",
		  "control characters");
	CHECK_STR(json_of("\0x", 2), "\"\\u0000x\"", "NUL byte");
	CHECK_STR(json_of("h\xc3\xa9llo", 6), "\"h\xc3\xa9llo\"", "UTF-8 kept");
	CHECK_STR(json_of("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"", "4-byte UTF-8 kept");
	CHECK_STR(json_of("\xff", 1), "\"\\ufffd\"", "invalid byte replaced");
	CHECK_STR(json_of("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"", "overlong rejected");
	CHECK_STR(json_of("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"", "surrogate rejected");
	CHECK_STR(json_of("\xe2\x82", 2), "\"\\ufffd\\ufffd\"", "truncated sequence");
	CHECK(out_utf8_valid("abc\xc3\xa9", 5), "valid utf8");
	CHECK(!out_utf8_valid("\xf5\x80\x80\x80", 4), "beyond U+10FFFF invalid");
	CHECK(!out_utf8_valid("\x80", 1), "lone continuation invalid");

	f = mem();
	json_begin(&w, f);
	json_str(&w, "s", "x");
	json_int(&w, "i", -5);
	json_uint(&w, "u", 18446744073709551615ULL);
	json_num(&w, "d", 1.23456, 3);
	json_num(&w, "nan", 0.0 / 0.0, 3);
	json_bool(&w, "b", 1);
	json_null(&w, "z");
	json_hex(&w, "h", "\x00\xff", 2);
	json_strn(&w, "bin", "a\0b", 3);
	json_end(&w);
	fclose(f);
	CHECK_STR(buf,
		  "{\"s\":\"x\",\"i\":-5,\"u\":18446744073709551615,\"d\":1.235,\"nan\":null,"
		  "\"b\":true,\"z\":null,\"h\":\"00ff\",\"bin\":\"a\\u0000b\"}\n",
		  "json object");

	f = mem();
	table_init(&t, 3);
	table_add(&t, (const char *const[]){ "A", "BBBB", "C" });
	table_add(&t, (const char *const[]){ "aaa", "b", "cc" });
	CHECK(table_print(&t, f) == 0, "table prints");
	table_free(&t);
	fclose(f);
	CHECK_STR(buf, "A    BBBB  C\naaa  b     cc\n", "table aligned");

	f = mem();
	out_hexdump(f, "hello, world!\n\x00\x01\xff", 17, 0);
	fclose(f);
	CHECK_STR(buf,
		  "00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 01  |hello, world!...|\n"
		  "00000010  ff                                                |.|\n",
		  "hexdump like hexdump -C");

	f = mem();
	out_escaped(f, "a\\b\n\x01\xff", 6);
	fclose(f);
	CHECK_STR(buf, "a\\\\b\\n\\x01\\xff", "escaped text");

	/* UTF-8 text as is; controls (C0, C1, bidi) and invalid bytes escaped */
	f = mem();
	out_text(f, "\xd0\xa1\xe5\xa5\x97 \xf0\x9f\x98\x80\n", 11, 1);
	fclose(f);
	CHECK_STR(buf, "\xd0\xa1\xe5\xa5\x97 \xf0\x9f\x98\x80\\n", "utf-8 shown as text");
	f = mem();
	out_text(f, "\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xff\xe5\xa5x\xc0\xaf", 14, 1);
	fclose(f);
	CHECK_STR(buf, "\\xc2\\x9b\\xe2\\x80\\xae\\xe2\\x81\\xa6\\xff\\xe5\\xa5x\\xc0\\xaf",
		  "C1, bidi overrides, invalid, truncated and overlong sequences escaped");
	f = mem();
	out_text(f, "\xd0\xa1", 2, 0);
	fclose(f);
	CHECK_STR(buf, "\\xd0\\xa1", "not a UTF-8 locale: escaped");
	free(buf);
	return UNIT_DONE();
}
