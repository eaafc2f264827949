/*
 * libsockc data calls: send, sendall, sendto, recv, recvfrom over TCP
 * (IPv4, IPv6), UDP (127.0.0.1, ::1), Unix stream and datagram sockets
 * (path and abstract), a 1 MiB sendall round trip, and sockc_fileno (the
 * fd used with plain read()/write(), close-on-exec, detach).
 */
#include "check.h"

#include <pthread.h>

#define BIG (1024 * 1024)

static void
test_tcp(struct sockc *c, int family)
{
	struct sockaddr_storage got;
	socklen_t gl;
	char b[64];
	ssize_t n;
	int peer;
	sockc_handle_t S = t_sockc_connected(c, family, &peer);
	const char *fam = family == AF_INET6 ? "tcp6" : "tcp";

	REQUIRE(S > 0, "%s: a handle connected to a plain peer", fam);
	n = sockc_send(c, S, "hello", 5, 0);
	CHECK(n == 5, "send(hello) -> 5 (%zd)", n);
	CHECK(t_read_exact(peer, b, 5, T_DEADLINE) == 5 &&
		  memcmp(b, "hello", 5) == 0,
	      "  ... the peer reads hello");
	n = sockc_sendto(c, S, "to", 2, MSG_NOSIGNAL, NULL, 0);
	CHECK(n == 2 && t_read_exact(peer, b, 2, T_DEADLINE) == 2 &&
		  memcmp(b, "to", 2) == 0,
	      "sendto(no address, MSG_NOSIGNAL) on TCP -> 2 (%zd)", n);
	CHECK_OK(sockc_sendall(c, S, "all of it", 9, 0), "sendall(9 bytes)");
	CHECK(t_read_exact(peer, b, 9, T_DEADLINE) == 9 &&
		  memcmp(b, "all of it", 9) == 0,
	      "  ... the peer reads them");

	t_write_all(peer, "world", 5, T_DEADLINE);
	memset(b, 0, sizeof b);
	n = sockc_recv(c, S, b, sizeof b, MSG_PEEK);
	CHECK(n == 5 && memcmp(b, "world", 5) == 0, "recv(MSG_PEEK) -> world");
	memset(b, 0, sizeof b);
	n = sockc_recv(c, S, b, 3, 0);
	CHECK(n == 3 && memcmp(b, "wor", 3) == 0 && b[3] == 0,
	      "recv(3) -> wor, nothing past the buffer (%zd)", n);
	n = sockc_recv(c, S, b, sizeof b, 0);
	CHECK(n == 2 && memcmp(b, "ld", 2) == 0, "recv -> ld (%zd)", n);

	t_write_all(peer, "from", 4, T_DEADLINE);
	memset(&got, 0xee, sizeof got);
	gl = sizeof got;
	n = sockc_recvfrom(c, S, b, sizeof b, 0, (struct sockaddr *)&got, &gl);
	CHECK(n == 4 && memcmp(b, "from", 4) == 0 && gl == 0,
	      "recvfrom on TCP -> from, *addrlen 0 (n %zd, addrlen %u)", n,
	      (unsigned)gl);
	CHECK(sockc_recv(c, S, b, 0, 0) == 0, "recv(0 bytes) -> 0");

	shutdown(peer, SHUT_WR);
	n = sockc_recv(c, S, b, sizeof b, 0);
	CHECK(n == 0, "recv after the peer's shutdown -> 0 (EOF) (%zd)", n);
	close(peer);
	sockc_close(c, S);
}

struct echo {
	int fd;
	size_t got; /* bytes the peer read */
	int same;   /* they were the pattern */
};

static unsigned char big_out[BIG], big_back[BIG], big_in[BIG];

/* The peer: read all of it, check it, send it back. */
static void *
echo_main(void *arg)
{
	struct echo *e = arg;

	e->got = t_read_exact(e->fd, big_in, BIG, 15);
	e->same = e->got == BIG && memcmp(big_in, big_out, BIG) == 0;
	if (e->same)
		t_write_all(e->fd, big_in, BIG, 15);
	return NULL;
}

