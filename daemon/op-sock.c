/*
 * The life of a socket: Socket, Bind, Listen, Accept, Connect, ConnectEx,
 * Shutdown, Close, GetSockName, GetPeerName, FileNo, List, Find.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "conn.h"
#include "guard.h"
#include "handle.h"
#include "ident.h"
#include "method.h"
#include "names.h"

/*
 * accept(2) and connect(2) have no per-call non-blocking form, and the
 * holder of a FileNo duplicate can clear O_NONBLOCK on the file they
 * share at any moment: on a shared handle they run guarded (guard.h).
 * 0 to go ahead, or -1 after replying EBUSY to a uid out of budget.
 */
static int
op_guard_begin(struct call *c)
{
	struct handle *h = c->handle;

	if (!h->shared)
		return 0;
	if (!guard_allowed(c->conn->uid, h->fd)) {
		call_oserror(c, EBUSY,
			     "handle %llu: the holder of its FileNo descriptor "
			     "keeps it in blocking mode, and sockd does not "
			     "wait in the kernel for it",
			     (unsigned long long)h->id);
		return -1;
	}
	guard_begin();
	return 0;
}

/* After the guarded call: errno is kept for the caller. */
static void
op_guard_end(struct call *c)
{
	int err = errno;

	if (c->handle->shared)
		guard_end(c->conn->uid);
	errno = err;
}

/* Take on the caller's identity for a Unix socket's bind or connect
 * (ident.h): 0, or -1 after replying. */
static int
op_ident_begin(struct call *c)
{
	int r;

	if (c->handle->family != AF_UNIX)
		return 0;
	r = ident_enter(c->conn);
	if (r < 0)
		return call_oserror(c, -r, "cannot act as uid %u",
				    (unsigned)c->conn->uid),
		       -1;
	return 0;
}

static void
op_ident_end(struct call *c)
{
	int err = errno;

	if (c->handle->family == AF_UNIX)
		ident_leave();
	errno = err;
}

/* connect(2) on the call's handle, guarded and as the caller; -2 when
 * refused (replied). */
static int
op_connect_once(struct call *c)
{
	int r;

	if (op_ident_begin(c) < 0)
		return -2;
	if (op_guard_begin(c) < 0) {
		op_ident_end(c);
		return -2;
	}
	r = connect(c->handle->fd, (struct sockaddr *)&c->addr.ss, c->addr.len);
	op_guard_end(c);
	op_ident_end(c);
	return r;
}

/* socket(): a new handle. */
static int
op_socket(struct call *c)
{
	const char *name = call_param_str(c, "name");
	json_object *pers = call_param(c, "persistent");
	int family = c->req.family, type = c->req.type, proto = c->req.proto;
	struct handle *h;
	int fd, r;

	if (name != NULL) {
		/* A NUL inside was refused by the dispatcher (VL_STRING). */
		if (!handle_name_valid(name))
			return call_invalid(c, "name");
		if (handle_find_name(c->conn->uid, name) != NULL)
			return call_oserror(
			    c, EEXIST, "a handle is already named '%s'", name);
	}
	/* The socket is the caller's in the kernel's eyes too. */
	ident_own_begin(c->conn->uid);
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	ident_own_end();
	if (fd < 0)
		return call_oserror(c, errno, "socket");
	r = handle_new(fd, c->conn->uid, family, type, proto,
		       pers && json_object_get_boolean(pers) ? NULL : c->conn,
		       name, policy_max_handles(c->conn), &h);
	if (r < 0) {
		close(fd);
		return call_oserror(c, -r, "%s",
				    r == -EMFILE ? "handle quota reached"
						 : "cannot add handle");
	}
	json_object *p = json_object_new_object();
	json_object_object_add(p, "handle", json_object_new_int64(h->id));
	return call_reply(c, p);
}

/* Would binding join a SO_REUSEPORT group of another uid's sockd socket?
 * When sockd runs as root its sockets belong to their callers and the
 * kernel keeps uids apart; otherwise they are all sockd's, and sockd
 * must: a port is shared only among one uid's sockets. */
