/*
 * UTF-8 checks and escaping, shared by the message parser, the address
 * codec and the daemon's log.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "utf8.h"

size_t
utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (left <= n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

/* How many bytes from s on are ASCII: replies are mostly ASCII (base64
 * data above all), so they are scanned 16 bytes a step where it can. */
static size_t
utf8_ascii_run(const unsigned char *s, size_t len)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= len; i += 16) {
		__m128i v =
		    _mm_loadu_si128((const __m128i *)(const void *)(s + i));

		if (_mm_movemask_epi8(v) != 0)
			break;
	}
#endif
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	for (;;) {
		size_t n;

		i += utf8_ascii_run(u + i, len - i);
		if (i == len)
			return true;
		n = utf8_seq(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
}

size_t
utf8_repair(char *s, size_t len)
{
	unsigned char *u = (unsigned char *)s;
	size_t i = 0, bad = 0;

	for (;;) {
		size_t n;

		i += utf8_ascii_run(u + i, len - i);
		if (i == len)
			return bad;
		n = utf8_seq(u + i, len - i);
		if (n == 0) {
			u[i] = '?';
			bad++;
			n = 1;
		}
		i += n;
	}
}

size_t
utf8_escape(const char *s, size_t n, char *buf, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t used = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		const char *out = s + i;
		size_t len = 1, step = 1;
		unsigned char c = u[i];
		char esc[9];

		if (c == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
		    u[i + 1] < 0xa0) {
			/* A C1 control (U+0080 to U+009F): a control too, which
			 * some terminals act on; its two bytes go together. */
			snprintf(esc, sizeof esc, "\\xc2\\x%02x", u[i + 1]);
			out = esc;
			len = strlen(esc);
			step = 2;
		} else if (c >= 0x80 && (len = utf8_seq(u + i, n - i)) > 0) {
			step = len;
		} else if (c < 0x20 || c >= 0x7f) {
			if (c == '\n')
				memcpy(esc, "\\n", 3);
			else if (c == '\r')
				memcpy(esc, "\\r", 3);
			else if (c == '\t')
				memcpy(esc, "\\t", 3);
			else
				snprintf(esc, sizeof esc, "\\x%02x", c);
			out = esc;
			len = strlen(esc);
		}
		if (used + len >= size)
			break;
		memcpy(buf + used, out, len);
		used += len;
		i += step;
	}
	buf[used] = '\0';
	return used;
}
