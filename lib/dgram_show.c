/* SPDX-License-Identifier: MIT */
#include "dgram_show.h"

#include <string.h>

#include "addr.h"
#include "out.h"

/* "ADDR PORT LEN:" */
static void head(struct dgram_out *o, const struct dgram_shown *d)
{
	struct outbuf *b = &o->b;

	outbuf_addr(b, &o->from, d->from, d->fromlen);
	outbuf_putc(b, ' ');
	outbuf_u64(b, addr_port(d->from));
	outbuf_putc(b, ' ');
	outbuf_u64(b, d->len);
	outbuf_putc(b, ':');
}

#define KEY(b, k) outbuf_put((b), k, sizeof(k) - 1)

static void line_json(struct dgram_out *o, const struct dgram_shown *d)
{
	struct outbuf *b = &o->b;

	KEY(b, "{\"event\":");
	if (d->event)
		outbuf_json_string(b, d->event, strlen(d->event));
	else
		KEY(b, "\"datagram\"");
	KEY(b, ",\"from\":");
	if (d->from->sa_family == AF_INET) { /* digits and dots: nothing to escape */
		outbuf_putc(b, '"');
		outbuf_addr(b, &o->from, d->from, d->fromlen);
		outbuf_putc(b, '"');
	} else {
		const char *host = outbuf_addr_text(&o->from, d->from, d->fromlen);

		outbuf_json_string(b, host, o->from.hostlen);
	}
	KEY(b, ",\"port\":");
	outbuf_u64(b, addr_port(d->from));
	KEY(b, ",\"len\":");
	outbuf_u64(b, d->len);
	if (out_utf8_valid(d->data, d->caplen)) {
		KEY(b, ",\"data\":");
		outbuf_json_string(b, d->data, d->caplen);
	} else {
		KEY(b, ",\"data_hex\":\"");
		outbuf_hex(b, d->data, d->caplen);
		outbuf_putc(b, '"');
	}
	KEY(b, ",\"ts\":");
	outbuf_fixed(b, d->real_ns, 9, 6);
	if (d->caplen < d->len) {
		KEY(b, ",\"truncated\":true,\"captured\":");
		outbuf_u64(b, d->caplen);
	}
	if (d->rtt_ns >= 0) {
		KEY(b, ",\"rtt_ms\":");
		outbuf_fixed(b, d->rtt_ns, 6, 3);
	}
	KEY(b, "}\n");
}

void dgram_out_add(struct dgram_out *o, enum dgram_fmt fmt, const struct dgram_shown *d)
{
	switch (fmt) {
	case DGRAM_QUIET:
		return;
	case DGRAM_RAW:
		outbuf_put(&o->b, d->data, d->caplen);
		break;
	case DGRAM_JSON:
		line_json(o, d);
		break;
	case DGRAM_HEX:
		head(o, d);
		outbuf_putc(&o->b, '\n');
		outbuf_hexdump(&o->b, d->data, d->caplen);
		break;
	case DGRAM_TEXT:
		head(o, d);
		outbuf_putc(&o->b, ' ');
		outbuf_text_escape(&o->b, d->data, d->caplen, d->utf8 ? OUT_UTF8 : 0);
		outbuf_putc(&o->b, '\n');
		break;
	}
	o->lines++;
}

int dgram_out_write(struct dgram_out *o, FILE *f)
{
	o->lines = 0;
	return outbuf_flush_to(&o->b, f);
}

void dgram_out_free(struct dgram_out *o)
{
	outbuf_free(&o->b);
	memset(o, 0, sizeof(*o));
}
