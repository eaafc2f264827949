/*
 * Connections: reading and splitting messages, running calls in order,
 * queueing and writing replies (fds on their own sendmsg), and the limits
 * that keep one client from growing the daemon: a message size cap, and a
 * cap on unsent replies after which the client is no longer read.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "call.h"
#include "conn.h"
#include "guard.h"
#include "log.h"
#include "method.h"
#include "notify.h"
#include "policy.h"
#include "relay.h"
#include "sockd.h"
#include "varlink.h"

#define CONN_READ_SIZE 65536	    /* the most one read takes */
#define CONN_READ_MIN  1024	    /* room a read gets at least */
#define CONN_KEEP      (256 * 1024) /* input buffer kept when empty */
#define CONN_MAX_IOV   64
#define CONN_PACK      16384 /* small replies share buffers this big */
/* Descriptors queued for output before a connection's calls wait. */
#define CONN_MAX_FDS 8

struct conn_list conns = TAILQ_HEAD_INITIALIZER(conns);
unsigned conn_count;

static void conn_update(struct conn *c);
static void conn_flush(struct conn *c);

/* Count what the connection makes sockd hold against its uid's memory:
 * its input buffer, its unsent replies and its relay's pipes. */
static void
conn_charge(struct conn *c)
{
	size_t now = c->dead ? 0
			     : c->in.cap + c->out_bytes +
				   (c->relay != NULL ? RELAY_COST : 0);

	if (now == c->charged)
		return;
	/* Set first: the charge may run conn_update again (unthrottle). */
	ssize_t delta = (ssize_t)now - (ssize_t)c->charged;

	c->charged = now;
	uidstat_charge(c->uid, delta);
}

/* Free a dead connection: scoped handles, the active call, buffers. */
static void
conn_free(struct conn *c)
{
	struct outmsg *m;
	struct uidstat *us;

	if (c->active != NULL) {
		call_cancel(c->active);
		c->active = NULL;
	}
	while (!TAILQ_EMPTY(&c->handles))
		handle_close(TAILQ_FIRST(&c->handles));
	relay_free(c->relay);
	while ((m = STAILQ_FIRST(&c->out)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->out, link);
		if (m->fd >= 0)
			guard_close(m->fd, true);
		free(m->buf);
		free(m);
	}
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_process);
	event_free(c->ev_hup);
	frame_free(&c->in);
	free(c->groups);
	close(c->fd);
	TAILQ_REMOVE(&conns, c, link);
	conn_count--;
	notify_changed();
	conn_charge(c); /* dead: releases everything */
	us = uidstat_get(c->uid);
	if (us != NULL)
		us->connections--;
	uidstat_trim(c->uid);
	log_debug("connection from uid %u pid %d closed", (unsigned)c->uid,
		  (int)c->pid);
	free(c);
}

/* Drop the connection: stop everything now, free it from the loop. */
void
conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_del(c->ev_hup);
	if (c->relay != NULL)
		relay_stop(c->relay);
	/* The active call may be the one running right now: it is cancelled
	 * when the connection is freed, from the loop. */
	event_active(c->ev_process, EV_READ, 0);
}

/* Handle up to a batch of buffered messages. */
static void
conn_process(struct conn *c)
{
	static const struct timeval next_turn = {0, 0};
	char *msg;
	size_t len;
	int r = 1;
	bool full;

	while (!c->dead && !c->closing && c->active == NULL &&
	       c->relay == NULL && c->out_bytes <= cfg.max_output &&
	       c->out_fds < CONN_MAX_FDS) {
		/* A uid's connections share one batch a turn; the rest waits
		 * for the next turn (a timer: events made active now would
		 * still run in this one), after every other uid's batch. */
		if (frame_whole(&c->in) > 0 && !uidstat_take_call(c->uid)) {
			event_add(c->ev_process, &next_turn);
			break;
		}
		r = frame_next(&c->in, &msg, &len);
		if (r == 0)
			break;
		if (r < 0) {
			conn_protocol_error(c, "message too long");
			break;
		}
		method_dispatch(c, msg, len);
	}
	/* After the client's EOF, the last whole message ends the work. */
	if (r == 0 && c->eof && c->active == NULL && c->relay == NULL)
		c->closing = true;
	full = c->out_bytes > cfg.max_output || c->out_fds >= CONN_MAX_FDS;
	/* A buffer grown for a huge message goes once it is used up. */
	if (frame_pending(&c->in) == 0 && c->in.cap > CONN_KEEP)
		frame_free(&c->in);
	conn_flush(c);
	/* Replies made without a handler (errors found by the dispatcher)
	 * may have filled the output and stopped the loop; if the flush
	 * emptied it at once, no write event will come to go on. */
	if (full && !c->dead && c->out_bytes <= cfg.max_output &&
	    c->out_fds < CONN_MAX_FDS)
		event_active(c->ev_process, EV_READ, 0);
	conn_update(c);
}

