/*
 * libsockc's one-call paths and the raw call: sockc_create_connection
 * (to plain listeners on 127.0.0.1 and ::1, by name and by number, and to
 * a closed port), sockc_create_server (a bound, listening local fd that
 * plain clients connect to), and sockc_call (io.sockd.List,
 * org.varlink.service.GetInfo, bad JSON, error replies).
 */
#include "check.h"

/* How many handles the caller has in sockd. */
static long
handle_count(struct sockc *c)
{
	struct sockc_info *list;
	size_t n;

	if (sockc_list(c, &list, &n) < 0)
		return -1;
	sockc_list_free(list, n);
	return (long)n;
}

/* create_connection to a plain listener of family, host as given. */
static void
connection_to(struct sockc *c, int family, const char *host, double timeout)
{
	struct sockaddr_storage la, pa, fa, ka;
	socklen_t ll, pl = sizeof pa, fl = sizeof fa, kl = sizeof ka;
	char port[16], b[8] = "";
	long before = handle_count(c);
	int lfd = t_sock(family, SOCK_STREAM, NULL, 1, &la, &ll);
	int fd, peer;

	REQUIRE(lfd >= 0, "a plain listener on %s", t_addr_str(&la, ll));
	snprintf(port, sizeof port, "%d", t_port(&la));
	fd = sockc_create_connection(c, host, port, timeout);
	REQUIRE(fd >= 0,
		"sockc_create_connection(\"%s\", \"%s\", %g) -> fd %d "
		"(%s)",
		host, port, timeout, fd, t_errname(errno));
	peer = t_accept(lfd);
	CHECK(peer >= 0, "  ... the listener accepts it");
	CHECK(t_cloexec(fd), "  ... close-on-exec");
	if (timeout < 0)
		CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK),
		      "  ... blocking, as Python's create_connection() without "
		      "a timeout (O_NONBLOCK %s)",
		      fcntl(fd, F_GETFL) & O_NONBLOCK ? "set" : "clear");
	getpeername(fd, (struct sockaddr *)&fa, &fl);
	CHECK(t_addr_eq(&fa, fl, &la, ll), "  ... connected to %s",
	      t_addr_str(&fa, fl));
	getsockname(fd, (struct sockaddr *)&ka, &kl);
	if (peer >= 0)
		getpeername(peer, (struct sockaddr *)&pa, &pl);
	CHECK(peer >= 0 && t_addr_eq(&ka, kl, &pa, pl),
	      "  ... the accepted peer's peer is this fd (%s)",
	      t_addr_str(&ka, kl));
	CHECK(write(fd, "hi", 2) == 2 && peer >= 0 &&
		  t_read_exact(peer, b, 2, T_DEADLINE) == 2 &&
		  t_write_all(peer, "yo", 2, T_DEADLINE) == 0 &&
		  t_read_exact(fd, b, 2, T_DEADLINE) == 2 &&
		  memcmp(b, "yo", 2) == 0,
	      "  ... bytes both ways with write()/read()");
	CHECK(handle_count(c) == before,
	      "  ... detached: no handle left in sockd (%ld, before %ld)",
	      handle_count(c), before);
	close(fd);
	if (peer >= 0)
		close(peer);
	close(lfd);
}

static void
test_create_connection(struct sockc *c)
{
	struct sockaddr_storage a;
	socklen_t al;
	char port[16];
	long before;
	int hold, k, ke, fd, e;

	connection_to(c, AF_INET, "127.0.0.1", 5);
	connection_to(c, AF_INET, "localhost", -1);
	connection_to(c, AF_INET6, "::1", 2.5);

	/* A closed port: the kernel's refusal, no handles left over. */
	hold = t_sock(AF_INET, SOCK_STREAM, NULL, 0, &a, &al);
	k = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ke = connect(k, (struct sockaddr *)&a, al) < 0 ? errno : 0;
	close(k);
	snprintf(port, sizeof port, "%d", t_port(&a));
	before = handle_count(c);
	errno = 0;
	fd = sockc_create_connection(c, "127.0.0.1", port, 2);
	e = errno;
	CHECK(fd == -1 && e == ke && ke == ECONNREFUSED,
	      "sockc_create_connection(closed port) -> -1 %s (%d %s)",
	      t_errname(ke), fd, t_errname(e));
	CHECK(sockc_error_name(c) &&
		  strcmp(sockc_error_name(c), "io.sockd.OSError") == 0,
	      "  ... the details name io.sockd.OSError (%s)",
	      sockc_error_name(c) ? sockc_error_name(c) : "NULL");
	CHECK(handle_count(c) == before, "  ... and no handle is left over");
	close(hold);
	errno = 0;
	fd =
	    sockc_create_connection(c, "127.0.0.1", "no-such-service-sockd", 1);
	CHECK(fd == -1 && errno != 0,
	      "sockc_create_connection(unknown service) -> -1 (%s)",
	      t_errname(errno));
}