static bool
op_reuseport_taken(struct call *c)
{
	struct handle *h = c->handle, *o;
	int on = 0, port = addr_port((struct sockaddr *)&c->addr.ss);
	socklen_t len = sizeof on;

	if (ident_can_switch() || port <= 0 ||
	    getsockopt(h->fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) < 0 || !on)
		return false;
	TAILQ_FOREACH(o, &handles_all, all)
	{
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof ss;
		int oon = 0;

		len = sizeof oon;
		/* IPv4 and IPv6 share ports: [::] takes 0.0.0.0's too. */
		if (o->owner == h->owner ||
		    (o->family != AF_INET && o->family != AF_INET6) ||
		    o->type != h->type ||
		    getsockname(o->fd, (struct sockaddr *)&ss, &sslen) < 0 ||
		    addr_port((struct sockaddr *)&ss) != port ||
		    getsockopt(o->fd, SOL_SOCKET, SO_REUSEPORT, &oon, &len) < 0)
			continue;
		if (oon)
			return true;
	}
	return false;
}

/* bind() */
static int
op_bind(struct call *c)
{
	struct handle *h = c->handle;
	int r = call_address(c, "address", h->family, h->type, POLICY_BIND);

	if (r <= 0)
		return r == 0 ? CALL_WAIT : CALL_DONE;
	if (op_reuseport_taken(c))
		return call_oserror(c, EADDRINUSE,
				    "bind: another uid's socket has this port "
				    "with SO_REUSEPORT");
	if (op_ident_begin(c) < 0)
		return CALL_DONE;
	r = bind(h->fd, (struct sockaddr *)&c->addr.ss, c->addr.len);
	op_ident_end(c);
	if (r < 0)
		return call_oserror(c, errno, "bind");
	return call_reply(c, NULL);
}

/*
 * Listen is where a socket starts taking connections, so the policy is
 * asked there, as a Bind, about the address and port it will listen on.
 * A socket bound with port 0 (which any bind pattern of the address
 * grants, for a client's source address) has its port by now. An
 * unbound one would be bound by the kernel to the wildcard address and a
 * port of its choosing: only a pattern that grants every port the kernel
 * may choose grants that. 0, or -1 after replying.
 */
static int
op_listen_check(struct call *c)
{
	struct handle *h = c->handle;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct policy_req req = {.op = POLICY_BIND, .what = "Listen"};

	/* Unix: the kernel refuses an unbound listener; datagrams: it
	 * refuses to listen at all. */
	if ((h->family != AF_INET && h->family != AF_INET6) ||
	    (h->type != SOCK_STREAM && h->type != SOCK_SEQPACKET))
		return 0;
	memset(&ss, 0, sizeof ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &len) < 0)
		return call_oserror(c, errno, "listen"), -1;
	req.sa = (struct sockaddr *)&ss;
	req.salen = len;
	req.any_port = addr_port((struct sockaddr *)&ss) == 0;
	return call_policy(c, &req);
}

/* listen() */
static int
op_listen(struct call *c)
{
	int64_t backlog = SOMAXCONN < 128 ? SOMAXCONN : 128;

	int r;

	if (op_listen_check(c) < 0)
		return CALL_DONE;
	call_param_int(c, "backlog", &backlog);
	if (backlog < 0)
		backlog = 0;
	if (backlog > 65535)
		backlog = 65535;
	/* A Unix listener's peers see the credentials of whoever listens:
	 * the caller's, not sockd's (ident.h). */
	if (op_ident_begin(c) < 0)
		return CALL_DONE;
	r = listen(c->handle->fd, (int)backlog);
	op_ident_end(c);
	if (r < 0)
		return call_oserror(c, errno, "listen");
	return call_reply(c, NULL);
}

/* accept(): the new socket gets a handle with its listener's owner and
 * scope (closed with the listener's connection unless persistent). */
