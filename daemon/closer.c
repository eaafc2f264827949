/*
 * The closer thread: it takes lingering sockets through a pipe and closes
 * them one after the other. The pipe is the queue, so queued sockets cost
 * no memory of ours; when it is full, the socket's linger is turned off
 * and it is closed at once (the kernel still sends its data, but nobody
 * waits for it).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "closer.h"
#include "log.h"

static int closer_pipe[2] = {-1, -1};
static pthread_t closer_thread;
static bool closer_running;

/* Close what comes through the pipe, until it closes. */
static void *
closer_main(void *arg)
{
	int fd;

	(void)arg;
	for (;;) {
		ssize_t n = read(closer_pipe[0], &fd, sizeof fd);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof fd)
			break;
		close(fd);
	}
	return NULL;
}

/* Does closing fd wait for its data? */
static bool
closer_lingers(int fd)
{
	struct linger l;
	socklen_t len = sizeof l;

	return getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 &&
	       l.l_onoff && l.l_linger > 0;
}

/* Start the thread on first use. */
static bool
closer_start(void)
{
	sigset_t all, old;
	int r;

	if (closer_running)
		return true;
	if (pipe2(closer_pipe, O_CLOEXEC) < 0)
		return false;
	/* The write end never blocks the loop. */
	fcntl(closer_pipe[1], F_SETFL, O_NONBLOCK);
	/* Signals are the loop's, not this thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&closer_thread, NULL, closer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		close(closer_pipe[0]);
		close(closer_pipe[1]);
		closer_pipe[0] = closer_pipe[1] = -1;
		return false;
	}
	closer_running = true;
	return true;
}

void
closer_close(int fd)
{
	static const struct linger off = {0, 0};

	if (!closer_lingers(fd)) {
		close(fd);
		return;
	}
	if (closer_start() &&
	    write(closer_pipe[1], &fd, sizeof fd) == (ssize_t)sizeof fd)
		return;
	log_warn("cannot hand a lingering socket to the closer thread: "
		 "closing it without waiting");
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
	close(fd);
}

void
closer_stop(void)
{
	if (!closer_running)
		return;
	/* The thread may be inside a long close(): do not wait for it. */
	close(closer_pipe[1]);
	pthread_detach(closer_thread);
	closer_running = false;
}