/* create_server on host, then a plain client. */
static void
server_on(struct sockc *c, const char *host, int family)
{
	/* sa zeroed for clang 14's analyzer, which does not see getsockname
	 * write it (see check.h). */
	struct sockaddr_storage sa = {0}, ca, pa;
	socklen_t sl = sizeof sa, cl = sizeof ca, pl = sizeof pa;
	long before = handle_count(c);
	int fd = sockc_create_server(c, host, "0", family, 5);
	int cfd, afd, v = 0;
	socklen_t vl = sizeof v;
	char b[8] = "";

	REQUIRE(fd >= 0, "sockc_create_server(\"%s\", \"0\") -> fd %d (%s)",
		host, fd, t_errname(errno));
	CHECK(t_cloexec(fd), "  ... close-on-exec");
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK),
	      "  ... blocking, as Python's create_server() (O_NONBLOCK %s)",
	      fcntl(fd, F_GETFL) & O_NONBLOCK ? "set" : "clear");
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	CHECK(sa.ss_family == family && t_port(&sa) != 0, "  ... bound to %s",
	      t_addr_str(&sa, sl));
	CHECK(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1,
	      "  ... listening (SO_ACCEPTCONN %d)", v);
	v = 0;
	vl = sizeof v;
	CHECK(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 &&
		  v == SOCK_STREAM,
	      "  ... SOCK_STREAM");
	CHECK(handle_count(c) == before, "  ... detached from sockd");
	cfd = t_connect(&sa, sl);
	CHECK(cfd >= 0, "a plain connect() to it");
	afd = t_accept(fd);
	CHECK(afd >= 0, "  ... accept() on the fd");
	if (cfd >= 0 && afd >= 0) {
		getsockname(cfd, (struct sockaddr *)&ca, &cl);
		getpeername(afd, (struct sockaddr *)&pa, &pl);
		CHECK(t_addr_eq(&ca, cl, &pa, pl) &&
			  write(cfd, "srv", 3) == 3 &&
			  t_read_exact(afd, b, 3, T_DEADLINE) == 3 &&
			  memcmp(b, "srv", 3) == 0,
		      "  ... the client's bytes arrive");
	}
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	close(fd);
}

static void
test_create_server(struct sockc *c)
{
	struct sockaddr_storage a;
	socklen_t al;
	char port[16];
	int lfd, k, ke, fd, e;
	struct sockaddr_storage b;
	socklen_t bl;

	server_on(c, "127.0.0.1", AF_INET);
	server_on(c, "::1", AF_INET6);

	/* A port a listener has: the kernel's EADDRINUSE. */
	lfd = t_sock(AF_INET, SOCK_STREAM, NULL, 1, &a, &al);
	k = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		int one = 1;

		setsockopt(k, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	}
	bl = t_loop(&b, AF_INET, t_port(&a));
	ke = bind(k, (struct sockaddr *)&b, bl) < 0 ? errno : 0;
	close(k);
	snprintf(port, sizeof port, "%d", t_port(&a));
	errno = 0;
	fd = sockc_create_server(c, "127.0.0.1", port, AF_INET, 5);
	e = errno;
	CHECK(fd == -1 && e == ke && ke == EADDRINUSE,
	      "sockc_create_server(a port in use) -> -1 %s (%d %s)",
	      t_errname(ke), fd, t_errname(e));
	CHECK(sockc_error_name(c) &&
		  strcmp(sockc_error_name(c), "io.sockd.OSError") == 0,
	      "  ... the details name io.sockd.OSError (%s)",
	      sockc_error_name(c) ? sockc_error_name(c) : "NULL");
	if (fd >= 0)
		close(fd);
	close(lfd);
}

