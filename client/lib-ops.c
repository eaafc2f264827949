/*
 * libsockc: one function per io.sockd socket method, shaped like the BSD
 * call it stands in for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "lib.h"
#include "names.h"
#include "varlink.h"

/* A new parameters object with the handle in it. */
static json_object *
ops_params(sockc_handle_t h)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "handle", json_object_new_int64(h));
	return p;
}

/* A call whose reply carries nothing the caller needs. */
static int
ops_simple(struct sockc *c, const char *method, json_object *params)
{
	json_object *reply;

	if (lib_call(c, method, params, &reply, NULL) < 0)
		return -1;
	json_object_put(reply);
	return 0;
}

/* An int64 member of a reply, or -1 (EPROTO) when it is missing. */
static int64_t
ops_int(json_object *reply, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(reply, key, &v) ||
	    !json_object_is_type(v, json_type_int)) {
		errno = EPROTO;
		return -1;
	}
	return json_object_get_int64(v);
}

/* Call method and return the int64 member key of its reply, or -1. */
static int64_t
ops_call_int(struct sockc *c, const char *method, json_object *params,
	     const char *key)
{
	json_object *reply;
	int64_t v;

	if (lib_call(c, method, params, &reply, NULL) < 0)
		return -1;
	v = ops_int(reply, key);
	json_object_put(reply);
	return v;
}

/* A constant's name for the wire, or NULL (errno EINVAL). */
static const char *
ops_name(const struct name *table, int value)
{
	const char *name = names_name(table, value);

	if (name == NULL)
		errno = EINVAL;
	return name;
}

/* MSG_* flags as an array of names; NULL when none. *ok is false when a
 * flag has no name. */
static json_object *
ops_flags(int flags, bool *ok)
{
	json_object *a = flags ? names_bits_json(names_msgflag, flags) : NULL;

	*ok = flags == 0 || a != NULL;
	return a;
}

/* Bytes as a base64 JSON string. */
static json_object *
ops_data(const void *buf, size_t len)
{
	char *text = malloc(B64_ENCODED_LEN(len) + 1);
	json_object *s;

	if (text == NULL)
		return NULL;
	s = json_object_new_string_len(text, (int)b64_encode(buf, len, text));
	free(text);
	return s;
}

/* Decode the reply's base64 "data" into buf (at most len bytes): the
 * number of bytes, or -1. */
