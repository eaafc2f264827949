/*
 * libsockc basics: the connection (sockc_open, sockc_free,
 * sockc_connection_fd), error details after an OSError, handles
 * (sockc_socket, sockc_socket_ex, sockc_list, sockc_close), and the
 * connection calls: bind, listen, accept, connect, connect_ex, shutdown,
 * getsockname, getpeername, attach.
 */
#include "check.h"

static const char *daemon_path;

static void
test_open(void)
{
	struct sockaddr_un peer;
	socklen_t plen = sizeof peer;
	struct sockc *c, *c2;
	int fd, dom = 0, lfd;
	socklen_t dl = sizeof dom;
	char longp[200];

	c = sockc_open(daemon_path);
	REQUIRE(c != NULL, "sockc_open(explicit path)");
	fd = sockc_connection_fd(c);
	CHECK(fd >= 0, "sockc_connection_fd >= 0 (%d)", fd);
	CHECK(t_cloexec(fd), "connection fd is close-on-exec");
	CHECK(getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) == 0 &&
		  dom == AF_UNIX,
	      "connection fd is an AF_UNIX socket");
	CHECK(getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 &&
		  strcmp(peer.sun_path, daemon_path) == 0,
	      "connection fd is connected to %s", daemon_path);
	sockc_free(c);
	sockc_free(NULL);
	CHECK(1, "sockc_free(NULL) returns");

	/* $SOCKD_SOCKET when no path is given, not when one is. */
	setenv("SOCKD_SOCKET", daemon_path, 1);
	c = sockc_open(NULL);
	CHECK(c != NULL, "sockc_open(NULL) with $SOCKD_SOCKET");
	if (c != NULL) {
		struct sockc_info *list;
		size_t n;

		int r = sockc_list(c, &list, &n);

		CHECK(r == 0, "  ... a call over it works");
		if (r == 0)
			sockc_list_free(list, n);
	}
	sockc_free(c);
	setenv("SOCKD_SOCKET", t_path("absent.sock"), 1);
	errno = 0;
	c = sockc_open(NULL);
	CHECK(c == NULL && errno == ENOENT,
	      "sockc_open(NULL), $SOCKD_SOCKET missing -> NULL ENOENT (%s)",
	      t_errname(errno));
	sockc_free(c);
	c = sockc_open(daemon_path);
	CHECK(c != NULL, "an explicit path wins over $SOCKD_SOCKET");
	sockc_free(c);
	unsetenv("SOCKD_SOCKET");

	errno = 0;
	c = sockc_open(t_path("missing.sock"));
	CHECK(c == NULL && errno == ENOENT,
	      "sockc_open(missing path) -> NULL ENOENT (%s)", t_errname(errno));
	sockc_free(c);
	/* A socket file nobody listens on. */
	lfd = t_sock(AF_UNIX, SOCK_STREAM, t_path("stale.sock"), 0, NULL, NULL);
	errno = 0;
	c = sockc_open(t_path("stale.sock"));
	CHECK(c == NULL && errno == ECONNREFUSED,
	      "sockc_open(socket nobody listens on) -> NULL ECONNREFUSED (%s)",
	      t_errname(errno));
	sockc_free(c);
	close(lfd);
	memset(longp, 'x', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	errno = 0;
	c = sockc_open(longp);
	CHECK(c == NULL && errno != 0,
	      "sockc_open(200-byte path) -> NULL with errno (%s)",
	      t_errname(errno));
	sockc_free(c);

	/* Two connections are independent. */
	c = sockc_open(daemon_path);
	c2 = sockc_open(daemon_path);
	CHECK(c != NULL && c2 != NULL &&
		  sockc_connection_fd(c) != sockc_connection_fd(c2),
	      "two connections, two fds");
	sockc_free(c2);
	sockc_free(c);
}

