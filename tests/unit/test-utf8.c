/*
 * Unit tests for proto/utf8.c: every class of ill-formed sequence and the
 * edge code points, each through utf8_seq, utf8_valid, utf8_repair and
 * utf8_escape; every code point against an encoder written here; the SSE2
 * ASCII scan at its 16-byte boundaries; escaping of controls and
 * truncation; and random inputs against a reference built on the table of
 * well-formed byte sequences in the Unicode standard (table 3-7).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "utf8.h"

/* A string literal and its length, NULs inside included. */
#define S(lit) (lit), sizeof(lit) - 1

/* Print len bytes as hex, for failure messages. */
static void
hexdump(const char *what, const void *s, size_t len)
{
	const unsigned char *u = s;

	fprintf(stderr, "  %s (%zu):", what, len);
	for (size_t i = 0; i < len && i < 48; i++)
		fprintf(stderr, " %02x", u[i]);
	fprintf(stderr, "%s\n", len > 48 ? " ..." : "");
}

/*
 * The reference: the length of the well-formed sequence at s[0] (any
 * byte), or 0, straight from the Unicode standard's table 3-7 of byte
 * ranges, a way of deciding independent of utf8.c's decode and compare.
 */
static size_t
ref_seq(const unsigned char *s, size_t left)
{
	static const struct {
		unsigned char lead_lo, lead_hi, lo2, hi2;
		size_t n;
	} table[] = {
	    {0x00, 0x7f, 0, 0, 1},	 {0xc2, 0xdf, 0x80, 0xbf, 2},
	    {0xe0, 0xe0, 0xa0, 0xbf, 3}, {0xe1, 0xec, 0x80, 0xbf, 3},
	    {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3},
	    {0xf0, 0xf0, 0x90, 0xbf, 4}, {0xf1, 0xf3, 0x80, 0xbf, 4},
	    {0xf4, 0xf4, 0x80, 0x8f, 4},
	};

	if (left == 0)
		return 0;
	for (size_t t = 0; t < sizeof table / sizeof table[0]; t++) {
		size_t n = table[t].n;

		if (s[0] < table[t].lead_lo || s[0] > table[t].lead_hi)
			continue;
		if (left < n)
			return 0;
		if (n > 1 && (s[1] < table[t].lo2 || s[1] > table[t].hi2))
			return 0;
		for (size_t k = 2; k < n; k++)
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		return n;
	}
	return 0;
}

/* The reference repair: each byte not in a well-formed sequence is '?'. */
static size_t
ref_repair(unsigned char *s, size_t len)
{
	size_t bad = 0;

	for (size_t i = 0; i < len;) {
		size_t n = ref_seq(s + i, len - i);

		if (n == 0) {
			s[i] = '?';
			bad++;
			n = 1;
		}
		i += n;
	}
	return bad;
}

/*
 * The reference escape of s, one piece per character: ends[k] is where
 * piece k ends in out, c1[k] whether it is a C1 control (two escapes,
 * "\xc2\xNN"). Returns the number of pieces; out is NUL terminated.
 */
static size_t
ref_escape(const unsigned char *s, size_t len, char *out, size_t *ends,
	   bool *c1)
{
	size_t o = 0, pieces = 0;

	for (size_t i = 0; i < len;) {
		size_t n = ref_seq(s + i, len - i);
		unsigned char c = s[i];

		c1[pieces] = n == 2 && c == 0xc2 && s[i + 1] <= 0x9f;
		if (c1[pieces]) {
			o += (size_t)sprintf(out + o, "\\xc2\\x%02x", s[i + 1]);
			i += 2;
		} else if (n > 1) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			i++;
		} else {
			if (c == '\n')
				o += (size_t)sprintf(out + o, "\\n");
			else if (c == '\r')
				o += (size_t)sprintf(out + o, "\\r");
			else if (c == '\t')
				o += (size_t)sprintf(out + o, "\\t");
			else
				o += (size_t)sprintf(out + o, "\\x%02x", c);
			i++;
		}
		ends[pieces++] = o;
	}
	out[o] = '\0';
	return pieces;
}

