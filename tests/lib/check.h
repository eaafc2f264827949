/*
 * The harness of the libsockc test programs: one line per check, a count
 * at the end, and plain-socket helpers for the peers the programs make
 * themselves. Expected values come from the kernel and libc, never from
 * the library under test. Everything runs on 127.0.0.1, ::1 and Unix
 * sockets, and every wait has a deadline.
 */
#ifndef SOCKC_TEST_CHECK_H
#define SOCKC_TEST_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sockc.h>

#define T_FN	   static __attribute__((unused))
#define T_DEADLINE 5.0 /* seconds any single wait may take */
#define T_WATCHDOG 25  /* seconds the whole program may take */

static int t_passed, t_failed;
static char t_dir[64]; /* private directory for Unix socket paths */

/* The symbolic name of an errno value ("ECONNREFUSED"). */
T_FN const char *
t_errname(int e)
{
	const char *name = e ? strerrorname_np(e) : "0";

	return name ? name : "?";
}

/* Record one check: "ok N - what" or "not ok N - what [where]". */
T_FN void __attribute__((format(printf, 5, 6)))
t_check(int ok, const char *file, int line, const char *expr, const char *fmt,
	...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", t_passed + t_failed + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf("  [%s:%d: %s]", file, line, expr);
	printf("\n");
	(void)fflush(stdout); /* lines go out as checks run */
	if (ok)
		t_passed++;
	else
		t_failed++;
}

/* The condition is evaluated before the message's arguments. */
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		int t_ok_ = !!(cond);                                          \
		t_check(t_ok_, __FILE__, __LINE__, #cond, __VA_ARGS__);        \
	} while (0)

/* A call that must fail with -1 (or NULL) and errno want. */
#define CHECK_ERR(call, want, what)                                            \
	do {                                                                   \
		errno = 0;                                                     \
		long long t_r_ = (long long)(call);                            \
		int t_e_ = errno;                                              \
		CHECK(t_r_ == -1 && t_e_ == (want),                            \
		      "%s -> -1 %s (got %lld %s)", what, t_errname(want),      \
		      t_r_, t_errname(t_e_));                                  \
	} while (0)

/* A call that must return 0. */
#define CHECK_OK(call, what)                                                   \
	do {                                                                   \
		errno = 0;                                                     \
		long long t_r_ = (long long)(call);                            \
		int t_e_ = errno;                                              \
		CHECK(t_r_ == 0, "%s -> 0 (got %lld %s)", what, t_r_,          \
		      t_r_ ? t_errname(t_e_) : "");                            \
	} while (0)

/* Stop a test function when a check it depends on failed. */
#define REQUIRE(cond, ...)                                                     \
	do {                                                                   \
		int t_ok_ = !!(cond);                                          \
		t_check(t_ok_, __FILE__, __LINE__, #cond, __VA_ARGS__);        \
		if (!t_ok_)                                                    \
			return;                                                \
	} while (0)

T_FN double
t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

T_FN void
t_on_alarm(int sig)
{
	static const char msg[] = "not ok - watchdog: program took too long\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof msg - 1);
	_exit(3);
}

T_FN void
t_cleanup_dir(void)
{
	DIR *d;
	struct dirent *e;

	if (t_dir[0] == '\0' || (d = opendir(t_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(t_dir);
}

/* The daemon's socket (argv[1] or $SOCKD_SOCKET), the watchdog, SIGPIPE
 * ignored, and a private directory for Unix socket paths. */
T_FN const char *
t_setup(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : getenv("SOCKD_SOCKET");

	/* None of these fails with these arguments. */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGALRM, t_on_alarm);
	alarm(T_WATCHDOG);
	if (path == NULL || path[0] == '\0') {
		fprintf(stderr,
			"usage: %s SOCKD-SOCKET (or set SOCKD_SOCKET)\n",
			argv[0]);
		exit(2);
	}
	snprintf(t_dir, sizeof t_dir, "/tmp/sockc-lib-XXXXXX");
	if (mkdtemp(t_dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	(void)atexit(t_cleanup_dir); /* at worst the empty directory stays */
	return path;
}

/* Connect to the daemon or give up on the whole program. */
T_FN struct sockc *
t_open(const char *path)
{
	struct sockc *c = sockc_open(path);

	if (c == NULL) {
		printf("not ok - sockc_open(%s): %s\n", path, strerror(errno));
		exit(1);
	}
	return c;
}

/* "N passed, M failed" and the exit status. */
T_FN int
t_done(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

/* A path in the private directory. */
T_FN const char *
t_path(const char *name)
{
	static char buf[4][108];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof buf[0], "%s/%s", t_dir, name);
	return p;
}

/* A Unix address: a path, or an abstract name when name starts with '@'. */
T_FN socklen_t
t_unix(struct sockaddr_storage *ss, const char *name)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	size_t n = strlen(name);

	memset(ss, 0, sizeof *ss);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, n);
	if (name[0] == '@') {
		sun->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

/* A loopback address of family with port. */
T_FN socklen_t
t_loop(struct sockaddr_storage *ss, int family, int port)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof *s6;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s4->sin_port = htons((uint16_t)port);
	return sizeof *s4;
}

/*
 * The helpers below read addresses that getsockname, accept, recvfrom and
 * the like wrote. With _GNU_SOURCE, glibc declares their address argument
 * as a transparent union, through which clang 14's analyzer does not see
 * the write (llvm-project issue 60482): it takes the family read here for
 * garbage. Those reads carry a NOLINT for that one check.
 */
T_FN int
t_port(const struct sockaddr_storage *ss)
{
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* An address as text, for messages. */
T_FN const char *
t_addr_str(const struct sockaddr_storage *ss, socklen_t len)
{
	static char buf[4][160];
	static int i;
	char *p = buf[i++ % 4], host[INET6_ADDRSTRLEN] = "";

	if (len == 0)
		snprintf(p, sizeof buf[0], "(none)");
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	else if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  host, sizeof host);
		snprintf(p, sizeof buf[0], "%s:%d/%u", host, t_port(ss),
			 (unsigned)len);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)ss)->sin6_addr, host,
			  sizeof host);
		snprintf(p, sizeof buf[0], "[%s]:%d/%u", host, t_port(ss),
			 (unsigned)len);
	} else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const void *)ss;
		size_t n = len - offsetof(struct sockaddr_un, sun_path);

		if (len <= offsetof(struct sockaddr_un, sun_path))
			snprintf(p, sizeof buf[0], "unix:(unnamed)/%u",
				 (unsigned)len);
		else
			snprintf(p, sizeof buf[0], "unix:%s%.*s/%u",
				 sun->sun_path[0] ? "" : "@",
				 (int)(sun->sun_path[0]
					   ? strnlen(sun->sun_path, n)
					   : n - 1),
				 sun->sun_path + (sun->sun_path[0] ? 0 : 1),
				 (unsigned)len);
	} else
		snprintf(p, sizeof buf[0], "family %d/%u", ss->ss_family,
			 (unsigned)len);
	return p;
}

