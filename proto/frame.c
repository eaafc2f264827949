/*
 * Varlink framing: collect bytes, hand out NUL-terminated messages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define FRAME_MIN_ALLOC 4096

/* How many NULs (message ends) there are in n bytes at p. */
static size_t
frame_count(const char *p, size_t n)
{
	const char *end = p + n;
	size_t count = 0;

	for (; (p = memchr(p, '\0', (size_t)(end - p))) != NULL; p++)
		count++;
	return count;
}

/* An empty frame buffer accepting messages of up to max bytes. */
void
frame_init(struct frame *f, size_t max)
{
	memset(f, 0, sizeof *f);
	f->max = max;
}

/* Release the buffer; the frame may be initialised again. */
void
frame_free(struct frame *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	f->buf = NULL;
	f->cap = f->start = f->len = f->scan = f->whole = 0;
}

/* Room for at least want more bytes: compact, then grow if needed. */
char *
frame_reserve(struct frame *f, size_t want, size_t *ret_avail)
{
	if (f->start > 0 && f->cap - f->len < want) {
		memmove(f->buf, f->buf + f->start, f->len - f->start);
		f->len -= f->start;
		f->start = 0;
	}
	if (f->cap - f->len < want) {
		size_t cap = f->cap ? f->cap : FRAME_MIN_ALLOC;
		char *buf;

		while (cap - f->len < want)
			cap *= 2;
		buf = realloc(f->buf, cap);
		if (buf == NULL)
			return NULL;
		f->buf = buf;
		f->cap = cap;
	}
	*ret_avail = f->cap - f->len;
	return f->buf + f->len;
}

/* Account for n bytes read into the reserved space. */
void
frame_commit(struct frame *f, size_t n)
{
	f->whole += frame_count(f->buf + f->len, n);
	f->len += n;
}

/* Split off the next whole message, if there is one. */
int
frame_next(struct frame *f, char **ret_msg, size_t *ret_len)
{
	size_t avail = f->len - f->start;
	char *begin = f->buf + f->start;
	char *nul;

	if (avail == 0)
		return 0;
	nul = memchr(begin + f->scan, '\0', avail - f->scan);
	if (nul == NULL) {
		f->scan = avail;
		if (avail > f->max)
			return -EMSGSIZE;
		return 0;
	}
	if ((size_t)(nul - begin) > f->max)
		return -EMSGSIZE;
	*ret_msg = begin;
	*ret_len = nul - begin;
	f->whole--;
	f->start += (nul - begin) + 1;
	f->scan = 0;
	if (f->start == f->len)
		f->start = f->len = 0;
	return 1;
}

/* Bytes held that no frame_next has returned yet. */
size_t
frame_pending(const struct frame *f)
{
	return f->len - f->start;
}

/* Whole messages buffered. */
size_t
frame_whole(const struct frame *f)
{
	return f->whole;
}

/* Take raw bytes that follow the last message. */
size_t
frame_take(struct frame *f, void *out, size_t n)
{
	size_t avail = f->len - f->start;

	if (n > avail)
		n = avail;
	f->whole -= frame_count(f->buf + f->start, n);
	memcpy(out, f->buf + f->start, n);
	f->start += n;
	f->scan = 0;
	if (f->start == f->len)
		f->start = f->len = 0;
	return n;
}
