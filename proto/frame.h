/*
 * Varlink framing: every message is one JSON text followed by a NUL byte.
 * A frame buffer collects whatever the socket gives and hands out whole
 * messages, however the bytes were split across reads.
 */
#ifndef SOCKD_FRAME_H
#define SOCKD_FRAME_H

#include <stddef.h>

struct frame {
	char *buf;
	size_t cap;   /* allocated size of buf */
	size_t start; /* first byte not yet handed out */
	size_t len;   /* end of the valid bytes */
	size_t scan;  /* bytes from start already searched for a NUL */
	size_t whole; /* whole messages buffered, not yet handed out */
	size_t max;   /* largest message accepted, NUL excluded */
};

void frame_init(struct frame *f, size_t max);
void frame_free(struct frame *f);

/* Room for at least want more bytes at the end: returns where to write
 * (and the usable size in *ret_avail), or NULL when out of memory. */
char *frame_reserve(struct frame *f, size_t want, size_t *ret_avail);
/* Account for n bytes written at the pointer frame_reserve returned. */
void frame_commit(struct frame *f, size_t n);

/* Next whole message: returns 1 and the message (NUL-terminated in place,
 * valid until the next frame_reserve) in *ret_msg / *ret_len; 0 when no
 * whole message is buffered; -EMSGSIZE when the buffered part of the next
 * message is already longer than f->max. */
int frame_next(struct frame *f, char **ret_msg, size_t *ret_len);

/* Bytes buffered and not yet handed out. */
size_t frame_pending(const struct frame *f);
/* Whole messages among them. */
size_t frame_whole(const struct frame *f);

/* Hand out up to n of the buffered bytes that follow the last message
 * returned, raw (used once a connection stops being varlink). */
size_t frame_take(struct frame *f, void *out, size_t n);

#endif