static int
op_accept(struct call *c)
{
	struct handle *h = c->handle, *nh;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	json_object *p;
	int fd, r;

	if (h->shared) {
		struct pollfd pfd = {.fd = h->fd, .events = POLLIN};

		/* The holder may have taken the connection we were woken for:
		 * nothing to accept is waiting again, not a blocking accept. */
		if (poll(&pfd, 1, 0) == 0)
			return call_wait(c, EV_READ, EAGAIN);
		if (op_guard_begin(c) < 0)
			return CALL_DONE;
	}
	ident_own_begin(h->owner);
	fd = accept4(h->fd, (struct sockaddr *)&ss, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	ident_own_end();
	if (h->shared)
		op_guard_end(c);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return call_wait(c, EV_READ, EAGAIN);
		return call_oserror(c, errno, "accept");
	}
	/* The new socket is the listener's: same owner, same scope. */
	r = handle_new(fd, h->owner, h->family, h->type, h->proto, h->scope,
		       NULL, policy_max_handles(c->conn), &nh);
	if (r < 0) {
		close(fd);
		return call_oserror(c, -r, "%s",
				    r == -EMFILE ? "handle quota reached"
						 : "cannot add handle");
	}
	p = json_object_new_object();
	json_object_object_add(p, "handle", json_object_new_int64(nh->id));
	json_object_object_add(p, "address",
			       addr_to_json((struct sockaddr *)&ss, len));
	return call_reply(c, p);
}

/* The end of a connect: an OSError, or for ConnectEx the errno. */
static int
op_connect_result(struct call *c, int err, bool ex)
{
	json_object *p;

	if (!ex)
		return err ? call_oserror(c, err, "connect")
			   : call_reply(c, NULL);
	p = json_object_new_object();
	json_object_object_add(p, "errno", json_object_new_int(err));
	json_object_object_add(
	    p, "name",
	    json_object_new_string(err ? names_errno_name(err) : ""));
	return call_reply(c, p);
}

/*
 * connect() and connect_ex(). The first connect starts it; once it is
 * under way, its end is read from SO_ERROR and getpeername() rather than
 * from another connect, which on a file a holder made blocking would wait
 * for the handshake. Only a connect whose state is settled is repeated:
 * after a failure (it readies the socket for another try, as a blocking
 * connect leaves it) and after success (so that a later one reports
 * EISCONN).
 */
static int
op_connect_common(struct call *c, bool ex)
{
	struct handle *h = c->handle;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(int), plen = sizeof peer;
	int r, err = 0;

	if (c->state == 0) {
		r = call_address(c, "address", h->family, h->type,
				 POLICY_CONNECT);
		if (r <= 0)
			return r == 0 ? CALL_WAIT : CALL_DONE;
		r = op_connect_once(c);
		if (r == -2)
			return CALL_DONE;
		if (r == 0)
			return op_connect_result(c, 0, ex);
		err = errno;
		/* An interrupted TCP connect goes on in the background; a
		 * Unix one would have waited for room, which sockd does
		 * not: EAGAIN, as for a non-blocking socket. */
		if (err == EINTR)
			err = h->family == AF_INET || h->family == AF_INET6
				  ? EINPROGRESS
				  : EAGAIN;
		if (err != EINPROGRESS)
			return op_connect_result(c, err, ex);
		c->state = 1;
		if (h->timeout == 0)
			return op_connect_result(c, EINPROGRESS, ex);
		return call_wait(c, EV_WRITE, EINPROGRESS);
	}
	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		/* A blocking connect leaves a failed socket ready to connect
		 * again; a non-blocking one needs this connect to get there
		 * (it answers ECONNABORTED). */
		if (op_connect_once(c) == -2)
			return CALL_DONE;
		return op_connect_result(c, err, ex);
	}
	if (getpeername(h->fd, (struct sockaddr *)&peer, &plen) == 0) {
		r = op_connect_once(c);
		if (r == -2)
			return CALL_DONE;
		if (r == 0 || errno == EISCONN)
			return op_connect_result(c, 0, ex);
		return op_connect_result(c, errno, ex);
	}
	if (c->timed_out) /* Python's connect_ex answers EWOULDBLOCK here */
		return ex ? op_connect_result(c, EAGAIN, ex) : call_timeout(c);
	if (c->wait.ready & EV_WRITE) {
		/* Woken, yet neither connected nor failed: the holder took the
		 * error, or the wakeup was spurious. connect() tells which. */
		r = op_connect_once(c);
		if (r == -2)
			return CALL_DONE;
		if (r == 0 || errno == EISCONN)
			return op_connect_result(c, 0, ex);
		if (errno != EALREADY && errno != EINPROGRESS && errno != EINTR)
			return op_connect_result(c, errno, ex);
	}
	return call_wait(c, EV_WRITE, EINPROGRESS);
}

