/*
 * Name resolution: GetAddrInfo, GetNameInfo, GetHostByAddr. Each lookup
 * runs on a resolver thread; the handler runs once to submit it and once
 * more with the answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "method.h"
#include "names.h"
#include "resolver.h"
#include "sockd.h"

/* Hand job to a resolver thread; the handler runs again with it. */
static int
op_name_submit(struct call *c, struct resolve_job *job)
{
	int r = resolver_submit(job, c);

	if (r < 0) {
		resolver_job_free(job);
		return call_lookup_refused(c, r);
	}
	c->job = job;
	return CALL_WAIT;
}

/* A new job, or NULL after replying ENOMEM. */
static struct resolve_job *
op_name_job(struct call *c, enum resolve_kind kind)
{
	struct resolve_job *job = calloc(1, sizeof *job);

	if (job == NULL)
		call_oserror(c, ENOMEM, "resolver");
	else
		job->kind = kind;
	return job;
}

/* The finished job, taken from the call (the caller frees it); NULL
 * after replying the lookup's GAIError. */
static struct resolve_job *
op_name_answer(struct call *c)
{
	struct resolve_job *job = c->job;

	c->job = NULL;
	if (job->gai != 0) {
		call_gaierror(c, job->gai, job->sys_errno);
		resolver_job_free(job);
		return NULL;
	}
	return job;
}

/* May the caller look host up? 0, or -1 after replying EACCES. A numeric
 * address needs no lookup (forward lookups only: reverse ones always
 * ask). */
static int
op_may_resolve(struct call *c, const char *host, bool forward)
{
	struct policy_req req = {.op = POLICY_RESOLVE, .host = host};
	unsigned char buf[sizeof(struct in6_addr)];

	if (host == NULL || host[0] == '\0')
		return 0;
	if (forward && (inet_pton(AF_INET, host, buf) == 1 ||
			inet_pton(AF_INET6, host, buf) == 1))
		return 0;
	return call_policy(c, &req);
}

/* The getaddrinfo question in the call's parameters: 0, or -1 after
 * replying InvalidParameter or ENOMEM. */
static int
op_addr_info_job(struct call *c, struct resolve_job *job)
{
	const char *host = call_param_str(c, "host"), *s;
	int64_t port, proto = 0;
	int v;

	job->hints.ai_family = AF_UNSPEC;
	if ((s = call_param_str(c, "family")) != NULL) {
		if (names_value(names_family, s, &v) < 0)
			return call_invalid(c, "family"), -1;
		job->hints.ai_family = v;
	}
	if ((s = call_param_str(c, "type")) != NULL) {
		if (names_value(names_socktype, s, &v) < 0)
			return call_invalid(c, "type"), -1;
		job->hints.ai_socktype = v;
	}
	if (call_param_int(c, "proto", &proto)) {
		if (proto < 0 || proto > 65535)
			return call_invalid(c, "proto"), -1;
		job->hints.ai_protocol = (int)proto;
	}
	if (call_param_flags(c, "flags", names_ai_flag, &job->hints.ai_flags) <
	    0)
		return -1;
	if (call_param_int(c, "port", &port)) {
		if (port < 0 || port > 65535)
			return call_invalid(c, "port"), -1;
		job->service = malloc(8);
		if (job->service == NULL)
			return call_oserror(c, ENOMEM, "resolver"), -1;
		snprintf(job->service, 8, "%d", (int)port);
	}
	if (op_may_resolve(c, host, true) < 0)
		return -1;
	if (host != NULL && (job->host = strdup(host)) == NULL)
		return call_oserror(c, ENOMEM, "resolver"), -1;
	return 0;
}

/* getaddrinfo() */
static int
op_get_addr_info(struct call *c)
{
	struct resolve_job *job;
	json_object *list, *p;
	struct addrinfo *ai;
	unsigned n = 0;

	if (c->job == NULL) {
		job = op_name_job(c, RESOLVE_ADDRINFO);
		if (job == NULL)
			return CALL_DONE;
		if (op_addr_info_job(c, job) < 0) {
			resolver_job_free(job);
			return CALL_DONE;
		}
		return op_name_submit(c, job);
	}
	job = op_name_answer(c);
	if (job == NULL)
		return CALL_DONE;
	list = json_object_new_array();
	for (ai = job->result; ai != NULL && n < cfg.max_addrinfo;
	     ai = ai->ai_next, n++) {
		json_object *e = json_object_new_object();
		const char *family = names_name(names_family, ai->ai_family);
		const char *type = names_name(names_socktype, ai->ai_socktype);

		json_object_object_add(
		    e, "family", json_object_new_string(family ? family : "?"));
		json_object_object_add(
		    e, "type", json_object_new_string(type ? type : ""));
		json_object_object_add(e, "proto",
				       json_object_new_int(ai->ai_protocol));
		json_object_object_add(
		    e, "canonname",
		    json_object_new_string(ai->ai_canonname ? ai->ai_canonname
							    : ""));
		json_object_object_add(
		    e, "address", addr_to_json(ai->ai_addr, ai->ai_addrlen));
		json_object_array_add(list, e);
	}
	resolver_job_free(job);
	p = json_object_new_object();
	json_object_object_add(p, "addresses", list);
	return call_reply(c, p);
}

