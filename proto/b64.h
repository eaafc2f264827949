/*
 * Bytes as text: base64 (RFC 4648, standard alphabet, padded), how every
 * byte payload travels in a `data` field; and hex digits, for addresses
 * and the CLI's hex: values.
 */
#ifndef SOCKD_B64_H
#define SOCKD_B64_H

#include <stddef.h>

/* Bytes needed to encode len bytes, without the terminating NUL. */
#define B64_ENCODED_LEN(len) ((((len) + 2) / 3) * 4)
/* Upper bound of the bytes a text of len characters decodes to. */
#define B64_DECODED_MAX(len) (((len) / 4) * 3 + 3)

/* Encode len bytes of in into out (B64_ENCODED_LEN(len) + 1 bytes, NUL
 * terminated); returns the length written, without the NUL. */
size_t b64_encode(const void *in, size_t len, char *out);

/* Decode len characters of in into out (at least B64_DECODED_MAX(len)
 * bytes). Strict: only the standard alphabet, length a multiple of 4,
 * padding only at the end. Returns 0 and the decoded length in *ret_len,
 * or -EINVAL. */
int b64_decode(const char *in, size_t len, void *out, size_t *ret_len);

/* The value of a hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1. */
int b64_hex_digit(char c);

#endif
