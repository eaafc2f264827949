/*
 * libsockc against a daemon that misbehaves: a fake varlink server in a
 * thread of this program answers one connection the way each check needs
 * (hangs up, sends garbage, splits a reply into single bytes, attaches
 * too many fds or none, sends an error without parameters). The library
 * must report -1 with errno, never crash, never leak an fd and never
 * raise SIGPIPE. argv[1] (the real daemon) is only used for a final call
 * that must still work.
 */
#include "check.h"

#include <dirent.h>
#include <pthread.h>

struct fake {
	int lfd;
	const char *reply; /* sent after reading one request (NUL included) */
	size_t len;
	int nfds;	   /* fds to attach to the reply */
	int bytewise;	   /* one byte per send() */
	int hangup_first;  /* close without reading anything */
	int read_requests; /* requests read (and answered) */
};

/* Read one NUL-terminated request; 0 at EOF. */
static int
fake_read_request(int fd)
{
	char ch;

	for (;;) {
		if (!t_wait(fd, POLLIN, T_DEADLINE) || read(fd, &ch, 1) != 1)
			return 0;
		if (ch == '\0')
			return 1;
	}
}

/* Send the reply with nfds fds (of a pipe) on its first byte. */
static void
fake_send(struct fake *f, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)f->reply,
			    .iov_len = f->bytewise ? 1 : f->len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[4], p[2];
	size_t done;

	for (int i = 0; i < f->nfds; i += 2) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return;
		fds[i] = p[0];
		fds[i + 1] = p[1];
	}
	if (f->nfds > 0) {
		struct cmsghdr *cm;

		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)f->nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)f->nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)f->nfds);
	}
	done = sendmsg(fd, &mh, MSG_NOSIGNAL) > 0 ? iov.iov_len : f->len;
	for (; done < f->len; done++)
		if (send(fd, f->reply + done, 1, MSG_NOSIGNAL) != 1)
			break;
	for (int i = 0; i < f->nfds; i++)
		close(fds[i]);
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	int fd = t_accept(f->lfd);

	if (fd < 0)
		return NULL;
	if (!f->hangup_first)
		while (fake_read_request(fd)) {
			f->read_requests++;
			if (f->reply == NULL)
				break; /* hang up after the request */
			fake_send(f, fd);
		}
	close(fd);
	return NULL;
}

/* How many fds this process has open. */
static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static const char *fake_path;
static int fake_seq;

/* Start a fake server; c connected to it. */
static struct sockc *
fake_start(struct fake *f, pthread_t *th)
{
	char name[32];
	struct sockc *c;

	snprintf(name, sizeof name, "fake-%d.sock", fake_seq++);
	fake_path = t_path(name);
	f->lfd = t_sock(AF_UNIX, SOCK_STREAM, fake_path, 1, NULL, NULL);
	if (f->lfd < 0 || pthread_create(th, NULL, fake_main, f) != 0)
		return NULL;
	c = sockc_open(fake_path);
	if (c == NULL)
		pthread_join(*th, NULL);
	return c;
}

static void
fake_stop(struct fake *f, pthread_t th, struct sockc *c)
{
	sockc_free(c);
	pthread_join(th, NULL);
	close(f->lfd);
}

#define REPLY(s) .reply = (s), .len = sizeof(s)

static void
test_hangup(void)
{
	struct fake f = {0};
	struct sockc_info *list;
	pthread_t th;
	size_t n;
	int r, e;
	struct sockc *c = fake_start(&f, &th);

	REQUIRE(c != NULL, "fake server: hangs up after the request");
	errno = 0;
	r = sockc_list(c, &list, &n);
	e = errno;
	CHECK(r == -1 && e != 0 && sockc_error_name(c) == NULL,
	      "  ... sockc_list -> -1 %s, no error name", t_errname(e));
	errno = 0;
	r = sockc_list(c, &list, &n);
	CHECK(r == -1 && errno != 0 && f.read_requests == 1,
	      "  ... and the next call fails too, without sending (%s)",
	      t_errname(errno));
	fake_stop(&f, th, c);

	/* Closed before the call: EPIPE, not SIGPIPE (SIGPIPE is the default
	 * action in this program). */
	f = (struct fake){.hangup_first = 1};
	c = fake_start(&f, &th);
	REQUIRE(c != NULL, "fake server: hangs up at once");
	t_wait(sockc_connection_fd(c), POLLIN, T_DEADLINE);
	errno = 0;
	r = (int)sockc_socket(c, AF_INET, SOCK_STREAM, 0);
	e = errno;
	CHECK(r == -1 && (e == EPIPE || e == ECONNRESET),
	      "  ... a call -> -1 %s, and no SIGPIPE", t_errname(e));
	fake_stop(&f, th, c);
}

