/*
 * libsockc options: sockc_setsockopt and sockc_getsockopt with int options
 * (SO_REUSEADDR, TCP_NODELAY, SO_RCVBUF, IPV6_V6ONLY, SO_TYPE) and a bytes
 * option (TCP_CONGESTION), each checked against the kernel's view of the
 * same socket (through sockc_fileno) or of a plain socket given the same
 * setting; options sockd does not know fail with ENOPROTOOPT.
 */
#include "check.h"

/* An int option as the kernel reports it on fd; -12345 on failure. */
static int
kernel_int(int fd, int level, int opt)
{
	int v = -12345;
	socklen_t l = sizeof v;

	if (getsockopt(fd, level, opt, &v, &l) < 0)
		return -12345;
	return v;
}

/* Set an int option to v through sockc, read it back through sockc and
 * through the kernel. */
static void
int_round_trip(struct sockc *c, sockc_handle_t h, int fd, int level, int opt,
	       const char *name, int v)
{
	int got = -1;
	socklen_t gl = sizeof got;
	int r = sockc_setsockopt(c, h, level, opt, &v, sizeof v);

	CHECK(r == 0, "setsockopt(%s, %d) -> 0 (%d %s)", name, v, r,
	      t_errname(errno));
	r = sockc_getsockopt(c, h, level, opt, &got, &gl);
	CHECK(r == 0 && gl == sizeof(int) && !!got == !!v,
	      "  ... getsockopt -> %d, optlen %u", got, (unsigned)gl);
	CHECK(kernel_int(fd, level, opt) == got, "  ... the kernel says %d too",
	      kernel_int(fd, level, opt));
}

