/*
 * Varlink connections to sockd: a read buffer split on NUL, fds that
 * arrive with SCM_RIGHTS, the few reply fields the bench reads, and
 * blocking calls for setting up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"

/* Connect to sockd; blocking. */
int
vl_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(opt.socket) >= sizeof sun.sun_path)
		die("%s: path too long", opt.socket);
	strcpy(sun.sun_path, opt.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (void *)&sun, sizeof sun) < 0)
		die("connect %s: %s", opt.socket, strerror(errno));
	return fd;
}

/* Set up c on a connected fd. */
void
client_init(struct client *c, int fd)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->passed_fd = -1;
	c->in_cap = READ_SIZE * 2;
	c->in = malloc(c->in_cap);
	if (c->in == NULL)
		die("out of memory");
	c->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)fd;
}

/* Connect n clients to sockd. */
struct client *
clients_new(int n)
{
	struct client *cl = calloc((size_t)n, sizeof *cl);

	if (cl == NULL)
		die("out of memory");
	for (int i = 0; i < n; i++)
		client_init(&cl[i], vl_connect());
	return cl;
}

/* One read (recvmsg, for fds): >0 bytes, 0 at EOF, -1 with errno. */
ssize_t
client_read(struct client *c)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof u.buf};
	ssize_t n;

	if (c->in_start > 0 && c->in_start == c->in_len)
		c->in_start = c->in_len = 0;
	if (c->in_cap - c->in_len < READ_SIZE) {
		memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
		c->in_len -= c->in_start;
		c->in_start = 0;
	}
	if (c->in_cap - c->in_len < READ_SIZE) {
		c->in_cap *= 2;
		c->in = realloc(c->in, c->in_cap);
		if (c->in == NULL)
			die("out of memory");
	}
	iov.iov_base = c->in + c->in_len;
	iov.iov_len = c->in_cap - c->in_len;
	n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
	     cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[4];

			memcpy(fds, CMSG_DATA(cm), nfd * sizeof(int));
			for (size_t i = 0; i < nfd; i++) {
				if (c->passed_fd >= 0)
					close(c->passed_fd);
				c->passed_fd = fds[i];
			}
		}
	c->in_len += (size_t)n;
	return n;
}

/* The next whole message (NUL-terminated in place), or NULL. */
char *
client_next(struct client *c)
{
	char *begin = c->in + c->in_start;
	char *nul = memchr(begin, '\0', c->in_len - c->in_start);

	if (nul == NULL)
		return NULL;
	c->in_start += (size_t)(nul - begin) + 1;
	return begin;
}

/* Whether a reply is an error. Success replies here carry no strings,
 * so the key cannot appear in them by accident. */
bool
reply_is_error(const char *msg)
{
	return strstr(msg, "\"error\"") != NULL;
}

/* The integer after "key": in a reply, or -1. */
int64_t
reply_int(const char *msg, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	p = strstr(msg, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	return strtoll(p, NULL, 10);
}

/* The string after "key": in a reply (no escapes), or "?". */
void
reply_str(const char *msg, const char *key, char *buf, size_t size)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	snprintf(buf, size, "?");
	p = strstr(msg, pat);
	if (p == NULL)
		return;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p++ != '"' || (end = strchr(p, '"')) == NULL)
		return;
	snprintf(buf, size, "%.*s", (int)(end - p), p);
}

/* Write all of buf; blocking. */
void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write: %s", strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Make fd blocking or not. */
void
set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		die("fcntl: %s", strerror(errno));
	fl = blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
	if (fcntl(fd, F_SETFL, fl) < 0)
		die("fcntl: %s", strerror(errno));
}

/* Wait for the next reply; blocking. */
char *
client_wait(struct client *c)
{
	char *msg;

	while ((msg = client_next(c)) == NULL) {
		ssize_t n = client_read(c);

		if (n == 0)
			die("sockd closed the connection");
		if (n < 0 && errno != EINTR)
			die("read: %s", strerror(errno));
	}
	return msg;
}

/* One call and its reply; blocking. NULL and the reply in *ret_err when
 * the reply is an error and ret_err is not NULL; otherwise errors exit. */
char *
client_call(struct client *c, const char *call, char **ret_err)
{
	char *msg;

	write_all(c->fd, call, strlen(call) + 1);
	msg = client_wait(c);
	if (reply_is_error(msg)) {
		if (ret_err == NULL)
			die("%s -> %s", call, msg);
		*ret_err = msg;
		return NULL;
	}
	return msg;
}

/* Socket(AF_INET, SOCK_STREAM); the handle. */
int64_t
client_socket(struct client *c)
{
	char *r =
	    client_call(c,
			"{\"method\":\"io.sockd.Socket\",\"parameters\":"
			"{\"family\":\"AF_INET\",\"type\":\"SOCK_STREAM\"}}",
			NULL);
	int64_t h = reply_int(r, "handle");

	if (h <= 0)
		die("Socket: no handle in %s", r);
	return h;
}

/* Connect the connection's handle to the sink. */
void
client_connect_sink(struct client *c)
{
	char call[256];

	snprintf(call, sizeof call,
		 "{\"method\":\"io.sockd.Connect\",\"parameters\":{"
		 "\"handle\":%" PRId64 ",\"address\":{\"host\":\"127.0.0.1\","
		 "\"port\":%u}}}",
		 c->handle, (unsigned)sink.port);
	client_call(c, call, NULL);
}

/* n copies of a call, each with its NUL, as c's round. */
void
client_repeat(struct client *c, const char *call, int n)
{
	size_t len = strlen(call) + 1;

	c->gen = malloc(len * (size_t)n);
	if (c->gen == NULL)
		die("out of memory");
	for (int i = 0; i < n; i++)
		memcpy(c->gen + len * (size_t)i, call, len);
	c->gen_cap = len * (size_t)n;
	c->batch = c->gen;
	c->batch_len = c->gen_cap;
}

/* The daemon's pid, from the connection's peer credentials. */
pid_t
peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		die("SO_PEERCRED: %s", strerror(errno));
	return cred.pid;
}
