/*
 * libsockc: names (getaddrinfo and friends, through sockd), List, and the
 * one-call paths create_connection and create_server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "names.h"

/* A service name or number as a port: 0 and *ret, or an EAI_* code. */
int
lib_port(const char *service, const struct addrinfo *hints, int *ret)
{
	struct servent se, *res = NULL;
	char buf[1024], *end;
	long v;

	v = strtol(service, &end, 10);
	if (*service != '\0' && *end == '\0') {
		if (v < 0 || v > 65535)
			return EAI_SERVICE;
		*ret = (int)v;
		return 0;
	}
	if (hints != NULL && (hints->ai_flags & AI_NUMERICSERV))
		return EAI_NONAME;
	if (getservbyname_r(service,
			    hints && hints->ai_socktype == SOCK_DGRAM ? "udp"
								      : "tcp",
			    &se, buf, sizeof buf, &res) != 0 ||
	    res == NULL)
		return EAI_SERVICE;
	*ret = ntohs((uint16_t)se.s_port);
	return 0;
}

/* Add the names of flags as p's key; false when a bit has no name. */
static bool
net_flag_names(json_object *p, const char *key, const struct name *table,
	       int flags)
{
	json_object *a;

	if (flags == 0)
		return true;
	a = names_bits_json(table, flags);
	if (a == NULL)
		return false;
	json_object_object_add(p, key, a);
	return true;
}

/* The EAI_* code for a failed call: the daemon's, or EAI_SYSTEM. */
static int
net_gai_failure(struct sockc *c)
{
	int e = sockc_gai_error(c);

	return e != 0 ? e : EAI_SYSTEM;
}

/* One reply entry as a struct addrinfo (with its address and name in the
 * same allocation, so freeaddrinfo-style freeing is one free each). */
static struct addrinfo *
net_addrinfo(json_object *e)
{
	json_object *v, *a = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *canon = "";
	struct addrinfo *ai;
	size_t clen;
	int val;

	json_object_object_get_ex(e, "address", &a);
	if (lib_addr_out(a, (struct sockaddr *)&ss, &len) < 0 || len == 0)
		return NULL;
	if (json_object_object_get_ex(e, "canonname", &v))
		canon = json_object_get_string(v);
	clen = strlen(canon);
	ai = calloc(1, sizeof *ai + len + clen + 1);
	if (ai == NULL)
		return NULL;
	ai->ai_family = ss.ss_family;
	if (json_object_object_get_ex(e, "type", &v) &&
	    names_value(names_socktype, json_object_get_string(v), &val) == 0)
		ai->ai_socktype = val;
	if (json_object_object_get_ex(e, "proto", &v))
		ai->ai_protocol = json_object_get_int(v);
	ai->ai_addr = (struct sockaddr *)(ai + 1);
	memcpy(ai->ai_addr, &ss, len);
	ai->ai_addrlen = len;
	if (clen > 0) {
		ai->ai_canonname = (char *)ai->ai_addr + len;
		memcpy(ai->ai_canonname, canon, clen + 1);
	}
	return ai;
}

SOCKC_EXPORT void
sockc_freeaddrinfo(struct addrinfo *res)
{
	while (res != NULL) {
		struct addrinfo *next = res->ai_next;

		free(res);
		res = next;
	}
}