static void
test_int_options(struct sockc *c)
{
	sockc_handle_t h = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	sockc_handle_t h6 = sockc_socket(c, AF_INET6, SOCK_STREAM, 0);
	int fd = h > 0 ? sockc_fileno(c, h, 0) : -1;
	int fd6 = h6 > 0 ? sockc_fileno(c, h6, 0) : -1;
	int plain, v, got, r;
	socklen_t gl;

	REQUIRE(fd >= 0 && fd6 >= 0,
		"two handles and the kernel's view of them (fileno)");
	int_round_trip(c, h, fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
	int_round_trip(c, h, fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 0);
	int_round_trip(c, h, fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
	int_round_trip(c, h, fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 0);
	int_round_trip(c, h6, fd6, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", 1);

	/* SO_RCVBUF: the kernel doubles what it is given; a plain socket
	 * given the same value says what to expect. */
	v = 65536;
	plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(plain, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
	CHECK_OK(sockc_setsockopt(c, h, SOL_SOCKET, SO_RCVBUF, &v, sizeof v),
		 "setsockopt(SO_RCVBUF, 65536)");
	got = -1;
	gl = sizeof got;
	r = sockc_getsockopt(c, h, SOL_SOCKET, SO_RCVBUF, &got, &gl);
	CHECK(r == 0 && gl == sizeof(int) &&
		  got == kernel_int(plain, SOL_SOCKET, SO_RCVBUF) &&
		  got == kernel_int(fd, SOL_SOCKET, SO_RCVBUF),
	      "  ... getsockopt -> %d, as a plain socket says (%d)", got,
	      kernel_int(plain, SOL_SOCKET, SO_RCVBUF));
	close(plain);

	got = -1;
	gl = sizeof got;
	r = sockc_getsockopt(c, h, SOL_SOCKET, SO_TYPE, &got, &gl);
	CHECK(r == 0 && got == SOCK_STREAM, "getsockopt(SO_TYPE) -> %d", got);
	got = -1;
	gl = sizeof got;
	r = sockc_getsockopt(c, h, SOL_SOCKET, SO_ERROR, &got, &gl);
	CHECK(r == 0 && got == 0, "getsockopt(SO_ERROR) -> 0 (%d)", got);
	{
		struct linger lg = {.l_onoff = 1, .l_linger = 7}, lk = {0, 0};
		socklen_t ll;

		CHECK_OK(sockc_setsockopt(c, h, SOL_SOCKET, SO_LINGER, &lg,
					  sizeof lg),
			 "setsockopt(SO_LINGER, {1, 7}) (a struct)");
		ll = sizeof lk;
		r = sockc_getsockopt(c, h, SOL_SOCKET, SO_LINGER, &lk, &ll);
		CHECK(r == 0 && ll == sizeof lk && lk.l_onoff == 1 &&
			  lk.l_linger == 7,
		      "  ... getsockopt -> {%d, %d}", lk.l_onoff, lk.l_linger);
	}

	/* A value the kernel refuses: the kernel's errno. */
	{
		int bad = 256, ke;

		plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ke = setsockopt(plain, IPPROTO_IP, IP_TTL, &bad, sizeof bad) < 0
			 ? errno
			 : 0;
		close(plain);
		CHECK_ERR(sockc_setsockopt(c, h, IPPROTO_IP, IP_TTL, &bad,
					   sizeof bad),
			  ke, "setsockopt(IP_TTL, 256) like the kernel");
	}
	close(fd);
	close(fd6);
	sockc_close(c, h);
	sockc_close(c, h6);
}

static void
test_congestion(struct sockc *c)
{
	sockc_handle_t h = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	int fd = h > 0 ? sockc_fileno(c, h, 0) : -1;
	int plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char want[16] = "", got[16] = "", k[16] = "";
	socklen_t wl = sizeof want, gl = sizeof got, kl = sizeof k;
	int r, ke;

	REQUIRE(fd >= 0 && plain >= 0, "TCP_CONGESTION: a handle");
	/* The default, as a fresh plain socket has it. */
	getsockopt(plain, IPPROTO_TCP, TCP_CONGESTION, want, &wl);
	r = sockc_getsockopt(c, h, IPPROTO_TCP, TCP_CONGESTION, got, &gl);
	CHECK(r == 0 && gl == wl && memcmp(got, want, wl) == 0,
	      "getsockopt(TCP_CONGESTION) -> \"%s\" (%u bytes), the default "
	      "\"%s\"",
	      got, (unsigned)gl, want);
	/* reno is always built in. */
	r = sockc_setsockopt(c, h, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	CHECK(r == 0, "setsockopt(TCP_CONGESTION, \"reno\" 4 bytes) -> 0 (%s)",
	      r ? t_errname(errno) : "");
	memset(got, 0, sizeof got);
	gl = sizeof got;
	r = sockc_getsockopt(c, h, IPPROTO_TCP, TCP_CONGESTION, got, &gl);
	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, k, &kl);
	CHECK(r == 0 && strcmp(got, "reno") == 0 && gl == kl &&
		  memcmp(got, k, kl) == 0,
	      "  ... getsockopt -> \"%s\" (%u bytes), the kernel's \"%s\" (%u)",
	      got, (unsigned)gl, k, (unsigned)kl);
	memset(got, 0, sizeof got);
	gl = 2;
	r = sockc_getsockopt(c, h, IPPROTO_TCP, TCP_CONGESTION, got, &gl);
	CHECK(r == 0 && gl == 2 && memcmp(got, "re", 2) == 0 && got[2] == 0,
	      "  ... with optlen 2 -> \"re\", nothing past it (%u)",
	      (unsigned)gl);
	ke =
	    setsockopt(plain, IPPROTO_TCP, TCP_CONGESTION, "no-such-cc", 10) < 0
		? errno
		: 0;
	CHECK_ERR(sockc_setsockopt(c, h, IPPROTO_TCP, TCP_CONGESTION,
				   "no-such-cc", 10),
		  ke,
		  "setsockopt(TCP_CONGESTION, \"no-such-cc\") like the kernel");
	close(plain);
	close(fd);
	sockc_close(c, h);
}

static void
test_unknown(struct sockc *c)
{
	sockc_handle_t h = sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	int v = 1;
	socklen_t vl = sizeof v;

	REQUIRE(h > 0, "unknown options: a handle");
	CHECK_ERR(
	    sockc_setsockopt(c, h, SOL_SOCKET, SO_TIMESTAMP, &v, sizeof v),
	    ENOPROTOOPT, "setsockopt(SO_TIMESTAMP, not in sockd's table)");
	CHECK_ERR(sockc_getsockopt(c, h, SOL_SOCKET, SO_TIMESTAMP, &v, &vl),
		  ENOPROTOOPT, "getsockopt(SO_TIMESTAMP)");
	CHECK_ERR(sockc_setsockopt(c, h, IPPROTO_TCP, 9999, &v, sizeof v),
		  ENOPROTOOPT, "setsockopt(IPPROTO_TCP, option 9999)");
	vl = sizeof v;
	CHECK_ERR(sockc_getsockopt(c, h, 132 /* SCTP */, 1, &v, &vl),
		  ENOPROTOOPT, "getsockopt(level 132)");
	CHECK_ERR(sockc_setsockopt(c, (sockc_handle_t)1 << 40, SOL_SOCKET,
				   SO_REUSEADDR, &v, sizeof v),
		  EBADF, "setsockopt(unknown handle)");
	sockc_close(c, h);
}

int
main(int argc, char **argv)
{
	const char *path = t_setup(argc, argv);
	struct sockc *c = t_open(path);

	test_int_options(c);
	test_congestion(c);
	test_unknown(c);
	sockc_free(c);
	return t_done();
}