static void
test_errors(struct sockc *c)
{
	struct sockaddr_storage a;
	socklen_t al;
	sockc_handle_t h;
	int hold, r, e, ke;

	h = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	REQUIRE(h > 0, "sockc_socket(AF_INET, SOCK_STREAM) -> %lld",
		(long long)h);
	CHECK(sockc_error_name(c) == NULL, "no error name after a success");
	CHECK(strcmp(sockc_error_message(c), "") == 0,
	      "error message \"\" after a success");
	CHECK(sockc_gai_error(c) == 0 && sockc_herror(c) == 0,
	      "no gai/h error after a success");

	/* A port nobody listens on: hold it bound, not listening. */
	hold = t_sock(AF_INET, SOCK_STREAM, NULL, 0, &a, &al);
	{
		int k = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		ke = connect(k, (struct sockaddr *)&a, al) < 0 ? errno : 0;
		close(k);
	}
	errno = 0;
	r = sockc_connect(c, h, (struct sockaddr *)&a, al);
	e = errno;
	CHECK(r == -1 && e == ke,
	      "connect to a closed port -> -1 %s like the kernel (got %d %s)",
	      t_errname(ke), r, t_errname(e));
	CHECK(sockc_error_name(c) != NULL &&
		  strcmp(sockc_error_name(c), "io.sockd.OSError") == 0,
	      "sockc_error_name -> io.sockd.OSError (%s)",
	      sockc_error_name(c) ? sockc_error_name(c) : "NULL");
	CHECK(strstr(sockc_error_message(c), strerror(ke)) != NULL,
	      "sockc_error_message has \"%s\" (\"%s\")", strerror(ke),
	      sockc_error_message(c));
	CHECK(sockc_gai_error(c) == 0 && sockc_herror(c) == 0,
	      "no gai/h error after an OSError");
	close(hold);

	CHECK_ERR(sockc_close(c, (sockc_handle_t)1 << 40), EBADF,
		  "close(unknown handle)");
	CHECK(sockc_error_name(c) &&
		  strcmp(sockc_error_name(c), "io.sockd.OSError") == 0 &&
		  sockc_error_message(c)[0] != '\0',
	      "  ... an OSError with a message (\"%s\")",
	      sockc_error_message(c));
	CHECK_OK(sockc_close(c, h), "close(h)");
	CHECK(sockc_error_name(c) == NULL && sockc_error_message(c)[0] == '\0',
	      "a success clears the error details");
}