/* Deferred work: free a dead connection, or process its input. */
static void
conn_process_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->dead) {
		conn_free(c);
		return;
	}
	conn_process(c);
}

/* Has the client hung up completely (not just shut down its writing)? */
static bool
conn_hung_up(struct conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = 0};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* Read what the client sent. */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t avail;
	ssize_t n;
	char *p;

	(void)what;
	/* Read into the room the buffer has: a client that sends small
	 * calls keeps a small buffer (an idle connection costs little), one
	 * that sends big messages grows it. */
	p = frame_reserve(&c->in, CONN_READ_MIN, &avail);
	if (p == NULL) {
		conn_protocol_error(c, "out of memory");
		return;
	}
	n = recv(fd, p, avail < CONN_READ_SIZE ? avail : CONN_READ_SIZE,
		 MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_kill(c);
		return;
	}
	if (n == 0) {
		c->eof = true;
		if (c->active != NULL && conn_hung_up(c)) {
			/* Gone for good: its waiting call is cancelled. */
			conn_kill(c);
			return;
		}
	}
	frame_commit(&c->in, (size_t)n);
	conn_process(c);
}

/* Edge-triggered watch while half-closed with a call waiting. */
static void
conn_hup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (conn_hung_up(c))
		conn_kill(c);
}

/* Arm or disarm reading and writing to match the connection's state. */
static void
conn_update(struct conn *c)
{
	bool want_read, want_hup, over;

	if (c->dead)
		return;
	conn_charge(c);
	if (c->closing && c->active == NULL && STAILQ_EMPTY(&c->out)) {
		conn_kill(c);
		return;
	}
	if (c->relay != NULL) {
		/* Upgraded: the relay takes the socket over once the reply
		 * is out. */
		if (c->reading)
			event_del(c->ev_read);
		c->reading = false;
		event_del(c->ev_hup);
		if (STAILQ_EMPTY(&c->out)) {
			event_del(c->ev_write);
			relay_start(c->relay);
		}
		return;
	}
	/* While a call waits, more input would only wait behind it: a
	 * little is read ahead, not a whole message. A uid whose
	 * connections hold its memory limit is not read at all. */
	over = uidstat_over(c->uid);
	want_read = !c->eof && !c->closing && !over &&
		    c->out_bytes <= cfg.max_output &&
		    c->out_fds < CONN_MAX_FDS &&
		    frame_whole(&c->in) < cfg.max_queued_calls &&
		    frame_pending(&c->in) <=
			(c->active != NULL ? CONN_READ_SIZE : cfg.max_message);
	/* While a call waits and the client is not being read (it sent EOF,
	 * or too much input is queued), watch for a full hangup instead.
	 * libevent cannot mix edge- and level-triggered events on one fd
	 * (event_add fails): the watch runs only while no output is pending,
	 * and goes before the read event comes back. */
	want_hup = !want_read && (c->active != NULL || over) && !c->closing &&
		   STAILQ_EMPTY(&c->out);
	if (!want_hup)
		event_del(c->ev_hup);
	if (want_read && !c->reading)
		event_add(c->ev_read, NULL);
	else if (!want_read && c->reading)
		event_del(c->ev_read);
	c->reading = want_read;
	if (want_hup)
		event_add(c->ev_hup, NULL);
}

