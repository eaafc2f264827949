/*
 * libsockc waiting: sockc_settimeout, sockc_gettimeout, sockc_setblocking
 * (ETIMEDOUT when a timeout expires, EAGAIN / EINPROGRESS when
 * non-blocking) and sockc_poll (ready, timeout, compared with the
 * kernel's own poll() on the same socket).
 */
#include "check.h"

#include <math.h>

/* The handle's timeout, or NAN when GetTimeout failed. */
static double
timeout_of(struct sockc *c, sockc_handle_t h)
{
	double t = 12345;

	return sockc_gettimeout(c, h, &t) == 0 ? t : NAN;
}

/* The timeout sockc_list reports for h. */
static double
listed_timeout(struct sockc *c, sockc_handle_t h)
{
	struct sockc_info *list;
	double t = NAN;
	size_t n;

	if (sockc_list(c, &list, &n) < 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		if (list[i].handle == h)
			t = list[i].timeout;
	sockc_list_free(list, n);
	return t;
}

static void
test_timeouts(struct sockc *c)
{
	int peer, r, e;
	double t0, el, t;
	char b[16] = "";
	sockc_handle_t S = t_sockc_connected(c, AF_INET, &peer);

	REQUIRE(S > 0, "a connected handle");
	t = timeout_of(c, S);
	CHECK(t == -1, "gettimeout of a new handle -> -1 (none) (%g)", t);
	CHECK_OK(sockc_settimeout(c, S, 0.3), "settimeout(0.3)");
	t = timeout_of(c, S);
	CHECK(fabs(t - 0.3) < 1e-9, "gettimeout -> 0.3 (%g)", t);
	t = listed_timeout(c, S);
	CHECK(fabs(t - 0.3) < 1e-9, "sockc_list shows 0.3 (%g)", t);

	t0 = t_now();
	errno = 0;
	r = (int)sockc_recv(c, S, b, sizeof b, 0);
	e = errno;
	el = t_now() - t0;
	CHECK(r == -1 && e == ETIMEDOUT,
	      "recv with nothing to read -> -1 ETIMEDOUT (%d %s)", r,
	      t_errname(e));
	CHECK(el >= 0.25 && el < 3, "  ... after about 0.3 s (%.3f s)", el);
	CHECK(sockc_error_name(c) &&
		  strcmp(sockc_error_name(c), "io.sockd.Timeout") == 0 &&
		  sockc_error_message(c)[0] != '\0',
	      "  ... an io.sockd.Timeout with a message (%s: \"%s\")",
	      sockc_error_name(c) ? sockc_error_name(c) : "NULL",
	      sockc_error_message(c));
	t_write_all(peer, "late", 4, T_DEADLINE);
	CHECK(sockc_recv(c, S, b, sizeof b, 0) == 4 &&
		  memcmp(b, "late", 4) == 0,
	      "  ... and the handle still works afterwards");

	CHECK_OK(sockc_settimeout(c, S, -1), "settimeout(-1)");
	t = timeout_of(c, S);
	CHECK(t == -1, "  ... gettimeout -> -1 (%g)", t);

	CHECK_OK(sockc_setblocking(c, S, 0), "setblocking(0)");
	t = timeout_of(c, S);
	CHECK(t == 0, "  ... gettimeout -> 0 (%g)", t);
	t0 = t_now();
	errno = 0;
	r = (int)sockc_recv(c, S, b, sizeof b, 0);
	e = errno;
	CHECK(r == -1 && (e == EAGAIN || e == EWOULDBLOCK) && t_now() - t0 < 2,
	      "recv non-blocking with nothing to read -> -1 EAGAIN at once "
	      "(%d %s)",
	      r, t_errname(e));
	CHECK(sockc_error_name(c) &&
		  strcmp(sockc_error_name(c), "io.sockd.OSError") == 0,
	      "  ... an OSError");
	CHECK_OK(sockc_setblocking(c, S, 1), "setblocking(1)");
	t = timeout_of(c, S);
	CHECK(t == -1, "  ... gettimeout -> -1 (%g)", t);
	CHECK_OK(sockc_settimeout(c, S, 0), "settimeout(0)");
	t = timeout_of(c, S);
	CHECK(t == 0, "  ... gettimeout -> 0 (%g)", t);
	close(peer);
	sockc_close(c, S);
	CHECK_ERR(sockc_settimeout(c, S, 1), EBADF, "settimeout(closed)");
	CHECK_ERR(sockc_gettimeout(c, S, &t), EBADF, "gettimeout(closed)");
	CHECK_ERR(sockc_setblocking(c, S, 1), EBADF, "setblocking(closed)");
}

/* accept and connect with a timeout and non-blocking; a sendall that
 * cannot finish in time. */
static void
test_waiting_calls(struct sockc *c)
{
	struct sockaddr_storage la;
	socklen_t ll;
	sockc_handle_t L, S;
	int lfd, k, ke, r, e, small = 4096, peer;
	double t0, el;
	static char chunk[1 << 20];

	L = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	ll = t_loop(&la, AF_INET, 0);
	REQUIRE(L > 0 && sockc_bind(c, L, (struct sockaddr *)&la, ll) == 0 &&
		    sockc_listen(c, L, 4) == 0,
		"a listening handle");
	sockc_settimeout(c, L, 0.2);
	t0 = t_now();
	CHECK_ERR(sockc_accept(c, L, NULL, NULL), ETIMEDOUT,
		  "accept with a 0.2 s timeout, nobody connecting");
	el = t_now() - t0;
	CHECK(el >= 0.15 && el < 3, "  ... after about 0.2 s (%.3f s)", el);
	sockc_setblocking(c, L, 0);
	errno = 0;
	r = (int)sockc_accept(c, L, NULL, NULL);
	e = errno;
	CHECK(r == -1 && (e == EAGAIN || e == EWOULDBLOCK),
	      "accept non-blocking -> -1 EAGAIN (%d %s)", r, t_errname(e));
	sockc_close(c, L);

	/* A non-blocking connect: whatever the kernel says for the same. */
	lfd = t_sock(AF_INET, SOCK_STREAM, NULL, 1, &la, &ll);
	k = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ke = connect(k, (struct sockaddr *)&la, ll) < 0 ? errno : 0;
	close(k);
	S = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	sockc_setblocking(c, S, 0);
	errno = 0;
	r = sockc_connect(c, S, (struct sockaddr *)&la, ll);
	e = errno;
	CHECK(ke == 0 ? r == 0 : (r == -1 && e == ke),
	      "connect non-blocking -> %s like the kernel (%d %s)",
	      t_errname(ke), r, t_errname(e));
	sockc_close(c, S);
	close(lfd);

	/* sendall into a peer that does not read, small buffers both ends. */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	ll = t_loop(&la, AF_INET, 0);
	/* Failures here fail the connect REQUIRE below. */
	(void)bind(lfd, (struct sockaddr *)&la, ll);
	listen(lfd, 4);
	ll = sizeof la;
	getsockname(lfd, (struct sockaddr *)&la, &ll);
	S = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	sockc_setsockopt(c, S, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	REQUIRE(sockc_connect(c, S, (struct sockaddr *)&la, ll) == 0 &&
		    (peer = t_accept(lfd)) >= 0,
		"a connection to a peer that will not read");
	sockc_settimeout(c, S, 0.3);
	t0 = t_now();
	CHECK_ERR(sockc_sendall(c, S, chunk, sizeof chunk, 0), ETIMEDOUT,
		  "sendall(1 MiB) with a 0.3 s timeout");
	el = t_now() - t0;
	CHECK(el >= 0.25 && el < 5, "  ... after about 0.3 s (%.3f s)", el);
	sockc_setblocking(c, S, 0);
	errno = 0;
	r = (int)sockc_send(c, S, chunk, sizeof chunk, 0);
	e = errno;
	CHECK(r == -1 && (e == EAGAIN || e == EWOULDBLOCK),
	      "send non-blocking into a full buffer -> -1 EAGAIN (%d %s)", r,
	      t_errname(e));
	sockc_close(c, S);
	close(peer);
	close(lfd);
}

/* revents of the kernel's own poll() on fd, for what was asked. */
static short
kernel_revents(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void
test_poll(struct sockc *c)
{
	struct sockc_pollfd it[2];
	int peer, peer2, fd, r, e;
	double t0, el;
	short k;
	sockc_handle_t S = t_sockc_connected(c, AF_INET, &peer);
	sockc_handle_t S2 = t_sockc_connected(c, AF_INET6, &peer2);

	REQUIRE(S > 0 && S2 > 0, "poll: two connected handles");
	fd = sockc_fileno(c, S, 0); /* the kernel's view of the same socket */

	it[0] = (struct sockc_pollfd){.handle = S, .events = POLLIN};
	t0 = t_now();
	r = sockc_poll(c, it, 1, 0.2);
	el = t_now() - t0;
	CHECK(r == 0 && it[0].revents == 0,
	      "poll(POLLIN, 0.2 s), nothing to read -> 0 (%d, revents %#x)", r,
	      (unsigned)it[0].revents);
	CHECK(el >= 0.15 && el < 3, "  ... after about 0.2 s (%.3f s)", el);
	it[0].revents = 0x7777;
	r = sockc_poll(c, it, 1, 0);
	CHECK(r == 0 && it[0].revents == 0,
	      "poll(timeout 0) -> 0 at once, revents cleared (%d)", r);

	it[0] = (struct sockc_pollfd){.handle = S, .events = POLLOUT};
	r = sockc_poll(c, it, 1, 5);
	k = kernel_revents(fd, POLLOUT);
	CHECK(r == 1 && it[0].revents == k && (k & POLLOUT),
	      "poll(POLLOUT) -> 1 (%d), revents %#x as the kernel's %#x", r,
	      (unsigned)it[0].revents, (unsigned)k);

	t_write_all(peer, "data", 4, T_DEADLINE);
	t_wait(fd, POLLIN, T_DEADLINE);
	it[0] = (struct sockc_pollfd){.handle = S, .events = POLLIN};
	it[1] = (struct sockc_pollfd){.handle = S2, .events = POLLIN};
	r = sockc_poll(c, it, 2, 5);
	k = kernel_revents(fd, POLLIN);
	CHECK(r == 1 && it[0].revents == k && (k & POLLIN) &&
		  it[1].revents == 0,
	      "poll(two handles, one readable) -> 1, revents %#x/%#x "
	      "(kernel %#x)",
	      (unsigned)it[0].revents, (unsigned)it[1].revents, (unsigned)k);
	r = sockc_poll(c, it, 2, -1);
	CHECK(r == 1 && (it[0].revents & POLLIN), "poll(no timeout) -> 1");
	{
		char b[8];

		sockc_recv(c, S, b, sizeof b, 0);
	}

	/* The peer goes away: as the kernel sees it. */
	close(peer);
	t_wait(fd, POLLIN, T_DEADLINE);
	it[0] =
	    (struct sockc_pollfd){.handle = S, .events = POLLIN | POLLRDHUP};
	r = sockc_poll(c, it, 1, 5);
	k = kernel_revents(fd, POLLIN | POLLRDHUP);
	CHECK(r == 1 && it[0].revents == k,
	      "poll(POLLIN|POLLRDHUP) after the peer closed: revents %#x as "
	      "the kernel's %#x",
	      (unsigned)it[0].revents, (unsigned)k);

	it[0] = (struct sockc_pollfd){.handle = (sockc_handle_t)1 << 40,
				      .events = POLLIN};
	errno = 0;
	r = sockc_poll(c, it, 1, 0);
	e = errno;
	CHECK(r == -1 && e == EBADF, "poll(unknown handle) -> -1 EBADF (%d %s)",
	      r, t_errname(e));
	r = sockc_poll(c, NULL, 0, 0.05);
	CHECK(r == 0, "poll(no items, 0.05 s) -> 0 (%d %s)", r,
	      t_errname(errno));
	if (fd >= 0)
		close(fd);
	close(peer2);
	sockc_close(c, S);
	sockc_close(c, S2);
}

int
main(int argc, char **argv)
{
	const char *path = t_setup(argc, argv);
	struct sockc *c = t_open(path);

	test_timeouts(c);
	test_waiting_calls(c);
	test_poll(c);
	sockc_free(c);
	return t_done();
}
