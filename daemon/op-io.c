/*
 * Moving bytes: Send, SendAll, SendTo, Recv, RecvFrom, Poll and Attach.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "b64.h"
#include "call.h"
#include "conn.h"
#include "handle.h"
#include "ident.h"
#include "log.h"
#include "method.h"
#include "names.h"
#include "relay.h"
#include "sockd.h"

/* The largest bufsize: --max-recv, and no more than what fits, base64,
 * in one message. */
static size_t
op_max_bufsize(void)
{
	size_t fit = (cfg.max_message - SOCKD_REPLY_OVERHEAD) / 4 * 3;

	return cfg.max_recv != 0 && cfg.max_recv < fit ? cfg.max_recv : fit;
}

/* One send(2) or sendto(2) of what is left of c->buf. On a Unix socket it
 * is the caller's: its credentials are the ones a peer sees, and a path
 * it sends to is reached with its rights (ident.h). */
static ssize_t
op_send_once(struct call *c, int flags, bool to)
{
	struct handle *h = c->handle;
	const struct sockaddr *sa = to ? (struct sockaddr *)&c->addr.ss : NULL;
	ssize_t n;
	int r;

	if (h->family != AF_UNIX)
		return sendto(h->fd, c->buf + c->done, c->buflen - c->done,
			      flags, sa, to ? c->addr.len : 0);
	if (to && (r = ident_enter(c->conn)) < 0) {
		errno = -r;
		return -1;
	}
	n = ident_sendto(c->conn, h->fd, c->buf + c->done, c->buflen - c->done,
			 flags, sa, c->addr.len);
	if (to)
		ident_leave();
	return n;
}

/* send(), sendall() and sendto() share this: send what is left of
 * c->buf, waiting for room as the handle's timeout allows. */
static int
op_send_common(struct call *c, bool all, bool to)
{
	struct handle *h = c->handle;
	ssize_t n;

	if (c->state == 0) {
		if (call_param_flags(c, "flags", names_msgflag, &c->msgflags) <
			0 ||
		    call_param_data(c, "data") < 0)
			return CALL_DONE;
		c->state = 1;
	}
	if (c->state == 1 && to) {
		int r = call_address(c, "address", h->family, h->type,
				     POLICY_CONNECT);

		if (r <= 0)
			return r == 0 ? CALL_WAIT : CALL_DONE;
	}
	c->state = 2;
	for (;;) {
		int flags = c->msgflags | MSG_DONTWAIT | MSG_NOSIGNAL;

		n = op_send_once(c, flags, to);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !(c->msgflags & MSG_DONTWAIT))
				return call_wait(c, EV_WRITE, EAGAIN);
			return call_oserror(c, errno, "send");
		}
		c->done += (size_t)n;
		if (!all || c->done >= c->buflen)
			break;
	}
	if (all)
		return call_reply(c, NULL);
	json_object *p = json_object_new_object();
	json_object_object_add(p, "sent", json_object_new_int64(c->done));
	return call_reply(c, p);
}

static int
op_send(struct call *c)
{
	return op_send_common(c, false, false);
}

static int
op_send_all(struct call *c)
{
	return op_send_common(c, true, false);
}

static int
op_send_to(struct call *c)
{
	return op_send_common(c, false, true);
}

/* Reply parameters holding len bytes as base64 "data"; NULL when out of
 * memory. */
static json_object *
op_data_params(const unsigned char *buf, size_t len)
{
	char *text = malloc(B64_ENCODED_LEN(len) + 1);
	json_object *p;

	if (text == NULL)
		return NULL;
	p = json_object_new_object();
	json_object_object_add(
	    p, "data",
	    json_object_new_string_len(text, (int)b64_encode(buf, len, text)));
	free(text);
	return p;
}

/* recv() and recvfrom(). On a blocking handle MSG_WAITALL gathers the
 * whole buffer across waits, as a blocking recv would. The buffer is
 * made when there is something to read: a Recv that waits for its first
 * byte holds none. */
