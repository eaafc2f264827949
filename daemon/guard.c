/*
 * Guarded system calls. A socket handed out with FileNo (without detach)
 * shares its open file description with the client that holds it, which
 * can clear O_NONBLOCK on it at any moment, set SO_LINGER, or take the
 * data or connection sockd was told was ready. Most calls sockd makes
 * have a per-call non-blocking form (MSG_DONTWAIT) and use it. accept(2),
 * connect(2) and a lingering close(2) have none: on a shared socket they
 * run under a POSIX timer that sends this thread a signal every
 * GUARD_NSEC, and the signal's handler, installed without SA_RESTART,
 * makes a call that went to sleep return EINTR. The caller then treats
 * the call as one that would have blocked. A uid whose holders keep
 * making sockd's calls block is refused (EBUSY) for the rest of the
 * second once it has cost GUARD_STRIKES interruptions.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "sockd.h"

static timer_t guard_timer;
static bool guard_ready;
static volatile sig_atomic_t guard_fired;

/* The timer's signal: it only has to interrupt the call. */
static void
guard_signal(int sig)
{
	(void)sig;
	guard_fired = 1;
}

int
guard_init(void)
{
	struct sigaction sa;
	struct sigevent sev;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = guard_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the call must return */
	if (sigaction(SIGRTMIN, &sa, NULL) < 0)
		return -errno;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN;
#ifdef sigev_notify_thread_id
	sev.sigev_notify_thread_id = gettid();
#else
	sev._sigev_un._tid = gettid(); /* glibc before 2.38 names no field */
#endif
	if (timer_create(CLOCK_MONOTONIC, &sev, &guard_timer) < 0)
		return -errno;
	guard_ready = true;
	return 0;
}

void
guard_free(void)
{
	if (guard_ready)
		timer_delete(guard_timer);
	guard_ready = false;
}

void
guard_begin(void)
{
	/* Again and again: a signal that came just before the call went to
	 * sleep must not leave it asleep. */
	struct itimerspec its = {
	    .it_value = {0, GUARD_NSEC},
	    .it_interval = {0, GUARD_NSEC},
	};

	guard_fired = 0;
	if (guard_ready)
		timer_settime(guard_timer, 0, &its, NULL);
}

/* The current second on the monotonic clock. */
static time_t
guard_second(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Disarm the timer: did it fire? */
static bool
guard_stop(void)
{
	static const struct itimerspec off;
	bool fired;

	if (guard_ready)
		timer_settime(guard_timer, 0, &off, NULL);
	fired = guard_fired != 0;
	guard_fired = 0;
	return fired;
}

bool
guard_end(uid_t uid)
{
	struct uidstat *us;
	time_t now;

	if (!guard_stop())
		return false;
	us = uidstat_get(uid);
	if (us == NULL)
		return true;
	now = guard_second();
	if (us->strike_second != now) {
		us->strike_second = now;
		us->strikes = 0;
	}
	if (us->strikes++ == 0)
		log_notice("uid %u: a socket shared with FileNo was made to "
			   "block sockd's system call (interrupted after "
			   "%d ms)",
			   (unsigned)uid, GUARD_NSEC / 1000000);
	return true;
}

bool
guard_allowed(uid_t uid, int fd)
{
	struct uidstat *us = uidstat_get(uid);
	int fl;

	if (us == NULL || us->strike_second != guard_second() ||
	    us->strikes < GUARD_STRIKES)
		return true;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK);
}

void
guard_close(int fd, bool shared)
{
	static const struct linger off = {0, 0};
	struct linger l;
	socklen_t len = sizeof l;

	if (!shared) {
		if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 &&
		    l.l_onoff && l.l_linger > 0)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
		close(fd);
		return;
	}
	/* The holder's socket keeps its options: the timer cuts a linger
	 * short instead, and the kernel sends the data on in the
	 * background, as it does when a linger time runs out. */
	guard_begin();
	close(fd);
	/* Nobody to count it against: the holder already let go. */
	(void)guard_stop();
}