/* Encode cp in n bytes (overlong when n is more than it needs). */
static size_t
encode(uint32_t cp, size_t n, unsigned char *out)
{
	static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};

	if (n == 1) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	for (size_t k = n - 1; k > 0; k--) {
		out[k] = (unsigned char)(0x80 | (cp & 0x3f));
		cp >>= 6;
	}
	out[0] = (unsigned char)(lead[n] | cp);
	return n;
}

/* The bytes the shortest encoding of cp takes. */
static size_t
encoded_len(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* One input and what each function must make of it. */
struct utf8_case {
	const char *in;
	size_t len;
	bool valid;
	const char *repaired; /* same length as in */
	size_t bad;	      /* bytes utf8_repair replaces */
	const char *escaped;
};

#define VALID(in, esc)                                                         \
	{                                                                      \
		S(in), true, in, 0, esc                                        \
	}
#define ILL(in, rep, bad, esc)                                                 \
	{                                                                      \
		S(in), false, rep, bad, esc                                    \
	}

static const struct utf8_case cases[] = {
    /* Well-formed, at the edges of each length. */
    VALID("", ""),
    VALID("plain ASCII", "plain ASCII"),
    VALID("\x7f", "\\x7f"),	     /* U+007F, DEL: valid, but a control */
    VALID("\xc2\x80", "\\xc2\\x80"), /* U+0080, the first C1 control */
    VALID("\xc2\x9f", "\\xc2\\x9f"), /* U+009F, the last */
    VALID("\xc2\xa0", "\xc2\xa0"),   /* U+00A0, not a control */
    VALID("\xc3\xa9", "\xc3\xa9"),
    VALID("\xdf\xbf", "\xdf\xbf"),		   /* U+07FF */
    VALID("\xe0\xa0\x80", "\xe0\xa0\x80"),	   /* U+0800 */
    VALID("\xed\x9f\xbf", "\xed\x9f\xbf"),	   /* U+D7FF */
    VALID("\xee\x80\x80", "\xee\x80\x80"),	   /* U+E000 */
    VALID("\xef\xbf\xbf", "\xef\xbf\xbf"),	   /* U+FFFF */
    VALID("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"), /* U+10000 */
    VALID("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"), /* U+10FFFF */
    VALID("a\xe2\x82\xac"
	  "b\xf0\x9f\x98\x80",
	  "a\xe2\x82\xac"
	  "b\xf0\x9f\x98\x80"),
    /* NULs are valid UTF-8; escaped for people. */
    VALID("\0", "\\x00"),
    VALID("a\0b\0", "a\\x00b\\x00"),
    VALID("\xc3\xa9\0\xc3\xa9", "\xc3\xa9\\x00\xc3\xa9"),
    /* Controls, and the backslash, which stays. */
    VALID("a\nb\rc\td", "a\\nb\\rc\\td"),
    VALID("\x01\x1b[2J\x1f", "\\x01\\x1b[2J\\x1f"),
    VALID("C:\\x41\\", "C:\\x41\\"),

    /* Overlong forms: 2 bytes (C0, C1 leads), 3 (E0 80..9F) and 4
     * (F0 80..8F), each byte replaced. */
    ILL("\xc0\x80", "??", 2, "\\xc0\\x80"),
    ILL("\xc0\xaf", "??", 2, "\\xc0\\xaf"),
    ILL("\xc1\xbf", "??", 2, "\\xc1\\xbf"),
    ILL("\xe0\x80\x80", "???", 3, "\\xe0\\x80\\x80"),
    ILL("\xe0\x9f\xbf", "???", 3, "\\xe0\\x9f\\xbf"),
    ILL("\xf0\x80\x80\x80", "????", 4, "\\xf0\\x80\\x80\\x80"),
    ILL("\xf0\x8f\xbf\xbf", "????", 4, "\\xf0\\x8f\\xbf\\xbf"),
    /* Surrogates, U+D800..U+DFFF, alone or as a CESU-8 pair. */
    ILL("\xed\xa0\x80", "???", 3, "\\xed\\xa0\\x80"),
    ILL("\xed\xaf\xbf", "???", 3, "\\xed\\xaf\\xbf"),
    ILL("\xed\xb0\x80", "???", 3, "\\xed\\xb0\\x80"),
    ILL("\xed\xbf\xbf", "???", 3, "\\xed\\xbf\\xbf"),
    ILL("\xed\xa0\xbd\xed\xb8\x80", "??????", 6,
	"\\xed\\xa0\\xbd\\xed\\xb8\\x80"),
    /* Above U+10FFFF, and the leads F5..FF that could only start one
     * (or 5 and 6 byte forms). */
    ILL("\xf4\x90\x80\x80", "????", 4, "\\xf4\\x90\\x80\\x80"),
    ILL("\xf5\x80\x80\x80", "????", 4, "\\xf5\\x80\\x80\\x80"),
    ILL("\xf7\xbf\xbf\xbf", "????", 4, "\\xf7\\xbf\\xbf\\xbf"),
    ILL("\xf8\x88\x80\x80\x80", "?????", 5, "\\xf8\\x88\\x80\\x80\\x80"),
    ILL("\xfc\x84\x80\x80\x80\x80", "??????", 6,
	"\\xfc\\x84\\x80\\x80\\x80\\x80"),
    ILL("\xfe", "?", 1, "\\xfe"),
    ILL("\xff", "?", 1, "\\xff"),
    ILL("a\xff\xfe"
	"b",
	"a??b", 2, "a\\xff\\xfeb"),
    /* Lone continuation bytes. */
    ILL("\x80", "?", 1, "\\x80"),
    ILL("\xbf", "?", 1, "\\xbf"),
    ILL("a\x80\x80"
	"b",
	"a??b", 2, "a\\x80\\x80b"),
    ILL("\xc3\xa9\xa9", "\xc3\xa9?", 1, "\xc3\xa9\\xa9"),
    ILL("\xe2\x82\xac\x80", "\xe2\x82\xac?", 1, "\xe2\x82\xac\\x80"),
    /* Truncated: at the end, or cut short by another byte. */
    ILL("\xc2", "?", 1, "\\xc2"),
    ILL("\xdf", "?", 1, "\\xdf"),
    ILL("\xe0\xa0", "??", 2, "\\xe0\\xa0"),
    ILL("\xe2\x82", "??", 2, "\\xe2\\x82"),
    ILL("\xef\xbf", "??", 2, "\\xef\\xbf"),
    ILL("\xf0", "?", 1, "\\xf0"),
    ILL("\xf0\x90\x80", "???", 3, "\\xf0\\x90\\x80"),
    ILL("x\xf0\x9f\x98", "x???", 3, "x\\xf0\\x9f\\x98"),
    ILL("\xf4\x8f\xbf", "???", 3, "\\xf4\\x8f\\xbf"),
    ILL("\xc2"
	"A",
	"?A", 1, "\\xc2A"),
    ILL("\xe2\x82"
	"A",
	"??A", 2, "\\xe2\\x82A"),
    ILL("\xe2\0\xac", "?\0?", 2, "\\xe2\\x00\\xac"),
    /* A lead byte, then a sequence that is whole: only the first goes. */
    ILL("\xe2\xe2\x82\xac", "?\xe2\x82\xac", 1, "\\xe2\xe2\x82\xac"),
    ILL("\xf0\xc3\xa9", "?\xc3\xa9", 1, "\\xf0\xc3\xa9"),
    ILL("\xc3\xa9\xff\xc3\xa9", "\xc3\xa9?\xc3\xa9", 1,
	"\xc3\xa9\\xff\xc3\xa9"),
};

/* Each case through each function. */
static void
test_cases(void)
{
	for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
		const struct utf8_case *c = &cases[t];
		char buf[256], copy[64];
		size_t n, bad;
		bool ok;

		ok = utf8_valid(c->in, c->len) == c->valid;
		if (!ok) {
			fprintf(stderr, "utf8_valid: want %d\n", c->valid);
			hexdump("input", c->in, c->len);
		}
		CHECK(ok);

		memcpy(copy, c->in, c->len);
		bad = utf8_repair(copy, c->len);
		ok = bad == c->bad && memcmp(copy, c->repaired, c->len) == 0;
		if (!ok) {
			fprintf(stderr, "utf8_repair: %zu replaced, want %zu\n",
				bad, c->bad);
			hexdump("input", c->in, c->len);
			hexdump("got", copy, c->len);
			hexdump("want", c->repaired, c->len);
		}
		CHECK(ok);
		CHECK(utf8_valid(copy, c->len));
		CHECK(utf8_repair(copy, c->len) == 0);

		memset(buf, 'z', sizeof buf);
		n = utf8_escape(c->in, c->len, buf, sizeof buf);
		ok = strcmp(buf, c->escaped) == 0 && n == strlen(c->escaped);
		if (!ok) {
			fprintf(stderr,
				"utf8_escape: \"%s\" (%zu), want \"%s\"\n", buf,
				n, c->escaped);
			hexdump("input", c->in, c->len);
		}
		CHECK(ok);
	}
}

