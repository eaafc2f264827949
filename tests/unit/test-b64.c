/*
 * Unit tests for proto/b64.c: the RFC 4648 vectors, every length up to 300
 * against a slow bit-at-a-time reference coder, and strict decoding.
 */
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "unit.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Reference encoder: one bit at a time, straight from the RFC's text. */
static void
ref_encode(const unsigned char *in, size_t len, char *out)
{
	size_t bits = len * 8, o = 0;

	for (size_t bit = 0; bit < bits; bit += 6) {
		int v = 0;

		for (size_t k = bit; k < bit + 6; k++) {
			int b = k < bits ? (in[k / 8] >> (7 - k % 8)) & 1 : 0;
			v = v << 1 | b;
		}
		out[o++] = alphabet[v];
	}
	while (o % 4 != 0)
		out[o++] = '=';
	out[o] = '\0';
}

/* Encode and decode one buffer, comparing with the reference. */
static void
round_trip(const unsigned char *in, size_t len)
{
	char *text = malloc(B64_ENCODED_LEN(len) + 1);
	char *ref = malloc(B64_ENCODED_LEN(len) + 1);
	size_t n, outlen = 12345;
	unsigned char *out;

	n = b64_encode(in, len, text);
	ref_encode(in, len, ref);
	CHECK(n == B64_ENCODED_LEN(len));
	CHECK(strlen(text) == n);
	CHECK(strcmp(text, ref) == 0);

	/* Exactly the bound the header promises, so ASan sees overruns. */
	out = malloc(B64_DECODED_MAX(n));
	CHECK(b64_decode(text, n, out, &outlen) == 0);
	CHECK(outlen == len);
	CHECK(memcmp(out, in, len) == 0);
	free(out);
	free(text);
	free(ref);
}

/* Decoding text must fail with -EINVAL and leave *ret_len alone. */
static void
reject(const char *text, size_t len)
{
	unsigned char out[64];
	size_t outlen = 777;

	CHECK(len <= 60);
	CHECK(b64_decode(text, len, out, &outlen) == -EINVAL);
	CHECK(outlen == 777);
}

#define REJECT(s) reject((s), sizeof(s) - 1)

/* Decode text and compare with the expected bytes. */
static void
accept(const char *text, const char *bytes, size_t blen)
{
	unsigned char out[64];
	size_t outlen = 0;

	CHECK(b64_decode(text, strlen(text), out, &outlen) == 0);
	CHECK(outlen == blen);
	CHECK(memcmp(out, bytes, blen) == 0);
}

/* Hex digits, compared with strtol's reading of each character. */
static void
test_hex_digit(void)
{
	for (int c = 1; c < 256; c++) {
		char text[2] = {(char)c, '\0'}, *end;
		long v = strtol(text, &end, 16);
		bool hex = *end == '\0' && c != ' ' && c != '+' && c != '-' &&
			   !(c >= '\t' && c <= '\r');

		CHECK(b64_hex_digit((char)c) == (hex ? (int)v : -1));
	}
}

/* Every byte value at every position of a long text: only the alphabet
 * decodes (the vector decoder takes 32 characters a step, so positions
 * in each lane and each step are covered). */
static void
test_every_byte_everywhere(void)
{
	enum { N = 120 };
	unsigned char in[N / 4 * 3], out[N / 4 * 3];
	char text[N + 1], bad[N + 1];
	size_t n, outlen;
	bool wrong = false;

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 37 + 11);
	n = b64_encode(in, sizeof in, text);
	CHECK(n == N);
	for (size_t pos = 0; pos < N && !wrong; pos++)
		for (int c = 0; c < 256 && !wrong; c++) {
			bool valid = c != 0 && strchr(alphabet, c) != NULL;
			int r;

			memcpy(bad, text, N + 1);
			bad[pos] = (char)c;
			r = b64_decode(bad, N, out, &outlen);
			if (valid ? r != 0 : r != -EINVAL)
				wrong = true;
			if (valid && r == 0) {
				char again[N + 1];

				/* What it decoded encodes back to the text. */
				b64_encode(out, outlen, again);
				if (outlen != sizeof in ||
				    strcmp(again, bad) != 0)
					wrong = true;
			}
		}
	CHECK(!wrong);
}

int
main(void)
{
	test_hex_digit();
	test_every_byte_everywhere();
	static const struct {
		const char *plain, *encoded;
	} rfc[] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	unsigned char buf[300], all[256];
	char text[512];
	uint32_t seed = 12345;

	/* RFC 4648 section 10, both ways. */
	for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
		size_t n = b64_encode(rfc[i].plain, strlen(rfc[i].plain), text);

		CHECK(n == strlen(rfc[i].encoded));
		CHECK_STR(text, rfc[i].encoded);
		accept(rfc[i].encoded, rfc[i].plain, strlen(rfc[i].plain));
	}

	/* Every byte value, and every character of the alphabet. */
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	round_trip(all, sizeof all);
	accept("+/+/", "\xfb\xff\xbf", 3);
	accept("AAAA", "\0\0\0", 3);
	accept("////", "\xff\xff\xff", 3);

	/* Every length 0..300 of pseudo-random bytes. */
	for (size_t len = 0; len <= sizeof buf; len++) {
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (unsigned char)(seed >> 16);
		}
		round_trip(buf, len);
	}

	/* Characters outside the standard alphabet. */
	REJECT("Zm9v!A==");
	REJECT("Zm-v"); /* base64url */
	REJECT("Zm_v"); /* base64url */
	REJECT("Zm9 Zm9v");
	REJECT("Zm9v\nZm9");
	REJECT("Zm9\x80");
	REJECT("Zm\0v");
	REJECT("Zm9vYmFy\0\0\0\0");

	/* Lengths that are not a multiple of 4 (unpadded input included). */
	REJECT("Z");
	REJECT("Zm");
	REJECT("Zm8");
	REJECT("Zm9vY");
	REJECT("Zm9vYg=");
	REJECT("Zm9vYg===");

	/* Padding anywhere but the end. */
	REJECT("=");
	REJECT("====");
	REJECT("Z===");
	REJECT("=Zm9");
	REJECT("Zm=v");
	REJECT("Z=m9");
	REJECT("Zg==Zm9v");
	REJECT("Zm8=Zm9v");
	REJECT("Zm9v=Zm9");
	REJECT("Zg=A");

	/* Non-zero bits under the padding: not the canonical form. */
	REJECT("Zh==");
	REJECT("Zm9=");
	REJECT("Zm9vYh==");

	/* Empty input decodes to nothing. */
	{
		size_t outlen = 99;

		CHECK(b64_decode("", 0, buf, &outlen) == 0);
		CHECK(outlen == 0);
	}

	return UNIT_DONE();
}
