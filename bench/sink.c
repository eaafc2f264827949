/*
 * The sink: a thread that accepts on 127.0.0.1 and reads and discards
 * everything, counting bytes, and notes when the count reaches a target;
 * byte rates count only what arrived here.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SINK_BUF     (256 * 1024)
#define SINK_TIMEOUT 30 /* seconds to wait for the sink to get it all */

struct sink sink;

/* The sink thread: accept, read, count, discard. */
static void *
sink_main(void *arg)
{
	static char buf[SINK_BUF];
	struct epoll_event ev, evs[MAX_EVENTS];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)arg;
	if (ep < 0)
		die("sink: epoll_create1: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.fd = sink.lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sink.lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == sink.lfd) {
				int c = accept4(sink.lfd, NULL, NULL,
						SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (c < 0)
					continue;
				ev.events = EPOLLIN;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			r = recv(fd, buf, sizeof buf, 0);
			if (r > 0) {
				uint64_t t = atomic_load(&sink.target);
				uint64_t b =
				    atomic_fetch_add(&sink.bytes, (uint64_t)r) +
				    (uint64_t)r;

				if (t != 0 && b >= t &&
				    atomic_load(&sink.done) == 0)
					atomic_store(&sink.done, now_ns());
			} else if (r == 0 ||
				   (errno != EAGAIN && errno != EINTR)) {
				close(fd);
			}
		}
	}
	return NULL;
}

/* Start the sink on an ephemeral loopback port. */
void
sink_start(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	pthread_t t;

	sink.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sink.lfd < 0 || bind(sink.lfd, (void *)&sin, sizeof sin) < 0 ||
	    listen(sink.lfd, 1024) < 0 ||
	    getsockname(sink.lfd, (void *)&sin, &len) < 0)
		die("sink: %s", strerror(errno));
	sink.port = ntohs(sin.sin_port);
	if (pthread_create(&t, NULL, sink_main, NULL) != 0)
		die("sink: cannot start its thread");
	pthread_detach(t);
}

/* Wait until the sink has received target bytes in all; when it did. */
uint64_t
sink_wait(uint64_t target)
{
	uint64_t limit = now_ns() + SINK_TIMEOUT * 1000000000ull;
	struct timespec ms = {0, 1000000};

	atomic_store(&sink.done, 0);
	atomic_store(&sink.target, target);
	while (atomic_load(&sink.bytes) < target) {
		if (now_ns() > limit)
			die("the sink got %" PRIu64 " of %" PRIu64
			    " bytes in %d s",
			    atomic_load(&sink.bytes), target, SINK_TIMEOUT);
		nanosleep(&ms, NULL);
	}
	/* The thread notes the time unless it crossed before the target
	 * was set. */
	if (atomic_load(&sink.done) == 0)
		atomic_store(&sink.done, now_ns());
	return atomic_load(&sink.done);
}

/* A plain TCP connection to the sink. */
int
sink_connect(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(sink.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (void *)&sin, sizeof sin) < 0)
		die("connect to the sink: %s", strerror(errno));
	return fd;
}