/* utf8_seq: its lengths, and never past left. */
static void
test_seq(void)
{
	static const struct {
		const char *s;
		size_t left;
		size_t want;
	} seqs[] = {
	    {"\xc2\x80", 2, 2},
	    {"\xdf\xbf", 2, 2},
	    {"\xe0\xa0\x80", 3, 3},
	    {"\xef\xbf\xbf", 3, 3},
	    {"\xf0\x90\x80\x80", 4, 4},
	    {"\xf4\x8f\xbf\xbf", 4, 4},
	    /* More bytes after the sequence do not make it longer. */
	    {"\xc3\xa9\x80", 3, 2},
	    {"\xe2\x82\xac\x80\x80", 5, 3},
	    /* left ends it, even where the next bytes would complete it. */
	    {"\xc3\xa9", 1, 0},
	    {"\xe2\x82\xac", 2, 0},
	    {"\xe2\x82\xac", 1, 0},
	    {"\xf0\x9f\x98\x80", 3, 0},
	    {"\xf0\x9f\x98\x80", 1, 0},
	    /* The bad classes, at the first byte. */
	    {"\x80\x80", 2, 0},
	    {"\xbf\x80", 2, 0},
	    {"\xc0\x80", 2, 0},
	    {"\xc1\xbf", 2, 0},
	    {"\xe0\x9f\xbf", 3, 0},
	    {"\xed\xa0\x80", 3, 0},
	    {"\xed\xbf\xbf", 3, 0},
	    {"\xf0\x8f\xbf\xbf", 4, 0},
	    {"\xf4\x90\x80\x80", 4, 0},
	    {"\xf5\x80\x80\x80", 4, 0},
	    {"\xff\x80\x80\x80", 4, 0},
	    {"\xc3\x41", 2, 0},
	    {"\xe2\x82\x41", 3, 0},
	    {"\xf0\x9f\x98\xc0", 4, 0},
	};

	for (size_t t = 0; t < sizeof seqs / sizeof seqs[0]; t++) {
		size_t n =
		    utf8_seq((const unsigned char *)seqs[t].s, seqs[t].left);

		if (n != seqs[t].want) {
			fprintf(stderr, "utf8_seq: %zu, want %zu, left %zu\n",
				n, seqs[t].want, seqs[t].left);
			hexdump("input", seqs[t].s, strlen(seqs[t].s));
		}
		CHECK(n == seqs[t].want);
	}
}

