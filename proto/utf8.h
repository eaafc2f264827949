/*
 * UTF-8: checking it, and making text that is safe to show. Every reply
 * sockd sends must be UTF-8, and every log line one line of printable
 * text, whatever bytes a client or the kernel supplied.
 */
#ifndef SOCKD_UTF8_H
#define SOCKD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) that starts at s[0], a
 * byte >= 0x80, with left bytes available; 0 when it is not one. */
size_t utf8_seq(const unsigned char *s, size_t left);

/* Are the len bytes at s well-formed UTF-8 (NULs allowed)? */
bool utf8_valid(const char *s, size_t len);

/* Replace every byte of s that is not part of a well-formed sequence with
 * '?', in place: the text is then UTF-8. Returns how many were replaced. */
size_t utf8_repair(char *s, size_t len);

/*
 * Write the n bytes at s to buf as one line of printable text: well-formed
 * printable UTF-8 as it is, a newline, carriage return or tab as "\n",
 * "\r", "\t", and every other control character (C0, DEL, C1) and byte
 * that is not UTF-8 as "\xNN". A backslash stays as it is, so text escaped once
 * (an address in a message, then the log line) is not escaped twice;
 * the result is for people, who do not need it to be reversible. Writes
 * at most size bytes with the NUL (truncating at a character boundary);
 * returns the length written.
 */
size_t utf8_escape(const char *s, size_t n, char *buf, size_t size);

#endif