static int
op_recv_common(struct call *c, bool from)
{
	struct handle *h = c->handle;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	json_object *p;
	ssize_t n;

	if (c->state == 0) {
		int64_t bufsize = 0;

		call_param_int(c, "bufsize", &bufsize);
		if (bufsize < 0)
			return call_invalid(c, "bufsize");
		if (call_param_flags(c, "flags", names_msgflag, &c->msgflags) <
		    0)
			return CALL_DONE;
		/* Python's recv(0) answers b"" without asking the kernel. */
		if (bufsize == 0 && !from)
			return call_reply(c, op_data_params(NULL, 0));
		if ((uint64_t)bufsize > op_max_bufsize())
			bufsize = (int64_t)op_max_bufsize();
		c->buflen = (size_t)bufsize;
		/* Gathering across waits: what it will hold counts from its
		 * first wait, before it has taken anything. */
		if ((c->msgflags & MSG_WAITALL) && !(c->msgflags & MSG_PEEK) &&
		    h->timeout < 0 && h->type == SOCK_STREAM) {
			c->reserve = c->buflen;
			if (!uidstat_may_charge(c->conn->uid, c->reserve))
				return call_oserror(
				    c, ENOBUFS,
				    "a %zu-byte MSG_WAITALL Recv does not fit "
				    "in what uid %u may still make sockd hold "
				    "(--max-memory-per-uid)",
				    c->buflen, (unsigned)c->conn->uid);
		}
		c->state = 1;
	}
	if (c->buf == NULL && call_buffer(c, c->buflen) < 0)
		return CALL_DONE;
	memset(&ss, 0, sizeof ss);
	for (;;) {
		n = recvfrom(h->fd, c->buf + c->done, c->buflen - c->done,
			     c->msgflags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC,
			     from ? (struct sockaddr *)&ss : NULL,
			     from ? &sslen : NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* MSG_DONTWAIT asks this one call not to wait. */
			if (errno == EAGAIN && c->done > 0 &&
			    (c->msgflags & MSG_DONTWAIT))
				break;
			if (errno == EAGAIN && !(c->msgflags & MSG_DONTWAIT)) {
				if (c->done == 0) {
					free(c->buf);
					c->buf = NULL;
					c->bufcap = 0;
				}
				return call_wait(c, EV_READ, EAGAIN);
			}
			return call_oserror(c, errno, "recv");
		}
		/* MSG_TRUNC reports the datagram's real length. */
		c->done += (size_t)n > c->buflen - c->done ? c->buflen - c->done
							   : (size_t)n;
		/* Only a blocking socket waits for all of it: with a timeout,
		 * Python's recv returns what one readiness brings. A peek
		 * reads the same bytes again: it is answered by one read. */
		if (!(c->msgflags & MSG_WAITALL) || (c->msgflags & MSG_PEEK) ||
		    n == 0 || h->timeout >= 0 || h->type != SOCK_STREAM ||
		    c->done >= c->buflen)
			break;
	}
	p = op_data_params(c->buf, c->done);
	if (p == NULL)
		return call_oserror(c, ENOMEM, "recv reply");
	if (from)
		json_object_object_add(
		    p, "address",
		    sslen > 0 && ss.ss_family != AF_UNSPEC
			? addr_to_json((struct sockaddr *)&ss, sslen)
			: NULL);
	return call_reply(c, p);
}

static int
op_recv(struct call *c)
{
	return op_recv_common(c, false);
}

static int
op_recv_from(struct call *c)
{
	return op_recv_common(c, true);
}

/* One Poll item, tied to its handle so that a close is seen at once. */
struct poll_item {
	struct call *call;
	struct handle *handle;	    /* NULL once closed: POLLNVAL */
	LIST_ENTRY(poll_item) link; /* handle->pollers */
	uint64_t id;
	short events; /* POLL* wanted */
};

/* What a Poll keeps between runs. */
struct poll_state {
	int epfd;	  /* the items' sockets, once the call waits */
	struct event *ev; /* epfd is readable: something is ready */
	bool immediate;	  /* timeout 0: never wait */
	size_t n;
	struct pollfd *pfd; /* scratch for poll(2), one per item */
	struct poll_item items[];
};

/* Undo what Poll made: the epoll fd, its event, the ties to handles. */
static void
op_poll_free(struct call *c)
{
	struct poll_state *ps = c->priv;

	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->items[i].handle != NULL)
			LIST_REMOVE(&ps->items[i], link);
	if (ps->ev != NULL)
		event_free(ps->ev);
	if (ps->epfd >= 0)
		close(ps->epfd);
	free(ps->pfd);
	free(ps);
	c->priv = NULL;
}