static int
op_connect(struct call *c)
{
	return op_connect_common(c, false);
}

static int
op_connect_ex(struct call *c)
{
	return op_connect_common(c, true);
}

/* shutdown() */
static int
op_shutdown(struct call *c)
{
	int how;

	if (names_value(names_shut, call_param_str(c, "how"), &how) < 0)
		return call_invalid(c, "how");
	if (shutdown(c->handle->fd, how) < 0)
		return call_oserror(c, errno, "shutdown");
	return call_reply(c, NULL);
}

/* close() */
static int
op_close(struct call *c)
{
	struct handle *h = c->handle;

	c->handle = NULL;
	handle_close(h);
	return call_reply(c, NULL);
}

/* getsockname() and getpeername() */
static int
op_get_name(struct call *c, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	json_object *p;
	int r;

	memset(&ss, 0, sizeof ss);
	if (peer)
		r = getpeername(c->handle->fd, (struct sockaddr *)&ss, &len);
	else
		r = getsockname(c->handle->fd, (struct sockaddr *)&ss, &len);
	if (r < 0)
		return call_oserror(c, errno,
				    peer ? "getpeername" : "getsockname");
	p = json_object_new_object();
	json_object_object_add(p, "address",
			       addr_to_json((struct sockaddr *)&ss, len));
	return call_reply(c, p);
}

static int
op_get_sock_name(struct call *c)
{
	return op_get_name(c, false);
}

static int
op_get_peer_name(struct call *c)
{
	return op_get_name(c, true);
}

/* fileno(): the socket itself, over SCM_RIGHTS. */
static int
op_file_no(struct call *c)
{
	struct handle *h = c->handle;
	json_object *p;
	int fd;

	if (c->req.detach) {
		c->handle = NULL;
		fd = handle_detach(h);
	} else {
		fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return call_oserror(c, errno, "dup");
		h->shared = true;
	}
	p = json_object_new_object();
	json_object_object_add(p, "fd", json_object_new_int(0));
	return call_reply_fd(c, p, fd);
}

/* One handle as a List entry. */
static json_object *
op_list_entry(struct handle *h)
{
	json_object *e = json_object_new_object();
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *type = names_name(names_socktype, h->type);
	const char *family = names_name(names_family, h->family);

	json_object_object_add(e, "handle", json_object_new_int64(h->id));
	if (h->name != NULL)
		json_object_object_add(e, "name",
				       json_object_new_string(h->name));
	json_object_object_add(e, "family",
			       json_object_new_string(family ? family : "?"));
	json_object_object_add(e, "type",
			       json_object_new_string(type ? type : "?"));
	json_object_object_add(e, "proto", json_object_new_int(h->proto));
	json_object_object_add(e, "persistent",
			       json_object_new_boolean(h->scope == NULL));
	if (getsockname(h->fd, (struct sockaddr *)&ss, &len) == 0)
		json_object_object_add(
		    e, "local", addr_to_json((struct sockaddr *)&ss, len));
	len = sizeof ss;
	if (getpeername(h->fd, (struct sockaddr *)&ss, &len) == 0)
		json_object_object_add(
		    e, "peer", addr_to_json((struct sockaddr *)&ss, len));
	json_object_object_add(
	    e, "timeout", h->timeout < 0 ? NULL : vl_new_float(h->timeout));
	json_object_object_add(e, "owner", json_object_new_int64(h->owner));
	return e;
}

