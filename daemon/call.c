/*
 * Calls: running a handler, parking it on sockets, deadlines and name
 * lookups, and queuing its reply on the connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netdb.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include "b64.h"
#include "call.h"
#include "conn.h"
#include "guard.h"
#include "handle.h"
#include "ident.h"
#include "log.h"
#include "method.h"
#include "resolver.h"
#include "server.h"
#include "sockd.h"
#include "upath.h"
#include "utf8.h"
#include "varlink.h"

static void call_run(struct call *c);
static int call_unix_target(struct call *c, enum policy_op op);

/* Now on the monotonic clock. */
static void
call_now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

/* Stop waiting on the socket and the deadline. */
static void
call_unpark(struct call *c)
{
	struct wait *w = &c->wait;

	if (w->armed) {
		event_del(&w->ev);
		LIST_REMOVE(w, link);
		w->armed = false;
	}
	if (c->timer != NULL)
		event_del(c->timer);
}

/* Free everything the call holds. */
static void
call_free(struct call *c)
{
	call_unpark(c);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->job != NULL)
		resolver_abandon(c->job);
	if (c->charged > 0)
		uidstat_charge(c->conn->uid, -(ssize_t)c->charged);
	json_object_put(c->root);
	free(c->buf);
	if (c->pathfd >= 0)
		close(c->pathfd);
	if (c->priv_free != NULL)
		c->priv_free(c);
	else
		free(c->priv);
	free(c);
}

/* What a parked call keeps: counted against its uid's memory while it
 * waits. */
static size_t
call_held(const struct call *c)
{
	return sizeof *c + (c->bufcap > c->reserve ? c->bufcap : c->reserve) +
	       c->privsize;
}

/* The call parked: keep only what the handler decoded, and count it.
 * false when the uid's memory is used up: the caller replies ENOBUFS. */
static bool
call_hold(struct call *c)
{
	size_t held = call_held(c);

	json_object_put(c->root);
	c->root = NULL;
	c->params = NULL;
	if (held == c->charged)
		return true;
	if (held > c->charged &&
	    !uidstat_may_charge(c->conn->uid, held - c->charged))
		return false;
	uidstat_charge(c->conn->uid, (ssize_t)held - (ssize_t)c->charged);
	c->charged = held;
	return true;
}

/* Start serving a call: run it, and keep it if it waits. */
void
call_start(struct conn *conn, const struct method *m, json_object *root,
	   json_object *params, unsigned flags, struct handle *h,
	   const struct policy_req *req)
{
	struct call *c = calloc(1, sizeof *c);

	if (c == NULL) {
		json_object_put(root);
		conn_protocol_error(conn, "out of memory");
		return;
	}
	c->conn = conn;
	c->method = m;
	c->root = root;
	c->params = params;
	c->flags = flags;
	c->handle = h;
	c->req = *req;
	c->pathfd = -1;
	conn->active = c;
	call_run(c);
}

/* Run the handler; finish the call unless it parked. */
static void
call_run(struct call *c)
{
	struct conn *conn = c->conn;

	call_unpark(c);
	if (c->method->run(c) == CALL_WAIT && !c->replied) {
		if (call_hold(c))
			return;
		call_unpark(c);
		call_oserror(c, ENOBUFS,
			     "the calls and buffers of uid %u hold %zu bytes "
			     "of sockd's memory, its limit "
			     "(--max-memory-per-uid): not waiting",
			     (unsigned)c->conn->uid,
			     uidstat_bytes(c->conn->uid));
	}
	if (!c->replied)
		call_oserror(c, EIO, "internal error: no reply");
	call_free(c);
	conn_call_done(conn);
}

/* Drop a call whose connection is going away. */
void
call_cancel(struct call *c)
{
	call_free(c);
}

void
call_resume(struct call *c)
{
	call_run(c);
}

void
call_resume_soon(struct call *c)
{
	/* A parked call has its timer; one still running sees the change
	 * itself. */
	if (c->timer != NULL)
		event_active(c->timer, EV_READ, 0);
}

/* The socket c waits on is being closed. */
void
call_handle_gone(struct wait *w, const struct handle *h)
{
	struct call *c = w->call;
	struct conn *conn = c->conn;

	(void)h;
	event_del(&w->ev);
	LIST_REMOVE(w, link);
	w->armed = false;
	w->handle = NULL;
	c->handle = NULL;
	call_oserror(c, EBADF, "socket closed while waiting");
	call_free(c);
	conn_call_done(conn);
}