/* Write as much queued output as the socket takes. */
static void
conn_flush(struct conn *c)
{
	struct outmsg *m;
	bool partial;

	while (!c->dead && (m = STAILQ_FIRST(&c->out)) != NULL) {
		ssize_t n;

		if (m->fd >= 0 && m->off == 0) {
			/* An fd rides alone on its message's first byte. */
			union {
				char buf[CMSG_SPACE(sizeof(int))];
				struct cmsghdr align;
			} u;
			struct iovec iov = {m->buf, m->len};
			struct msghdr mh = {
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof u.buf,
			};
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

			memset(&u, 0, sizeof u);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &m->fd, sizeof(int));
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				/* The client has it now: ours may be the last
				 * reference, with a linger it set. */
				guard_close(m->fd, true);
				m->fd = -1;
				c->out_fds--;
			}
		} else {
			struct iovec iov[CONN_MAX_IOV];
			struct outmsg *o = m;
			int cnt = 0;

			/* Plain messages go out together, up to the next fd. */
			do {
				iov[cnt].iov_base = o->buf + o->off;
				iov[cnt].iov_len = o->len - o->off;
				cnt++;
				o = STAILQ_NEXT(o, link);
			} while (o != NULL && o->fd < 0 && cnt < CONN_MAX_IOV);
			n = writev(c->fd, iov, cnt);
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_kill(c);
			return;
		}
		c->out_bytes -= (size_t)n;
		partial = n == 0;
		while (n > 0 && (m = STAILQ_FIRST(&c->out)) != NULL) {
			size_t left = m->len - m->off;

			if ((size_t)n < left) {
				m->off += (size_t)n;
				partial = true;
				break;
			}
			n -= (ssize_t)left;
			STAILQ_REMOVE_HEAD(&c->out, link);
			free(m->buf);
			free(m);
		}
		if (partial)
			break; /* the socket is full */
	}
	if (c->dead)
		return;
	if (STAILQ_EMPTY(&c->out)) {
		event_del(c->ev_write);
	} else {
		event_del(c->ev_hup);
		event_add(c->ev_write, NULL);
	}
}

/* The socket takes output again. */
static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	bool was_full =
	    c->out_bytes > cfg.max_output || c->out_fds >= CONN_MAX_FDS;

	(void)fd;
	(void)what;
	conn_flush(c);
	if (c->dead)
		return;
	if (was_full && c->out_bytes <= cfg.max_output &&
	    c->out_fds < CONN_MAX_FDS)
		conn_process(c);
	else
		conn_update(c);
}

/* Append a small message to the last queued buffer, or to a new packing
 * buffer: pipelined replies then cost a copy each, not an allocation
 * that lives until the write. true when buf was taken (and freed). */
