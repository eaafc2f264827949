/*
 * Fuzz target: varlink framing (proto/frame.c). The input chooses the
 * message size limit, the sizes of the reads the stream arrives in, and
 * after how many messages the connection turns into a raw byte stream
 * (Attach's upgrade). Whatever the split, the frame must hand out exactly
 * the messages a plain split on NUL gives, refuse the first one over the
 * limit as soon as it has more than the limit buffered (never earlier),
 * give the bytes after an upgrade back unchanged, and keep its buffer
 * within twice the limit plus one read.
 *
 * Input: [limit|upgrade] [repeat] [n] [n read sizes] [stream...], where
 * the stream is sent repeat & 31 + 1 times over, so that a short input
 * can make the long streams that reach the buffer's growth and reuse.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

FUZZ_TARGET("frame");

#define FRAME_MIN_ALLOC 4096 /* as in frame.c */

/* The limits the first byte picks from: small ones, so that the fuzzer
 * reaches them, and the ones the daemon uses. */
static const size_t fuzz_limits[16] = {
    0,	1,   2,	  3,	5,    8,     16,       31,
    64, 100, 255, 1000, 4096, 65536, 16 << 20, SIZE_MAX,
};

/* A read size from one input byte: 1 to 200 bytes, or a large read. */
static size_t
fuzz_read_size(uint8_t b)
{
	return b < 200 ? (size_t)b + 1 : (size_t)(b - 199) * 512;
}

/* Where the message starting at s ends: its NUL, or len. */
static size_t
fuzz_message_end(const uint8_t *s, size_t from, size_t len)
{
	const uint8_t *nul = memchr(s + from, '\0', len - from);

	return nul != NULL ? (size_t)(nul - s) : len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sizes;
	uint8_t *stream;
	size_t max, nsizes, len, off = 0, ci = 0, biggest = 0, once, times;
	size_t msg_start = 0; /* where the next message begins */
	size_t raw_pos = 0;   /* next raw byte expected, once upgraded */
	unsigned upgrade_after, got = 0;
	bool raw = false, failed = false;
	struct frame f;

	if (size < 3)
		return 0;
	max = fuzz_limits[data[0] & 0x0f];
	upgrade_after = data[0] >> 4; /* 0: never */
	times = (data[1] & 31) + 1;
	nsizes = data[2];
	if (nsizes > size - 3)
		nsizes = size - 3;
	sizes = data + 3;
	once = size - 3 - nsizes;
	len = once * times;
	stream = malloc(len + 1);
	FUZZ_CHECK(stream != NULL);
	for (size_t i = 0; i < times; i++)
		memcpy(stream + i * once, sizes + nsizes, once);

	frame_init(&f, max);
	while (off < len && !failed) {
		size_t chunk =
		    nsizes ? fuzz_read_size(sizes[ci++ % nsizes]) : len;
		size_t avail;
		char *p;

		if (chunk > len - off)
			chunk = len - off;
		if (chunk > biggest)
			biggest = chunk;
		p = frame_reserve(&f, chunk, &avail);
		FUZZ_CHECK(p != NULL && avail >= chunk);
		memcpy(p, stream + off, chunk);
		frame_commit(&f, chunk);
		off += chunk;
		/* Memory stays bounded by the limit and the read size. */
		FUZZ_CHECK(f.cap <= FRAME_MIN_ALLOC ||
			   f.cap < 2 * ((max < len ? max : len) + 1 + biggest));

		while (!raw) {
			size_t end = fuzz_message_end(stream, msg_start, off);
			size_t mlen;
			char *msg;
			int r = frame_next(&f, &msg, &mlen);

			if (r == 0) {
				/* Nothing whole, and nothing over the limit. */
				FUZZ_CHECK(end == off);
				FUZZ_CHECK(off - msg_start <= max);
				FUZZ_CHECK(frame_pending(&f) ==
					   off - msg_start);
				break;
			}
			if (r < 0) {
				/* Refused only once past the limit. */
				FUZZ_CHECK(r == -EMSGSIZE);
				FUZZ_CHECK(end - msg_start > max);
				failed = true;
				break;
			}
			FUZZ_CHECK(r == 1);
			FUZZ_CHECK(end < off);
			FUZZ_CHECK(mlen == end - msg_start && mlen <= max);
			FUZZ_CHECK(memcmp(msg, stream + msg_start, mlen) == 0);
			FUZZ_CHECK(msg[mlen] == '\0');
			msg_start = end + 1;
			if (++got == upgrade_after) {
				raw = true;
				raw_pos = msg_start;
			}
		}
		while (raw && frame_pending(&f) > 0) {
			/* Raw bytes come out in pieces of the read sizes. */
			size_t want = nsizes
					  ? fuzz_read_size(sizes[ci++ % nsizes])
					  : frame_pending(&f) + 1;
			size_t pending = frame_pending(&f), n;
			uint8_t buf[64 * 512];

			if (want > sizeof buf)
				want = sizeof buf;
			n = frame_take(&f, buf, want);
			FUZZ_CHECK(n == (want < pending ? want : pending));
			FUZZ_CHECK(raw_pos + n <= off);
			FUZZ_CHECK(memcmp(buf, stream + raw_pos, n) == 0);
			raw_pos += n;
		}
	}
	if (!failed) {
		if (raw)
			FUZZ_CHECK(raw_pos == len);
		else
			FUZZ_CHECK(frame_pending(&f) == len - msg_start);
	}
	frame_free(&f);
	free(stream);
	return 0;
}
