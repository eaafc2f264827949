/*
 * The dispatcher: parse a call, find its method, check the caller, the
 * parameters and the handle once for every method, then start it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "conn.h"
#include "handle.h"
#include "log.h"
#include "method.h"
#include "policy.h"
#include "sockd.h"

static const struct method *const method_groups[] = {
    op_service_methods, op_sock_methods, op_io_methods,
    op_opt_methods,	op_name_methods,
};

#define NGROUPS (sizeof method_groups / sizeof method_groups[0])

/* Whether interface is one we serve. */
bool
method_interface_known(const char *interface)
{
	for (size_t g = 0; g < NGROUPS; g++)
		for (const struct method *m = method_groups[g]; m->name; m++)
			if (strcmp(m->interface, interface) == 0)
				return true;
	return false;
}

/* The method named by "interface.Method": NULL with *ret_err -ENOENT for
 * an unknown interface, -ESRCH for an unknown method. */
static const struct method *
method_find(const char *full, int *ret_err)
{
	const char *dot = strrchr(full, '.');
	bool interface_known = false;
	size_t ilen;

	if (dot == NULL) {
		*ret_err = -ENOENT;
		return NULL;
	}
	ilen = dot - full;
	for (size_t g = 0; g < NGROUPS; g++)
		for (const struct method *m = method_groups[g]; m->name; m++) {
			if (strncmp(m->interface, full, ilen) != 0 ||
			    m->interface[ilen] != '\0')
				continue;
			interface_known = true;
			if (strcmp(m->name, dot + 1) == 0)
				return m;
		}
	*ret_err = interface_known ? -ESRCH : -ENOENT;
	return NULL;
}

/* Reply a varlink service error carrying one string parameter. */
static void
method_service_error(struct call *c, const char *error, const char *key,
		     const char *value)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, key, json_object_new_string(value));
	call_error(c, error, p);
}

/* Run every check a method needs, then the method. */
void
method_dispatch(struct conn *conn, char *msg, size_t len)
{
	struct call early = {.conn = conn};
	const struct method *m;
	struct handle *h = NULL;
	struct vl_call vc;
	const char *why;
	char refusal[512];
	int r;

	r = vl_call_parse(msg, len, &vc, &why);
	if (r < 0) {
		conn_protocol_error(conn, why);
		return;
	}
	/* Errors before the call starts are replied through a stand-in. */
	early.flags = vc.flags;
	m = method_find(vc.method, &r);
	if (m == NULL) {
		char *dot = strrchr(vc.method, '.');

		if (r == -ENOENT) {
			if (dot != NULL)
				*dot = '\0';
			early.method = &op_service_methods[0];
			method_service_error(
			    &early, "org.varlink.service.InterfaceNotFound",
			    "interface", vc.method);
		} else {
			early.method = &op_service_methods[0];
			method_service_error(
			    &early, "org.varlink.service.MethodNotFound",
			    "method", vc.method);
		}
		goto out;
	}
	early.method = m;
	if ((m->flags & M_UPGRADE) && !(vc.flags & VL_UPGRADE)) {
		call_error(&early, "org.varlink.service.ExpectedUpgrade", NULL);
		goto out;
	}
	if (vl_params_check(vc.params, m->params, &why) < 0) {
		call_invalid(&early, why);
		goto out;
	}
	if (!(m->flags & M_OPEN) &&
	    policy_check_call(conn, m, refusal, sizeof refusal) < 0) {
		log_notice("refused %s.%s for uid %u pid %d: %s", m->interface,
			   m->name, (unsigned)conn->uid, (int)conn->pid,
			   refusal);
		call_oserror(&early, EACCES, "%s", refusal);
		goto out;
	}
	if (m->flags & M_HANDLE) {
		json_object *v;
		int64_t id;

		json_object_object_get_ex(vc.params, "handle", &v);
		id = json_object_get_int64(v);
		h = id > 0 ? handle_find((uint64_t)id) : NULL;
		/* Unknown, closed and someone else's look the same. */
		if (h == NULL || (conn->uid != 0 && h->owner != conn->uid)) {
			call_oserror(&early, EBADF, "no such handle: %lld",
				     (long long)id);
			goto out;
		}
	}
	call_start(conn, m, vc.root, vc.params, vc.flags, h);
	return;
out:
	json_object_put(vc.root);
}
