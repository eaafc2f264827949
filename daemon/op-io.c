/*
 * Moving bytes: Send, SendAll, SendTo, Recv, RecvFrom, Poll (and Attach,
 * which is not implemented yet).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "b64.h"
#include "call.h"
#include "conn.h"
#include "handle.h"
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

/* The "flags" parameter as MSG_* bits, or -1 after replying. */
static int
op_msg_flags(struct call *c, int *ret)
{
	return call_param_flags(c, "flags", names_msgflag, ret);
}

/* send(), sendall() and sendto() share this: send what is left of
 * c->buf, waiting for room as the handle's timeout allows. */
static int
op_send_common(struct call *c, bool all, bool to)
{
	struct handle *h = c->handle;
	int flags;
	ssize_t n;

	if (op_msg_flags(c, &flags) < 0)
		return CALL_DONE;
	if (c->state == 0) {
		if (call_param_data(c, "data") < 0)
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
		if (to)
			n = sendto(h->fd, c->buf + c->done, c->buflen - c->done,
				   flags | MSG_DONTWAIT | MSG_NOSIGNAL,
				   (struct sockaddr *)&c->addr.ss, c->addr.len);
		else
			n = send(h->fd, c->buf + c->done, c->buflen - c->done,
				 flags | MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !(flags & MSG_DONTWAIT))
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
 * whole buffer across waits, as a blocking recv would. */
static int
op_recv_common(struct call *c, bool from)
{
	struct handle *h = c->handle;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	int64_t bufsize = 0;
	json_object *p;
	int flags;
	ssize_t n;

	call_param_int(c, "bufsize", &bufsize);
	if (bufsize < 0)
		return call_invalid(c, "bufsize");
	if (op_msg_flags(c, &flags) < 0)
		return CALL_DONE;
	/* Python's recv(0) answers b"" without asking the kernel. */
	if (bufsize == 0 && !from)
		return call_reply(c, op_data_params(NULL, 0));
	if ((uint64_t)bufsize > op_max_bufsize())
		bufsize = (int64_t)op_max_bufsize();
	if (c->buf == NULL) {
		c->buf = malloc(bufsize > 0 ? (size_t)bufsize : 1);
		if (c->buf == NULL)
			return call_oserror(c, ENOMEM, "recv buffer");
		c->done = 0;
	}
	memset(&ss, 0, sizeof ss);
	for (;;) {
		n = recvfrom(h->fd, c->buf + c->done, (size_t)bufsize - c->done,
			     flags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC,
			     from ? (struct sockaddr *)&ss : NULL,
			     from ? &sslen : NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* MSG_DONTWAIT asks this one call not to wait. */
			if (errno == EAGAIN && c->done > 0 &&
			    (flags & MSG_DONTWAIT))
				break;
			if (errno == EAGAIN && !(flags & MSG_DONTWAIT))
				return call_wait(c, EV_READ, EAGAIN);
			return call_oserror(c, errno, "recv");
		}
		/* MSG_TRUNC reports the datagram's real length. */
		c->done += (size_t)n > (size_t)bufsize - c->done
			       ? (size_t)bufsize - c->done
			       : (size_t)n;
		/* Only a blocking socket waits for all of it: with a timeout,
		 * Python's recv returns what one readiness brings. A peek
		 * reads the same bytes again: it is answered by one read. */
		if (!(flags & MSG_WAITALL) || (flags & MSG_PEEK) || n == 0 ||
		    h->timeout >= 0 || h->type != SOCK_STREAM ||
		    c->done >= (size_t)bufsize)
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

/* What Poll keeps between runs. */
struct poll_item {
	int64_t id;
	short events; /* POLL* wanted */
};

/* The handle of a Poll item if the caller may see it. */
static struct handle *
op_poll_handle(struct call *c, int64_t id)
{
	struct handle *h = id > 0 ? handle_find((uint64_t)id) : NULL;

	if (h != NULL && c->conn->uid != 0 && h->owner != c->conn->uid)
		return NULL;
	return h;
}

/* Parse the items once: -1 after replying an error. */
static int
op_poll_parse(struct call *c, size_t *ret_n)
{
	json_object *items = call_param(c, "items");
	size_t n = json_object_array_length(items);
	struct poll_item *pi;

	if (n > cfg.max_poll_items)
		return call_invalid(c, "items"), -1;
	pi = calloc(n ? n : 1, sizeof *pi);
	c->waits = calloc(n ? n : 1, sizeof *c->waits);
	if (pi == NULL || c->waits == NULL) {
		free(pi);
		free(c->waits);
		c->waits = &c->wait1;
		call_oserror(c, ENOMEM, "poll");
		return -1;
	}
	c->priv = pi;
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
		pi[i].id = json_object_get_int64(v);
		pi[i].events = (short)ev;
	}
	/* Parameters first, then handles, as the dispatcher checks. */
	for (size_t i = 0; i < n; i++)
		if (op_poll_handle(c, pi[i].id) == NULL) {
			call_oserror(c, EBADF, "no such handle: %lld",
				     (long long)pi[i].id);
			return -1;
		}
	*ret_n = n;
	return 0;
}

/* Whether Poll was asked not to wait at all (timeout 0). */
static bool
op_poll_immediate(struct call *c)
{
	json_object *t = call_param(c, "timeout");

	return t != NULL && json_object_get_double(t) == 0;
}

/* poll(): wait until one of the sockets is ready, or the timeout. */
static int
op_poll(struct call *c)
{
	json_object *items = call_param(c, "items"), *ready, *p;
	size_t n = json_object_array_length(items);
	struct poll_item *pi;
	struct pollfd pfd;

	if (c->state == 0) {
		json_object *t = call_param(c, "timeout");

		if (t != NULL && json_object_get_double(t) < 0)
			return call_invalid(c, "timeout");
		if (op_poll_parse(c, &n) < 0)
			return CALL_DONE;
		if (t != NULL)
			call_set_deadline(c, json_object_get_double(t));
		c->state = 1;
	}
	pi = c->priv;
	ready = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct handle *h = op_poll_handle(c, pi[i].id);
		short revents;

		if (h == NULL) {
			revents = POLLNVAL;
		} else {
			pfd.fd = h->fd;
			pfd.events = pi[i].events;
			pfd.revents = 0;
			revents = poll(&pfd, 1, 0) == 1 ? pfd.revents : 0;
		}
		if (revents == 0)
			continue;
		json_object *it = json_object_new_object();
		json_object *evs = names_bits_json(names_poll, revents);

		json_object_object_add(it, "handle",
				       json_object_new_int64(pi[i].id));
		json_object_object_add(it, "events", evs);
		json_object_array_add(ready, it);
	}
	if (json_object_array_length(ready) == 0 && !c->timed_out &&
	    !op_poll_immediate(c)) {
		json_object_put(ready);
		for (size_t i = 0; i < n; i++) {
			short ev = 0;

			if (pi[i].events & (POLLIN | POLLPRI | POLLRDHUP |
					    POLLRDNORM | POLLRDBAND))
				ev |= EV_READ;
			if (pi[i].events & (POLLOUT | POLLWRNORM | POLLWRBAND))
				ev |= EV_WRITE;
			if (ev == 0)
				ev = EV_READ; /* hangups and errors */
			/* Every handle is live: a gone one was ready above. */
			if (call_watch(c, op_poll_handle(c, pi[i].id), ev) < 0)
				return call_oserror(c, ENOMEM, "poll");
		}
		if (call_park(c) < 0)
			return call_oserror(c, ENOMEM, "poll");
		return CALL_WAIT;
	}
	p = json_object_new_object();
	json_object_object_add(p, "items", ready);
	return call_reply(c, p);
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
