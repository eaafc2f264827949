/*
 * libsockc: the connection to sockd, calls and replies, error details.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "lib.h"
#include "varlink.h"

#define LIB_MAX_MESSAGE (64u * 1024 * 1024) /* largest reply accepted */
#define LIB_READ_SIZE	65536

/* The default socket: root's, or the user's runtime directory's. */
const char *
lib_default_socket(void)
{
	static __thread char path[PATH_MAX];
	const char *rt = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0 || rt == NULL || rt[0] != '/')
		return SOCKC_DEFAULT_SOCKET;
	snprintf(path, sizeof path, "%s/sockd/sockd.sock", rt);
	return path;
}

/* Connect to sockd. */
SOCKC_EXPORT struct sockc *
sockc_open(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sockc *c;
	int fd, e;

	if (path == NULL)
		path = getenv("SOCKD_SOCKET");
	if (path == NULL || path[0] == '\0')
		path = lib_default_socket();
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sun.sun_path, path);
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		free(c);
		errno = e;
		return NULL;
	}
	c->fd = fd;
	frame_init(&c->in, LIB_MAX_MESSAGE);
	return c;
}

/* Close the connection. */
SOCKC_EXPORT void
sockc_free(struct sockc *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	frame_free(&c->in);
	free(c->error_name);
	free(c->error_message);
	json_object_put(c->error_params);
	free(c);
}

SOCKC_EXPORT int
sockc_connection_fd(const struct sockc *c)
{
	return c->fd;
}

SOCKC_EXPORT const char *
sockc_error_name(const struct sockc *c)
{
	return c->error_name;
}

SOCKC_EXPORT const char *
sockc_error_message(const struct sockc *c)
{
	return c->error_message ? c->error_message : "";
}

SOCKC_EXPORT int
sockc_gai_error(const struct sockc *c)
{
	return c->gai;
}

SOCKC_EXPORT int
sockc_herror(const struct sockc *c)
{
	return c->herr;
}

/* Forget the last error. */
static void
lib_clear_error(struct sockc *c)
{
	free(c->error_name);
	free(c->error_message);
	c->error_name = c->error_message = NULL;
	json_object_put(c->error_params);
	c->error_params = NULL;
	c->gai = c->herr = 0;
}

/* The connection failed: every later call fails too. */
static int
lib_broken(struct sockc *c, int err)
{
	c->broken = true;
	free(c->error_message);
	c->error_message = strdup(strerror(err));
	errno = err;
	return -1;
}

/* Write all of buf. */
static int
lib_write(struct sockc *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* How much of what the socket holds to take: all of it, or with exact,
 * no byte past the first NUL (peeked first). */
static ssize_t
lib_read_size(struct sockc *c, void *buf, size_t avail, bool exact)
{
	ssize_t n;
	char *nul;

	if (!exact)
		return (ssize_t)avail;
	n = recv(c->fd, buf, avail, MSG_PEEK);
	if (n <= 0)
		return n < 0 ? -1 : (ssize_t)avail;
	nul = memchr(buf, '\0', (size_t)n);
	return nul ? nul - (char *)buf + 1 : n;
}

/* Read until one whole message is buffered; collect any fds. */
static int
lib_read_message(struct sockc *c, char **ret_msg, size_t *ret_len, int *fds,
		 int *nfds, bool exact)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 253)];
			struct cmsghdr align;
		} u;
		struct msghdr mh = {0};
		struct iovec iov;
		struct cmsghdr *cm;
		size_t avail;
		ssize_t n;
		int r;

		r = frame_next(&c->in, ret_msg, ret_len);
		if (r == 1)
			return 0;
		if (r < 0)
			return -EPROTO;
		iov.iov_base = frame_reserve(&c->in, LIB_READ_SIZE, &avail);
		if (iov.iov_base == NULL)
			return -ENOMEM;
		n = lib_read_size(c, iov.iov_base, avail, exact);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		iov.iov_len = (size_t)n;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof u.buf;
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				       sizeof fd);
				if (*nfds < 1)
					fds[(*nfds)++] = fd;
				else
					close(fd); /* more than we expect */
			}
		}
		if (n == 0)
			return -ECONNRESET;
		frame_commit(&c->in, (size_t)n);
		if (mh.msg_flags & MSG_CTRUNC)
			return -EPROTO;
	}
}

/* The errno an error reply stands for, and its details kept on c. */
static int
lib_error_errno(struct sockc *c, const char *error, json_object *params)
{
	json_object *v;
	int err = EPROTO;

	c->error_name = strdup(error);
	c->error_params = json_object_get(params);
	if (json_object_object_get_ex(params, "message", &v) &&
	    json_object_is_type(v, json_type_string))
		c->error_message = strdup(json_object_get_string(v));
	if (strcmp(error, "io.sockd.OSError") == 0) {
		if (json_object_object_get_ex(params, "errno", &v) &&
		    json_object_is_type(v, json_type_int))
			err = json_object_get_int(v);
	} else if (strcmp(error, "io.sockd.Timeout") == 0) {
		err = ETIMEDOUT;
	} else if (strcmp(error, "io.sockd.GAIError") == 0) {
		if (json_object_object_get_ex(params, "code", &v))
			c->gai = json_object_get_int(v);
		err = EIO;
	} else if (strcmp(error, "io.sockd.HError") == 0) {
		if (json_object_object_get_ex(params, "code", &v))
			c->herr = json_object_get_int(v);
		err = ENOENT;
	} else if (strcmp(error, "org.varlink.service.InvalidParameter") == 0) {
		if (c->error_message == NULL &&
		    json_object_object_get_ex(params, "parameter", &v)) {
			char text[256];

			snprintf(text, sizeof text, "invalid parameter: %s",
				 json_object_get_string(v));
			c->error_message = strdup(text);
		}
		err = EINVAL;
	} else if (strcmp(error, "org.varlink.service.MethodNotFound") == 0 ||
		   strcmp(error, "org.varlink.service.InterfaceNotFound") ==
		       0 ||
		   strcmp(error, "org.varlink.service.MethodNotImplemented") ==
		       0) {
		err = ENOSYS;
	}
	if (err <= 0)
		err = EPROTO;
	return err;
}

