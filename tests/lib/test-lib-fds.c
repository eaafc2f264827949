/*
 * libsockc names and hand-off: sockc_find, and the sockets a program gets
 * the socket-activation way (sockc_listen_fds, sockc_listen_fds_pass),
 * checked against what the kernel says of the fds.
 */
#include "check.h"

#include <sys/wait.h>

static const char *daemon_path;

/* How many fds this process has open. */
static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = -1; /* the directory's own fd */

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* An int socket option of fd, or -1. */
static int
sockopt(int fd, int level, int option)
{
	int v = -1;
	socklen_t len = sizeof v;

	if (getsockopt(fd, level, option, &v, &len) < 0)
		return -1;
	return v;
}

/* How many handles the caller has in sockd. */
static int
handle_count(struct sockc *c)
{
	struct sockc_info *list;
	size_t n;

	if (sockc_list(c, &list, &n) < 0)
		return -1;
	sockc_list_free(list, n);
	return (int)n;
}

/* The inode of fd's socket, or 0. */
static ino_t
inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void
test_find(struct sockc *c)
{
	sockc_handle_t h, h2, found;
	struct sockc *c2;
	char name[64];

	snprintf(name, sizeof name, "find-%d", (int)getpid());
	h = sockc_socket_ex(c, AF_INET, SOCK_STREAM, 0, SOCKC_PERSISTENT, name);
	REQUIRE(h > 0, "a persistent socket named %s", name);
	found = sockc_find(c, name);
	CHECK(found == h, "sockc_find(%s) -> its handle %lld (got %lld)", name,
	      (long long)h, (long long)found);
	CHECK(sockc_error_name(c) == NULL, "  ... no error details after it");
	c2 = t_open(daemon_path);
	found = sockc_find(c2, name);
	CHECK(found == h, "  ... from another connection too (got %lld)",
	      (long long)found);
	sockc_free(c2);

	CHECK_ERR(sockc_find(c, "no-such-name"), ENOENT,
		  "sockc_find(unknown name)");
	CHECK(sockc_error_name(c) != NULL &&
		  strcmp(sockc_error_name(c), "io.sockd.OSError") == 0,
	      "  ... an io.sockd.OSError (%s)",
	      sockc_error_name(c) ? sockc_error_name(c) : "NULL");
	CHECK(strstr(sockc_error_message(c), "no-such-name") != NULL,
	      "  ... whose message names it (\"%s\")", sockc_error_message(c));
	CHECK_ERR(sockc_find(c, ""), ENOENT, "sockc_find(\"\")");
	CHECK_ERR(sockc_find(c, NULL), EINVAL, "sockc_find(NULL)");

	/* A scoped handle has a name as well. */
	h2 = sockc_socket_ex(c, AF_INET, SOCK_DGRAM, 0, 0, "find-scoped");
	found = sockc_find(c, "find-scoped");
	CHECK(h2 > 0 && found == h2,
	      "sockc_find finds a scoped handle by name (%lld, %lld)",
	      (long long)h2, (long long)found);
	sockc_close(c, h2);
	sockc_close(c, h);
	CHECK_ERR(sockc_find(c, name), ENOENT, "sockc_find after sockc_close");
}