/* Report the first of count mismatches in a class of code points. */
static void
check_class(const char *what, size_t count, uint32_t first)
{
	if (count != 0)
		fprintf(stderr, "%s: %zu wrong, the first U+%04X\n", what,
			count, (unsigned)first);
	CHECK(count == 0);
}

/* Every code point, in its shortest form and every overlong one. */
static void
test_every_code_point(void)
{
	size_t wrong[6] = {0};
	uint32_t first[6] = {0};
	unsigned char s[8];
	char buf[32], want[32];

#define WRONG(k, cp)                                                           \
	do {                                                                   \
		if (wrong[k]++ == 0)                                           \
			first[k] = (cp);                                       \
	} while (0)

	for (uint32_t cp = 0x80; cp <= 0x1fffff; cp++) {
		bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
		size_t n = encoded_len(cp), got;

		encode(cp, n, s);
		got = utf8_seq(s, n);
		if (cp > 0x10ffff || surrogate) {
			/* [0]: surrogates and beyond U+10FFFF are refused. */
			if (got != 0 || utf8_valid((char *)s, n))
				WRONG(0, cp);
			continue;
		}
		/* [1]: the shortest form is a sequence, valid text. */
		if (got != n || !utf8_valid((char *)s, n))
			WRONG(1, cp);
		/* [2]: one byte short is not; with one more it is still n. */
		s[n] = 0x80;
		if (utf8_seq(s, n - 1) != 0 || utf8_seq(s, n + 1) != n)
			WRONG(2, cp);
		/* [3]: escaped as itself, or for C1 controls as \xNN\xNN. */
		if (cp <= 0x9f)
			snprintf(want, sizeof want, "\\x%02x\\x%02x", s[0],
				 s[1]);
		else
			snprintf(want, sizeof want, "%.*s", (int)n, (char *)s);
		if (utf8_escape((char *)s, n, buf, sizeof buf) !=
			strlen(want) ||
		    strcmp(buf, want) != 0)
			WRONG(3, cp);
	}
	for (uint32_t cp = 0; cp < 0x10000; cp++) {
		/* [4]: every overlong form, 2 to 4 bytes, is refused. */
		for (size_t n = encoded_len(cp) + 1; n <= 4; n++) {
			encode(cp, n, s);
			if (utf8_seq(s, n) != 0 || utf8_valid((char *)s, n))
				WRONG(4, cp);
		}
	}
	/* [5]: ASCII is valid everywhere, and never a sequence start. */
	for (uint32_t c = 0; c < 0x80; c++) {
		s[0] = (unsigned char)c;
		if (!utf8_valid((char *)s, 1))
			WRONG(5, c);
	}
#undef WRONG

	check_class("U+D800..U+DFFF and beyond U+10FFFF", wrong[0], first[0]);
	check_class("shortest form", wrong[1], first[1]);
	check_class("truncated by left", wrong[2], first[2]);
	check_class("escape of valid code points", wrong[3], first[3]);
	check_class("overlong forms", wrong[4], first[4]);
	check_class("ASCII", wrong[5], first[5]);
}