static bool
conn_pack(struct conn *c, char *buf, size_t len)
{
	struct outmsg *m = NULL;

	/* STAILQ_LAST, which glibc's sys/queue.h does not have. */
	if (!STAILQ_EMPTY(&c->out))
		m = (struct outmsg *)(void *)((char *)c->out.stqh_last -
					      offsetof(struct outmsg,
						       link.stqe_next));

	if (len > CONN_PACK / 4)
		return false;
	if (m == NULL || m->fd >= 0 || m->cap - m->len < len) {
		m = malloc(sizeof *m);
		if (m == NULL)
			return false;
		m->buf = malloc(CONN_PACK);
		if (m->buf == NULL) {
			free(m);
			return false;
		}
		m->len = m->off = 0;
		m->cap = CONN_PACK;
		m->fd = -1;
		STAILQ_INSERT_TAIL(&c->out, m, link);
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	c->out_bytes += len;
	free(buf);
	return true;
}

/* Queue a message for output. */
void
conn_send(struct conn *c, char *buf, size_t len, int fd)
{
	struct outmsg *m;

	if (c->dead) {
		free(buf);
		if (fd >= 0)
			guard_close(fd, true);
		return;
	}
	if (fd < 0 && conn_pack(c, buf, len))
		return;
	m = malloc(sizeof *m);
	if (m == NULL) {
		/* A lost reply breaks the order: finish with this client. */
		free(buf);
		if (fd >= 0)
			guard_close(fd, true);
		c->closing = true;
		return;
	}
	m->buf = buf;
	m->len = m->cap = len;
	m->off = 0;
	m->fd = fd;
	STAILQ_INSERT_TAIL(&c->out, m, link);
	c->out_bytes += len;
	if (fd >= 0)
		c->out_fds++;
}

/* The active call is finished; go on with the next message. */
void
conn_call_done(struct conn *c)
{
	c->active = NULL;
	if (!c->dead)
		event_active(c->ev_process, EV_READ, 0);
}

/* Tell the client what was wrong, then close. */
void
conn_protocol_error(struct conn *c, const char *why)
{
	json_object *p = json_object_new_object();
	size_t len = 0;
	char *msg;

	log_info("protocol error from uid %u pid %d: %s", (unsigned)c->uid,
		 (int)c->pid, why);
	json_object_object_add(p, "message", json_object_new_string(why));
	msg = vl_error_build("io.sockd.ProtocolError", p, &len);
	if (msg != NULL)
		conn_send(c, msg, len, -1);
	c->closing = true;
	conn_flush(c);
	conn_update(c);
}

/* The peer's supplementary groups, for policy rules by group. Without
 * them (an old kernel), rules match by uid and primary gid only. */
static void
conn_read_groups(struct conn *c)
{
	socklen_t len = 16 * sizeof(gid_t);

	for (int tries = 0; tries < 8; tries++) {
		gid_t *g = realloc(c->groups, len);

		if (g == NULL)
			return;
		c->groups = g;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) ==
		    0) {
			c->ngroups = len / sizeof(gid_t);
			return;
		}
		if (errno != ERANGE)
			break;
	}
	c->ngroups = 0;
}

/* Adopt an accepted client: credentials, limits, events. */
int
conn_new(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct uidstat *us;
	struct conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	us = uidstat_get(cred.uid);
	c = calloc(1, sizeof *c);
	if (us == NULL || c == NULL) {
		free(c);
		return -ENOMEM;
	}
	c->fd = fd;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	conn_read_groups(c);
	frame_init(&c->in, cfg.max_message);
	STAILQ_INIT(&c->out);
	TAILQ_INIT(&c->handles);
	c->ev_read =
	    event_new(sockd_base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->ev_write =
	    event_new(sockd_base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	c->ev_process = event_new(sockd_base, -1, 0, conn_process_cb, c);
	c->ev_hup = event_new(sockd_base, fd, EV_WRITE | EV_ET | EV_PERSIST,
			      conn_hup_cb, c);
	if (c->ev_read == NULL || c->ev_write == NULL ||
	    c->ev_process == NULL || c->ev_hup == NULL) {
		struct event *evs[] = {c->ev_read, c->ev_write, c->ev_process,
				       c->ev_hup};

		for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
			if (evs[i] != NULL)
				event_free(evs[i]);
		free(c);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&conns, c, link);
	conn_count++;
	notify_changed();
	us->connections++;
	log_debug("connection from uid %u pid %d", (unsigned)c->uid,
		  (int)c->pid);
	if (conn_count > cfg.max_connections)
		conn_protocol_error(c, "too many connections");
	else if (us->connections > policy_max_connections(c))
		conn_protocol_error(c, "too many connections for this uid");
	else
		conn_update(c);
	return 0;
}

/* Free every connection now (the loop has stopped). */
void
conn_free_all(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		if (!c->dead)
			conn_kill(c);
		conn_free(c);
	}
}

/* Read the connections of uid again (deferred: this may run from inside
 * another connection's work). */
void
conn_unthrottle(uid_t uid)
{
	struct conn *c;

	TAILQ_FOREACH(c, &conns, link)
	{
		if (c->uid == uid && !c->dead)
			event_active(c->ev_process, EV_READ, 0);
	}
}