/* Queue a built message as the call's reply. */
static int
call_queue(struct call *c, char *msg, size_t len, int fd)
{
	if (c->replied) {
		log_err("internal error: %s replied twice", c->method->name);
		free(msg);
		return CALL_DONE;
	}
	c->replied = true;
	if (c->flags & VL_ONEWAY) {
		free(msg);
		if (fd >= 0)
			guard_close(fd, true);
		return CALL_DONE;
	}
	if (msg == NULL) {
		if (fd >= 0)
			guard_close(fd, true);
		conn_protocol_error(c->conn, "out of memory");
		return CALL_DONE;
	}
	/* Every reply is UTF-8: the strings that come from clients or the
	 * kernel are made so where they are read (a Unix name that is not
	 * UTF-8 travels as path_base64). This is the last line of defence,
	 * and it should never find anything. */
	if (!utf8_valid(msg, len - 1) && utf8_repair(msg, len - 1) > 0)
		log_err("internal error: a %s reply was not UTF-8; the bytes "
			"that were not are sent as '?'",
			c->method->name);
	conn_send(c->conn, msg, len, fd);
	return CALL_DONE;
}

/* A successful reply. */
int
call_reply(struct call *c, json_object *params)
{
	size_t len = 0;
	char *msg = vl_reply_build(params, false, &len);

	return call_queue(c, msg, len, -1);
}

/* A successful reply with an fd (index 0 in its message). */
int
call_reply_fd(struct call *c, json_object *params, int fd)
{
	size_t len = 0;
	char *msg = vl_reply_build(params, false, &len);

	return call_queue(c, msg, len, fd);
}

/* An error reply. */
int
call_error(struct call *c, const char *error, json_object *params)
{
	size_t len = 0;
	char *msg = vl_error_build(error, params, &len);

	return call_queue(c, msg, len, -1);
}

/* io.sockd.OSError for err, with strerror and context. */
int
call_oserror(struct call *c, int err, const char *fmt, ...)
{
	const char *name = names_errno_name(err);
	json_object *p = json_object_new_object();
	char context[768] = "", message[1024];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(context, sizeof context, fmt, ap);
		va_end(ap);
	}
	snprintf(message, sizeof message, "%s%s%s", strerror(err),
		 context[0] ? ": " : "", context);
	json_object_object_add(p, "errno", json_object_new_int(err));
	json_object_object_add(
	    p, "name", json_object_new_string(name ? name : "EUNKNOWN"));
	json_object_object_add(p, "message", json_object_new_string(message));
	return call_error(c, "io.sockd.OSError", p);
}

/* org.varlink.service.InvalidParameter naming field. */
int
call_invalid(struct call *c, const char *field)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "parameter", json_object_new_string(field));
	return call_error(c, "org.varlink.service.InvalidParameter", p);
}

/* io.sockd.Timeout. */
int
call_timeout(struct call *c)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "message",
			       json_object_new_string("timed out"));
	return call_error(c, "io.sockd.Timeout", p);
}

/* io.sockd.GAIError for a getaddrinfo/getnameinfo code. */
int
call_gaierror(struct call *c, int code, int sys_errno)
{
	const char *name = names_name(names_eai, code);
	json_object *p = json_object_new_object();
	char message[256];

	if (code == EAI_SYSTEM)
		snprintf(message, sizeof message, "%s: %s", gai_strerror(code),
			 strerror(sys_errno));
	else
		snprintf(message, sizeof message, "%s", gai_strerror(code));
	json_object_object_add(p, "code", json_object_new_int(code));
	json_object_object_add(p, "name",
			       json_object_new_string(name ? name : "EAI_?"));
	json_object_object_add(p, "message", json_object_new_string(message));
	return call_error(c, "io.sockd.GAIError", p);
}

/* The resolver did not take a lookup (resolver_submit's error). */
int
call_lookup_refused(struct call *c, int err)
{
	json_object *p;
	char message[256];

	if (err != -EAGAIN)
		return call_oserror(c, -err, "cannot queue the name lookup");
	snprintf(message, sizeof message,
		 "%s: uid %u has %u name lookups queued or running, its limit "
		 "(--max-lookups-per-uid)",
		 gai_strerror(EAI_AGAIN), (unsigned)c->conn->uid,
		 cfg.max_lookups_per_uid);
	p = json_object_new_object();
	json_object_object_add(p, "code", json_object_new_int(EAI_AGAIN));
	json_object_object_add(p, "name", json_object_new_string("EAI_AGAIN"));
	json_object_object_add(p, "message", json_object_new_string(message));
	return call_error(c, "io.sockd.GAIError", p);
}

/* A socket event or the deadline: run the handler again. */
static void
call_wake(evutil_socket_t fd, short what, void *arg)
{
	struct wait *w = arg;
	struct call *c = w->call;

	(void)fd;
	w->armed = false;
	LIST_REMOVE(w, link);
	w->ready = what & (EV_READ | EV_WRITE);
	call_run(c);
}