/*
 * The SSE2 scan goes 16 ASCII bytes a step: a bad byte after runs of
 * ASCII around each multiple of 16, at every alignment, is found, and
 * utf8_repair replaces exactly it.
 */
static void
test_ascii_runs(void)
{
	static const size_t runs[] = {0,  1,  7,  8,  15, 16, 17, 31, 32,
				      33, 47, 48, 49, 63, 64, 65, 127};
	static const unsigned char bads[] = {0x80, 0xbf, 0xc0, 0xc2,
					     0xe2, 0xed, 0xf5, 0xff};
	unsigned char mem[256 + 16];
	size_t fails = 0;

	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
		for (size_t b = 0; b < sizeof bads / sizeof bads[0]; b++)
			for (size_t off = 0; off < 16; off++)
				for (size_t tail = 0; tail <= 40; tail += 20) {
					char *s = (char *)mem + off;
					size_t n = runs[r], len = n + 1 + tail;
					bool ok;

					memset(s, 'a', len);
					if (n > 3)
						s[n / 2] = '\0'; /* ASCII too */
					s[n] = (char)bads[b];
					ok = !utf8_valid(s, len);
					ok = ok && utf8_repair(s, len) == 1;
					ok = ok && s[n] == '?';
					for (size_t i = 0; i < len; i++)
						if (i != n && i != n / 2 &&
						    s[i] != 'a')
							ok = false;
					ok = ok && utf8_valid(s, len);
					/* len ends before the bad byte. */
					s[n] = (char)bads[b];
					ok = ok && utf8_valid(s, n);
					if (!ok && fails++ == 0)
						fprintf(stderr,
							"ASCII run %zu, bad "
							"byte %02x, offset "
							"%zu, tail %zu\n",
							n, bads[b], off, tail);
				}
	CHECK(fails == 0);

	/* Valid sequences across a 16-byte boundary, and two bad bytes
	 * with a long ASCII run between them. */
	fails = 0;
	for (size_t n = 0; n < 70; n++) {
		char s[128];

		memset(s, 'b', sizeof s);
		memcpy(s + n, "\xf0\x9f\x98\x80", 4);
		if (!utf8_valid(s, sizeof s) || utf8_repair(s, sizeof s) != 0)
			fails++;
		s[n] = (char)0xff;
		s[n + 40] = (char)0x80;
		if (utf8_valid(s, sizeof s) || utf8_repair(s, sizeof s) != 5 ||
		    memcmp(s + n, "????", 4) != 0 || s[n + 40] != '?')
			fails++;
	}
	CHECK(fails == 0);

	/* Long ASCII, and a bad byte at the very end of it. */
	{
		char s[1000];

		memset(s, 'c', sizeof s);
		CHECK(utf8_valid(s, sizeof s));
		s[sizeof s - 1] = (char)0xe2;
		CHECK(!utf8_valid(s, sizeof s));
		CHECK(utf8_valid(s, sizeof s - 1));
		CHECK(utf8_repair(s, sizeof s) == 1);
		CHECK(s[sizeof s - 1] == '?');
	}
}