/* getnameinfo(): the address must be numeric, as in Python. */
static int
op_get_name_info(struct call *c)
{
	struct resolve_job *job;
	json_object *p, *a, *h = NULL;
	struct addr addr;
	const char *bad;
	int family = AF_INET, flags;

	if (c->job == NULL) {
		if (call_param_flags(c, "flags", names_ni_flag, &flags) < 0)
			return CALL_DONE;
		a = call_param(c, "address");
		if (json_object_object_get_ex(a, "host", &h) &&
		    json_object_is_type(h, json_type_string) &&
		    strchr(json_object_get_string(h), ':') != NULL)
			family = AF_INET6;
		if (!json_object_object_get_ex(a, "family", NULL) &&
		    !json_object_object_get_ex(a, "host", NULL))
			family = AF_UNSPEC;
		if (addr_from_json(a, family, &addr, &bad) < 0)
			return call_invalid(c, "address");
		if (addr.host_name != NULL)
			return call_gaierror(c, EAI_NONAME, 0);
		if (!(flags & NI_NUMERICHOST) &&
		    op_may_resolve(c, json_object_get_string(h), false) < 0)
			return CALL_DONE;
		job = op_name_job(c, RESOLVE_NAMEINFO);
		if (job == NULL)
			return CALL_DONE;
		memcpy(&job->sa, &addr.ss, sizeof addr.ss);
		job->salen = addr.len;
		job->ni_flags = flags;
		return op_name_submit(c, job);
	}
	job = op_name_answer(c);
	if (job == NULL)
		return CALL_DONE;
	p = json_object_new_object();
	json_object_object_add(p, "host", json_object_new_string(job->nhost));
	json_object_object_add(p, "port", json_object_new_string(job->nserv));
	resolver_job_free(job);
	return call_reply(c, p);
}

/* A NULL-ended list of strings as a JSON array. */
static json_object *
op_name_strings(char **list)
{
	json_object *a = json_object_new_array();

	for (; list != NULL && *list != NULL; list++)
		json_object_array_add(a, json_object_new_string(*list));
	return a;
}

/* gethostbyaddr(): HError when the address has no name. */
static int
op_get_host_by_addr(struct call *c)
{
	struct resolve_job *job;
	json_object *p;

	if (c->job == NULL) {
		if (op_may_resolve(c, call_param_str(c, "host"), false) < 0)
			return CALL_DONE;
		job = op_name_job(c, RESOLVE_HOSTBYADDR);
		if (job == NULL)
			return CALL_DONE;
		job->host = strdup(call_param_str(c, "host"));
		if (job->host == NULL) {
			resolver_job_free(job);
			return call_oserror(c, ENOMEM, "resolver");
		}
		return op_name_submit(c, job);
	}
	job = op_name_answer(c);
	if (job == NULL)
		return CALL_DONE;
	if (job->herr != 0 || job->hostname == NULL) {
		p = json_object_new_object();
		json_object_object_add(p, "code",
				       json_object_new_int(job->herr));
		json_object_object_add(
		    p, "message", json_object_new_string(hstrerror(job->herr)));
		call_error(c, "io.sockd.HError", p);
	} else {
		p = json_object_new_object();
		json_object_object_add(p, "hostname",
				       json_object_new_string(job->hostname));
		json_object_object_add(p, "aliases",
				       op_name_strings(job->aliases));
		json_object_object_add(p, "addresses",
				       op_name_strings(job->addresses));
		call_reply(c, p);
	}
	resolver_job_free(job);
	return CALL_DONE;
}

static const struct vl_param addrinfo_params[] = {
    {"host", VL_STRING, VL_P_OPTIONAL},
    {"port", VL_INT, VL_P_OPTIONAL},
    {"family", VL_STRING, VL_P_OPTIONAL},
    {"type", VL_STRING, VL_P_OPTIONAL},
    {"proto", VL_INT, VL_P_OPTIONAL},
    {"flags", VL_STRINGS, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param nameinfo_params[] = {
    {"address", VL_OBJECT, 0},
    {"flags", VL_STRINGS, VL_P_OPTIONAL},
    {NULL, 0, 0},
};
static const struct vl_param hostbyaddr_params[] = {
    {"host", VL_STRING, 0},
    {NULL, 0, 0},
};

const struct method op_name_methods[] = {
    {"io.sockd", "GetAddrInfo", addrinfo_params, 0, op_get_addr_info},
    {"io.sockd", "GetNameInfo", nameinfo_params, 0, op_get_name_info},
    {"io.sockd", "GetHostByAddr", hostbyaddr_params, 0, op_get_host_by_addr},
    {NULL, NULL, NULL, 0, NULL},
};