static void
test_call(struct sockc *c)
{
	sockc_handle_t h = sockc_socket(c, AF_INET, SOCK_DGRAM, 0);
	char *json = NULL, want[64], *p;
	int r;

	REQUIRE(h > 0, "call: a handle to look for");
	r = sockc_call(c, "io.sockd.List", NULL, &json);
	snprintf(want, sizeof want, "\"handle\":%lld", (long long)h);
	CHECK(r == 0 && json && strstr(json, "\"sockets\"") &&
		  strstr(json, want) && strstr(json, "\"SOCK_DGRAM\""),
	      "sockc_call(io.sockd.List, NULL) -> %s", json ? json : "NULL");
	free(json);
	json = NULL;
	r = sockc_call(c, "org.varlink.service.GetInfo", "{}", &json);
	CHECK(r == 0 && json && strstr(json, "\"interfaces\"") &&
		  strstr(json, "\"io.sockd\"") &&
		  strstr(json, "\"org.varlink.service\""),
	      "sockc_call(org.varlink.service.GetInfo, {}) -> %s",
	      json ? json : "NULL");
	free(json);
	json = NULL;
	r = sockc_call(c, "io.sockd.Socket",
		       "{\"family\": \"AF_INET6\", \"type\": \"SOCK_STREAM\"}",
		       &json);
	p = json ? strstr(json, "\"handle\":") : NULL;
	CHECK(r == 0 && p != NULL, "sockc_call(io.sockd.Socket, {...}) -> %s",
	      json ? json : "NULL");
	if (p != NULL) {
		sockc_handle_t nh = strtoll(p + 9, NULL, 10);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;

		CHECK(sockc_getsockname(c, nh, (struct sockaddr *)&ss, &sl) ==
			      0 &&
			  ss.ss_family == AF_INET6,
		      "  ... the new handle %lld works with the other calls",
		      (long long)nh);
		sockc_close(c, nh);
	}
	free(json);

	json = NULL;
	CHECK_ERR(sockc_call(c, "io.sockd.List", "{not json", &json), EINVAL,
		  "sockc_call(bad JSON)");
	CHECK_ERR(sockc_call(c, "io.sockd.List", "[1, 2]", &json), EINVAL,
		  "sockc_call(a JSON array)");
	CHECK(json == NULL, "  ... *ret_json untouched");
		/* Error replies: -1 with the details on c, and errno as sockc.h
	 * documents for sockc_call (the errno each error stands for). */
	{
		static const char *const calls[3][3] = {
		    {"io.sockd.Close", "{\"handle\": 1099511627776}",
		     "io.sockd.OSError"},
		    {"io.sockd.NoSuchMethod", NULL,
		     "org.varlink.service.MethodNotFound"},
		    {"io.sockd.Socket", "{\"family\": 1}",
		     "org.varlink.service.InvalidParameter"},
		};
		int errs[3];

		for (int i = 0; i < 3; i++) {
			const char *name;

			errno = 0;
			r = sockc_call(c, calls[i][0], calls[i][1], &json);
			errs[i] = errno;
			name = sockc_error_name(c);
			CHECK(r == -1 && name && strcmp(name, calls[i][2]) == 0,
			      "sockc_call(%s, %s) -> -1, %s", calls[i][0],
			      calls[i][1] ? calls[i][1] : "NULL",
			      name ? name : "NULL");
		}
				CHECK(errs[0] == EBADF && errs[1] == ENOSYS && errs[2] == EINVAL,
		    "  ... errno EBADF, ENOSYS, EINVAL, as sockc.h documents "
		    "(got %s, %s, %s)",
		    t_errname(errs[0]), t_errname(errs[1]), t_errname(errs[2]));
	}
	sockc_close(c, h);
	r = sockc_socket(c, AF_INET, SOCK_STREAM, 0) > 0;
	CHECK(r, "the connection is still good after all that");
}

int
main(int argc, char **argv)
{
	const char *path = t_setup(argc, argv);
	struct sockc *c = t_open(path);

	test_create_connection(c);
	test_create_server(c);
	test_call(c);
	sockc_free(c);
	return t_done();
}
