/*
 * The dispatcher: parse a call, find its method, check the caller, the
 * parameters and the handle once for every method, then start it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "conn.h"
#include "handle.h"
#include "log.h"
#include "method.h"
#include "names.h"
#include "policy.h"
#include "sockd.h"

const struct method *const method_groups[] = {
    op_service_methods, op_sock_methods, op_io_methods,
    op_opt_methods,	op_name_methods, NULL,
};

#define METHOD_HASH_SIZE 128 /* a power of two, above the method count */

/* FNV-1a of the full name "interface.Method". */
static uint32_t
method_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The method named by "interface.Method", from a table built at first
 * use; NULL when the name is not one. */
static const struct method *
method_lookup(const char *full)
{
	static const struct method *table[METHOD_HASH_SIZE];
	static bool built;
	size_t len = strlen(full), b;
	const struct method *m;

	if (!built) {
		for (size_t g = 0; method_groups[g] != NULL; g++)
			for (m = method_groups[g]; m->name; m++) {
				char name[256];
				int n = snprintf(name, sizeof name, "%s.%s",
						 m->interface, m->name);

				b = method_hash(name, (size_t)n);
				while (table[b & (METHOD_HASH_SIZE - 1)])
					b++;
				table[b & (METHOD_HASH_SIZE - 1)] = m;
			}
		built = true;
	}
	for (b = method_hash(full, len);
	     (m = table[b & (METHOD_HASH_SIZE - 1)]) != NULL; b++) {
		size_t ilen = strlen(m->interface);

		if (ilen < len && full[ilen] == '.' &&
		    memcmp(full, m->interface, ilen) == 0 &&
		    strcmp(full + ilen + 1, m->name) == 0)
			return m;
	}
	return NULL;
}

/* The method named by "interface.Method". */
const struct method *
method_find(const char *full, int *ret_err)
{
	const char *dot = strrchr(full, '.');
	const struct method *found = method_lookup(full);

	if (found != NULL)
		return found;
	bool interface_known = false;
	size_t ilen;

	if (dot == NULL) {
		*ret_err = -ENOENT;
		return NULL;
	}
	ilen = dot - full;
	for (size_t g = 0; method_groups[g] != NULL; g++)
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

/* The request a method's M_SOCKET / M_FILENO / M_SOCKOPT flags name,
 * read from its parameters: NULL, or the parameter that is wrong. */
static const char *
method_request(const struct method *m, json_object *params,
	       struct policy_req *req)
{
	json_object *v;
	int64_t proto = 0;

	req->what = m->name;
	if (m->flags & M_SOCKET) {
		req->op = POLICY_SOCKET;
		json_object_object_get_ex(params, "family", &v);
		if (names_value(names_family, json_object_get_string(v),
				&req->family) < 0)
			return "family";
		json_object_object_get_ex(params, "type", &v);
		if (names_value(names_socktype, json_object_get_string(v),
				&req->type) < 0)
			return "type";
		if (json_object_object_get_ex(params, "proto", &v) && v != NULL)
			proto = json_object_get_int64(v);
		if (proto < 0 || proto > 65535)
			return "proto";
		req->proto = (int)proto;
	}
	if (m->flags & M_FILENO) {
		req->op = POLICY_FILENO;
		req->detach = json_object_object_get_ex(params, "detach", &v) &&
			      json_object_get_boolean(v);
	}
	if (m->flags & (M_SOCKOPT | M_SOCKOPT_SET)) {
		const struct name *options;

		req->op = POLICY_SOCKOPT;
		json_object_object_get_ex(params, "level", &v);
		if (names_value(names_level, json_object_get_string(v),
				&req->level) < 0)
			return "level";
		options = names_options(req->level);
		json_object_object_get_ex(params, "option", &v);
		if (options == NULL ||
		    names_value(options, json_object_get_string(v),
				&req->option) < 0)
			return "option";
	}
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
	struct policy_req req = {0};
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
		policy_log_refusal(conn, "refused %s.%s: %s", m->interface,
				   m->name, refusal);
		call_oserror(&early, EACCES, "%s", refusal);
		goto out;
	}
	if (m->flags & M_HANDLE) {
		json_object *v;
		int64_t id;

		json_object_object_get_ex(vc.params, "handle", &v);
		id = json_object_get_int64(v);
		h = handle_lookup(conn->uid, id);
		/* Unknown, closed and someone else's look the same. */
		if (h == NULL) {
			call_oserror(&early, EBADF, "no such handle: %lld",
				     (long long)id);
			goto out;
		}
		if (h->relay != NULL && !(m->flags & M_ATTACHED_OK)) {
			call_oserror(&early, EBUSY,
				     "handle %lld is attached: another "
				     "connection relays its bytes",
				     (long long)id);
			goto out;
		}
	}
	if (m->flags & (M_SOCKET | M_FILENO | M_SOCKOPT | M_SOCKOPT_SET)) {
		why = method_request(m, vc.params, &req);
		if (why != NULL) {
			call_invalid(&early, why);
			goto out;
		}
		/* Reading an option needs no grant; the rest are asked. */
		if (!(m->flags & M_SOCKOPT) &&
		    policy_check(conn, &req, refusal, sizeof refusal) < 0) {
			call_oserror(&early, EACCES, "%s", refusal);
			goto out;
		}
	}
	call_start(conn, m, vc.root, vc.params, vc.flags, h, &req);
	return;
out:
	json_object_put(vc.root);
}
