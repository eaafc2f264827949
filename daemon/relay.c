/*
 * The byte relay behind Attach. Each direction moves bytes from one end to
 * the other: splice into its pipe, splice out of it, so the data never
 * enters user space; when a socket cannot be spliced (EINVAL), or is
 * shared with a FileNo holder (splice follows the file's blocking mode),
 * the direction reads and writes through a buffer instead. A direction
 * drains what it holds before reading more, so memory stays at one pipe
 * (or buffer) per direction whatever the peers do, and a slow reader
 * slows its writer down through TCP, as with any relay.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "conn.h"
#include "handle.h"
#include "ident.h"
#include "log.h"
#include "relay.h"
#include "sockd.h"

#define RELAY_BUF_SIZE (64 * 1024) /* copy fallback */
#define RELAY_ROUNDS   16	   /* moves per wakeup before yielding */

struct relay_dir {
	struct relay *relay;
	int from, to;
	int pipe[2];	 /* -1 until splicing starts */
	size_t pipe_cap; /* bytes the pipe takes */
	size_t in_pipe;	 /* bytes in the pipe, not yet written */
	char *lead;	 /* bytes read before the upgrade, to go first */
	size_t lead_off, lead_len;
	char *buf;	      /* copy mode */
	size_t off, len;      /* unsent part of buf */
	bool copy;	      /* splice refused: read and write */
	bool eof;	      /* from ended */
	bool done;	      /* to was shut down for writing */
	struct event *ev_in;  /* from is readable */
	struct event *ev_out; /* to is writable */
	struct event *ev_run; /* go on after yielding */
};

struct relay {
	struct conn *conn;
	struct handle *handle;
	struct relay_dir up;   /* client -> socket */
	struct relay_dir down; /* socket -> client */
	struct event *ev_hup;  /* the client hung up, after its EOF */
	bool started;
	bool ending;
};

static void relay_pump(struct relay_dir *d);
static void relay_hup_cb(evutil_socket_t fd, short what, void *arg);

/* Both directions are over, or one failed: close up. */
static void
relay_end(struct relay *r)
{
	struct handle *h = r->handle;

	if (r->ending)
		return;
	r->ending = true;
	relay_stop(r);
	if (h != NULL) {
		h->relay = NULL;
		r->handle = NULL;
		/* A persistent handle outlives its relay. */
		if (h->scope != NULL)
			handle_close(h);
	}
	conn_kill(r->conn);
}

static void
relay_in_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_pump(arg);
}

/* Set up one direction's events. */
static int
relay_dir_init(struct relay *r, struct relay_dir *d, int from, int to)
{
	d->relay = r;
	d->from = from;
	d->to = to;
	d->pipe[0] = d->pipe[1] = -1;
	d->ev_in = event_new(sockd_base, from, EV_READ, relay_in_cb, d);
	d->ev_out = event_new(sockd_base, to, EV_WRITE, relay_in_cb, d);
	d->ev_run = event_new(sockd_base, -1, 0, relay_in_cb, d);
	if (d->ev_in == NULL || d->ev_out == NULL || d->ev_run == NULL)
		return -ENOMEM;
	return 0;
}