SOCKC_EXPORT int
sockc_getaddrinfo(struct sockc *c, const char *node, const char *service,
		  const struct addrinfo *hints, struct addrinfo **res)
{
	json_object *p = json_object_new_object(), *reply, *list;
	struct addrinfo *head = NULL, **tail = &head;
	int port, r;

	if (node != NULL)
		json_object_object_add(p, "host", json_object_new_string(node));
	if (service != NULL) {
		r = lib_port(service, hints, &port);
		if (r != 0) {
			json_object_put(p);
			return r;
		}
		json_object_object_add(p, "port", json_object_new_int(port));
	}
	if (hints != NULL) {
		const char *f = names_name(names_family, hints->ai_family);
		const char *t = names_name(names_socktype, hints->ai_socktype);

		if (hints->ai_family != AF_UNSPEC) {
			if (f == NULL) {
				json_object_put(p);
				return EAI_FAMILY;
			}
			json_object_object_add(p, "family",
					       json_object_new_string(f));
		}
		if (hints->ai_socktype != 0) {
			if (t == NULL) {
				json_object_put(p);
				return EAI_SOCKTYPE;
			}
			json_object_object_add(p, "type",
					       json_object_new_string(t));
		}
		if (hints->ai_protocol != 0)
			json_object_object_add(
			    p, "proto",
			    json_object_new_int(hints->ai_protocol));
		if (!net_flag_names(p, "flags", names_ai_flag,
				    hints->ai_flags)) {
			json_object_put(p);
			return EAI_BADFLAGS;
		}
	}
	if (lib_call(c, "io.sockd.GetAddrInfo", p, &reply, NULL) < 0)
		return net_gai_failure(c);
	if (!json_object_object_get_ex(reply, "addresses", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		json_object_put(reply);
		errno = EPROTO;
		return EAI_SYSTEM;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct addrinfo *ai =
		    net_addrinfo(json_object_array_get_idx(list, i));

		if (ai == NULL)
			continue; /* a family this library cannot express */
		*tail = ai;
		tail = &ai->ai_next;
	}
	json_object_put(reply);
	if (head == NULL)
		return EAI_NONAME;
	*res = head;
	return 0;
}

SOCKC_EXPORT int
sockc_getnameinfo(struct sockc *c, const struct sockaddr *addr,
		  socklen_t addrlen, char *host, socklen_t hostlen, char *serv,
		  socklen_t servlen, int flags)
{
	json_object *p = json_object_new_object(), *reply, *v;
	json_object *a = lib_addr_json(addr, addrlen);
	int r;

	if (a == NULL) {
		json_object_put(p);
		return EAI_FAMILY;
	}
	json_object_object_add(p, "address", a);
	if (!net_flag_names(p, "flags", names_ni_flag, flags)) {
		json_object_put(p);
		return EAI_BADFLAGS;
	}
	if (lib_call(c, "io.sockd.GetNameInfo", p, &reply, NULL) < 0)
		return net_gai_failure(c);
	/* Like getnameinfo: EAI_OVERFLOW when an answer does not fit,
	 * and then neither buffer is filled. */
	r = 0;
	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "host" : "port";
		char *buf = i == 0 ? host : serv;
		socklen_t size = i == 0 ? hostlen : servlen;

		if (buf != NULL && size > 0 &&
		    json_object_object_get_ex(reply, key, &v) &&
		    (size_t)json_object_get_string_len(v) >= size)
			r = EAI_OVERFLOW;
	}
	for (int i = 0; r == 0 && i < 2; i++) {
		const char *key = i == 0 ? "host" : "port";
		char *buf = i == 0 ? host : serv;
		socklen_t size = i == 0 ? hostlen : servlen;

		if (buf != NULL && size > 0 &&
		    json_object_object_get_ex(reply, key, &v))
			snprintf(buf, size, "%s", json_object_get_string(v));
	}
	json_object_put(reply);
	return r;
}

/* A JSON array of strings as a NULL-ended vector. */
static char **
net_strings(json_object *a)
{
	size_t n = json_object_is_type(a, json_type_array)
		       ? json_object_array_length(a)
		       : 0;
	char **v = calloc(n + 1, sizeof *v);

	for (size_t i = 0; v != NULL && i < n; i++)
		v[i] = strdup(
		    json_object_get_string(json_object_array_get_idx(a, i)));
	return v;
}

SOCKC_EXPORT void
sockc_freehostent(struct hostent *he)
{
	if (he == NULL)
		return;
	free(he->h_name);
	for (char **p = he->h_aliases; p && *p; p++)
		free(*p);
	free(he->h_aliases);
	for (char **p = he->h_addr_list; p && *p; p++)
		free(*p);
	free(he->h_addr_list);
	free(he);
}