static void
test_bad_replies(void)
{
	struct fake f = {REPLY("this is not json")};
	struct sockc_info *list;
	pthread_t th;
	size_t n;
	int r, e;
	struct sockc *c = fake_start(&f, &th);

	REQUIRE(c != NULL, "fake server: a reply that is not JSON");
	CHECK_ERR(sockc_list(c, &list, &n), EPROTO, "  ... sockc_list");
	fake_stop(&f, th, c);

	f = (struct fake){REPLY("{\"error\":\"io.sockd.OSError\"}")};
	c = fake_start(&f, &th);
	REQUIRE(c != NULL, "fake server: an OSError without parameters");
	errno = 0;
	r = sockc_close(c, 1);
	e = errno;
	CHECK(r == -1 && e == EPROTO && sockc_error_name(c) &&
		  strcmp(sockc_error_name(c), "io.sockd.OSError") == 0 &&
		  strcmp(sockc_error_message(c), "") == 0,
	      "  ... -1 EPROTO, the error named, message \"\" (%s)",
	      t_errname(e));
	fake_stop(&f, th, c);

	f = (struct fake){
	    REPLY("{\"parameters\":{\"sockets\":[{\"handle\":7,\"family\":"
		  "\"AF_INET\",\"type\":\"SOCK_DGRAM\",\"proto\":17,"
		  "\"persistent\":true,\"name\":\"x\",\"timeout\":1.5,"
		  "\"owner\":42}]}}"),
	    .bytewise = 1};
	c = fake_start(&f, &th);
	REQUIRE(c != NULL, "fake server: a reply one byte at a time");
	r = sockc_list(c, &list, &n);
	CHECK(r == 0 && n == 1 && list[0].handle == 7 &&
		  list[0].type == SOCK_DGRAM && list[0].protocol == 17 &&
		  list[0].persistent && list[0].name &&
		  strcmp(list[0].name, "x") == 0 && list[0].timeout == 1.5 &&
		  list[0].owner == 42 && list[0].local_len == 0 &&
		  list[0].peer_len == 0,
	      "  ... sockc_list reads it whole");
	if (r == 0)
		sockc_list_free(list, n);
	fake_stop(&f, th, c);

	f = (struct fake){REPLY("{\"parameters\":{}}")};
	c = fake_start(&f, &th);
	REQUIRE(c != NULL, "fake server: replies without the result field");
	CHECK_ERR(sockc_socket(c, AF_INET, SOCK_STREAM, 0), EPROTO,
		  "  ... sockc_socket (no handle)");
	CHECK_ERR(sockc_list(c, &list, &n), EPROTO, "  ... sockc_list");
	{
		char buf[8];

		CHECK_ERR(sockc_recv(c, 1, buf, sizeof buf, 0), EPROTO,
			  "  ... sockc_recv (no data)");
	}
	fake_stop(&f, th, c);
}

static void
test_fds(void)
{
	struct fake f = {REPLY("{\"parameters\":{\"fd\":0}}"), .nfds = 2};
	pthread_t th;
	struct sockc *c;
	int before, fd;

	before = fd_count();
	c = fake_start(&f, &th);
	REQUIRE(c != NULL, "fake server: FileNo with two fds attached");
	fd = sockc_fileno(c, 1, 0);
	CHECK(fd >= 0 && t_cloexec(fd), "  ... one fd back, close-on-exec");
	fake_stop(&f, th, c);
	CHECK(fd_count() == before + (fd >= 0),
	      "  ... the other is closed (%d fds open, %d before)", fd_count(),
	      before);
	if (fd >= 0)
		close(fd);

	f = (struct fake){REPLY("{\"parameters\":{\"fd\":0}}")};
	before = fd_count();
	c = fake_start(&f, &th);
	REQUIRE(c != NULL, "fake server: FileNo without an fd");
	CHECK_ERR(sockc_fileno(c, 1, 0), EPROTO, "  ... sockc_fileno");
	fake_stop(&f, th, c);

	/* An fd on a reply that does not expect one is not kept. */
	f = (struct fake){REPLY("{\"parameters\":{}}"), .nfds = 2};
	c = fake_start(&f, &th);
	REQUIRE(c != NULL, "fake server: Close with fds attached");
	CHECK_OK(sockc_close(c, 1), "  ... sockc_close");
	fake_stop(&f, th, c);
	CHECK(fd_count() == before, "  ... no fd left behind (%d, before %d)",
	      fd_count(), before);
}

int
main(int argc, char **argv)
{
	const char *path = t_setup(argc, argv);
	struct sockc *c;

	(void)signal(SIGPIPE, SIG_DFL); /* cannot fail for SIGPIPE */
	test_hangup();
	test_bad_replies();
	test_fds();
	c = t_open(path);
	CHECK(sockc_socket(c, AF_INET, SOCK_STREAM, 0) > 0,
	      "the real daemon still answers");
	sockc_free(c);
	return t_done();
}