/* A socket of the Poll became ready. */
static void
op_poll_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	call_resume(arg);
}

/* A handle of the Poll is being closed: run it again (POLLNVAL). */
void
op_poll_handle_gone(struct poll_item *it)
{
	LIST_REMOVE(it, link);
	it->handle = NULL;
	call_resume_soon(it->call);
}

/* Read the items once: -1 after replying an error. Parameters first,
 * then handles, as the dispatcher checks. */
static int
op_poll_parse(struct call *c)
{
	json_object *items = call_param(c, "items"), *t;
	size_t n = json_object_array_length(items);
	struct poll_state *ps;

	if (n > cfg.max_poll_items)
		return call_invalid(c, "items"), -1;
	t = call_param(c, "timeout");
	if (t != NULL && json_object_get_double(t) < 0)
		return call_invalid(c, "timeout"), -1;
	c->privsize = sizeof *ps + n * (sizeof ps->items[0] + sizeof *ps->pfd);
	ps = calloc(1, sizeof *ps + n * sizeof ps->items[0]);
	if (ps == NULL ||
	    (ps->pfd = calloc(n ? n : 1, sizeof *ps->pfd)) == NULL) {
		free(ps);
		call_oserror(c, ENOMEM, "poll");
		return -1;
	}
	ps->epfd = -1;
	c->priv = ps;
	c->priv_free = op_poll_free;
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i), *v, *e;
		int ev;

		if (!json_object_is_type(it, json_type_object) ||
		    json_object_object_length(it) != 2 ||
		    !json_object_object_get_ex(it, "handle", &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    !json_object_object_get_ex(it, "events", &e) ||
		    names_json_bits(e, names_poll, &ev) < 0)
			return call_invalid(c, "items"), -1;
		ps->items[i].id = (uint64_t)json_object_get_int64(v);
		ps->items[i].events = (short)ev;
		ps->items[i].call = c;
	}
	for (size_t i = 0; i < n; i++) {
		struct poll_item *it = &ps->items[i];
		struct handle *h = handle_lookup(c->conn->uid, it->id);

		if (h == NULL) {
			call_oserror(c, EBADF, "no such handle: %llu",
				     (unsigned long long)it->id);
			return -1;
		}
		it->handle = h;
		LIST_INSERT_HEAD(&h->pollers, it, link);
		ps->n = i + 1;
	}
	if (t != NULL) {
		ps->immediate = json_object_get_double(t) == 0;
		call_set_deadline(c, json_object_get_double(t));
	}
	return 0;
}

/* The fds to wait on, each with the events any of its items wants (a
 * handle may be named more than once), in an epoll set: it is readable
 * exactly when one of them is ready for what was asked, which libevent's
 * read and write events cannot say (POLLPRI, POLLRDHUP...). Linear in
 * the items: the handles' scratch field gathers each one's events.
 * 0 or -errno. */
static int
op_poll_epoll(struct poll_state *ps)
{
	ps->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ps->epfd < 0)
		return -errno;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->items[i].handle != NULL)
			ps->items[i].handle->poll_events = 0;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->items[i].handle != NULL)
			ps->items[i].handle->poll_events |=
			    (uint32_t)(unsigned short)ps->items[i].events |
			    EPOLLERR | EPOLLHUP;
	for (size_t i = 0; i < ps->n; i++) {
		struct handle *h = ps->items[i].handle;
		struct epoll_event ee;

		if (h == NULL || h->poll_events == 0)
			continue; /* closed, or added already */
		ee.events = h->poll_events;
		ee.data.fd = h->fd;
		h->poll_events = 0;
		if (epoll_ctl(ps->epfd, EPOLL_CTL_ADD, h->fd, &ee) < 0)
			return -errno;
	}
	return 0;
}

