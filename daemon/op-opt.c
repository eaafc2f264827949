/*
 * Socket settings: SetTimeout, GetTimeout, SetBlocking, SetSockOpt,
 * GetSockOpt.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "b64.h"
#include "call.h"
#include "handle.h"
#include "method.h"
#include "names.h"
#include "sockd.h"

#define SOCKOPT_MAX_BUFLEN 1024 /* as Python's getsockopt */

/* settimeout(): null blocks, 0 never waits, > 0 waits that long. */
static int
op_set_timeout(struct call *c)
{
	json_object *t = call_param(c, "timeout");
	double v = t != NULL ? json_object_get_double(t) : -1;

	if (t != NULL && v < 0)
		return call_invalid(c, "timeout");
	handle_set_timeout(c->handle, v);
	return call_reply(c, NULL);
}

/* gettimeout() */
static int
op_get_timeout(struct call *c)
{
	json_object *p = json_object_new_object();
	double v = c->handle->timeout;

	json_object_object_add(p, "timeout", v < 0 ? NULL : vl_new_float(v));
	return call_reply(c, p);
}

/* setblocking(): true is timeout null, false is timeout 0. */
static int
op_set_blocking(struct call *c)
{
	handle_set_timeout(
	    c->handle,
	    json_object_get_boolean(call_param(c, "blocking")) ? -1 : 0);
	return call_reply(c, NULL);
}

/* Is the decoded value an SO_LINGER time beyond --max-linger? sockd never
 * waits for a linger (guard_close turns it off before closing), but the
 * time is still the client's to read back and a FileNo holder's to
 * live with, and a bounded one is one less number to trust. */
static bool
op_linger_too_long(const struct call *c, int level, int option)
{
	struct linger l;

	if (level != SOL_SOCKET || option != SO_LINGER || c->buflen < sizeof l)
		return false;
	memcpy(&l, c->buf, sizeof l);
	return l.l_onoff &&
	       (l.l_linger < 0 || (unsigned)l.l_linger > cfg.max_linger);
}

/* setsockopt(): an int value, or raw bytes in data. */
static int
op_set_sock_opt(struct call *c)
{
	json_object *value = call_param(c, "value");
	bool has_data = call_param(c, "data") != NULL;
	int level = c->req.level, option = c->req.option, r;

	if ((value != NULL) == has_data)
		return call_invalid(c, value != NULL ? "data" : "value");
	if (value != NULL) {
		int64_t v = json_object_get_int64(value);
		int iv = (int)v;

		if (v < INT_MIN || v > INT_MAX)
			return call_invalid(c, "value");
		r = setsockopt(c->handle->fd, level, option, &iv, sizeof iv);
	} else {
		if (call_param_data(c, "data") < 0)
			return CALL_DONE;
		if (op_linger_too_long(c, level, option))
			return call_oserror(
			    c, EINVAL,
			    "SO_LINGER time above sockd's limit of %u s "
			    "(--max-linger)",
			    cfg.max_linger);
		r = setsockopt(c->handle->fd, level, option, c->buf,
			       (socklen_t)c->buflen);
	}
	if (r < 0)
		return call_oserror(c, errno, "setsockopt %s %s",
				    call_param_str(c, "level"),
				    call_param_str(c, "option"));
	return call_reply(c, NULL);
}

/* getsockopt(): an int value, or with buflen up to that many bytes. */
static int
op_get_sock_opt(struct call *c)
{
	unsigned char buf[SOCKOPT_MAX_BUFLEN];
	char text[B64_ENCODED_LEN(SOCKOPT_MAX_BUFLEN) + 1];
	int level = c->req.level, option = c->req.option, iv = 0;
	int64_t buflen = -1;
	socklen_t len;
	json_object *p;

	if (call_param_int(c, "buflen", &buflen) &&
	    (buflen <= 0 || buflen > SOCKOPT_MAX_BUFLEN))
		return call_invalid(c, "buflen");
	p = json_object_new_object();
	if (buflen < 0) {
		len = sizeof iv;
		if (getsockopt(c->handle->fd, level, option, &iv, &len) < 0)
			goto fail;
		json_object_object_add(p, "value", json_object_new_int(iv));
	} else {
		len = (socklen_t)buflen;
		if (getsockopt(c->handle->fd, level, option, buf, &len) < 0)
			goto fail;
		json_object_object_add(
		    p, "data",
		    json_object_new_string_len(
			text, (int)b64_encode(buf, len, text)));
	}
	return call_reply(c, p);
fail:
	json_object_put(p);
	return call_oserror(c, errno, "getsockopt %s %s",
			    call_param_str(c, "level"),
			    call_param_str(c, "option"));
}

static const struct vl_param handle_params[] = {
    {"handle", VL_INT, 0},
    {NULL, 0, 0},
};
static const struct vl_param timeout_params[] = {
    {"handle", VL_INT, 0},
    {"timeout", VL_FLOAT, VL_P_NULLABLE},
    {NULL, 0, 0},
};
static const struct vl_param blocking_params[] = {
    {"handle", VL_INT, 0},
    {"blocking", VL_BOOL, 0},
    {NULL, 0, 0},
};
static const struct vl_param setopt_params[] = {
    {"handle", VL_INT, 0},
    {"level", VL_STRING, 0},
    {"option", VL_STRING, 0},
    {"value", VL_INT, VL_P_OPTIONAL},
    {"data", VL_STRING, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param getopt_params[] = {
    {"handle", VL_INT, 0},
    {"level", VL_STRING, 0},
    {"option", VL_STRING, 0},
    {"buflen", VL_INT, VL_P_OPTIONAL},
    {NULL, 0, 0},
};

const struct method op_opt_methods[] = {
    {"io.sockd", "SetTimeout", timeout_params, M_HANDLE, op_set_timeout},
    {"io.sockd", "GetTimeout", handle_params, M_HANDLE | M_ATTACHED_OK,
     op_get_timeout},
    {"io.sockd", "SetBlocking", blocking_params, M_HANDLE, op_set_blocking},
    {"io.sockd", "SetSockOpt", setopt_params, M_HANDLE | M_SOCKOPT_SET,
     op_set_sock_opt},
    {"io.sockd", "GetSockOpt", getopt_params, M_HANDLE | M_SOCKOPT,
     op_get_sock_opt},
    {NULL, NULL, NULL, 0, NULL},
};