/* One call and its reply. */
int
lib_call(struct sockc *c, const char *method, json_object *params,
	 json_object **ret_params, int *ret_fd)
{
	return lib_call_flags(c, method, params, 0, ret_params, ret_fd);
}

/* One call with flags, and its reply. */
int
lib_call_flags(struct sockc *c, const char *method, json_object *params,
	       unsigned flags, json_object **ret_params, int *ret_fd)
{
	json_object *root, *rparams;
	const char *error;
	int fds[1], nfds = 0, r;
	bool continues, write_failed;
	size_t len;
	char *msg;

	lib_clear_error(c);
	if (c->broken || c->upgraded) {
		json_object_put(params);
		errno = c->upgraded ? EBADF : ECONNRESET;
		return -1;
	}
	msg = vl_call_build(method, params, flags, &len);
	if (msg == NULL)
		return lib_broken(c, ENOMEM);
	r = lib_write(c, msg, len);
	free(msg);
	/* sockd may have closed after saying why (a connection limit):
	 * that reply is still there to read. */
	if (r < 0 && (r != -EPIPE && r != -ECONNRESET))
		return lib_broken(c, -r);
	write_failed = r < 0;
	if (write_failed)
		c->broken = true;
	r = lib_read_message(c, &msg, &len, fds, &nfds,
			     (flags & VL_UPGRADE) != 0);
	if (r < 0) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return lib_broken(c, -r);
	}
	if (vl_reply_parse(msg, len, &root, &error, &rparams, &continues) < 0 ||
	    (write_failed && error == NULL)) {
		if (write_failed && error == NULL)
			json_object_put(root);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return lib_broken(c, write_failed ? EPIPE : EPROTO);
	}
	if (error != NULL) {
		int err = lib_error_errno(c, error, rparams);

		json_object_put(root);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		errno = err;
		return -1;
	}
	*ret_params = json_object_get(rparams);
	json_object_put(root);
	if (ret_fd != NULL)
		*ret_fd = nfds > 0 ? fds[0] : -1;
	else if (nfds > 0)
		close(fds[0]);
	return 0;
}

/* Close h, keeping the last error as it was. */
void
lib_close_quietly(struct sockc *c, sockc_handle_t h)
{
	char *name = c->error_name, *message = c->error_message;
	json_object *params = c->error_params;
	int gai = c->gai, herr = c->herr, e = errno;

	c->error_name = c->error_message = NULL;
	c->error_params = NULL;
	sockc_close(c, h);
	lib_clear_error(c);
	c->error_name = name;
	c->error_message = message;
	c->error_params = params;
	c->gai = gai;
	c->herr = herr;
	errno = e;
}

/* A raw call with JSON text in and out. */
SOCKC_EXPORT int
sockc_call(struct sockc *c, const char *method, const char *params_json,
	   char **ret_json)
{
	json_object *params = NULL, *reply;
	const char *text;
	char *copy;

	if (params_json != NULL) {
		params = json_tokener_parse(params_json);
		/* "null" is no parameters, as varlink says. */
		if ((params == NULL && strcmp(params_json, "null") != 0) ||
		    (params != NULL &&
		     !json_object_is_type(params, json_type_object))) {
			json_object_put(params);
			errno = EINVAL;
			return -1;
		}
	}
	if (lib_call(c, method, params, &reply, NULL) < 0)
		return -1;
	text = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	copy = strdup(text);
	json_object_put(reply);
	if (copy == NULL)
		return -1;
	*ret_json = copy;
	return 0;
}

/* A sockaddr as JSON. */
json_object *
lib_addr_json(const struct sockaddr *addr, socklen_t addrlen)
{
	return addr_to_json(addr, addrlen);
}

/* A JSON address into a caller's sockaddr buffer. */
int
lib_addr_out(json_object *obj, struct sockaddr *addr, socklen_t *addrlen)
{
	struct addr a;
	const char *bad;

	if (addr == NULL || addrlen == NULL)
		return 0;
	if (obj == NULL) {
		*addrlen = 0;
		return 0;
	}
	if (addr_from_json(obj, AF_UNSPEC, &a, &bad) < 0 ||
	    a.host_name != NULL) {
		errno = EPROTO;
		return -1;
	}
	memcpy(addr, &a.ss, a.len < *addrlen ? a.len : *addrlen);
	*addrlen = a.len;
	return 0;
}