/* The deadline passed (or a Poll item's handle went away). */
static void
call_timer(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	struct timeval now;

	(void)fd;
	if (what & EV_TIMEOUT) {
		call_now(&now);
		if (c->has_deadline && timercmp(&now, &c->deadline, >=))
			c->timed_out = true;
	}
	call_run(c);
}

/* Arm the deadline timer, creating it on first use. */
int
call_park(struct call *c)
{
	struct timeval now, left;

	if (c->timer == NULL) {
		c->timer = evtimer_new(sockd_base, call_timer, c);
		if (c->timer == NULL)
			return -ENOMEM;
	}
	if (!c->has_deadline)
		return 0;
	call_now(&now);
	if (timercmp(&c->deadline, &now, <))
		timerclear(&left);
	else
		timersub(&c->deadline, &now, &left);
	return evtimer_add(c->timer, &left) < 0 ? -ENOMEM : 0;
}

/* Set the deadline seconds from now. */
void
call_set_deadline(struct call *c, double seconds)
{
	struct timeval now, d;

	if (seconds > 1e9)
		seconds = 1e9;
	call_now(&now);
	d.tv_sec = (time_t)seconds;
	d.tv_usec = (suseconds_t)((seconds - (double)d.tv_sec) * 1e6);
	timeradd(&now, &d, &c->deadline);
	c->has_deadline = true;
}

/* Watch the call's handle for events until they come or the deadline. */
static int
call_watch(struct call *c, short events)
{
	struct wait *w = &c->wait;
	struct handle *h = c->handle;

	w->call = c;
	w->handle = h;
	event_assign(&w->ev, sockd_base, h->fd, events, call_wake, w);
	w->events = events;
	w->ready = 0;
	if (event_add(&w->ev, NULL) < 0)
		return -ENOMEM;
	w->armed = true;
	LIST_INSERT_HEAD(&h->waits, w, link);
	return call_park(c);
}

/* Would block on the call's handle: fail, time out, or park. */
int
call_wait(struct call *c, short events, int wouldblock_err)
{
	struct handle *h = c->handle;

	if (h->timeout == 0)
		return call_oserror(c, wouldblock_err, NULL);
	if (c->timed_out)
		return call_timeout(c);
	if (h->timeout > 0 && !c->has_deadline)
		call_set_deadline(c, h->timeout);
	if (call_watch(c, events) < 0)
		return call_oserror(c, ENOMEM, "cannot wait");
	return CALL_WAIT;
}

/* A lookup finished: run the handler again. */
void
call_job_done(struct call *c)
{
	call_run(c);
}

/* Parameter accessors. */
json_object *
call_param(struct call *c, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(c->params, name, &v))
		return NULL;
	return v;
}

