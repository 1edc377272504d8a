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

static const char *text_of(const void *s, size_t n, unsigned flags)
{
	FILE *f = mem();

	out_text_escape(f, s, n, flags);
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
	CHECK_STR(json_of("\xc2\x9b" "2J\xc2\x80\xc2\x9f\xc2\xa0", 10),
		  "\"\\u009b2J\\u0080\\u009f\xc2\xa0\"", "C1 controls as \\u escapes");
	CHECK_STR(json_of("\xe2\x80\xaa\xe2\x80\xae\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\xa9", 15),
		  "\"\\u202a\\u202e\\u2066\\u2069\xe2\x80\xa9\"",
		  "bidi controls as \\u escapes, their neighbours as is");
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
	json_begin(&w, f);
	json_nums(&w, "n", (const double[]){ 1.5, 0.0 / 0.0, 2 }, 3, 1);
	json_strs(&w, "s", (const char *const[]){ "a\"", NULL }, 2);
	json_nums(&w, "e", NULL, 0, 1);
	json_end(&w);
	fclose(f);
	CHECK_STR(buf, "{\"n\":[1.5,null,2.0],\"s\":[\"a\\\"\",null],\"e\":[]}\n",
		  "json arrays: numbers (NaN null), strings (NULL null, escaped), empty");

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

	CHECK_STR(text_of("\xd0\xa1\xd0\xbe \xe5\xa5\x97", 8, OUT_UTF8),
		  "\xd0\xa1\xd0\xbe \xe5\xa5\x97", "UTF-8 text kept in a UTF-8 locale");
	CHECK_STR(text_of("\xd0\xa1", 2, 0), "\\xd0\\xa1", "UTF-8 escaped in other locales");
	CHECK_STR(text_of("a\x1b]0;x\x07\x7f", 8, OUT_UTF8), "a\\x1b]0;x\\x07\\x7f",
		  "C0 controls and DEL escaped");
	CHECK_STR(text_of("\xc2\x9b" "2J", 4, OUT_UTF8), "\\xc2\\x9b2J", "C1 CSI escaped");
	CHECK_STR(text_of("\xc2\xa0", 2, OUT_UTF8), "\xc2\xa0", "U+00A0 is text");
	CHECK_STR(text_of("a\xe2\x80\xae" "b\xe2\x81\xa6", 8, OUT_UTF8),
		  "a\\xe2\\x80\\xae" "b\\xe2\\x81\\xa6", "bidi override and isolate escaped");
	CHECK_STR(text_of("\xe2\x80\xa9\xe2\x81\xa0", 6, OUT_UTF8), "\xe2\x80\xa9\xe2\x81\xa0",
		  "neighbours of the bidi ranges are text");
	CHECK_STR(text_of("\xff\xd0", 2, OUT_UTF8), "\\xff\\xd0", "invalid and truncated bytes");
	CHECK_STR(text_of("\xc0\xaf\xed\xa0\x80", 5, OUT_UTF8),
		  "\\xc0\\xaf\\xed\\xa0\\x80", "overlong and surrogate escaped");
	CHECK_STR(text_of("\xd0\xa1\xff\xd0\xa1", 5, OUT_UTF8), "\xd0\xa1\\xff\xd0\xa1",
		  "one bad byte does not hide the text after it");
	CHECK_STR(text_of("a\\x\n", 4, OUT_KEEP_BACKSLASH), "a\\x\\n",
		  "OUT_KEEP_BACKSLASH leaves backslashes");
	CHECK_STR(text_of("\0", 1, OUT_UTF8), "\\x00", "NUL escaped");
	{
		char small[8];

		CHECK(out_text_escape_buf(small, sizeof(small), "ab\x1b\x1b", 4, 0) == 6 &&
			      !strcmp(small, "ab\\x1b"),
		      "buffer: no half escape (%s)", small);
		CHECK(out_text_escape_buf(small, 4, "a\xd0\xa1\xd0\xa1", 5, OUT_UTF8) == 3 &&
			      !strcmp(small, "a\xd0\xa1"),
		      "buffer: no half character");
	}
	free(buf);
	/* the charset as setlocale(3) would pick it: LC_ALL, LC_CTYPE, LANG */
	unsetenv("LC_ALL");
	unsetenv("LC_CTYPE");
	setenv("LANG", "ru_RU.UTF-8", 1);
	CHECK(out_locale_utf8(), "LANG=ru_RU.UTF-8 is UTF-8");
	setenv("LC_CTYPE", "C", 1);
	CHECK(!out_locale_utf8(), "LC_CTYPE=C wins over LANG");
	setenv("LC_ALL", "zh_CN.utf8", 1);
	CHECK(out_locale_utf8(), "LC_ALL=zh_CN.utf8 wins over both");
	setenv("LC_ALL", "", 1);
	CHECK(!out_locale_utf8(), "an empty LC_ALL is not set: LC_CTYPE=C");
	unsetenv("LC_CTYPE");
	setenv("LANG", "de_DE.ISO-8859-1", 1);
	CHECK(!out_locale_utf8(), "ISO-8859-1 is not UTF-8");
	unsetenv("LANG");
	CHECK(!out_locale_utf8(), "nothing set: the C locale");
	return UNIT_DONE();
}
