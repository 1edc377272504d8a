/* SPDX-License-Identifier: MIT */
/*
 * The JSON string escaper over arbitrary bytes: the output must be one JSON
 * string literal, valid UTF-8, with no raw control characters; decoding it
 * must give back the input wherever the input was valid UTF-8 (invalid bytes
 * become U+FFFD).  out_utf8_valid is cross-checked against a plain decoder.
 * The whole object writer (json_begin .. json_end) must give one line.
 */
#include "fuzz.h"
#include "out.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Put code point @cp as UTF-8 at @out; returns the length. */
static size_t put_utf8(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (unsigned char)(0xe0 | cp >> 12);
	out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp & 0x3f));
	return 3;
}

/* Decode the JSON string literal @s (@n bytes) into @out; returns its length. */
static size_t decode(const unsigned char *s, size_t n, unsigned char *out)
{
	size_t i = 1, o = 0;

	FUZZ_ASSERT(n >= 2 && s[0] == '"' && s[n - 1] == '"', "not a quoted string");
	while (i < n - 1) {
		unsigned c = s[i];

		FUZZ_ASSERT(c >= 0x20 && c != 0x7f, "raw control byte 0x%02x at %zu", c, i);
		FUZZ_ASSERT(c != '"', "unescaped quote at %zu", i);
		if (c != '\\') {
			out[o++] = (unsigned char)c;
			i++;
			continue;
		}
		FUZZ_ASSERT(i + 1 < n - 1, "backslash at the end");
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
			out[o++] = s[i + 1];
			i += 2;
			break;
		case 'n':
			out[o++] = '\n';
			i += 2;
			break;
		case 'r':
			out[o++] = '\r';
			i += 2;
			break;
		case 't':
			out[o++] = '\t';
			i += 2;
			break;
		case 'b':
			out[o++] = '\b';
			i += 2;
			break;
		case 'f':
			out[o++] = '\f';
			i += 2;
			break;
		case 'u': {
			uint32_t cp = 0;
			int k;

			FUZZ_ASSERT(i + 6 <= n - 1, "short \\u escape");
			for (k = 2; k < 6; k++) {
				int h = hexval(s[i + (size_t)k]);

				FUZZ_ASSERT(h >= 0, "bad hex digit in \\u escape");
				cp = cp << 4 | (uint32_t)h;
			}
			FUZZ_ASSERT(cp < 0xd800 || cp > 0xdfff, "lone surrogate \\u%04x", cp);
			o += put_utf8(cp, out + o);
			i += 6;
			break;
		}
		default:
			FUZZ_ASSERT(0, "bad escape \\%c", s[i + 1]);
		}
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = NULL;
	size_t len = 0, dlen;
	unsigned char *dec;
	struct jsonw w;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	out_json_string(f, data, size);
	if (fclose(f))
		abort();
	FUZZ_ASSERT(out_utf8_valid(buf, len), "output is not valid UTF-8");
	/* each input byte gives at most 6 output bytes ("\u0001", "\ufffd") */
	dec = malloc(len + 1);
	if (!dec)
		abort();
	dlen = decode((const unsigned char *)buf, len, dec);
	if (out_utf8_valid(data, size))
		FUZZ_ASSERT(dlen == size && !memcmp(dec, data, size),
			    "valid UTF-8 did not round-trip");
	else
		FUZZ_ASSERT(dlen >= 3, "invalid input gave no U+FFFD");
	free(dec);
	free(buf);

	/* a whole JSON Lines object, keys from the input too: exactly one line */
	buf = NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	json_begin(&w, f);
	json_strn(&w, "data", data, size);
	json_hex(&w, "hex", data, size < 64 ? size : 64);
	json_num(&w, "num", size ? (double)data[0] / 3.0 : 0.0, 3);
	json_int(&w, "n", -(long long)size);
	json_bool(&w, "b", (int)(size & 1));
	json_null(&w, "z");
	json_end(&w);
	if (fclose(f))
		abort();
	FUZZ_ASSERT(len >= 2 && buf[0] == '{' && buf[len - 1] == '\n' && buf[len - 2] == '}',
		    "not one object");
	FUZZ_ASSERT(memchr(buf, '\n', len) == buf + len - 1, "object spans lines");
	free(buf);
	return 0;
}
