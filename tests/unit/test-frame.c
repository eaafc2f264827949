/*
 * Unit tests for proto/frame.c: messages split across reads, many in one
 * read, the size limit, and raw bytes after the last message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "unit.h"

/* Feed len bytes of data in chunks of step, collecting messages. */
static int
feed(struct frame *f, const char *data, size_t len, size_t step, char out[][64],
     int max)
{
	int n = 0;

	for (size_t off = 0; off < len; off += step) {
		size_t chunk = len - off < step ? len - off : step, avail;
		char *p = frame_reserve(f, chunk, &avail), *msg;
		size_t mlen;
		int r;

		CHECK(p != NULL && avail >= chunk);
		if (p == NULL || avail < chunk)
			break;
		memcpy(p, data + off, chunk);
		frame_commit(f, chunk);
		while ((r = frame_next(f, &msg, &mlen)) == 1 && n < max) {
			CHECK(strlen(msg) == mlen);
			snprintf(out[n++], 64, "%s", msg);
		}
		CHECK(r == 0 || r == 1);
		/* No whole message left once none is handed out. */
		CHECK(r != 0 || frame_whole(f) == 0);
	}
	return n;
}

static void
test_splits(void)
{
	static const char data[] = "{\"a\":1}\0{\"b\":2}\0\0{\"c\":3}";
	size_t len = sizeof data - 1; /* the last message has no NUL yet */

	for (size_t step = 1; step <= len; step++) {
		struct frame f;
		char out[8][64];
		int n;

		frame_init(&f, 1024);
		n = feed(&f, data, len, step, out, 8);
		CHECK(n == 3);
		CHECK_STR(out[0], "{\"a\":1}");
		CHECK_STR(out[1], "{\"b\":2}");
		CHECK_STR(out[2], ""); /* an empty message is still one */
		CHECK(frame_pending(&f) == strlen("{\"c\":3}"));
		frame_free(&f);
	}
}

static void
test_limit(void)
{
	struct frame f;
	char *p, *msg;
	size_t avail, mlen;

	frame_init(&f, 8);
	p = frame_reserve(&f, 9, &avail);
	/* Nine bytes and no NUL: a message not ended, over the limit.
	 * NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(p, "123456789", 9);
	frame_commit(&f, 9);
	CHECK(frame_next(&f, &msg, &mlen) == -EMSGSIZE);
	frame_free(&f);

	/* Exactly at the limit is fine. */
	frame_init(&f, 8);
	p = frame_reserve(&f, 9, &avail);
	memcpy(p, "12345678", 9);
	frame_commit(&f, 9);
	CHECK(frame_next(&f, &msg, &mlen) == 1 && mlen == 8);
	frame_free(&f);

	/* A whole message over the limit, NUL included in one read. */
	frame_init(&f, 4);
	p = frame_reserve(&f, 7, &avail);
	memcpy(p, "123456", 7);
	frame_commit(&f, 7);
	CHECK(frame_next(&f, &msg, &mlen) == -EMSGSIZE);
	frame_free(&f);
}

static void
test_take(void)
{
	struct frame f;
	char *p, *msg, raw[16];
	size_t avail, mlen;

	frame_init(&f, 64);
	p = frame_reserve(&f, 12, &avail);
	memcpy(p, "{}\0rawbytes", 12);
	frame_commit(&f, 12);
	/* Two NULs: "{}" and "rawbytes" both end in one. */
	CHECK(frame_whole(&f) == 2);
	CHECK(frame_next(&f, &msg, &mlen) == 1 && mlen == 2);
	CHECK(frame_whole(&f) == 1);
	CHECK(frame_take(&f, raw, sizeof raw) == 9);
	CHECK(memcmp(raw, "rawbytes", 9) == 0);
	CHECK(frame_pending(&f) == 0 && frame_whole(&f) == 0);
	frame_free(&f);
}

static void
test_growth(void)
{
	size_t big = 1 << 20;
	char *data = malloc(big + 1);
	struct frame f;
	char *msg;
	size_t mlen;

	memset(data, 'x', big);
	data[big] = '\0';
	frame_init(&f, big);
	for (size_t off = 0; off <= big; off += 4096) {
		size_t chunk = big + 1 - off < 4096 ? big + 1 - off : 4096;
		size_t avail;
		char *p = frame_reserve(&f, chunk, &avail);

		memcpy(p, data + off, chunk);
		frame_commit(&f, chunk);
	}
	CHECK(frame_next(&f, &msg, &mlen) == 1 && mlen == big);
	CHECK(msg[0] == 'x' && msg[big - 1] == 'x');
	frame_free(&f);
	free(data);
}

int
main(void)
{
	test_splits();
	test_limit();
	test_take();
	test_growth();
	return UNIT_DONE();
}