/* The fds sockc_listen_fds makes: the kind asked for, in order. */
static void
test_listen_fds(struct sockc *c)
{
	struct sockaddr_storage peer_addr, a4, a6, un, got, hs;
	socklen_t plen, l4, l6, lu, glen, hlen;
	sockc_handle_t named;
	int lfd, fds[5], before, handles, one = 1, conn;
	char buf[16];

	lfd = t_sock(AF_INET, SOCK_STREAM, NULL, 1, &peer_addr, &plen);
	REQUIRE(lfd >= 0, "a plain listener to connect to");
	named = sockc_socket_ex(c, AF_INET, SOCK_STREAM, 0, SOCKC_PERSISTENT,
				"lfds-web");
	l4 = t_loop(&a4, AF_INET, 0);
	REQUIRE(named > 0 &&
		    sockc_setsockopt(c, named, SOL_SOCKET, SO_REUSEADDR, &one,
				     sizeof one) == 0 &&
		    sockc_bind(c, named, (struct sockaddr *)&a4, l4) == 0 &&
		    sockc_listen(c, named, 8) == 0,
		"a persistent listening handle named lfds-web");
	l6 = t_loop(&a6, AF_INET6, 0);
	lu = t_unix(&un, t_path("lfds.sock"));
	{
		const struct sockc_fdspec specs[5] = {
		    {SOCKC_FD_LISTEN, (struct sockaddr *)&a4, l4, NULL},
		    {SOCKC_FD_UDP, (struct sockaddr *)&a6, l6, NULL},
		    {SOCKC_FD_CONNECT, (struct sockaddr *)&peer_addr, plen,
		     NULL},
		    {SOCKC_FD_NAME, NULL, 0, "lfds-web"},
		    {SOCKC_FD_LISTEN, (struct sockaddr *)&un, lu, NULL},
		};

		before = fd_count();
		handles = handle_count(c);
		CHECK_OK(sockc_listen_fds(c, specs, 5, fds),
			 "sockc_listen_fds(listen, udp, connect, name, "
			 "listen unix)");
	}
	if (fds[0] < 0) {
		close(lfd);
		return;
	}
	CHECK(fd_count() == before + 5, "  ... 5 new fds (%d, %d before)",
	      fd_count(), before);
	CHECK(handle_count(c) == handles,
	      "  ... and no new handle in sockd (%d, %d before)",
	      handle_count(c), handles);
	CHECK(sockopt(fds[0], SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
		  sockopt(fds[0], SOL_SOCKET, SO_DOMAIN) == AF_INET &&
		  sockopt(fds[0], SOL_SOCKET, SO_ACCEPTCONN) == 1 &&
		  sockopt(fds[0], SOL_SOCKET, SO_REUSEADDR) == 1,
	      "fd 0: an AF_INET stream socket, listening, SO_REUSEADDR");
	CHECK(sockopt(fds[1], SOL_SOCKET, SO_TYPE) == SOCK_DGRAM &&
		  sockopt(fds[1], SOL_SOCKET, SO_DOMAIN) == AF_INET6 &&
		  sockopt(fds[1], SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP,
	      "fd 1: an AF_INET6 UDP socket");
	glen = sizeof got;
	CHECK(getsockname(fds[1], (struct sockaddr *)&got, &glen) == 0 &&
		  t_port(&got) != 0,
	      "  ... bound (%s)", t_addr_str(&got, glen));
	CHECK(sockopt(fds[2], SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
		  sockopt(fds[2], SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP,
	      "fd 2: a TCP socket");
	glen = sizeof got;
	CHECK(getpeername(fds[2], (struct sockaddr *)&got, &glen) == 0 &&
		  t_addr_eq(&got, glen, &peer_addr, plen),
	      "  ... connected to the listener (%s)", t_addr_str(&got, glen));
	conn = t_accept(lfd);
	CHECK(conn >= 0 && write(fds[2], "hello", 5) == 5 &&
		  t_read_exact(conn, buf, 5, T_DEADLINE) == 5 &&
		  memcmp(buf, "hello", 5) == 0,
	      "  ... bytes written to it reach the peer");
	if (conn >= 0)
		close(conn);
	glen = sizeof got;
	hlen = sizeof hs;
	CHECK(getsockname(fds[3], (struct sockaddr *)&got, &glen) == 0 &&
		  sockc_getsockname(c, named, (struct sockaddr *)&hs, &hlen) ==
		      0 &&
		  t_addr_eq(&got, glen, &hs, hlen) &&
		  sockopt(fds[3], SOL_SOCKET, SO_ACCEPTCONN) == 1,
	      "fd 3: the named handle's socket (%s)", t_addr_str(&got, glen));
	CHECK(sockc_find(c, "lfds-web") == named,
	      "  ... which stays in sockd under its name");
	CHECK(sockopt(fds[4], SOL_SOCKET, SO_DOMAIN) == AF_UNIX &&
		  sockopt(fds[4], SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
		  sockopt(fds[4], SOL_SOCKET, SO_ACCEPTCONN) == 1,
	      "fd 4: a listening AF_UNIX stream socket");
	for (int i = 0; i < 5; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		CHECK(t_cloexec(fds[i]), "fd %d (%d) is close-on-exec", i,
		      fds[i]);
		if (i == 3)
			CHECK(fl >= 0 && (fl & O_NONBLOCK),
			      "  ... and shared with sockd: non-blocking");
		else
			CHECK(fl >= 0 && !(fl & O_NONBLOCK),
			      "  ... and detached: blocking");
	}
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	close(lfd);
	CHECK(sockc_find(c, "lfds-web") == named,
	      "the named handle outlives the closed fd");
}

/* A failing spec: nothing made is left behind. */
static void
test_listen_fds_fail(struct sockc *c)
{
	struct sockaddr_storage a4, refused;
	socklen_t l4, lr;
	int fds[3], before, handles, e, hold;

	l4 = t_loop(&a4, AF_INET, 0);
	hold = t_sock(AF_INET, SOCK_STREAM, NULL, 0, &refused, &lr);
	REQUIRE(hold >= 0, "a bound port nobody listens on");
	{
		const struct sockc_fdspec specs[3] = {
		    {SOCKC_FD_LISTEN, (struct sockaddr *)&a4, l4, NULL},
		    {SOCKC_FD_UDP, (struct sockaddr *)&a4, l4, NULL},
		    {SOCKC_FD_CONNECT, (struct sockaddr *)&refused, lr, NULL},
		};

		before = fd_count();
		handles = handle_count(c);
		CHECK_ERR(sockc_listen_fds(c, specs, 3, fds), ECONNREFUSED,
			  "sockc_listen_fds(listen, udp, connect refused)");
	}
	CHECK(fds[0] == -1 && fds[1] == -1 && fds[2] == -1,
	      "  ... fds[] all -1 (%d %d %d)", fds[0], fds[1], fds[2]);
	CHECK(fd_count() == before, "  ... no fd left open (%d, %d before)",
	      fd_count(), before);
	CHECK(handle_count(c) == handles,
	      "  ... no handle left in sockd (%d, %d before)", handle_count(c),
	      handles);
	close(hold);
	{
		const struct sockc_fdspec specs[2] = {
		    {SOCKC_FD_LISTEN, (struct sockaddr *)&a4, l4, NULL},
		    {SOCKC_FD_NAME, NULL, 0, "lfds-no-such-name"},
		};

		before = fd_count();
		CHECK_ERR(sockc_listen_fds(c, specs, 2, fds), ENOENT,
			  "sockc_listen_fds(listen, unknown name)");
		CHECK(fd_count() == before && handle_count(c) == handles,
		      "  ... nothing left behind");
	}
	{
		const struct sockc_fdspec bad[][1] = {
		    {{SOCKC_FD_NAME, NULL, 0, "a:b"}},
		    {{SOCKC_FD_NAME, NULL, 0, "tab\there"}},
		    {{SOCKC_FD_NAME, NULL, 0, NULL}},
		    {{SOCKC_FD_LISTEN, NULL, 0, NULL}},
		    {{(enum sockc_fdkind)99, (struct sockaddr *)&a4, l4, NULL}},
		};
		const char *what[] = {
		    "a name with ':'", "a name with a control character",
		    "no name", "no address", "an unknown kind"};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			errno = 0;
			fds[0] = 7;
			int r = sockc_listen_fds(c, bad[i], 1, fds);

			e = errno;
			CHECK(r == -1 && e == EINVAL && fds[0] == -1 &&
				  sockc_error_name(c) == NULL,
			      "sockc_listen_fds(%s) -> -1 EINVAL, before any "
			      "call (got %d %s)",
			      what[i], r, t_errname(e));
		}
	}
	CHECK(sockc_listen_fds(c, NULL, 0, fds) == 0,
	      "sockc_listen_fds(no specs) -> 0");
}

/* Bits of what the child of test_pass found wrong. */
enum {
	PASS_RETURN = 1 << 0,
	PASS_FDS = 1 << 1,
	PASS_SOCKETS = 1 << 2,
	PASS_CLOEXEC = 1 << 3,
	PASS_LISTEN_FDS = 1 << 4,
	PASS_LISTEN_PID = 1 << 5,
	PASS_FDNAMES = 1 << 6,
	PASS_LEFTOVER = 1 << 7,
};

/* In a child: put the fds in the worst order sockc_listen_fds_pass can
 * meet (fds[0] at 4, fds[1] at 3), pass them, and report. */
static int
pass_child(struct sockc *c, const struct sockc_fdspec *specs, int *fds,
	   const ino_t *inodes)
{
	int high[3], bad = 0, before;
	char pid[32];
	const char *v;

	sockc_free(c); /* as sockc exec does first */
	for (int i = 0; i < 3; i++) {
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 40);
		close(fds[i]);
	}
	dup3(high[0], 4, O_CLOEXEC);
	dup3(high[1], 3, O_CLOEXEC);
	close(high[0]);
	close(high[1]);
	fds[0] = 4;
	fds[1] = 3;
	fds[2] = high[2];
	setenv("LISTEN_FDNAMES", "stale", 1);
	before = fd_count();
	if (sockc_listen_fds_pass(specs, 3, fds) != 0)
		return PASS_RETURN;
	for (int i = 0; i < 3; i++) {
		if (fds[i] != 3 + i)
			bad |= PASS_FDS;
		if (inode(3 + i) != inodes[i])
			bad |= PASS_SOCKETS;
		if (fcntl(3 + i, F_GETFD) != 0)
			bad |= PASS_CLOEXEC;
	}
	if ((v = getenv("LISTEN_FDS")) == NULL || strcmp(v, "3") != 0)
		bad |= PASS_LISTEN_FDS;
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	if ((v = getenv("LISTEN_PID")) == NULL || strcmp(v, pid) != 0)
		bad |= PASS_LISTEN_PID;
	if ((v = getenv("LISTEN_FDNAMES")) == NULL ||
	    strcmp(v, "listen:udp:lfds-web") != 0)
		bad |= PASS_FDNAMES;
	if (fd_count() != before)
		bad |= PASS_LEFTOVER;
	return bad;
}

static void
test_pass(struct sockc *c)
{
	struct sockaddr_storage a4;
	socklen_t l4 = t_loop(&a4, AF_INET, 0);
	const struct sockc_fdspec specs[3] = {
	    {SOCKC_FD_LISTEN, (struct sockaddr *)&a4, l4, NULL},
	    {SOCKC_FD_UDP, (struct sockaddr *)&a4, l4, NULL},
	    {SOCKC_FD_NAME, NULL, 0, "lfds-web"},
	};
	const struct sockc_fdspec bad_spec[1] = {
	    {SOCKC_FD_NAME, NULL, 0, "a:b"}};
	static const struct {
		int bit;
		const char *what;
	} checks[] = {
	    {PASS_RETURN, "returns 0"},
	    {PASS_FDS, "fds[] becomes 3, 4, 5"},
	    {PASS_SOCKETS, "each socket is at its place: fds[0] at 3, ..."},
	    {PASS_CLOEXEC, "fds 3, 4, 5 are not close-on-exec"},
	    {PASS_LISTEN_FDS, "LISTEN_FDS=3"},
	    {PASS_LISTEN_PID, "LISTEN_PID is the process's pid"},
	    {PASS_FDNAMES, "LISTEN_FDNAMES=listen:udp:lfds-web"},
	    {PASS_LEFTOVER, "no fd is left over"},
	};
	ino_t inodes[3];
	int fds[3], status, one = 7;
	pid_t pid;

	REQUIRE(sockc_listen_fds(c, specs, 3, fds) == 0,
		"sockc_listen_fds(listen, udp, name) for passing");
	for (int i = 0; i < 3; i++)
		inodes[i] = inode(fds[i]);
	(void)fflush(stdout); /* at worst, the child writes it again */
	pid = fork();
	if (pid == 0)
		_exit(pass_child(c, specs, fds, inodes));
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	REQUIRE(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status),
		"the child running sockc_listen_fds_pass exits");
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
		CHECK(!(WEXITSTATUS(status) & checks[i].bit),
		      "sockc_listen_fds_pass (fds[0] at 4, fds[1] at 3): %s",
		      checks[i].what);

	unsetenv("LISTEN_FDS");
	errno = 0;
	CHECK(sockc_listen_fds_pass(bad_spec, 1, &one) == -1 &&
		  errno == EINVAL && one == 7 && getenv("LISTEN_FDS") == NULL,
	      "sockc_listen_fds_pass(a name with ':') -> -1 EINVAL, "
	      "nothing changed");
	CHECK(sockc_find(c, "lfds-web") > 0,
	      "the named handle is still in sockd after all that");
	sockc_close(c, sockc_find(c, "lfds-web"));
}

int
main(int argc, char **argv)
{
	struct sockc *c;

	daemon_path = t_setup(argc, argv);
	c = t_open(daemon_path);
	test_find(c);
	test_listen_fds(c);
	test_listen_fds_fail(c);
	test_pass(c);
	sockc_free(c);
	return t_done();
}