static void
test_big(struct sockc *c)
{
	struct echo e = {0};
	pthread_t th;
	size_t got = 0;
	sockc_handle_t S = t_sockc_connected(c, AF_INET, &e.fd);
	int r;

	REQUIRE(S > 0, "1 MiB: a connected handle");
	for (size_t i = 0; i < BIG; i++)
		big_out[i] = (unsigned char)(i * 7 + i / 251);
	REQUIRE(pthread_create(&th, NULL, echo_main, &e) == 0, "echo thread");
	r = sockc_sendall(c, S, big_out, BIG, 0);
	CHECK(r == 0, "sendall(1 MiB) -> 0 (%d %s)", r, t_errname(errno));
	while (r == 0 && got < BIG) {
		ssize_t n = sockc_recv(c, S, big_back + got, BIG - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	pthread_join(th, NULL);
	CHECK(e.same, "  ... the peer read 1 MiB, all of it right (%zu)",
	      e.got);
	CHECK(got == BIG && memcmp(big_back, big_out, BIG) == 0,
	      "  ... and recv got it all back (%zu)", got);
	close(e.fd);
	sockc_close(c, S);
}

/* Datagrams between a sockc handle and a plain socket at addresses made
 * by t_sock (loopback port 0, or the Unix names given). */
static void
test_dgram(struct sockc *c, int family, const char *sname, const char *pname,
	   const char *what)
{
	struct sockaddr_storage sa, pa, got, src;
	socklen_t sl, pl, gl, srcl;
	sockc_handle_t U;
	char b[64];
	ssize_t n;
	int p;

	p = t_sock(family, SOCK_DGRAM, pname, 0, &pa, &pl);
	U = sockc_socket(c, family, SOCK_DGRAM, 0);
	REQUIRE(p >= 0 && U > 0, "%s: a plain socket and a handle", what);
	sl = family == AF_UNIX ? t_unix(&sa, sname) : t_loop(&sa, family, 0);
	CHECK_OK(sockc_bind(c, U, (struct sockaddr *)&sa, sl), "bind");
	{
		socklen_t want = sl;

		sl = sizeof sa;
		CHECK(sockc_getsockname(c, U, (struct sockaddr *)&sa, &sl) ==
			      0 &&
			  (family != AF_UNIX || sl == want),
		      "  ... getsockname %s", t_addr_str(&sa, sl));
	}

	CHECK(sendto(p, "ping", 4, 0, (struct sockaddr *)&sa, sl) == 4,
	      "the plain socket sends to it");
	memset(b, 0, sizeof b);
	gl = sizeof got;
	n = sockc_recvfrom(c, U, b, sizeof b, 0, (struct sockaddr *)&got, &gl);
	CHECK(n == 4 && memcmp(b, "ping", 4) == 0, "recvfrom -> ping (%zd)", n);
	CHECK(t_addr_eq(&got, gl, &pa, pl),
	      "  ... from %s, the sender's address %s", t_addr_str(&got, gl),
	      t_addr_str(&pa, pl));

	n = sockc_sendto(c, U, "pong", 4, 0, (struct sockaddr *)&pa, pl);
	CHECK(n == 4, "sendto(the plain socket) -> 4 (%zd)", n);
	srcl = sizeof src;
	memset(b, 0, sizeof b);
	n = t_wait(p, POLLIN, T_DEADLINE)
		? recvfrom(p, b, sizeof b, MSG_DONTWAIT,
			   (struct sockaddr *)&src, &srcl)
		: -1;
	CHECK(n == 4 && memcmp(b, "pong", 4) == 0 &&
		  t_addr_eq(&src, srcl, &sa, sl),
	      "  ... it receives pong from %s", t_addr_str(&src, srcl));

	/* An unbound Unix sender: the address the kernel reports for it. */
	if (family == AF_UNIX) {
		int u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_storage ka;
		socklen_t kl = sizeof ka;

		sendto(u, "anon", 4, 0, (struct sockaddr *)&pa, pl);
		if (t_wait(p, POLLIN, T_DEADLINE))
			recvfrom(p, b, sizeof b, MSG_DONTWAIT,
				 (struct sockaddr *)&ka, &kl);
		sendto(u, "anon", 4, 0, (struct sockaddr *)&sa, sl);
		memset(&got, 0xee, sizeof got);
		gl = sizeof got;
		n = sockc_recvfrom(c, U, b, sizeof b, 0,
				   (struct sockaddr *)&got, &gl);
		CHECK(n == 4 && gl == kl,
		      "recvfrom an unbound sender: addrlen %u as the kernel's "
		      "%u",
		      (unsigned)gl, (unsigned)kl);
		close(u);
	}

	/* A datagram larger than the buffer is cut, as the kernel does. */
	sendto(p, "0123456789", 10, 0, (struct sockaddr *)&sa, sl);
	memset(b, 0, sizeof b);
	n = sockc_recv(c, U, b, 4, 0);
	CHECK(n == 4 && memcmp(b, "0123", 4) == 0 && b[4] == 0,
	      "recv(4) of a 10-byte datagram -> 4 (%zd)", n);
	CHECK_OK(sockc_connect(c, U, (struct sockaddr *)&pa, pl),
		 "connect the datagram handle");
	n = sockc_send(c, U, "conn", 4, 0);
	memset(b, 0, sizeof b);
	CHECK(n == 4 && t_wait(p, POLLIN, T_DEADLINE) &&
		  recv(p, b, sizeof b, MSG_DONTWAIT) == 4 &&
		  memcmp(b, "conn", 4) == 0,
	      "  ... send reaches the peer");
	close(p);
	sockc_close(c, U);
}

/* A Unix stream connection: plain client to a sockc listener. */
static void
test_unix_stream(struct sockc *c, const char *name)
{
	struct sockaddr_storage la;
	socklen_t ll = t_unix(&la, name);
	sockc_handle_t L = sockc_socket(c, AF_UNIX, SOCK_STREAM, 0), A;
	char b[16] = "";
	int cfd;

	REQUIRE(L > 0 && sockc_bind(c, L, (struct sockaddr *)&la, ll) == 0 &&
		    sockc_listen(c, L, 4) == 0,
		"unix stream %s: a listening handle", name);
	cfd = t_connect(&la, ll);
	A = sockc_accept(c, L, NULL, NULL);
	REQUIRE(cfd >= 0 && A > 0, "  ... a plain client, accepted");
	CHECK(sockc_send(c, A, "unix", 4, 0) == 4 &&
		  t_read_exact(cfd, b, 4, T_DEADLINE) == 4 &&
		  memcmp(b, "unix", 4) == 0,
	      "  ... send -> the client reads it");
	t_write_all(cfd, "back", 4, T_DEADLINE);
	CHECK(sockc_recv(c, A, b, sizeof b, 0) == 4 &&
		  memcmp(b, "back", 4) == 0,
	      "  ... the client writes -> recv");
	close(cfd);
	CHECK(sockc_recv(c, A, b, sizeof b, 0) == 0, "  ... then EOF");
	sockc_close(c, A);
	sockc_close(c, L);
}

static void
test_fileno(struct sockc *c)
{
	struct sockaddr_storage ka, sa;
	socklen_t kl = sizeof ka, sl = sizeof sa;
	struct sockc_info *list;
	size_t n, found = 0;
	struct stat st;
	char b[16] = "";
	int peer, fd, fd2;
	sockc_handle_t S = t_sockc_connected(c, AF_INET, &peer);

	REQUIRE(S > 0, "fileno: a connected handle");
	fd = sockc_fileno(c, S, 0);
	REQUIRE(fd >= 0, "sockc_fileno -> an fd (%d %s)", fd, t_errname(errno));
	CHECK(fd != sockc_connection_fd(c) && fstat(fd, &st) == 0 &&
		  S_ISSOCK(st.st_mode),
	      "  ... a socket of its own");
	CHECK(t_cloexec(fd), "  ... close-on-exec");
	getsockname(fd, (struct sockaddr *)&ka, &kl);
	CHECK(sockc_getsockname(c, S, (struct sockaddr *)&sa, &sl) == 0 &&
		  t_addr_eq(&ka, kl, &sa, sl),
	      "  ... the same socket as the handle (%s)", t_addr_str(&ka, kl));
	CHECK(write(fd, "plain", 5) == 5 &&
		  t_read_exact(peer, b, 5, T_DEADLINE) == 5 &&
		  memcmp(b, "plain", 5) == 0,
	      "write() on it reaches the peer");
	t_write_all(peer, "reply", 5, T_DEADLINE);
	CHECK(t_wait(fd, POLLIN, T_DEADLINE) && read(fd, b, sizeof b) == 5 &&
		  memcmp(b, "reply", 5) == 0,
	      "read() on it gets the peer's bytes");
	CHECK(sockc_send(c, S, "still", 5, 0) == 5 &&
		  t_read_exact(peer, b, 5, T_DEADLINE) == 5,
	      "the handle still works without detach");

	fd2 = sockc_fileno(c, S, 1);
	CHECK(fd2 >= 0 && fd2 != fd && t_cloexec(fd2),
	      "sockc_fileno(detach) -> another close-on-exec fd (%d)", fd2);
	CHECK_ERR(sockc_send(c, S, "x", 1, 0), EBADF, "send(detached handle)");
	sl = sizeof sa;
	CHECK_ERR(sockc_getsockname(c, S, (struct sockaddr *)&sa, &sl), EBADF,
		  "getsockname(detached handle)");
	CHECK_ERR(sockc_fileno(c, S, 0), EBADF, "fileno(detached handle)");
	if (sockc_list(c, &list, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			found += list[i].handle == S;
		sockc_list_free(list, n);
	}
	CHECK(found == 0, "sockc_list no longer has it");
	close(fd);
	CHECK(fd2 >= 0 && write(fd2, "kept", 4) == 4 &&
		  t_read_exact(peer, b, 4, T_DEADLINE) == 4 &&
		  memcmp(b, "kept", 4) == 0,
	      "the detached fd is all there is, and it works");
	if (fd2 >= 0)
		close(fd2);
	CHECK(t_peer_eof(peer), "closing it ends the connection");
	close(peer);
	CHECK_ERR(sockc_fileno(c, (sockc_handle_t)1 << 40, 0), EBADF,
		  "fileno(unknown handle)");
}

int
main(int argc, char **argv)
{
	const char *path = t_setup(argc, argv);
	struct sockc *c = t_open(path);
	char a1[64], a2[64];

	test_tcp(c, AF_INET);
	test_tcp(c, AF_INET6);
	test_big(c);
	test_dgram(c, AF_INET, NULL, NULL, "udp 127.0.0.1");
	test_dgram(c, AF_INET6, NULL, NULL, "udp ::1");
	test_dgram(c, AF_UNIX, t_path("d-sockc"), t_path("d-plain"),
		   "unix dgram path");
	snprintf(a1, sizeof a1, "@sockc-lib-io-%d-sockc", (int)getpid());
	snprintf(a2, sizeof a2, "@sockc-lib-io-%d-plain", (int)getpid());
	test_dgram(c, AF_UNIX, a1, a2, "unix dgram abstract");
	test_unix_stream(c, t_path("s-sockc"));
	snprintf(a1, sizeof a1, "@sockc-lib-io-%d-stream", (int)getpid());
	test_unix_stream(c, a1);
	test_fileno(c);
	sockc_free(c);
	return t_done();
}