static ssize_t
ops_data_out(json_object *reply, void *buf, size_t len)
{
	json_object *v;
	unsigned char *tmp;
	size_t n;

	if (!json_object_object_get_ex(reply, "data", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		errno = EPROTO;
		return -1;
	}
	tmp = malloc(B64_DECODED_MAX(json_object_get_string_len(v)) + 1);
	if (tmp == NULL)
		return -1;
	if (b64_decode(json_object_get_string(v), json_object_get_string_len(v),
		       tmp, &n) < 0) {
		free(tmp);
		errno = EPROTO;
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(buf, tmp, n);
	free(tmp);
	return (ssize_t)n;
}

SOCKC_EXPORT sockc_handle_t
sockc_socket_ex(struct sockc *c, int domain, int type, int protocol,
		unsigned flags, const char *name)
{
	const char *family = ops_name(names_family, domain);
	const char *stype = ops_name(names_socktype, type);
	json_object *p;

	if (family == NULL) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (stype == NULL)
		return -1;
	p = json_object_new_object();
	json_object_object_add(p, "family", json_object_new_string(family));
	json_object_object_add(p, "type", json_object_new_string(stype));
	if (protocol != 0)
		json_object_object_add(p, "proto",
				       json_object_new_int(protocol));
	if (flags & SOCKC_PERSISTENT)
		json_object_object_add(p, "persistent",
				       json_object_new_boolean(1));
	if (name != NULL)
		json_object_object_add(p, "name", json_object_new_string(name));
	return ops_call_int(c, "io.sockd.Socket", p, "handle");
}

SOCKC_EXPORT sockc_handle_t
sockc_socket(struct sockc *c, int domain, int type, int protocol)
{
	return sockc_socket_ex(c, domain, type, protocol, 0, NULL);
}

SOCKC_EXPORT sockc_handle_t
sockc_find(struct sockc *c, const char *name)
{
	json_object *p;

	if (name == NULL) {
		errno = EINVAL;
		return -1;
	}
	p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(name));
	return ops_call_int(c, "io.sockd.Find", p, "handle");
}

/* Bind and Connect: a handle and an address. */
static int
ops_address_call(struct sockc *c, const char *method, sockc_handle_t h,
		 const struct sockaddr *addr, socklen_t addrlen,
		 json_object **ret_reply)
{
	json_object *p = ops_params(h), *a = lib_addr_json(addr, addrlen);

	if (a == NULL) {
		json_object_put(p);
		errno = EAFNOSUPPORT;
		return -1;
	}
	json_object_object_add(p, "address", a);
	return lib_call(c, method, p, ret_reply, NULL);
}

SOCKC_EXPORT int
sockc_bind(struct sockc *c, sockc_handle_t h, const struct sockaddr *addr,
	   socklen_t addrlen)
{
	json_object *reply;

	if (ops_address_call(c, "io.sockd.Bind", h, addr, addrlen, &reply) < 0)
		return -1;
	json_object_put(reply);
	return 0;
}

SOCKC_EXPORT int
sockc_listen(struct sockc *c, sockc_handle_t h, int backlog)
{
	json_object *p = ops_params(h);

	json_object_object_add(p, "backlog", json_object_new_int(backlog));
	return ops_simple(c, "io.sockd.Listen", p);
}

SOCKC_EXPORT sockc_handle_t
sockc_accept(struct sockc *c, sockc_handle_t h, struct sockaddr *addr,
	     socklen_t *addrlen)
{
	json_object *reply, *a = NULL;
	int64_t nh;

	if (lib_call(c, "io.sockd.Accept", ops_params(h), &reply, NULL) < 0)
		return -1;
	nh = ops_int(reply, "handle");
	json_object_object_get_ex(reply, "address", &a);
	if (nh > 0 && lib_addr_out(a, addr, addrlen) < 0)
		nh = -1;
	json_object_put(reply);
	return nh;
}

SOCKC_EXPORT int
sockc_connect(struct sockc *c, sockc_handle_t h, const struct sockaddr *addr,
	      socklen_t addrlen)
{
	json_object *reply;

	if (ops_address_call(c, "io.sockd.Connect", h, addr, addrlen, &reply) <
	    0)
		return -1;
	json_object_put(reply);
	return 0;
}

SOCKC_EXPORT int
sockc_connect_ex(struct sockc *c, sockc_handle_t h, const struct sockaddr *addr,
		 socklen_t addrlen)
{
	json_object *reply;
	int64_t err;

	if (ops_address_call(c, "io.sockd.ConnectEx", h, addr, addrlen,
			     &reply) < 0)
		return -1;
	err = ops_int(reply, "errno");
	json_object_put(reply);
	return (int)err;
}

/* Send, SendAll and SendTo. */
static ssize_t
ops_send(struct sockc *c, const char *method, sockc_handle_t h, const void *buf,
	 size_t len, int flags, const struct sockaddr *addr, socklen_t addrlen)
{
	json_object *p = ops_params(h), *data = ops_data(buf, len), *f, *reply;
	ssize_t sent = (ssize_t)len;
	bool ok;

	f = ops_flags(flags, &ok);
	if (data == NULL || !ok) {
		json_object_put(p);
		json_object_put(data);
		if (data == NULL)
			errno = ENOMEM;
		return -1;
	}
	json_object_object_add(p, "data", data);
	if (f != NULL)
		json_object_object_add(p, "flags", f);
	if (addr != NULL) {
		json_object *a = lib_addr_json(addr, addrlen);

		if (a == NULL) {
			json_object_put(p);
			errno = EAFNOSUPPORT;
			return -1;
		}
		json_object_object_add(p, "address", a);
	}
	if (lib_call(c, method, p, &reply, NULL) < 0)
		return -1;
	if (strcmp(method, "io.sockd.SendAll") != 0)
		sent = (ssize_t)ops_int(reply, "sent");
	json_object_put(reply);
	return sent;
}

SOCKC_EXPORT ssize_t
sockc_send(struct sockc *c, sockc_handle_t h, const void *buf, size_t len,
	   int flags)
{
	return ops_send(c, "io.sockd.Send", h, buf, len, flags, NULL, 0);
}

SOCKC_EXPORT int
sockc_sendall(struct sockc *c, sockc_handle_t h, const void *buf, size_t len,
	      int flags)
{
	return ops_send(c, "io.sockd.SendAll", h, buf, len, flags, NULL, 0) < 0
		   ? -1
		   : 0;
}

SOCKC_EXPORT ssize_t
sockc_sendto(struct sockc *c, sockc_handle_t h, const void *buf, size_t len,
	     int flags, const struct sockaddr *addr, socklen_t addrlen)
{
	if (addr == NULL)
		return sockc_send(c, h, buf, len, flags);
	return ops_send(c, "io.sockd.SendTo", h, buf, len, flags, addr,
			addrlen);
}

/* Recv and RecvFrom. */
static ssize_t
ops_recv(struct sockc *c, const char *method, sockc_handle_t h, void *buf,
	 size_t len, int flags, struct sockaddr *addr, socklen_t *addrlen)
{
	json_object *p = ops_params(h), *f, *reply, *a = NULL;
	bool ok;
	ssize_t n;

	f = ops_flags(flags, &ok);
	if (!ok) {
		json_object_put(p);
		return -1;
	}
	json_object_object_add(p, "bufsize", json_object_new_int64(len));
	if (f != NULL)
		json_object_object_add(p, "flags", f);
	if (lib_call(c, method, p, &reply, NULL) < 0)
		return -1;
	n = ops_data_out(reply, buf, len);
	json_object_object_get_ex(reply, "address", &a);
	if (n >= 0 && lib_addr_out(a, addr, addrlen) < 0)
		n = -1;
	json_object_put(reply);
	return n;
}

SOCKC_EXPORT ssize_t
sockc_recv(struct sockc *c, sockc_handle_t h, void *buf, size_t len, int flags)
{
	return ops_recv(c, "io.sockd.Recv", h, buf, len, flags, NULL, NULL);
}

SOCKC_EXPORT ssize_t
sockc_recvfrom(struct sockc *c, sockc_handle_t h, void *buf, size_t len,
	       int flags, struct sockaddr *addr, socklen_t *addrlen)
{
	return ops_recv(c, "io.sockd.RecvFrom", h, buf, len, flags, addr,
			addrlen);
}

SOCKC_EXPORT int
sockc_settimeout(struct sockc *c, sockc_handle_t h, double seconds)
{
	json_object *p = ops_params(h);

	json_object_object_add(
	    p, "timeout", seconds < 0 ? NULL : json_object_new_double(seconds));
	return ops_simple(c, "io.sockd.SetTimeout", p);
}

SOCKC_EXPORT int
sockc_gettimeout(struct sockc *c, sockc_handle_t h, double *ret_seconds)
{
	json_object *reply, *v = NULL;

	if (lib_call(c, "io.sockd.GetTimeout", ops_params(h), &reply, NULL) < 0)
		return -1;
	json_object_object_get_ex(reply, "timeout", &v);
	*ret_seconds = v == NULL ? -1 : json_object_get_double(v);
	json_object_put(reply);
	return 0;
}

SOCKC_EXPORT int
sockc_setblocking(struct sockc *c, sockc_handle_t h, int blocking)
{
	json_object *p = ops_params(h);

	json_object_object_add(p, "blocking",
			       json_object_new_boolean(blocking != 0));
	return ops_simple(c, "io.sockd.SetBlocking", p);
}

/* Level and option names for a set/getsockopt call. */
static json_object *
ops_sockopt_params(sockc_handle_t h, int level, int optname)
{
	const char *lname = names_name(names_level, level);
	const struct name *options = names_options(level);
	const char *oname = options ? names_name(options, optname) : NULL;
	json_object *p;

	if (lname == NULL || oname == NULL) {
		errno = ENOPROTOOPT;
		return NULL;
	}
	p = ops_params(h);
	json_object_object_add(p, "level", json_object_new_string(lname));
	json_object_object_add(p, "option", json_object_new_string(oname));
	return p;
}

/* setsockopt(): the bytes go as they are, exactly as the kernel gets
 * them from a local setsockopt. */
SOCKC_EXPORT int
sockc_setsockopt(struct sockc *c, sockc_handle_t h, int level, int optname,
		 const void *optval, socklen_t optlen)
{
	json_object *p = ops_sockopt_params(h, level, optname), *data;

	if (p == NULL)
		return -1;
	data = ops_data(optval, optlen);
	if (data == NULL) {
		json_object_put(p);
		errno = ENOMEM;
		return -1;
	}
	json_object_object_add(p, "data", data);
	return ops_simple(c, "io.sockd.SetSockOpt", p);
}

SOCKC_EXPORT int
sockc_getsockopt(struct sockc *c, sockc_handle_t h, int level, int optname,
		 void *optval, socklen_t *optlen)
{
	json_object *p = ops_sockopt_params(h, level, optname), *reply;
	ssize_t n;

	if (p == NULL)
		return -1;
	if (*optlen == 0) {
		json_object_put(p);
		errno = EINVAL;
		return -1;
	}
	json_object_object_add(
	    p, "buflen", json_object_new_int(*optlen > 1024 ? 1024 : *optlen));
	if (lib_call(c, "io.sockd.GetSockOpt", p, &reply, NULL) < 0)
		return -1;
	n = ops_data_out(reply, optval, *optlen);
	json_object_put(reply);
	if (n < 0)
		return -1;
	*optlen = (socklen_t)n;
	return 0;
}

SOCKC_EXPORT int
sockc_shutdown(struct sockc *c, sockc_handle_t h, int how)
{
	const char *name = ops_name(names_shut, how);
	json_object *p;

	if (name == NULL)
		return -1;
	p = ops_params(h);
	json_object_object_add(p, "how", json_object_new_string(name));
	return ops_simple(c, "io.sockd.Shutdown", p);
}

SOCKC_EXPORT int
sockc_close(struct sockc *c, sockc_handle_t h)
{
	return ops_simple(c, "io.sockd.Close", ops_params(h));
}

/* GetSockName and GetPeerName. */
static int
ops_name_call(struct sockc *c, const char *method, sockc_handle_t h,
	      struct sockaddr *addr, socklen_t *addrlen)
{
	json_object *reply, *a = NULL;
	int r;

	if (lib_call(c, method, ops_params(h), &reply, NULL) < 0)
		return -1;
	json_object_object_get_ex(reply, "address", &a);
	r = lib_addr_out(a, addr, addrlen);
	json_object_put(reply);
	return r;
}

SOCKC_EXPORT int
sockc_getsockname(struct sockc *c, sockc_handle_t h, struct sockaddr *addr,
		  socklen_t *addrlen)
{
	return ops_name_call(c, "io.sockd.GetSockName", h, addr, addrlen);
}

SOCKC_EXPORT int
sockc_getpeername(struct sockc *c, sockc_handle_t h, struct sockaddr *addr,
		  socklen_t *addrlen)
{
	return ops_name_call(c, "io.sockd.GetPeerName", h, addr, addrlen);
}

SOCKC_EXPORT int
sockc_fileno(struct sockc *c, sockc_handle_t h, int detach)
{
	json_object *p = ops_params(h), *reply;
	int fd;

	if (detach)
		json_object_object_add(p, "detach", json_object_new_boolean(1));
	if (lib_call(c, "io.sockd.FileNo", p, &reply, &fd) < 0)
		return -1;
	json_object_put(reply);
	if (fd < 0)
		errno = EPROTO;
	else if (detach) /* ours alone now: blocking, as socket() gives */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

SOCKC_EXPORT int
sockc_poll(struct sockc *c, struct sockc_pollfd *items, size_t n,
	   double timeout)
{
	json_object *p = json_object_new_object(), *list, *reply, *ready;
	int count = 0;

	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_new_object();
		json_object *evs = names_bits_json(names_poll, items[i].events);

		if (evs == NULL) {
			json_object_put(it);
			json_object_put(list);
			json_object_put(p);
			return -1; /* an event without a name: EINVAL */
		}
		json_object_object_add(it, "handle",
				       json_object_new_int64(items[i].handle));
		json_object_object_add(it, "events", evs);
		json_object_array_add(list, it);
		items[i].revents = 0;
	}
	json_object_object_add(p, "items", list);
	if (timeout >= 0)
		json_object_object_add(p, "timeout",
				       json_object_new_double(timeout));
	if (lib_call(c, "io.sockd.Poll", p, &reply, NULL) < 0)
		return -1;
	if (!json_object_object_get_ex(reply, "items", &ready) ||
	    !json_object_is_type(ready, json_type_array)) {
		json_object_put(reply);
		errno = EPROTO;
		return -1;
	}
	for (size_t j = 0; j < json_object_array_length(ready); j++) {
		json_object *it = json_object_array_get_idx(ready, j), *evs;
		int64_t h = ops_int(it, "handle");
		int rev = 0;

		if (json_object_object_get_ex(it, "events", &evs))
			names_json_bits(evs, names_poll, &rev);
		for (size_t i = 0; i < n; i++)
			if (items[i].handle == h) {
				if (items[i].revents == 0)
					count++;
				items[i].revents |= (short)rev;
			}
	}
	json_object_put(reply);
	return count;
}

SOCKC_EXPORT int
sockc_attach(struct sockc *c, sockc_handle_t h)
{
	json_object *p = json_object_new_object(), *reply;

	json_object_object_add(p, "handle", json_object_new_int64(h));
	if (lib_call_flags(c, "io.sockd.Attach", p, VL_UPGRADE, &reply, NULL) <
	    0)
		return -1;
	json_object_put(reply);
	c->upgraded = true;
	return 0;
}