/* An int parameter; false when missing or null. */
bool
call_param_int(struct call *c, const char *name, int64_t *ret)
{
	json_object *v = call_param(c, name);

	if (v == NULL)
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

/* A string parameter, or NULL when missing or null. */
const char *
call_param_str(struct call *c, const char *name)
{
	json_object *v = call_param(c, name);

	return v != NULL ? json_object_get_string(v) : NULL;
}

/* OR together the constant names of a string-array parameter. */
int
call_param_flags(struct call *c, const char *name, const struct name *table,
		 int *ret)
{
	if (names_json_bits(call_param(c, name), table, ret) < 0) {
		call_invalid(c, name);
		return -1;
	}
	return 0;
}

/* A fresh buffer in c->buf. */
int
call_buffer(struct call *c, size_t size)
{
	free(c->buf);
	c->bufcap = 0;
	c->buf = malloc(size > 0 ? size : 1);
	if (c->buf == NULL) {
		call_oserror(c, ENOMEM, "no memory for a %zu-byte buffer",
			     size);
		return -1;
	}
	c->bufcap = size;
	return 0;
}

/* Decode a base64 parameter into c->buf. */
int
call_param_data(struct call *c, const char *name)
{
	json_object *v = call_param(c, name);
	const char *text = json_object_get_string(v);
	size_t len = json_object_get_string_len(v);

	if (call_buffer(c, B64_DECODED_MAX(len) + 1) < 0)
		return -1;
	if (b64_decode(text, len, c->buf, &c->buflen) < 0) {
		call_invalid(c, name);
		return -1;
	}
	c->done = 0;
	return 0;
}

/* The address parameter field, resolved in the background if it names a
 * host, as Python's connect(("example.org", 80)) does. */
int
call_address(struct call *c, const char *field, int family, int type,
	     enum policy_op op)
{
	struct resolve_job *job = c->job;
	const char *bad;
	int r;

	if (c->addr_ready)
		return 1;
	if (job == NULL) {
		r = addr_from_json(call_param(c, field), family, &c->addr,
				   &bad);
		if (r == -EAFNOSUPPORT) {
			call_oserror(c, EAFNOSUPPORT,
				     "%s: family not supported", field);
			return -1;
		}
		if (r < 0) {
			call_invalid(c, field);
			return -1;
		}
		if (c->addr.host_name == NULL)
			goto ready;
		{
			struct policy_req req = {.op = POLICY_RESOLVE,
						 .host = c->addr.host_name};

			if (call_policy(c, &req) < 0)
				return -1;
		}
		job = calloc(1, sizeof *job);
		if (job == NULL ||
		    (job->host = strdup(c->addr.host_name)) == NULL) {
			free(job);
			call_oserror(c, ENOMEM, "resolving %s", field);
			return -1;
		}
		/* It pointed into the message, which goes while we wait. */
		c->addr.host_name = NULL;
		job->kind = RESOLVE_ADDRINFO;
		job->hints.ai_family = c->addr.ss.ss_family;
		job->hints.ai_socktype = type;
		r = resolver_submit(job, c);
		if (r < 0) {
			resolver_job_free(job);
			call_lookup_refused(c, r);
			return -1;
		}
		c->job = job;
		return 0;
	}
	c->job = NULL;
	if (job->gai != 0) {
		call_gaierror(c, job->gai, job->sys_errno);
		resolver_job_free(job);
		return -1;
	}
	memcpy(&c->addr.ss, job->result->ai_addr, job->result->ai_addrlen);
	c->addr.len = job->result->ai_addrlen;
	addr_set_port((struct sockaddr *)&c->addr.ss, c->addr.port);
	c->addr.host_name = NULL;
	resolver_job_free(job);
ready:
	/* The numeric address is what is checked: a name cannot smuggle
	 * in an address the caller may not use. */
	{
		struct policy_req req = {
		    .op = op,
		    .what = c->method->name,
		    .sa = (struct sockaddr *)&c->addr.ss,
		    .salen = c->addr.len,
		};

		if (call_policy(c, &req) < 0)
			return -1;
	}
	if (c->addr.ss.ss_family == AF_UNIX && call_unix_target(c, op) < 0)
		return -1;
	c->addr_ready = true;
	return 1;
}

/*
 * A Unix address, after the policy: sockd never reaches its own control
 * sockets, and a path must be one the caller itself could use. When
 * sockd runs as root, the system call is made as the caller (ident.h) and
 * the kernel judges that; otherwise the path is walked with the caller's
 * rights here (upath.h), a socket reached that way is connected to
 * through the file it found, and no path is bound for another uid.
 * 0, or -1 after replying.
 */
static int
call_unix_target(struct call *c, enum policy_op op)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->addr.ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&c->addr.ss;
	struct upath up;
	char text[160];
	bool path = c->addr.len > offsetof(struct sockaddr_un, sun_path) &&
		    sun->sun_path[0] != '\0';
	int r;

	if (op != POLICY_BIND && server_is_own(sa, c->addr.len)) {
		addr_format(sa, c->addr.len, text, sizeof text);
		return call_oserror(c, EACCES,
				    "%s %s: sockd does not connect a handle to "
				    "its own control socket",
				    c->method->name, text),
		       -1;
	}
	if (!path || ident_can_switch() || c->conn->uid == 0 ||
	    c->conn->uid == sockd_uid)
		return 0;
	/* A path bound without root would be sockd's own file, made where
	 * sockd may write: a caller could neither own it nor, with sockd's
	 * umask, use it, and the directory checked could change before the
	 * bind. Abstract names are the way. */
	if (op == POLICY_BIND)
		return call_oserror(c, EACCES,
				    "Bind %s: sockd runs as uid %u and cannot "
				    "bind a path for uid %u (bind an abstract "
				    "name instead)",
				    sun->sun_path, (unsigned)sockd_uid,
				    (unsigned)c->conn->uid),
		       -1;
	r = upath_reach(c->conn, sun->sun_path, &up);
	if (r < 0)
		return call_oserror(c, -r, "%s %s", c->method->name,
				    sun->sun_path),
		       -1;
	if (up.fd >= 0 && server_is_own((struct sockaddr *)&up.sun, up.len)) {
		upath_done(&up);
		return call_oserror(c, EACCES,
				    "%s: sockd does not connect a handle to "
				    "its own control socket",
				    c->method->name),
		       -1;
	}
	if (c->pathfd >= 0)
		close(c->pathfd);
	c->pathfd = up.fd;
	memcpy(&c->addr.ss, &up.sun, sizeof up.sun);
	c->addr.len = up.len;
	return 0;
}

/* Ask the policy; reply EACCES on refusal. */
int
call_policy(struct call *c, const struct policy_req *req)
{
	char why[512];

	if (policy_check(c->conn, req, why, sizeof why) == 0)
		return 0;
	call_oserror(c, EACCES, "%s", why);
	return -1;
}
