/*
 * The load loop: one epoll loop over all connections. A call run writes
 * a round of opt.depth calls on each connection, reads as many replies,
 * and starts the next round, timing each call from its write to its
 * reply; a raw run writes payload as fast as each socket takes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* Fill c->gen with depth GetTimeout calls on handles from the pool. */
static void
client_generate(struct client *c, const struct run *r)
{
	size_t need = (size_t)opt.depth * 96, len = 0;

	if (c->gen_cap < need) {
		free(c->gen);
		c->gen = malloc(need);
		if (c->gen == NULL)
			die("out of memory");
		c->gen_cap = need;
	}
	for (int i = 0; i < opt.depth; i++) {
		int64_t h;

		c->rng ^= c->rng << 13;
		c->rng ^= c->rng >> 7;
		c->rng ^= c->rng << 17;
		h = r->pool[c->rng % r->npool];
		len +=
		    (size_t)snprintf(c->gen + len, need - len,
				     "{\"method\":\"io.sockd.GetTimeout\","
				     "\"parameters\":{\"handle\":%" PRId64 "}}",
				     h) +
		    1;
	}
	c->batch = c->gen;
	c->batch_len = len;
}

/* Watch c for replies, and for room to write when out. */
static void
client_watch(int ep, struct client *c, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
				 .data.ptr = c};

	if (out == c->want_out)
		return;
	c->want_out = out;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

/* Write what is left of the round; false on EAGAIN. */
static bool
client_flush(struct client *c)
{
	while (c->woff < c->batch_len) {
		ssize_t n =
		    send(c->fd, c->batch + c->woff, c->batch_len - c->woff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			die("write: %s", strerror(errno));
		}
		c->woff += (size_t)n;
	}
	return true;
}

/* Start the next round of calls on c. */
static void
client_issue(int ep, struct client *c, struct run *r)
{
	if (r->pool != NULL)
		client_generate(c, r);
	c->woff = 0;
	c->inflight = opt.depth;
	r->issued++;
	if (r->limit != 0 && r->issued >= r->limit)
		r->stopping = true;
	c->sent_at = now_ns();
	client_watch(ep, c, !client_flush(c));
}

/* c is finished with this run. */
static void
client_finish(int ep, struct client *c, int *active)
{
	c->done = true;
	(*active)--;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
}

/* Replies arrived (or the socket takes more of the round). */
static void
client_event_calls(int ep, struct client *c, struct run *r, uint32_t events,
		   int *active)
{
	ssize_t n;
	char *msg;

	if ((events & EPOLLOUT) && client_flush(c))
		client_watch(ep, c, false);
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = client_read(c);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		die("sockd closed the connection with %d calls in flight",
		    c->inflight);
	while ((msg = client_next(c)) != NULL) {
		uint64_t t = now_ns();

		if (reply_is_error(msg))
			die("error reply: %s", msg);
		if (c->inflight == 0)
			die("a reply no call asked for: %s", msg);
		c->inflight--;
		r->completed++;
		r->t_last = t;
		if (t >= r->t_warm && t <= r->t_end) {
			hist_add(&r->lat, t - c->sent_at);
			r->counted++;
		}
	}
	if (c->inflight == 0 && c->woff == c->batch_len) {
		if (r->stopping || now_ns() >= r->t_end)
			client_finish(ep, c, active);
		else
			client_issue(ep, c, r);
	}
}

/* The raw socket takes more payload. */
static void
client_event_raw(int ep, struct client *c, struct run *r, uint32_t events,
		 int *active)
{
	if (events & EPOLLERR)
		die("the payload connection failed");
	for (;;) {
		ssize_t n =
		    send(c->fd, r->chunk + c->woff, r->chunk_len - c->woff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			die("write: %s", strerror(errno));
		}
		r->bytes += (uint64_t)n;
		c->woff += (size_t)n;
		if (c->woff < r->chunk_len)
			continue;
		c->woff = 0;
		r->issued++;
		/* A reader that keeps up never makes send() block: look at
		 * the clock here, not only between epoll_waits. */
		if ((r->limit != 0 && r->issued >= r->limit) ||
		    now_ns() >= r->t_end)
			r->stopping = true;
		if (r->stopping)
			break;
	}
	if (r->stopping) {
		shutdown(c->fd, SHUT_WR);
		client_finish(ep, c, active);
	}
}

/* A run with the command line's -n. */
struct run *
run_new(void)
{
	struct run *r = calloc(1, sizeof *r);

	if (r == NULL)
		die("out of memory");
	r->limit = opt.count;
	return r;
}

/* Run the loop over n clients until the time or the count is up. */
void
run_loop(struct client *cl, int n, struct run *r)
{
	struct epoll_event evs[MAX_EVENTS];
	int ep = epoll_create1(EPOLL_CLOEXEC), active = n;

	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {
		    .events = r->raw ? EPOLLOUT : EPOLLIN,
		    .data.ptr = &cl[i],
		};

		cl[i].done = false;
		cl[i].want_out = false;
		cl[i].woff = 0;
		cl[i].inflight = 0;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}
	r->t_start = now_ns();
	if (r->limit != 0) {
		r->t_warm = r->t_start;
		r->t_end = UINT64_MAX;
	} else {
		r->t_warm = r->t_start + (uint64_t)(opt.warm * 1e9);
		r->t_end = r->t_start + (uint64_t)(opt.secs * 1e9);
	}
	if (!r->raw)
		for (int i = 0; i < n; i++)
			client_issue(ep, &cl[i], r);
	while (active > 0) {
		uint64_t t = now_ns();
		int timeout = 100, ne;

		if (!r->stopping && t >= r->t_end)
			r->stopping = true;
		if (r->stopping && r->raw) {
			for (int i = 0; i < n; i++)
				if (!cl[i].done) {
					shutdown(cl[i].fd, SHUT_WR);
					client_finish(ep, &cl[i], &active);
				}
			break;
		}
		if (!r->stopping && r->t_end != UINT64_MAX)
			timeout = (int)((r->t_end - t) / 1000000) + 1;
		ne = epoll_wait(ep, evs, MAX_EVENTS, timeout);
		if (ne < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < ne; i++) {
			struct client *c = evs[i].data.ptr;

			if (c->done)
				continue;
			if (r->raw)
				client_event_raw(ep, c, r, evs[i].events,
						 &active);
			else
				client_event_calls(ep, c, r, evs[i].events,
						   &active);
		}
	}
	close(ep);
}

/* The measured seconds of a call run. */
double
run_secs(const struct run *r)
{
	if (r->limit != 0)
		return (double)(r->t_last - r->t_start) / 1e9;
	return (double)(r->t_end - r->t_warm) / 1e9;
}

/* Calls per second of a call run. */
double
run_rate(const struct run *r)
{
	double secs = run_secs(r);

	return secs > 0 ? (double)r->counted / secs : 0;
}