/* utf8_escape of every byte value on its own. */
static void
test_escape_bytes(void)
{
	size_t fails = 0;

	for (unsigned c = 0; c < 256; c++) {
		char in = (char)c, buf[16], want[16];

		if (c == '\n')
			snprintf(want, sizeof want, "\\n");
		else if (c == '\r')
			snprintf(want, sizeof want, "\\r");
		else if (c == '\t')
			snprintf(want, sizeof want, "\\t");
		else if (c >= 0x20 && c < 0x7f)
			snprintf(want, sizeof want, "%c", (char)c);
		else
			snprintf(want, sizeof want, "\\x%02x", c);
		if (utf8_escape(&in, 1, buf, sizeof buf) != strlen(want) ||
		    strcmp(buf, want) != 0) {
			if (fails++ == 0)
				fprintf(stderr, "escape of %02x: \"%s\"\n", c,
					buf);
		}
	}
	CHECK(fails == 0);

	/* Every C1 control, and its neighbours that are not. */
	for (unsigned c = 0x80; c <= 0xbf; c++) {
		char in[2] = {(char)0xc2, (char)c}, buf[16], want[16];

		if (c <= 0x9f)
			snprintf(want, sizeof want, "\\xc2\\x%02x", c);
		else
			snprintf(want, sizeof want, "\xc2%c", (char)c);
		utf8_escape(in, 2, buf, sizeof buf);
		if (strcmp(buf, want) != 0 && fails++ == 0)
			fprintf(stderr, "escape of c2 %02x: \"%s\"\n", c, buf);
	}
	CHECK(fails == 0);

	/* What it writes is one line of printable UTF-8. */
	{
		char in[256], buf[1100];
		size_t n;
		bool printable = true;

		for (int c = 0; c < 256; c++)
			in[c] = (char)c;
		n = utf8_escape(in, sizeof in, buf, sizeof buf);
		CHECK(n == strlen(buf));
		CHECK(utf8_valid(buf, n));
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)buf[i] < 0x20 ||
			    (unsigned char)buf[i] >= 0x7f)
				printable = false;
		CHECK(printable); /* all bytes >= 0x80 alone are escaped */
	}
}