SOCKC_EXPORT struct hostent *
sockc_gethostbyaddr(struct sockc *c, const char *host)
{
	json_object *p = json_object_new_object(), *reply, *v = NULL;
	struct hostent *he;
	char **texts;
	size_t n = 0;

	json_object_object_add(p, "host", json_object_new_string(host));
	if (lib_call(c, "io.sockd.GetHostByAddr", p, &reply, NULL) < 0)
		return NULL;
	he = calloc(1, sizeof *he);
	if (he == NULL) {
		json_object_put(reply);
		return NULL;
	}
	if (json_object_object_get_ex(reply, "hostname", &v))
		he->h_name = strdup(json_object_get_string(v));
	json_object_object_get_ex(reply, "aliases", &v);
	he->h_aliases = net_strings(v);
	v = NULL;
	json_object_object_get_ex(reply, "addresses", &v);
	texts = net_strings(v);
	json_object_put(reply);
	/* Addresses in binary, as gethostbyaddr gives them. */
	while (texts != NULL && texts[n] != NULL)
		n++;
	he->h_addr_list = calloc(n + 1, sizeof(char *));
	he->h_addrtype = AF_INET;
	he->h_length = sizeof(struct in_addr);
	for (size_t i = 0, k = 0; he->h_addr_list != NULL && i < n; i++) {
		struct in6_addr a6;
		int fam = strchr(texts[i], ':') ? AF_INET6 : AF_INET;

		if (inet_pton(fam, texts[i], &a6) != 1)
			continue;
		he->h_addrtype = fam;
		he->h_length = fam == AF_INET6 ? 16 : 4;
		he->h_addr_list[k] = malloc(16);
		if (he->h_addr_list[k] != NULL)
			memcpy(he->h_addr_list[k++], &a6, 16);
	}
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	if (he->h_name == NULL || he->h_aliases == NULL ||
	    he->h_addr_list == NULL) {
		sockc_freehostent(he);
		errno = ENOMEM;
		return NULL;
	}
	return he;
}

SOCKC_EXPORT void
sockc_list_free(struct sockc_info *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i].name);
	free(list);
}

SOCKC_EXPORT int
sockc_list(struct sockc *c, struct sockc_info **ret, size_t *ret_n)
{
	json_object *reply, *socks;
	struct sockc_info *list;
	size_t n;

	if (lib_call(c, "io.sockd.List", NULL, &reply, NULL) < 0)
		return -1;
	if (!json_object_object_get_ex(reply, "sockets", &socks) ||
	    !json_object_is_type(socks, json_type_array)) {
		json_object_put(reply);
		errno = EPROTO;
		return -1;
	}
	n = json_object_array_length(socks);
	list = calloc(n ? n : 1, sizeof *list);
	if (list == NULL) {
		json_object_put(reply);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(socks, i), *v;
		struct sockc_info *si = &list[i];
		int val;

		if (json_object_object_get_ex(e, "handle", &v))
			si->handle = json_object_get_int64(v);
		if (json_object_object_get_ex(e, "name", &v) && v != NULL)
			si->name = strdup(json_object_get_string(v));
		if (json_object_object_get_ex(e, "family", &v) &&
		    names_value(names_family, json_object_get_string(v),
				&val) == 0)
			si->family = val;
		if (json_object_object_get_ex(e, "type", &v) &&
		    names_value(names_socktype, json_object_get_string(v),
				&val) == 0)
			si->type = val;
		if (json_object_object_get_ex(e, "proto", &v))
			si->protocol = json_object_get_int(v);
		if (json_object_object_get_ex(e, "persistent", &v))
			si->persistent = json_object_get_boolean(v);
		si->local_len = sizeof si->local;
		v = NULL;
		json_object_object_get_ex(e, "local", &v);
		if (lib_addr_out(v, (struct sockaddr *)&si->local,
				 &si->local_len) < 0)
			si->local_len = 0;
		si->peer_len = sizeof si->peer;
		v = NULL;
		json_object_object_get_ex(e, "peer", &v);
		if (lib_addr_out(v, (struct sockaddr *)&si->peer,
				 &si->peer_len) < 0)
			si->peer_len = 0;
		v = NULL;
		json_object_object_get_ex(e, "timeout", &v);
		si->timeout = v != NULL ? json_object_get_double(v) : -1;
		if (json_object_object_get_ex(e, "owner", &v))
			si->owner = (uid_t)json_object_get_int64(v);
	}
	json_object_put(reply);
	*ret = list;
	*ret_n = n;
	return 0;
}

