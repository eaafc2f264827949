/*
 * base64 (RFC 4648 section 4): the standard alphabet, always padded.
 * Decoding is strict, so that each byte string has exactly one text form:
 * characters outside the alphabet, a length that is not a multiple of 4,
 * padding anywhere but the end and non-zero bits under the padding are all
 * refused.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "b64.h"

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Each character's 6-bit value; 0xff for anything outside the alphabet,
 * '=' included: padding is checked apart. */
#define X 0xff
static const uint8_t b64_value[256] = {
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	62, X,	X,  X,	63, 52, 53, 54, 55, 56, 57, 58, 59, 60,
    61, X,  X,	X,  X,	X,  X,	X,  0,	1,  2,	3,  4,	5,  6,	7,  8,	9,  10,
    11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,	X,  X,
    X,	X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42,
    43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,
    X,	X,  X,	X,  X,	X,  X,	X,  X,
};
#undef X

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * For decoding four characters with four lookups and one 32-bit store:
 * each table holds a character's 6 bits already where they go in the
 * three output bytes (little-endian), or B64_BAD.
 */
#define B64_BAD 0x01000000u
#define B64V(c)                                                                \
	((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                \
	 : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                           \
	 : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                           \
	 : (c) == '+'		    ? 62                                       \
	 : (c) == '/'		    ? 63                                       \
				    : -1)
/* The value as unsigned, so that the branch B64D does not take still
 * shifts nothing negative. */
#define B64U(c)	      ((uint32_t)B64V(c) & 0x3fu)
#define B64D(c, expr) (B64V(c) < 0 ? B64_BAD : (expr))
#define D0(c)	      B64D(c, B64U(c) << 2)
#define D1(c)	      B64D(c, (B64U(c) >> 4) | (B64U(c) & 0xfu) << 12)
#define D2(c)	      B64D(c, (B64U(c) >> 2) << 8 | (B64U(c) & 3u) << 22)
#define D3(c)	      B64D(c, B64U(c) << 16)
#define T4(f, n)      f(n), f((n) + 1), f((n) + 2), f((n) + 3)
#define T16(f, n)     T4(f, n), T4(f, (n) + 4), T4(f, (n) + 8), T4(f, (n) + 12)
#define T64(f, n)                                                              \
	T16(f, n), T16(f, (n) + 16), T16(f, (n) + 32), T16(f, (n) + 48)
#define T256(f) T64(f, 0), T64(f, 64), T64(f, 128), T64(f, 192)
static const uint32_t b64_d0[256] = {T256(D0)};
static const uint32_t b64_d1[256] = {T256(D1)};
static const uint32_t b64_d2[256] = {T256(D2)};
static const uint32_t b64_d3[256] = {T256(D3)};
#define B64_FAST 1
#else
#define B64_FAST 0
#endif

/* Encode len bytes into out, NUL terminated. */
size_t
b64_encode(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	char *o = out;
	uint32_t v;

	for (; len >= 3; len -= 3, p += 3) {
		v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = b64_alphabet[(v >> 6) & 0x3f];
		*o++ = b64_alphabet[v & 0x3f];
	}
	if (len > 0) {
		v = (uint32_t)p[0] << 16;
		if (len == 2)
			v |= (uint32_t)p[1] << 8;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = len == 2 ? b64_alphabet[(v >> 6) & 0x3f] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (size_t)(o - out);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define B64_AVX2 1

/*
 * 32 characters to 24 bytes per step with AVX2 (the method of Muła and
 * Lemire, "Faster Base64 Encoding and Decoding Using AVX2 Instructions"):
 * two nibble lookups tell a valid character from any other, a third gives
 * the offset that turns it into its 6-bit value, and two multiply-adds
 * pack four values into three bytes. Each step stores 32 bytes, so it
 * stops while at least 16 more characters (12 more bytes) follow. The
 * characters taken (a multiple of 32), or (size_t)-1 at an invalid one.
 */
__attribute__((target("avx2"))) static size_t
b64_decode_avx2(const unsigned char *in, size_t len, unsigned char *out)
{
	const __m256i lut_lo = _mm256_setr_epi8(
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13,
	    0x1a, 0x1b, 0x1b, 0x1b, 0x1a, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m256i lut_hi = _mm256_setr_epi8(
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08,
	    0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m256i lut_roll = _mm256_setr_epi8(
	    0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19,
	    4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	const __m256i slash = _mm256_set1_epi8('/');
	const __m256i order = _mm256_setr_epi8(
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6,
	    5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	size_t i = 0;

	for (; len - i >= 48; i += 32, out += 24) {
		__m256i v =
		    _mm256_loadu_si256((const __m256i *)(const void *)(in + i));
		__m256i hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), nibble);
		__m256i lo = _mm256_and_si256(v, nibble);
		__m256i roll;

		if (!_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, lo),
					_mm256_shuffle_epi8(lut_hi, hi)))
			return (size_t)-1;
		roll = _mm256_shuffle_epi8(
		    lut_roll, _mm256_add_epi8(_mm256_cmpeq_epi8(v, slash), hi));
		v = _mm256_add_epi8(v, roll);
		v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
		v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
		v = _mm256_shuffle_epi8(v, order);
		v = _mm256_permutevar8x32_epi32(v, lanes);
		_mm256_storeu_si256((__m256i *)(void *)out, v);
	}
	return i;
}
#else
#define B64_AVX2 0
#endif

/* Decode strictly; out may hold partial output when -EINVAL is returned. */
int
b64_decode(const char *in, size_t len, void *out, size_t *ret_len)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char *o = out;
	uint8_t a, b, c, d;
	size_t full, pad = 0, i = 0;

	if (len % 4 != 0)
		return -EINVAL;
	if (len > 0 && p[len - 1] == '=')
		pad = p[len - 2] == '=' ? 2 : 1;
	/* Every group but a padded last one decodes four characters. */
	full = pad ? len - 4 : len;
#if B64_AVX2
	if (full >= 48 && __builtin_cpu_supports("avx2")) {
		i = b64_decode_avx2(p, full, o);
		if (i == (size_t)-1)
			return -EINVAL;
		o += i / 4 * 3;
	}
#endif
#if B64_FAST
	/* All but the last full group store four bytes, the fourth
	 * overwritten by the next group. */
	for (; i + 4 < full; i += 4) {
		uint32_t x = b64_d0[p[i]] | b64_d1[p[i + 1]] |
			     b64_d2[p[i + 2]] | b64_d3[p[i + 3]];

		if (x & B64_BAD)
			return -EINVAL;
		memcpy(o, &x, sizeof x);
		o += 3;
	}
#endif
	for (; i < full; i += 4) {
		a = b64_value[p[i]];
		b = b64_value[p[i + 1]];
		c = b64_value[p[i + 2]];
		d = b64_value[p[i + 3]];
		if ((a | b | c | d) & 0xc0)
			return -EINVAL;
		*o++ = (unsigned char)(a << 2 | b >> 4);
		*o++ = (unsigned char)(b << 4 | c >> 2);
		*o++ = (unsigned char)(c << 6 | d);
	}
	if (pad) {
		p += full;
		a = b64_value[p[0]];
		b = b64_value[p[1]];
		c = pad == 1 ? b64_value[p[2]] : 0;
		if ((a | b | c) & 0xc0)
			return -EINVAL;
		/* The bits the padding stands for must be zero. */
		if (pad == 2 ? (b & 0x0f) != 0 : (c & 0x03) != 0)
			return -EINVAL;
		*o++ = (unsigned char)(a << 2 | b >> 4);
		if (pad == 1)
			*o++ = (unsigned char)(b << 4 | c >> 2);
	}
	*ret_len = (size_t)(o - (unsigned char *)out);
	return 0;
}

/* The value of a hex digit, or -1. */
int
b64_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
