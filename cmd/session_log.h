/* SPDX-License-Identifier: MIT */
/*
 * What connect and listen do with the bytes they relay, when asked:
 * -C/--crlf, --delay DUR between lines from stdin, and a session log in a
 * file (-o/--output: raw chunks; --hex-dump: the same as a hex dump), written
 * with one write(2) per chunk as the bytes move, so a crash loses nothing
 * already relayed.  Log format, one record per chunk written out:
 *   "> OFFSET LENGTH TIME\n" then LENGTH raw bytes and "\n"   (-o)
 *   "> OFFSET LENGTH TIME\n" then hexdump -C lines               (--hex-dump)
 * ">" sent to the peer, "<" received from it; OFFSET counts that direction's
 * bytes from 0; TIME is UTC, ISO 8601 with microseconds.  With listen -k
 * every client's records go to the same files (with -e/-c each from the
 * client's own relay process: O_APPEND, one write(2) per record, so records
 * never interleave) and each header names its client:
 * "> OFFSET LENGTH TIME ID PEER", ID as in the events, OFFSET per client.
 * (-x is not the hex dump: on connect it is nc's proxy, so the hex dump is
 * long-only everywhere.)
 */
#ifndef SOCKCTL_SESSION_LOG_H
#define SOCKCTL_SESSION_LOG_H

#include <stdint.h>
#include <stdio.h>

#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "relay.h"

struct session_opts {
	int crlf;
	int64_t delay;        /* -1: none */
	const char *output;   /* -o FILE */
	const char *hex_dump; /* --hex-dump FILE */
};

#define OPT_SESSION(s)                                                                    \
	OPT_FLAG('C', "crlf", &(s)->crlf, "send each LF from stdin as CRLF"),             \
	OPT_DURATION(0, "delay", &(s)->delay, "wait DUR after each line sent from stdin"), \
	OPT_STRING('o', "output", &(s)->output, "FILE",                                    \
		   "log the session, both directions, to FILE as it moves"),                \
	OPT_STRING(0, "hex-dump", &(s)->hex_dump, "FILE",                                  \
		   "log the session to FILE as a hex dump (-x is nc's proxy)")

struct session_log {
	int fd, hex;      /* -1: none */
	uint64_t off[2];  /* [1] sent to the peer, [0] received */
	uint64_t client;  /* 0: one client; else its id, in every header */
	char who[ADDR_STRLEN]; /* with client: its address */
};

void session_opts_init(struct session_opts *s);
/* Any of them given: the bytes must go through sockctl. */
int session_opts_any(const struct session_opts *s);
/* Open the files (before any socket).  -1 with @e (status 1). */
int session_log_open(struct session_log *l, const struct session_opts *s, struct err *e);
/* The relay options that do what @s asks, @l the tap's log. */
void session_log_apply(struct session_log *l, const struct session_opts *s,
		       struct relay_opts *ro);
void session_log_close(struct session_log *l);
/* listen -k without -e: what @s asks of lib/server (the log of every client, --delay). */
struct server_opts;
void session_log_server(struct session_log *l, const struct session_opts *s,
			struct server_opts *so);
/* In a client's relay process (listen -k): name @id, @peer in every header, offsets from 0. */
void session_log_name(struct session_log *l, uint64_t id, const struct sockaddr *peer,
		      socklen_t peerlen);

#endif
