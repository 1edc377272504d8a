/* SPDX-License-Identifier: MIT */
/*
 * out_hexdump, out_escaped and out_text_escape over arbitrary bytes.  The hex
 * dump must have one line per 16 bytes, every line of the same shape; the
 * escaped text must be printable ASCII (with OUT_UTF8: valid UTF-8 without C0,
 * DEL, C1 or bidi controls) that decodes back to the input; the buffer form
 * must be a prefix of the stream form that never cuts an escape.
 * Input: 4 bytes of starting offset (little-endian), then the data.
 */
#include "fuzz.h"
#include "out.h"

/* Lower-case hex digit value, or -1. */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void check_hexdump(const uint8_t *data, size_t size, size_t offset)
{
	char *buf = NULL, *line, *nl;
	size_t len = 0, lines = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	out_hexdump(f, data, size, offset);
	if (fclose(f))
		abort();
	for (line = buf; line < buf + len; line = nl + 1) {
		size_t n = size - lines * 16 < 16 ? size - lines * 16 : 16;
		char want[24];
		size_t wl;

		nl = memchr(line, '\n', (size_t)(buf + len - line));
		FUZZ_ASSERT(nl, "last line not ended");
		/* "OFFSET  hh hh ... hh  hh ... hh  |text|": the offset has at
		 * least 8 digits, then 1 + 48 + 1 + 3 + n + 1 bytes */
		wl = (size_t)snprintf(want, sizeof(want), "%08zx", offset + lines * 16);
		FUZZ_ASSERT((size_t)(nl - line) == wl + 54 + n, "line %zu is %zu bytes", lines,
			    (size_t)(nl - line));
		FUZZ_ASSERT(!memcmp(line, want, wl) && line[wl] == ' ', "line %zu: wrong offset",
			    lines);
		for (i = 0; i < n; i++) {
			const char *h = line + wl + 2 + 3 * i + (i >= 8);

			FUZZ_ASSERT(hexval(h[0]) >= 0 && hexval(h[1]) >= 0 &&
					    (unsigned)(hexval(h[0]) << 4 | hexval(h[1])) ==
						    data[lines * 16 + i],
				    "line %zu byte %zu", lines, i);
		}
		FUZZ_ASSERT(line[wl + 50] == ' ' && line[wl + 51] == ' ' && line[wl + 52] == '|' &&
				    nl[-1] == '|',
			    "line %zu: text column misplaced", lines);
		lines++;
	}
	FUZZ_ASSERT(lines == (size + 15) / 16, "%zu lines for %zu bytes", lines, size);
	free(buf);
}

/* A C1 control or a bidi control, as UTF-8, at @p (@n bytes left)? */
static int unsafe_at(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 1;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 1;
	return n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9;
}

static void check_escaped(const uint8_t *data, size_t size, unsigned flags)
{
	char *buf = NULL, small[64];
	size_t len = 0, i, o = 0, sl;
	unsigned char *dec;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	if (flags)
		out_text_escape(f, data, size, flags);
	else
		out_escaped(f, data, size);
	if (fclose(f))
		abort();
	if (flags & OUT_UTF8) {
		FUZZ_ASSERT(out_utf8_valid(buf, len), "OUT_UTF8 output is not valid UTF-8");
		for (i = 0; i < len; i++)
			FUZZ_ASSERT(!unsafe_at((const unsigned char *)buf + i, len - i),
				    "C1 or bidi control at %zu", i);
	}
	sl = out_text_escape_buf(small, sizeof(small), data, size, flags);
	FUZZ_ASSERT(sl < sizeof(small) && strlen(small) == sl && sl <= len &&
			    !memcmp(small, buf, sl),
		    "buffer form is not a prefix of the stream form");
	/* it stops only when the next piece (at most 3 escaped bytes) does not fit */
	FUZZ_ASSERT(sl == len || sl + 12 >= sizeof(small) - 1, "buffer form stopped early");
	dec = malloc(len + 1);
	if (!dec)
		abort();
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		FUZZ_ASSERT(c >= 0x20 && (c < 0x7f || (flags & OUT_UTF8 && c >= 0x80)),
			    "unprintable byte 0x%02x in output", c);
		if (c != '\\') {
			dec[o++] = c;
			continue;
		}
		FUZZ_ASSERT(i + 1 < len, "backslash at the end");
		switch (buf[++i]) {
		case '\\':
			dec[o++] = '\\';
			break;
		case 'n':
			dec[o++] = '\n';
			break;
		case 'r':
			dec[o++] = '\r';
			break;
		case 't':
			dec[o++] = '\t';
			break;
		case 'x':
			FUZZ_ASSERT(i + 2 < len && hexval(buf[i + 1]) >= 0 &&
					    hexval(buf[i + 2]) >= 0,
				    "bad \\x escape");
			dec[o++] = (unsigned char)(hexval(buf[i + 1]) << 4 | hexval(buf[i + 2]));
			i += 2;
			break;
		default:
			FUZZ_ASSERT(0, "bad escape \\%c", buf[i]);
		}
	}
	FUZZ_ASSERT(o == size && !memcmp(dec, data, size), "escaped text does not round-trip");
	free(dec);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t offset = 0, i;

	if (size < 4)
		return 0;
	for (i = 0; i < 4; i++)
		offset |= (size_t)data[i] << (8 * i);
	check_hexdump(data + 4, size - 4, offset);
	check_escaped(data + 4, size - 4, 0);
	check_escaped(data + 4, size - 4, OUT_UTF8);
	return 0;
}