/* Escape s into size bytes: want the text, its length, NUL terminated,
 * nothing written past size. */
static void
check_escape(const char *s, size_t len, size_t size, const char *want)
{
	char buf[64];
	size_t n;

	memset(buf, 'z', sizeof buf);
	n = utf8_escape(s, len, buf, size);
	if (n != strlen(want) || strcmp(buf, want) != 0) {
		fprintf(stderr,
			"utf8_escape size %zu: \"%.*s\" (%zu), "
			"want \"%s\"\n",
			size, (int)size, buf, n, want);
		hexdump("input", s, len);
	}
	CHECK(n == strlen(want) && strcmp(buf, want) == 0);
	CHECK(buf[size] == 'z');
}

/* Truncation: never inside an escape or a character, always ended. */
static void
test_escape_truncation(void)
{
	char buf[8];

	/* size 0 writes nothing at all. */
	memset(buf, 'z', sizeof buf);
	CHECK(utf8_escape("abc", 3, buf, 0) == 0);
	CHECK(buf[0] == 'z');
	CHECK(utf8_escape("", 0, buf, 0) == 0);
	CHECK(buf[0] == 'z');
	check_escape("abc", 3, 1, "");
	check_escape("", 0, 1, "");
	check_escape("abc", 3, 3, "ab");
	check_escape("abc", 3, 4, "abc");
	check_escape("abc", 3, 5, "abc");

	/* "\xNN" takes 4 bytes and the NUL one more. */
	check_escape("ab\x01", 3, 3, "ab");
	check_escape("ab\x01", 3, 4, "ab");
	check_escape("ab\x01", 3, 6, "ab");
	check_escape("ab\x01", 3, 7, "ab\\x01");
	check_escape("\xff", 1, 4, "");
	check_escape("\xff", 1, 5, "\\xff");
	check_escape("\x7f"
		     "a",
		     2, 5, "\\x7f");
	check_escape("\0", 1, 4, "");
	check_escape("\0", 1, 5, "\\x00");
	/* A letter after an escape that did not fit is not written. */
	check_escape("a\x01"
		     "b",
		     3, 5, "a");
	check_escape("a\x01"
		     "b",
		     3, 6, "a\\x01");
	check_escape("a\x01"
		     "b",
		     3, 7, "a\\x01b");
	/* "\n" takes 2. */
	check_escape("a\n", 2, 3, "a");
	check_escape("a\n", 2, 4, "a\\n");
	check_escape("\t\r", 2, 4, "\\t");
	/* A backslash stays a single byte. */
	check_escape("\\\\", 2, 2, "\\");
	check_escape("\\\\", 2, 3, "\\\\");

	/* Multibyte characters whole or not at all. */
	check_escape("a\xc3\xa9", 3, 3, "a");
	check_escape("a\xc3\xa9", 3, 4, "a\xc3\xa9");
	check_escape("a\xe2\x82\xac", 4, 4, "a");
	check_escape("a\xe2\x82\xac", 4, 5, "a\xe2\x82\xac");
	check_escape("\xf0\x9f\x98\x80", 4, 4, "");
	check_escape("\xf0\x9f\x98\x80", 4, 5, "\xf0\x9f\x98\x80");
	/* A C1 control is two escapes, 8 bytes. */
	check_escape("\xc2\x85", 2, 4, "");
	/* Cut inside it: both escapes or none (a character boundary). */
	for (size_t size = 5; size < 9; size++)
		check_escape("\xc2\x85", 2, size, "");
	check_escape("\xc2\x85", 2, 9, "\\xc2\\x85");
	check_escape("x\xc2\x9b", 3, 10, "x\\xc2\\x9b");
}