/* The pipe for splicing, made on first use; -1 means copy instead. */
static int
relay_pipe(struct relay_dir *d)
{
	int sz;

	if (d->pipe[0] >= 0)
		return 0;
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	/* A bigger pipe moves more per syscall; keep what the kernel
	 * grants (unprivileged users have a soft limit). */
	fcntl(d->pipe[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	sz = fcntl(d->pipe[1], F_GETPIPE_SZ);
	d->pipe_cap = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

/* Give up splicing in this direction: copy through a buffer. */
static int
relay_copy_mode(struct relay_dir *d)
{
	char *b;

	b = malloc(RELAY_BUF_SIZE);
	if (b == NULL)
		return -ENOMEM;
	d->copy = true;
	d->buf = b;
	d->off = d->len = 0;
	return 0;
}

/* Arm the hangup watch when it can tell something: the client sent its
 * EOF, and nothing waits to be written to it. libevent cannot mix an
 * edge-triggered event with level-triggered ones on one fd, so the watch
 * and the down direction's write event never run together. */
static void
relay_watch_hup(struct relay *r)
{
	if (r->ending)
		return;
	if (r->up.eof && !event_pending(r->down.ev_out, EV_WRITE, NULL))
		event_add(r->ev_hup, NULL);
	else
		event_del(r->ev_hup);
}

/* Send a buffer's unsent part: bytes sent, or -1 with errno. What goes
 * to a Unix socket carries the client's credentials (ident.h). */
static ssize_t
relay_send(struct relay_dir *d, char *buf, size_t *off, size_t len)
{
	struct relay *r = d->relay;
	ssize_t n = d == &r->up && r->handle->family == AF_UNIX
			? ident_sendto(r->conn, d->to, buf + *off, len - *off,
				       MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0)
			: send(d->to, buf + *off, len - *off,
			       MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n > 0)
		*off += (size_t)n;
	return n;
}

/*
 * Write out what the direction holds. 1 when empty, 0 when the writer
 * would block (ev_out armed), -1 when writing failed.
 */
static int
relay_drain(struct relay_dir *d)
{
	while (d->lead_len > d->lead_off || d->len > d->off || d->in_pipe > 0) {
		ssize_t n;

		if (d->lead_len > d->lead_off)
			n = relay_send(d, d->lead, &d->lead_off, d->lead_len);
		else if (d->len > d->off)
			n = relay_send(d, d->buf, &d->off, d->len);
		else {
			n = splice(d->pipe[0], NULL, d->to, NULL, d->in_pipe,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0)
				d->in_pipe -= (size_t)n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (d == &d->relay->down)
				event_del(d->relay->ev_hup);
			event_add(d->ev_out, NULL);
			return 0;
		}
		if (n <= 0)
			return -1;
	}
	d->off = d->len = 0;
	return 1;
}

/* Read more into the direction: 1 when something came, 0 when from
 * would block (ev_in armed), -1 at EOF or a read error. */
static int
relay_fill(struct relay_dir *d)
{
	ssize_t n;

	for (;;) {
		if (!d->copy && relay_pipe(d) < 0 && relay_copy_mode(d) < 0)
			return -1;
		if (d->copy)
			n = recv(d->from, d->buf, RELAY_BUF_SIZE, MSG_DONTWAIT);
		else
			n = splice(d->from, NULL, d->pipe[1], NULL, d->pipe_cap,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && !d->copy) {
			/* This socket cannot be spliced from. */
			if (relay_copy_mode(d) < 0)
				return -1;
			continue;
		}
		break;
	}
	if (n < 0 && errno == EAGAIN) {
		event_add(d->ev_in, NULL);
		return 0;
	}
	if (n <= 0) {
		if (n < 0)
			log_debug("attach: read: %s", strerror(errno));
		return -1;
	}
	if (d->copy)
		d->len = (size_t)n;
	else
		d->in_pipe = (size_t)n;
	return 1;
}

/* Move bytes in one direction until an end would block. */
static void
relay_move(struct relay_dir *d)
{
	struct relay *r = d->relay;
	struct relay_dir *other = d == &r->up ? &r->down : &r->up;

	if (r->ending || d->done)
		return;
	for (int round = 0; round < RELAY_ROUNDS; round++) {
		int w = relay_drain(d), rd;

		if (w < 0) {
			/* The receiving end is gone: nothing more can go
			 * either way that anyone would read. */
			log_debug("attach: write: %s", strerror(errno));
			relay_end(r);
			return;
		}
		if (w == 0)
			return;
		if (d->eof) {
			/* Pass the EOF on: the other end sees its peer's
			 * half-close. */
			shutdown(d->to, SHUT_WR);
			d->done = true;
			if (other->done)
				relay_end(r);
			return;
		}
		rd = relay_fill(d);
		if (rd == 0)
			return;
		if (rd < 0)
			d->eof = true;
	}
	/* Busy: let others run, then go on. */
	event_active(d->ev_run, EV_READ, 0);
}

static void
relay_pump(struct relay_dir *d)
{
	relay_move(d);
	relay_watch_hup(d->relay);
}

/* After the client's EOF: has it gone for good? Then nobody reads what
 * the socket would send. */
static void
relay_hup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	struct pollfd p = {.fd = fd, .events = 0};

	(void)what;
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
		relay_end(r);
}

int
relay_new(struct conn *c, struct handle *h)
{
	struct relay *r = calloc(1, sizeof *r);

	if (r == NULL)
		return -ENOMEM;
	r->up.pipe[0] = r->up.pipe[1] = -1;
	r->down.pipe[0] = r->down.pipe[1] = -1;
	r->conn = c;
	r->handle = h;
	r->ev_hup = event_new(sockd_base, c->fd, EV_WRITE | EV_ET | EV_PERSIST,
			      relay_hup_cb, r);
	if (r->ev_hup == NULL || relay_dir_init(r, &r->up, c->fd, h->fd) < 0 ||
	    relay_dir_init(r, &r->down, h->fd, c->fd) < 0) {
		relay_free(r);
		return -ENOMEM;
	}
	h->relay = r;
	c->relay = r;
	return 0;
}

void
relay_start(struct relay *r)
{
	struct conn *c = r->conn;
	size_t left = frame_pending(&c->in);

	if (r->started || r->ending)
		return;
	r->started = true;
	/* What the client sent behind the upgrade call is data. */
	if (left > 0) {
		r->up.lead = malloc(left);
		if (r->up.lead == NULL) {
			relay_end(r);
			return;
		}
		r->up.lead_len = frame_take(&c->in, r->up.lead, left);
	}
	/* splice(2) honours the socket's file flags, not SPLICE_F_NONBLOCK,
	 * and the holder of a FileNo duplicate may clear O_NONBLOCK at any
	 * time: a shared socket is copied with MSG_DONTWAIT instead. */
	if (r->handle->shared &&
	    (relay_copy_mode(&r->up) < 0 || relay_copy_mode(&r->down) < 0)) {
		relay_end(r);
		return;
	}
	/* A splice to a Unix socket would carry sockd's credentials. */
	if (r->handle->family == AF_UNIX && ident_acts_for(c) && !r->up.copy &&
	    relay_copy_mode(&r->up) < 0) {
		relay_end(r);
		return;
	}
	event_active(r->up.ev_run, EV_READ, 0);
	event_active(r->down.ev_run, EV_READ, 0);
}

/* Stop one direction's events. */
static void
relay_dir_stop(struct relay_dir *d)
{
	if (d->ev_in != NULL)
		event_del(d->ev_in);
	if (d->ev_out != NULL)
		event_del(d->ev_out);
	if (d->ev_run != NULL)
		event_del(d->ev_run);
}

void
relay_stop(struct relay *r)
{
	relay_dir_stop(&r->up);
	relay_dir_stop(&r->down);
	if (r->ev_hup != NULL)
		event_del(r->ev_hup);
}

/* Free one direction. */
static void
relay_dir_free(struct relay_dir *d)
{
	if (d->ev_in != NULL)
		event_free(d->ev_in);
	if (d->ev_out != NULL)
		event_free(d->ev_out);
	if (d->ev_run != NULL)
		event_free(d->ev_run);
	if (d->pipe[0] >= 0) {
		close(d->pipe[0]);
		close(d->pipe[1]);
	}
	free(d->buf);
	free(d->lead);
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	if (r->handle != NULL)
		r->handle->relay = NULL;
	relay_dir_free(&r->up);
	relay_dir_free(&r->down);
	if (r->ev_hup != NULL)
		event_free(r->ev_hup);
	free(r);
}

void
relay_handle_gone(struct relay *r)
{
	/* The socket is about to be closed: forget it, and end. */
	relay_stop(r);
	r->handle->relay = NULL;
	r->handle = NULL;
	relay_end(r);
}
