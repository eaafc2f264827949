/*
 * Fuzz target: base64 (proto/b64.c). Decoding arbitrary text must either
 * refuse it or give bytes that encode back to exactly that text (strict
 * decoding: one text per byte string), within B64_DECODED_MAX; encoding
 * arbitrary bytes must give B64_ENCODED_LEN characters of the alphabet
 * that decode back to the same bytes. The hex-digit helper is checked
 * against the C library on the same bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "fuzz.h"

FUZZ_TARGET("b64");

/* Is c in the standard alphabet or padding? */
static int
fuzz_b64_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t dlen = 0, elen, len2 = 0;
	unsigned char *dec, *dec2;
	char *enc;
	int r;

	/* Decode the input as text. */
	dec = malloc(B64_DECODED_MAX(size));
	FUZZ_CHECK(dec != NULL);
	r = b64_decode(text, size, dec, &dlen);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		FUZZ_CHECK(size % 4 == 0);
		FUZZ_CHECK(dlen <= B64_DECODED_MAX(size));
		FUZZ_CHECK(B64_ENCODED_LEN(dlen) == size);
		enc = malloc(B64_ENCODED_LEN(dlen) + 1);
		FUZZ_CHECK(enc != NULL);
		FUZZ_CHECK(b64_encode(dec, dlen, enc) == size);
		FUZZ_CHECK(memcmp(enc, text, size) == 0);
		free(enc);
	} else {
		/* Something was wrong; text of the alphabet alone, a
		 * multiple of 4 long, without '=', is always right. */
		size_t i;

		for (i = 0; i < size; i++)
			if (!fuzz_b64_char(text[i]) || text[i] == '=')
				break;
		FUZZ_CHECK(i < size || size % 4 != 0);
	}
	free(dec);

	/* Encode the input as bytes, then decode it back. */
	elen = B64_ENCODED_LEN(size);
	enc = malloc(elen + 1);
	dec2 = malloc(B64_DECODED_MAX(elen));
	FUZZ_CHECK(enc != NULL && dec2 != NULL);
	FUZZ_CHECK(b64_encode(data, size, enc) == elen);
	FUZZ_CHECK(enc[elen] == '\0');
	for (size_t i = 0; i < elen; i++)
		FUZZ_CHECK(fuzz_b64_char(enc[i]));
	FUZZ_CHECK(b64_decode(enc, elen, dec2, &len2) == 0);
	FUZZ_CHECK(len2 == size && memcmp(dec2, data, size) == 0);
	free(enc);
	free(dec2);

	/* Hex digits, byte by byte. */
	for (size_t i = 0; i < size && i < 16; i++) {
		char c = text[i];
		int v = b64_hex_digit(c);

		if (isxdigit((unsigned char)c)) {
			char s[2] = {c, '\0'};

			FUZZ_CHECK(v == (int)strtol(s, NULL, 16));
		} else {
			FUZZ_CHECK(v == -1);
		}
	}
	return 0;
}