/* A small deterministic generator, for random inputs. */
static uint32_t rng_state = 0x12345678u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Random bytes, mostly the ones that matter to UTF-8. */
static size_t
random_text(unsigned char *s, size_t max)
{
	static const unsigned char pick[] = {
	    0x00, '\n', '\\', 'a',  0x1f, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
	    0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
	    0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff,
	};
	size_t len = rng() % max, i = 0;

	while (i < len) {
		uint32_t r = rng();

		if (r % 8 == 0 && i + 4 <= len) {
			/* A well-formed character of any length. */
			uint32_t cp = rng() % 0x110000;

			if (cp >= 0xd800 && cp <= 0xdfff)
				cp -= 0x800;
			i += encode(cp, encoded_len(cp), s + i);
		} else if (r % 8 < 3) {
			/* A run of ASCII, long enough for the SSE2 scan. */
			size_t n = rng() % 40;

			for (; n > 0 && i < len; n--)
				s[i++] = (unsigned char)('A' + rng() % 26);
		} else {
			s[i++] = pick[rng() % sizeof pick];
		}
	}
	return len;
}

/* Random inputs against the references, and utf8_escape at every size. */
static void
test_random(void)
{
	size_t fails_valid = 0, fails_repair = 0, fails_escape = 0,
	       fails_cut = 0;

	for (int round = 0; round < 20000; round++) {
		unsigned char in[100] = {0}, mine[100], ref[100];
		char want[500], buf[500];
		size_t ends[100], len = random_text(in, sizeof in);
		bool c1[100];
		size_t pieces = ref_escape(in, len, want, ends, c1), bad, n;

		memcpy(ref, in, len);
		memcpy(mine, in, len);
		bad = ref_repair(ref, len);
		if (utf8_valid((char *)in, len) != (bad == 0) &&
		    fails_valid++ == 0)
			hexdump("utf8_valid wrong on", in, len);
		if ((utf8_repair((char *)mine, len) != bad ||
		     memcmp(mine, ref, len) != 0) &&
		    fails_repair++ == 0)
			hexdump("utf8_repair wrong on", in, len);

		n = utf8_escape((char *)in, len, buf, sizeof buf);
		if ((n != strlen(want) || strcmp(buf, want) != 0) &&
		    fails_escape++ == 0) {
			hexdump("utf8_escape wrong on", in, len);
			fprintf(stderr, "  got \"%s\"\n  want \"%s\"\n", buf,
				want);
		}
		/* Cut to every size: the longest whole pieces that fit
		 * with the NUL, nothing written past size. */
		for (size_t size = 1; size <= strlen(want) + 1; size++) {
			size_t fit = 0, k = 0;

			for (; k < pieces && ends[k] < size; k++)
				fit = ends[k];
			memset(buf, 'z', sizeof buf);
			n = utf8_escape((char *)in, len, buf, size);
			if ((n != fit || strlen(buf) != n ||
			     memcmp(buf, want, n) != 0 || buf[size] != 'z') &&
			    fails_cut++ == 0) {
				hexdump("utf8_escape cut wrong on", in, len);
				fprintf(stderr, "  size %zu: \"%s\"\n", size,
					buf);
			}
		}
	}
	CHECK(fails_valid == 0);
	CHECK(fails_repair == 0);
	CHECK(fails_escape == 0);
	CHECK(fails_cut == 0);
}

int
main(void)
{
	test_cases();
	test_seq();
	test_every_code_point();
	test_ascii_runs();
	test_escape_bytes();
	test_escape_truncation();
	test_random();
	return UNIT_DONE();
}