/* The entry of handle h in the caller's list, copied to *ret; 1 if found. */
static int
find_handle(struct sockc *c, sockc_handle_t h, struct sockc_info *ret,
	    char *name, size_t namelen)
{
	struct sockc_info *list;
	size_t n;
	int found = 0;

	memset(ret, 0, sizeof *ret); /* read even when not found */
	if (sockc_list(c, &list, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (list[i].handle == h) {
			*ret = list[i];
			snprintf(name, namelen, "%s",
				 list[i].name ? list[i].name : "(null)");
			ret->name = NULL;
			found = 1;
		}
	sockc_list_free(list, n);
	return found;
}

static void
test_handles(struct sockc *c)
{
	struct sockc_info info;
	struct sockc *c2;
	sockc_handle_t h1, h2, hp, hs;
	char name[64], got[64];
	int fd, proto = -1;
	socklen_t pl = sizeof proto;
	double end;

	snprintf(name, sizeof name, "lib-basic-%d", (int)getpid());
	h1 = sockc_socket(c, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	h2 = sockc_socket(c, AF_INET6, SOCK_DGRAM, 0);
	REQUIRE(h1 > 0 && h2 > 0 && h1 != h2,
		"two sockets, two positive handles (%lld, %lld)", (long long)h1,
		(long long)h2);
	CHECK_OK(sockc_close(c, h2), "close the second");
	hs = sockc_socket(c, AF_UNIX, SOCK_STREAM, 0);
	CHECK(hs > 0 && hs != h1 && hs != h2,
	      "a closed handle's number is not reused (%lld)", (long long)hs);
	sockc_close(c, hs);

	CHECK(find_handle(c, h1, &info, got, sizeof got) == 1,
	      "sockc_list has the handle");
	CHECK(info.family == AF_INET && info.type == SOCK_STREAM &&
		  info.persistent == 0 && info.timeout == -1 &&
		  info.owner == getuid() && strcmp(got, "(null)") == 0 &&
		  info.local_len == sizeof(struct sockaddr_in) &&
		  info.peer_len == 0,
	      "  ... AF_INET SOCK_STREAM, scoped, unnamed, blocking, "
	      "owner %u, local_len %u, peer_len %u",
	      (unsigned)info.owner, (unsigned)info.local_len,
	      (unsigned)info.peer_len);
	fd = sockc_fileno(c, h1, 0);
	if (fd >= 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) == 0)
		CHECK(info.protocol == proto,
		      "  ... protocol %d as the kernel says (%d)",
		      info.protocol, proto);
	if (fd >= 0)
		close(fd);
	sockc_close(c, h1);

	/* Named and persistent: survives its connection; names are unique. */
	c2 = t_open(daemon_path);
	hp =
	    sockc_socket_ex(c2, AF_INET, SOCK_DGRAM, 0, SOCKC_PERSISTENT, name);
	hs = sockc_socket_ex(c2, AF_INET, SOCK_DGRAM, 0, 0, NULL);
	CHECK(hp > 0 && hs > 0, "sockc_socket_ex persistent+named, scoped");
	CHECK_ERR(sockc_socket_ex(c2, AF_INET, SOCK_STREAM, 0, SOCKC_PERSISTENT,
				  name),
		  EEXIST, "sockc_socket_ex(duplicate name)");
	CHECK_ERR(sockc_socket_ex(c, AF_INET, SOCK_STREAM, 0, 0, name), EEXIST,
		  "  ... also from another connection of the same uid");
	CHECK(find_handle(c2, hp, &info, got, sizeof got) == 1 &&
		  info.persistent == 1 && strcmp(got, name) == 0 &&
		  info.type == SOCK_DGRAM,
	      "sockc_list: persistent, named %s (%s)", name, got);
	sockc_free(c2);
	/* The scoped handle goes with its connection (the daemon notices
	 * the hangup on its own time). */
	end = t_now() + T_DEADLINE;
	while (find_handle(c, hs, &info, got, sizeof got) == 1 && t_now() < end)
		poll(NULL, 0, 10);
	CHECK(find_handle(c, hs, &info, got, sizeof got) == 0,
	      "a scoped handle is gone after sockc_free");
	CHECK_ERR(sockc_close(c, hs), EBADF, "close(that handle)");
	CHECK(find_handle(c, hp, &info, got, sizeof got) == 1,
	      "the persistent handle outlives its connection");
	CHECK_OK(sockc_close(c, hp), "close(persistent) from another conn");
	hp = sockc_socket_ex(c, AF_INET, SOCK_DGRAM, 0, 0, name);
	CHECK(hp > 0, "the name is free again after close");
	sockc_close(c, hp);
}

/* Listen with sockc; plain clients connect; sockc accepts. */
static void
test_accept(struct sockc *c, int family, const char *unix_name)
{
	/* got is printed even when accept fails. */
	struct sockaddr_storage la, ca, got = {0}, kn;
	socklen_t ll, cl = sizeof ca, gl, kl;
	sockc_handle_t L, A;
	int cfd, cfd2;
	const char *what = unix_name		? unix_name
			   : family == AF_INET6 ? "[::1]"
						: "127.0.0.1";
	socklen_t bl;

	L = sockc_socket(c, family, SOCK_STREAM, 0);
	REQUIRE(L > 0, "%s: socket", what);
	bl = unix_name ? t_unix(&la, unix_name) : t_loop(&la, family, 0);
	CHECK_OK(sockc_bind(c, L, (struct sockaddr *)&la, bl), "bind");
	ll = sizeof la;
	CHECK_OK(sockc_getsockname(c, L, (struct sockaddr *)&la, &ll),
		 "getsockname");
	CHECK(unix_name ? ll == bl : t_port(&la) != 0, "  ... bound to %s",
	      t_addr_str(&la, ll));
	CHECK_OK(sockc_listen(c, L, 8), "listen(8)");

	cfd = t_connect(&la, ll);
	REQUIRE(cfd >= 0, "a plain client connects to %s", t_addr_str(&la, ll));
	getsockname(cfd, (struct sockaddr *)&ca, &cl);
	gl = sizeof got;
	A = sockc_accept(c, L, (struct sockaddr *)&got, &gl);
	CHECK(A > 0 && A != L, "accept -> a new handle (%lld)", (long long)A);
	CHECK(t_addr_eq(&got, gl, &ca, cl),
	      "  ... address %s is the client's %s", t_addr_str(&got, gl),
	      t_addr_str(&ca, cl));
	gl = sizeof got;
	CHECK(sockc_getpeername(c, A, (struct sockaddr *)&got, &gl) == 0 &&
		  t_addr_eq(&got, gl, &ca, cl),
	      "getpeername(accepted) %s", t_addr_str(&got, gl));
	gl = sizeof got;
	kl = sizeof kn;
	getpeername(cfd, (struct sockaddr *)&kn, &kl);
	CHECK(sockc_getsockname(c, A, (struct sockaddr *)&got, &gl) == 0 &&
		  t_addr_eq(&got, gl, &kn, kl),
	      "getsockname(accepted) %s is the client's peer",
	      t_addr_str(&got, gl));
	sockc_close(c, A);

	/* No room for the address: accept() without one, and a short one. */
	cfd2 = t_connect(&la, ll);
	A = sockc_accept(c, L, NULL, NULL);
	CHECK(A > 0, "accept(NULL, NULL)");
	sockc_close(c, A);
	close(cfd2);
	if (unix_name == NULL) {
		cfd2 = t_connect(&la, ll);
		cl = sizeof ca;
		getsockname(cfd2, (struct sockaddr *)&ca, &cl);
		memset(&got, 0xee, sizeof got);
		gl = 4;
		A = sockc_accept(c, L, (struct sockaddr *)&got, &gl);
		CHECK(A > 0 && gl == cl && memcmp(&got, &ca, 4) == 0 &&
			  ((unsigned char *)&got)[4] == 0xee,
		      "accept(addrlen 4): truncated, addrlen %u (want %u)",
		      (unsigned)gl, (unsigned)cl);
		sockc_close(c, A);
		close(cfd2);
	}
	close(cfd);
	sockc_close(c, L);
}

/* Connect with sockc to plain listeners. */
static void
test_connect(struct sockc *c, int family)
{
	struct sockaddr_storage la, sa, pa, got;
	socklen_t ll, sl = sizeof sa, pl = sizeof pa, gl = sizeof got;
	sockc_handle_t S, S2;
	int lfd, pfd, hold, k, ke, r;

	lfd = t_sock(family, SOCK_STREAM, NULL, 1, &la, &ll);
	S = sockc_socket(c, family, SOCK_STREAM, 0);
	REQUIRE(lfd >= 0 && S > 0, "%s: a plain listener and a handle",
		family == AF_INET6 ? "::1" : "127.0.0.1");
	{
		int kk = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_storage x;
		socklen_t xl = sizeof x;

		ke =
		    getpeername(kk, (struct sockaddr *)&x, &xl) < 0 ? errno : 0;
		close(kk);
	}
	CHECK_ERR(sockc_getpeername(c, S, (struct sockaddr *)&got, &gl), ke,
		  "getpeername(unconnected) like the kernel");
	/* (On its own socket: Linux keeps the shutdown bits even then.) */
	S2 = sockc_socket(c, family, SOCK_STREAM, 0);
	CHECK_ERR(sockc_shutdown(c, S2, SHUT_RDWR), ENOTCONN,
		  "shutdown(unconnected)");
	sockc_close(c, S2);
	CHECK_OK(sockc_connect(c, S, (struct sockaddr *)&la, ll),
		 "connect to the listener");
	pfd = t_accept(lfd);
	REQUIRE(pfd >= 0, "  ... the listener accepts it");
	getpeername(pfd, (struct sockaddr *)&pa, &pl);
	CHECK(sockc_getsockname(c, S, (struct sockaddr *)&sa, &sl) == 0 &&
		  t_addr_eq(&sa, sl, &pa, pl),
	      "getsockname %s is the peer's peer %s", t_addr_str(&sa, sl),
	      t_addr_str(&pa, pl));
	gl = sizeof got;
	CHECK(sockc_getpeername(c, S, (struct sockaddr *)&got, &gl) == 0 &&
		  t_addr_eq(&got, gl, &la, ll),
	      "getpeername %s is the listener", t_addr_str(&got, gl));
	CHECK_ERR(sockc_connect(c, S, (struct sockaddr *)&la, ll), EISCONN,
		  "connect again");

	/* shutdown(SHUT_WR): the peer sees EOF and can still send. */
	CHECK_OK(sockc_shutdown(c, S, SHUT_WR), "shutdown(SHUT_WR)");
	CHECK(t_peer_eof(pfd), "  ... the peer reads EOF");
	{
		char b[8] = "";

		ssize_t ns = send(pfd, "back", 4, MSG_NOSIGNAL);
		ssize_t nr = sockc_recv(c, S, b, sizeof b, 0);
		int e = errno;

		CHECK(ns == 4 && nr == 4 && memcmp(b, "back", 4) == 0,
		      "  ... and the other direction still works (send %zd, "
		      "recv %zd %s)",
		      ns, nr, nr < 0 ? t_errname(e) : "");
	}
	CHECK_ERR(sockc_shutdown(c, S, 77), EINVAL, "shutdown(how 77)");

	/* close: the peer sees EOF, the handle is gone. */
	CHECK_OK(sockc_close(c, S), "close");
	CHECK(t_peer_eof(pfd), "  ... the peer sees the end");
	CHECK_ERR(sockc_close(c, S), EBADF, "close again");
	gl = sizeof got;
	CHECK_ERR(sockc_getsockname(c, S, (struct sockaddr *)&got, &gl), EBADF,
		  "getsockname(closed)");
	CHECK_ERR(sockc_send(c, S, "x", 1, 0), EBADF, "send(closed)");
	close(pfd);

	/* connect_ex: errors as values. */
	S2 = sockc_socket(c, family, SOCK_STREAM, 0);
	r = sockc_connect_ex(c, S2, (struct sockaddr *)&la, ll);
	CHECK(r == 0, "connect_ex to a listener -> 0 (%d %s)", r, t_errname(r));
	sockc_close(c, S2);
	hold = t_sock(family, SOCK_STREAM, NULL, 0, &sa, &sl);
	k = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ke = connect(k, (struct sockaddr *)&sa, sl) < 0 ? errno : 0;
	close(k);
	S2 = sockc_socket(c, family, SOCK_STREAM, 0);
	errno = 0;
	r = sockc_connect_ex(c, S2, (struct sockaddr *)&sa, sl);
	CHECK(r == ke && ke == ECONNREFUSED,
	      "connect_ex to a closed port -> %s as a value (got %d %s)",
	      t_errname(ke), r, t_errname(r));
	CHECK_ERR(sockc_connect_ex(c, (sockc_handle_t)1 << 40,
				   (struct sockaddr *)&sa, sl),
		  EBADF, "connect_ex(unknown handle) -> -1");
	sockc_close(c, S2);
	close(hold);
	close(lfd);
}

static void
test_attach(struct sockc *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct sockc_info *list;
	struct sockc *a;
	sockc_handle_t h = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	char buf[16] = "";
	size_t n;
	int r, lfd, peer, fd;

	/* Refused: the connection stays a varlink one. */
	CHECK_ERR(sockc_attach(c, h), ENOTCONN, "attach(unconnected) -> -1");
	r = sockc_list(c, &list, &n);
	CHECK(r == 0, "  ... the connection still works");
	if (r == 0)
		sockc_list_free(list, n);

	lfd = t_sock(AF_INET, SOCK_STREAM, NULL, 1, &ss, &sl);
	REQUIRE(lfd >= 0, "plain listener");
	CHECK(sockc_connect(c, h, (struct sockaddr *)&ss, sl) == 0,
	      "connect the handle to attach");
	peer = t_accept(lfd);
	REQUIRE(peer >= 0, "accept the handle's connection");
	/* Sent before the upgrade: must come right behind the reply, and
	 * not be lost in a buffer of the library. */
	CHECK(t_write_all(peer, "early", 5, T_DEADLINE) == 0, "peer writes");
	a = t_open(daemon_path);
	CHECK(sockc_attach(a, h) == 0, "attach(connected) -> 0");
	fd = sockc_connection_fd(a);
	CHECK(t_read_exact(fd, buf, 5, T_DEADLINE) == 5 &&
		  memcmp(buf, "early", 5) == 0,
	      "the peer's bytes arrive on the connection fd");
	CHECK(t_write_all(fd, "up", 2, T_DEADLINE) == 0 &&
		  t_read_exact(peer, buf, 2, T_DEADLINE) == 2 &&
		  memcmp(buf, "up", 2) == 0,
	      "bytes written to the connection fd reach the peer");
	CHECK_ERR(sockc_list(a, &list, &n), EBADF,
		  "no more calls on an attached connection");
	CHECK(shutdown(fd, SHUT_WR) == 0 && t_read_exact(peer, buf, 1, 5) == 0,
	      "shutdown(SHUT_WR) reaches the peer as EOF");
	sockc_free(a);
	close(peer);
	close(lfd);
}

int
main(int argc, char **argv)
{
	struct sockc *c;

	daemon_path = t_setup(argc, argv);
	test_open();
	c = t_open(daemon_path);
	test_errors(c);
	test_handles(c);
	test_accept(c, AF_INET, NULL);
	test_accept(c, AF_INET6, NULL);
	test_accept(c, AF_UNIX, t_path("listen.sock"));
	{
		char abs[64];

		snprintf(abs, sizeof abs, "@sockc-lib-basic-%d", (int)getpid());
		test_accept(c, AF_UNIX, abs);
	}
	test_connect(c, AF_INET);
	test_connect(c, AF_INET6);
	test_attach(c);
	sockc_free(c);
	return t_done();
}