/* poll(): wait until one of the sockets is ready, or the timeout. */
static int
op_poll(struct call *c)
{
	struct poll_state *ps;
	json_object *ready, *p;
	int r;

	if (c->state == 0) {
		if (op_poll_parse(c) < 0)
			return CALL_DONE;
		c->state = 1;
	}
	ps = c->priv;
	for (size_t i = 0; i < ps->n; i++) {
		struct poll_item *it = &ps->items[i];

		ps->pfd[i].fd = it->handle != NULL ? it->handle->fd : -1;
		ps->pfd[i].events = it->events;
		ps->pfd[i].revents = 0;
	}
	if (ps->n > 0 && poll(ps->pfd, ps->n, 0) < 0)
		return call_oserror(c, errno, "poll");
	ready = json_object_new_array();
	for (size_t i = 0; i < ps->n; i++) {
		short revents =
		    ps->items[i].handle == NULL ? POLLNVAL : ps->pfd[i].revents;

		if (revents == 0)
			continue;
		json_object *it = json_object_new_object();

		json_object_object_add(
		    it, "handle",
		    json_object_new_int64((int64_t)ps->items[i].id));
		json_object_object_add(it, "events",
				       names_bits_json(names_poll, revents));
		json_object_array_add(ready, it);
	}
	if (json_object_array_length(ready) > 0 || c->timed_out ||
	    ps->immediate) {
		p = json_object_new_object();
		json_object_object_add(p, "items", ready);
		return call_reply(c, p);
	}
	json_object_put(ready);
	if (ps->epfd < 0) {
		r = op_poll_epoll(ps);
		if (r < 0)
			return call_oserror(c, -r, "poll");
		ps->ev =
		    event_new(sockd_base, ps->epfd, EV_READ, op_poll_wake, c);
		if (ps->ev == NULL)
			return call_oserror(c, ENOMEM, "poll");
	}
	if (event_add(ps->ev, NULL) < 0 || call_park(c) < 0)
		return call_oserror(c, ENOMEM, "poll");
	return CALL_WAIT;
}

/* makefile(), or nc: after the reply, this connection carries the
 * socket's bytes both ways (relay.c). */
static int
op_attach(struct call *c)
{
	struct handle *h = c->handle;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (h->type != SOCK_STREAM)
		return call_oserror(c, EOPNOTSUPP,
				    "Attach needs a stream socket");
	if (getpeername(h->fd, (struct sockaddr *)&ss, &len) < 0)
		return call_oserror(c, errno,
				    "Attach needs a connected "
				    "socket");
	/* Another connection's call waiting on it would race the relay. */
	if (!LIST_EMPTY(&h->waits))
		return call_oserror(c, EBUSY,
				    "a call is waiting on handle "
				    "%llu",
				    (unsigned long long)h->id);
	if (!uidstat_may_charge(c->conn->uid, RELAY_COST))
		return call_oserror(
		    c, ENOBUFS,
		    "the calls and buffers of uid %u hold %zu "
		    "bytes of sockd's memory, near its limit "
		    "(--max-memory-per-uid): no room for a relay",
		    (unsigned)c->conn->uid, uidstat_bytes(c->conn->uid));
	if (relay_new(c->conn, h) < 0)
		return call_oserror(c, ENOMEM, "cannot relay");
	log_info("uid %u pid %d attached to handle %llu",
		 (unsigned)c->conn->uid, (int)c->conn->pid,
		 (unsigned long long)h->id);
	return call_reply(c, NULL);
}

static const struct vl_param send_params[] = {
    {"handle", VL_INT, 0},
    {"data", VL_STRING, 0},
    {"flags", VL_STRINGS, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param sendto_params[] = {
    {"handle", VL_INT, 0},
    {"data", VL_STRING, 0},
    {"address", VL_OBJECT, 0},
    {"flags", VL_STRINGS, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param recv_params[] = {
    {"handle", VL_INT, 0},
    {"bufsize", VL_INT, 0},
    {"flags", VL_STRINGS, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param poll_params[] = {
    {"items", VL_ARRAY, 0},
    {"timeout", VL_FLOAT, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param attach_params[] = {
    {"handle", VL_INT, 0},
    {NULL, 0, 0},
};

const struct method op_io_methods[] = {
    {"io.sockd", "Send", send_params, M_HANDLE, op_send},
    {"io.sockd", "SendAll", send_params, M_HANDLE, op_send_all},
    {"io.sockd", "SendTo", sendto_params, M_HANDLE, op_send_to},
    {"io.sockd", "Recv", recv_params, M_HANDLE, op_recv},
    {"io.sockd", "RecvFrom", recv_params, M_HANDLE, op_recv_from},
    {"io.sockd", "Poll", poll_params, 0, op_poll},
    {"io.sockd", "Attach", attach_params, M_HANDLE | M_UPGRADE, op_attach},
    {NULL, NULL, NULL, 0, NULL},
};