/* The caller's handles (root: everyone's), in id order. */
static int
op_list(struct call *c)
{
	json_object *p = json_object_new_object();
	json_object *list = json_object_new_array();
	struct handle *h;

	TAILQ_FOREACH(h, &handles_all, all)
	{
		if (c->conn->uid != 0 && h->owner != c->conn->uid)
			continue;
		json_object_array_add(list, op_list_entry(h));
	}
	json_object_object_add(p, "sockets", list);
	return call_reply(c, p);
}

/* The caller's own handle of this name. Root searches only its own
 * names too: each uid has its own, and one name could be several uids'. */
static int
op_find(struct call *c)
{
	const char *name = call_param_str(c, "name");
	struct handle *h = handle_find_name(c->conn->uid, name);
	json_object *p;

	if (h == NULL)
		return call_oserror(c, ENOENT, "no handle named '%s'", name);
	p = json_object_new_object();
	json_object_object_add(p, "handle", json_object_new_int64(h->id));
	return call_reply(c, p);
}

static const struct vl_param socket_params[] = {
    {"family", VL_STRING, 0},		{"type", VL_STRING, 0},
    {"proto", VL_INT, VL_P_OPTIONAL},	{"persistent", VL_BOOL, VL_P_OPTIONAL},
    {"name", VL_STRING, VL_P_OPTIONAL}, {NULL, 0, 0},
};
static const struct vl_param address_params[] = {
    {"handle", VL_INT, 0},
    {"address", VL_OBJECT, 0},
    {NULL, 0, 0},
};
static const struct vl_param listen_params[] = {
    {"handle", VL_INT, 0},
    {"backlog", VL_INT, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param handle_params[] = {
    {"handle", VL_INT, 0},
    {NULL, 0, 0},
};
static const struct vl_param shutdown_params[] = {
    {"handle", VL_INT, 0},
    {"how", VL_STRING, 0},
    {NULL, 0, 0},
};
static const struct vl_param fileno_params[] = {
    {"handle", VL_INT, 0},
    {"detach", VL_BOOL, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param find_params[] = {
    {"name", VL_STRING, 0},
    {NULL, 0, 0},
};
static const struct vl_param no_params[] = {{NULL, 0, 0}};

const struct method op_sock_methods[] = {
    {"io.sockd", "Socket", socket_params, M_SOCKET, op_socket},
    {"io.sockd", "Bind", address_params, M_HANDLE, op_bind},
    {"io.sockd", "Listen", listen_params, M_HANDLE, op_listen},
    {"io.sockd", "Accept", handle_params, M_HANDLE, op_accept},
    {"io.sockd", "Connect", address_params, M_HANDLE, op_connect},
    {"io.sockd", "ConnectEx", address_params, M_HANDLE, op_connect_ex},
    {"io.sockd", "Shutdown", shutdown_params, M_HANDLE, op_shutdown},
    {"io.sockd", "Close", handle_params, M_HANDLE | M_ATTACHED_OK, op_close},
    {"io.sockd", "GetSockName", handle_params, M_HANDLE | M_ATTACHED_OK,
     op_get_sock_name},
    {"io.sockd", "GetPeerName", handle_params, M_HANDLE | M_ATTACHED_OK,
     op_get_peer_name},
    {"io.sockd", "FileNo", fileno_params, M_HANDLE | M_FILENO, op_file_no},
    {"io.sockd", "List", no_params, 0, op_list},
    {"io.sockd", "Find", find_params, 0, op_find},
    {NULL, NULL, NULL, 0, NULL},
};