/* Two addresses are the same socket address (as the kernel reports it). */
T_FN int
t_addr_eq(const struct sockaddr_storage *a, socklen_t alen,
	  const struct sockaddr_storage *b, socklen_t blen)
{
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (alen != blen || alen == 0 || a->ss_family != b->ss_family)
		return alen == 0 && blen == 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
					 *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
					  *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return memcmp(a, b, alen) == 0;
}

/* Wait for events on fd: 1 ready, 0 on timeout. */
T_FN int
t_wait(int fd, short events, double timeout)
{
	struct pollfd p = {.fd = fd, .events = events};

	return poll(&p, 1, (int)(timeout * 1000)) > 0;
}

/* A plain socket (close-on-exec) bound to loopback port 0 or to the Unix
 * address name; listening for stream sockets when listening is set. Its
 * address goes to ss and *len. */
T_FN int
t_sock(int family, int type, const char *name, int listening,
       struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_storage tmp;
	socklen_t l;
	int fd;

	/* Defined outputs even on failure: a failed CHECK goes on. */
	if (ss != NULL) {
		memset(ss, 0, sizeof *ss);
		*len = 0;
	}
	if (family == AF_UNIX && name == NULL)
		return -1;
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	l = family == AF_UNIX ? t_unix(&tmp, name) : t_loop(&tmp, family, 0);
	if (bind(fd, (struct sockaddr *)&tmp, l) < 0 ||
	    (listening && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	if (ss != NULL) {
		*len = sizeof *ss;
		getsockname(fd, (struct sockaddr *)ss, len);
	}
	return fd;
}

/* accept() on a plain listener, within the deadline. */
T_FN int
t_accept(int lfd)
{
	if (!t_wait(lfd, POLLIN, T_DEADLINE))
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* A plain connected client of family to addr. */
T_FN int
t_connect(const struct sockaddr_storage *addr, socklen_t len)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)addr, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read exactly n bytes (fewer at EOF or when the deadline passes). */
T_FN size_t
t_read_exact(int fd, void *buf, size_t n, double timeout)
{
	double end = t_now() + timeout;
	size_t got = 0;

	while (got < n) {
		double left = end - t_now();
		ssize_t r;

		if (left <= 0 || !t_wait(fd, POLLIN, left))
			break;
		r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Write all of buf within the deadline. */
T_FN int
t_write_all(int fd, const void *buf, size_t n, double timeout)
{
	double end = t_now() + timeout;
	size_t done = 0;

	while (done < n) {
		double left = end - t_now();
		ssize_t r;

		if (left <= 0 || !t_wait(fd, POLLOUT, left))
			return -1;
		r = send(fd, (const char *)buf + done, n - done,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* The peer sees EOF (or a reset) within the deadline. */
T_FN int
t_peer_eof(int fd)
{
	char b[256];
	double end = t_now() + T_DEADLINE;

	while (t_now() < end) {
		ssize_t r;

		if (!t_wait(fd, POLLIN, end - t_now()))
			return 0;
		r = recv(fd, b, sizeof b, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
	}
	return 0;
}

/* A sockc handle connected to a plain peer of family (TCP on loopback);
 * the peer's fd in *peer. */
T_FN sockc_handle_t
t_sockc_connected(struct sockc *c, int family, int *peer)
{
	struct sockaddr_storage la;
	socklen_t ll;
	sockc_handle_t h;
	int lfd = t_sock(family, SOCK_STREAM, NULL, 1, &la, &ll);

	*peer = -1;
	if (lfd < 0)
		return -1;
	h = sockc_socket(c, family, SOCK_STREAM, 0);
	if (h > 0 && sockc_connect(c, h, (struct sockaddr *)&la, ll) == 0)
		*peer = t_accept(lfd);
	close(lfd);
	return *peer >= 0 ? h : -1;
}

/* The close-on-exec flag of fd. */
T_FN int
t_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f >= 0 && (f & FD_CLOEXEC);
}

#endif
