/*
 * Calls: one varlink call being served. A call runs its method's handler;
 * a handler that would block parks the call on a socket (and a deadline)
 * or on a name lookup, and is run again when that is ready. Only one call
 * per connection is in progress at a time, which keeps replies in order.
 */
#ifndef SOCKD_CALL_H
#define SOCKD_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/time.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <json-c/json.h>

#include "addr.h"
#include "names.h"
#include "policy.h"

struct conn;
struct handle;
struct method;
struct resolve_job;

/* What a handler returns. */
enum {
	CALL_DONE = 0, /* a reply (or nothing, for oneway) has been queued */
	CALL_WAIT = 1, /* parked: run again on readiness, deadline or lookup */
};

/* A call waiting for events on one socket. */
struct wait {
	struct call *call;
	struct handle *handle;
	struct event ev;
	short events; /* EV_READ / EV_WRITE wanted */
	short ready;  /* what became ready, for the handler */
	bool armed;
	LIST_ENTRY(wait) link; /* handle->waits */
};

struct call {
	struct conn *conn;
	const struct method *method;
	json_object *root; /* the parsed message; owns params */
	json_object *params;
	unsigned flags;	       /* VL_ONEWAY, VL_MORE, VL_UPGRADE */
	struct handle *handle; /* the "handle" parameter, checked */
	struct policy_req req; /* what the dispatcher read for M_SOCKET,
				  M_FILENO and M_SOCKOPT methods */
	int state;	       /* the handler's progress, starts at 0 */
	bool replied;
	bool timed_out; /* set when the deadline passed */
	bool has_deadline;
	struct timeval deadline; /* monotonic, from the handle's timeout */
	struct event *timer;

	struct wait wait; /* on the call's handle */

	struct resolve_job *job; /* a name lookup in flight or done */

	/* What the handler decoded from the parameters on its first run:
	 * the message itself is dropped when the call parks. */
	struct addr addr;
	bool addr_ready;
	int msgflags;	    /* MSG_* */
	unsigned char *buf; /* data to send, or the receive buffer */
	size_t bufcap;	    /* its allocated size */
	size_t reserve;	    /* the most buf may hold while parked: counted
			       from the first park, so that a call is never
			       refused after it has taken data */
	size_t buflen, done;
	void *priv;			   /* the handler's own state */
	size_t privsize;		   /* its size, for the accounting */
	void (*priv_free)(struct call *c); /* frees priv, if not free() */
	size_t charged; /* bytes counted against the uid while parked */
	int pathfd;	/* holds the Unix socket file addr names, or -1 */
};

/* Make, run and (when done) finish a call; the conn owns it meanwhile.
 * When the handler parks the call, root (and params) are freed: the
 * handler must have read what it needs by then. */
void call_start(struct conn *conn, const struct method *m, json_object *root,
		json_object *params, unsigned flags, struct handle *h,
		const struct policy_req *req);
/* Drop a call without replying (its connection is going away). */
void call_cancel(struct call *c);
/* Run a parked call's handler again (what it waited for happened). */
void call_resume(struct call *c);
/* The socket a call waits on is being closed. */
void call_handle_gone(struct wait *w, const struct handle *h);
/* Run the call again from the loop, soon (it is parked). */
void call_resume_soon(struct call *c);
/* A handle that a Poll waits on is being closed (op-io.c). */
struct poll_item;
void op_poll_handle_gone(struct poll_item *it);

/* Replies. Each takes ownership of params; a oneway call sends nothing. */
int call_reply(struct call *c, json_object *params);
int call_error(struct call *c, const char *error, json_object *params);
int call_oserror(struct call *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int call_invalid(struct call *c, const char *field);
int call_timeout(struct call *c);
int call_gaierror(struct call *c, int code, int sys_errno);
/* The resolver would not take a lookup (err from resolver_submit):
 * GAIError EAI_AGAIN naming the per-uid limit, or OSError. */
int call_lookup_refused(struct call *c, int err);
/* A reply carrying fd (index 0); the reply owns fd from here on. */
int call_reply_fd(struct call *c, json_object *params, int fd);

/*
 * The handle's socket would block on events (EV_READ/EV_WRITE): with a
 * timeout of 0 reply OSError wouldblock_err; after the deadline reply
 * Timeout; otherwise park the call. Returns what the handler returns.
 */
int call_wait(struct call *c, short events, int wouldblock_err);
/* Arm the deadline (if any) without watching a socket. */
int call_park(struct call *c);
/* Set the deadline seconds from now (Poll's own timeout). */
void call_set_deadline(struct call *c, double seconds);

/*
 * The address in field of the call's parameters, resolved: returns 1 with
 * c->addr ready; 0 while a host name is being looked up (the handler
 * returns CALL_WAIT and is run again); -1 after replying an error (the
 * handler returns CALL_DONE). family and type are the socket's; op is
 * what the address is for (POLICY_BIND or POLICY_CONNECT), checked
 * against the policy once it is numeric, and a host name must be one the
 * caller may resolve.
 */
int call_address(struct call *c, const char *field, int family, int type,
		 enum policy_op op);

/* Ask the policy (policy.h) for req on behalf of the call: 0, or -1
 * after replying OSError EACCES naming the rule that refused. */
int call_policy(struct call *c, const struct policy_req *req);

/* Lookup results handed back to the call; see resolver.h. */
void call_job_done(struct call *c);

/* Small parameter accessors; the dispatcher checked types already. */
json_object *call_param(struct call *c, const char *name);
bool call_param_int(struct call *c, const char *name, int64_t *ret);
const char *call_param_str(struct call *c, const char *name);
/* OR of the names in a string-array parameter; -1 after replying
 * InvalidParameter for an unknown name. */
int call_param_flags(struct call *c, const char *name, const struct name *table,
		     int *ret);
/* Decode a base64 "data" parameter into c->buf / c->buflen: 0, or -1
 * after replying InvalidParameter. */
int call_param_data(struct call *c, const char *name);
/* A buffer of size bytes in c->buf (the old one freed): 0, or -1 after
 * replying ENOMEM. */
int call_buffer(struct call *c, size_t size);

#endif