/* What the one-call paths do to a new socket before handing it over. */
typedef int (*net_prepare_fn)(struct sockc *c, sockc_handle_t h,
			      const struct addrinfo *ai, const void *arg);

/* Try each address in turn: a socket, prepared, handed over as a local
 * fd (detached from sockd). The last failure's details stay on c. */
static int
net_first_fd(struct sockc *c, struct addrinfo *res, int err,
	     net_prepare_fn prepare, const void *arg)
{
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		sockc_handle_t h = sockc_socket(
		    c, ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		int fd;

		if (h < 0) {
			err = errno;
			continue;
		}
		if (prepare(c, h, ai, arg) == 0) {
			fd = sockc_fileno(c, h, 1);
			if (fd >= 0) {
				sockc_freeaddrinfo(res);
				return fd;
			}
		}
		err = errno;
		lib_close_quietly(c, h);
	}
	sockc_freeaddrinfo(res);
	errno = err;
	return -1;
}

/* create_connection's step: the timeout, then connect. */
static int
net_connect(struct sockc *c, sockc_handle_t h, const struct addrinfo *ai,
	    const void *arg)
{
	double timeout = *(const double *)arg;

	if (timeout >= 0 && sockc_settimeout(c, h, timeout) < 0)
		return -1;
	return sockc_connect(c, h, ai->ai_addr, ai->ai_addrlen);
}

SOCKC_EXPORT int
sockc_create_connection(struct sockc *c, const char *host, const char *service,
			double timeout)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int r;

	r = sockc_getaddrinfo(c, host, service, &hints, &res);
	if (r != 0) {
		errno = r == EAI_SYSTEM ? errno : EHOSTUNREACH;
		return -1;
	}
	return net_first_fd(c, res, ECONNREFUSED, net_connect, &timeout);
}

struct net_server {
	bool dual_stack; /* no host given: IPv6 sockets take IPv4 too */
	int backlog;
};

/* create_server's step: SO_REUSEADDR (and dual stack), bind, listen. */
static int
net_listen(struct sockc *c, sockc_handle_t h, const struct addrinfo *ai,
	   const void *arg)
{
	const struct net_server *srv = arg;
	int one = 1, zero = 0;

	if (sockc_setsockopt(c, h, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) <
	    0)
		return -1;
	if (ai->ai_family == AF_INET6 && srv->dual_stack &&
	    sockc_setsockopt(c, h, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
			     sizeof zero) < 0)
		return -1;
	if (sockc_bind(c, h, ai->ai_addr, ai->ai_addrlen) < 0)
		return -1;
	return sockc_listen(c, h, srv->backlog);
}

/* Move the IPv6 addresses to the front, keeping the order otherwise. */
static struct addrinfo *
net_ipv6_first(struct addrinfo *res)
{
	struct addrinfo *v6 = NULL, **t6 = &v6, *rest = NULL, **tr = &rest;

	while (res != NULL) {
		struct addrinfo *next = res->ai_next;

		res->ai_next = NULL;
		if (res->ai_family == AF_INET6) {
			*t6 = res;
			t6 = &res->ai_next;
		} else {
			*tr = res;
			tr = &res->ai_next;
		}
		res = next;
	}
	*t6 = rest;
	return v6;
}

/* A listening socket, bound, handed over as a local fd. */
SOCKC_EXPORT int
sockc_create_server(struct sockc *c, const char *host, const char *service,
		    int family, int backlog)
{
	struct addrinfo hints = {.ai_family = family,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE},
			*res;
	struct net_server srv = {.dual_stack = host == NULL,
				 .backlog = backlog};
	int r;

	r = sockc_getaddrinfo(c, host, service, &hints, &res);
	if (r != 0) {
		errno = r == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
		return -1;
	}
	/* Without a host, prefer IPv6 dual-stack, as Python does, and fall
	 * back to the IPv4 addresses. */
	if (host == NULL)
		res = net_ipv6_first(res);
	return net_first_fd(c, res, EADDRNOTAVAIL, net_listen, &srv);
}
