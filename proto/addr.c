/*
 * The address codec: JSON address objects to struct sockaddr and back,
 * following Python's socket module where it has an opinion ("" is the
 * wildcard address, "<broadcast>" is INADDR_BROADCAST, a host that is not
 * numeric is resolved) and systemd's "@name" for abstract Unix sockets.
 * Everything a client sends is checked here, field by field, so that a
 * caller can name the field that was wrong.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "b64.h"
#include "names.h"
#include "utf8.h"
#include "varlink.h"

#define ADDR_UNIX_MIN offsetof(struct sockaddr_un, sun_path)
#define ADDR_UNIX_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* The fields each family's address object may carry. */
static const char *const addr_fields_inet[] = {"family", "host", "port", NULL};
static const char *const addr_fields_inet6[] = {"family",   "host",	"port",
						"flowinfo", "scope_id", NULL};
static const char *const addr_fields_unix[] = {"family", "path", "path_base64",
					       NULL};
static const char *const addr_fields_bt[] = {"family", "bdaddr", "channel",
					     "psm", NULL};

/* A field of obj, or NULL when it is absent or null. */
static json_object *
addr_field(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

/* Refuse any key not in allowed, naming the first one found. */
static int
addr_check_fields(json_object *obj, const char *const *allowed,
		  const char **ret_field)
{
	json_object_object_foreach(obj, key, val)
	{
		const char *const *f;

		(void)val;
		for (f = allowed; *f != NULL; f++)
			if (strcmp(*f, key) == 0)
				break;
		if (*f == NULL) {
			*ret_field = key;
			return -EINVAL;
		}
	}
	return 0;
}

/* An integer field in [min, max]: 1 and *ret, 0 when absent, or -EINVAL. */
static int
addr_int(json_object *obj, const char *key, int64_t min, int64_t max,
	 int64_t *ret)
{
	json_object *v = addr_field(obj, key);
	int64_t x;

	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	/* Values above INT64_MAX read as INT64_MAX, out of every range. */
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return -EINVAL;
	*ret = x;
	return 1;
}

/* A string field: 1 with text and length, 0 when absent, or -EINVAL. */
static int
addr_string(json_object *obj, const char *key, const char **ret,
	    size_t *ret_len)
{
	json_object *v = addr_field(obj, key);
	int len;

	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	len = json_object_get_string_len(v);
	if (len < 0)
		return -EINVAL;
	*ret = json_object_get_string(v);
	*ret_len = (size_t)len;
	return 1;
}

/* A required string field that holds no NUL byte (JSON may say \u0000). */
static int
addr_text(json_object *obj, const char *key, const char **ret)
{
	json_object *v = addr_field(obj, key);

	if (v == NULL || !vl_whole_string(v))
		return -EINVAL;
	*ret = json_object_get_string(v);
	return 0;
}

/* The family the object describes: its own "family", or the socket's. */
static int
addr_family(json_object *obj, int family, int *ret_family)
{
	json_object *v = addr_field(obj, "family");
	int f;

	if (v != NULL) {
		if (!vl_whole_string(v))
			return -EINVAL;
		if (names_value(names_family, json_object_get_string(v), &f) <
		    0)
			return -EINVAL;
		if (f == AF_UNSPEC || (family != AF_UNSPEC && f != family))
			return -EINVAL;
		family = f;
	} else if (family == AF_UNSPEC) {
		return -EINVAL;
	}
	switch (family) {
	case AF_INET:
	case AF_INET6:
	case AF_UNIX:
	case AF_BLUETOOTH:
		*ret_family = family;
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

/* Split "fe80::1%eth0" into the address and the interface index, as
 * getaddrinfo() does: 1 when host is such a text, 0 when it is not. */
static int
addr_scoped_in6(const char *host, struct in6_addr *ret_addr,
		uint32_t *ret_scope)
{
	const char *pct = strchr(host, '%');
	char text[INET6_ADDRSTRLEN];
	struct in6_addr in6;
	unsigned long scope;
	char *end;

	if (pct == NULL || (size_t)(pct - host) >= sizeof text)
		return 0;
	memcpy(text, host, (size_t)(pct - host));
	text[pct - host] = '\0';
	if (inet_pton(AF_INET6, text, &in6) != 1)
		return 0;
	pct++;
	/* An interface name first: Linux allows names that are digits. */
	scope = *pct != '\0' ? if_nametoindex(pct) : 0;
	if (scope == 0) {
		if (*pct < '0' || *pct > '9')
			return -EINVAL;
		errno = 0;
		scope = strtoul(pct, &end, 10);
		if (*end != '\0' || errno != 0 || scope > UINT32_MAX)
			return -EINVAL;
	}
	*ret_addr = in6;
	*ret_scope = (uint32_t)scope;
	return 1;
}

/* AF_INET and AF_INET6: numeric hosts are filled in, names left to the
 * caller to resolve. */
static int
addr_from_inet(json_object *obj, int family, struct addr *a,
	       const char **ret_field)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	int64_t port, flowinfo = 0, scope = 0;
	int has_scope = 0, r;
	const char *host;
	uint32_t suffix_scope;

	if (addr_text(obj, "host", &host) < 0) {
		*ret_field = "host";
		return -EINVAL;
	}
	if (addr_int(obj, "port", 0, 65535, &port) != 1) {
		*ret_field = "port";
		return -EINVAL;
	}
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof *sin;
		if (*host == '\0')
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "<broadcast>") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_BROADCAST);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto name;
		return 0;
	}

	if (addr_int(obj, "flowinfo", 0, UINT32_MAX, &flowinfo) < 0) {
		*ret_field = "flowinfo";
		return -EINVAL;
	}
	has_scope = addr_int(obj, "scope_id", 0, UINT32_MAX, &scope);
	if (has_scope < 0) {
		*ret_field = "scope_id";
		return -EINVAL;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_flowinfo = htonl((uint32_t)flowinfo);
	sin6->sin6_scope_id = (uint32_t)scope;
	a->len = sizeof *sin6;
	if (*host == '\0') {
		sin6->sin6_addr = in6addr_any;
		return 0;
	}
	if (strcmp(host, "<broadcast>") == 0) {
		*ret_field = "host"; /* IPv6 has no broadcast */
		return -EINVAL;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
		return 0;
	r = addr_scoped_in6(host, &sin6->sin6_addr, &suffix_scope);
	if (r < 0) {
		*ret_field = "host";
		return r;
	}
	if (r == 1) {
		if (has_scope && (uint32_t)scope != suffix_scope) {
			*ret_field = "scope_id";
			return -EINVAL;
		}
		sin6->sin6_scope_id = suffix_scope;
		return 0;
	}
name:
	a->host_name = host;
	a->port = (int)port;
	return 0;
}

/* The bytes of a Unix address: "path", or "path_base64" for names that
 * are not UTF-8 (the same bytes, base64). 0, or -EINVAL naming the field. */
static int
addr_unix_text(json_object *obj, char *buf, size_t size, const char **ret,
	       size_t *ret_len, const char **ret_field)
{
	const char *text, *b64;
	size_t len, blen;
	int has_text = addr_string(obj, "path", &text, &len);
	int has_b64 = addr_string(obj, "path_base64", &b64, &blen);

	if (has_b64 != 0) {
		*ret_field = "path_base64";
		if (has_b64 < 0 || has_text != 0 ||
		    blen > B64_ENCODED_LEN(size) ||
		    b64_decode(b64, blen, buf, &len) < 0)
			return -EINVAL;
		*ret = buf;
		*ret_len = len;
		return 0;
	}
	*ret_field = "path";
	if (has_text != 1)
		return -EINVAL;
	*ret = text;
	*ret_len = len;
	return 0;
}

/* AF_UNIX: a path, "@" and an abstract name, or "" for unnamed. */
static int
addr_from_unix(json_object *obj, struct addr *a, const char **ret_field)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;
	char buf[B64_DECODED_MAX(B64_ENCODED_LEN(ADDR_UNIX_MAX + 1))];
	const char *path;
	size_t len;

	if (addr_unix_text(obj, buf, ADDR_UNIX_MAX + 1, &path, &len,
			   ret_field) < 0)
		return -EINVAL;
	sun->sun_family = AF_UNIX;
	if (len == 0) {
		a->len = ADDR_UNIX_MIN;
	} else if (path[0] == '@') {
		/* Abstract names are bytes, NULs included: keep them all. */
		if (len - 1 > ADDR_UNIX_MAX)
			return -EINVAL;
		memcpy(sun->sun_path + 1, path + 1, len - 1);
		a->len = (socklen_t)(ADDR_UNIX_MIN + len);
	} else {
		if (memchr(path, '\0', len) != NULL || len > ADDR_UNIX_MAX)
			return -EINVAL;
		memcpy(sun->sun_path, path, len);
		a->len = (socklen_t)(ADDR_UNIX_MIN + len + 1);
	}
	return 0;
}

/* AF_BLUETOOTH: RFCOMM with "channel", L2CAP with "psm". */
static int
addr_from_bt(json_object *obj, struct addr *a, const char **ret_field)
{
	struct sockd_bdaddr bdaddr;
	int64_t channel, psm;
	const char *text;
	int has_channel, has_psm;

	if (addr_text(obj, "bdaddr", &text) < 0 ||
	    addr_parse_bdaddr(text, &bdaddr) < 0) {
		*ret_field = "bdaddr";
		return -EINVAL;
	}
	has_channel = addr_int(obj, "channel", 0, 255, &channel);
	if (has_channel < 0) {
		*ret_field = "channel";
		return -EINVAL;
	}
	has_psm = addr_int(obj, "psm", 0, 65535, &psm);
	if (has_psm < 0 || (has_psm && has_channel)) {
		*ret_field = "psm";
		return -EINVAL;
	}
	if (has_channel) {
		struct sockd_sockaddr_rc *rc =
		    (struct sockd_sockaddr_rc *)&a->ss;

		rc->rc_family = AF_BLUETOOTH;
		rc->rc_bdaddr = bdaddr;
		rc->rc_channel = (unsigned char)channel;
		a->len = sizeof *rc;
	} else if (has_psm) {
		struct sockd_sockaddr_l2 *l2 =
		    (struct sockd_sockaddr_l2 *)&a->ss;

		l2->l2_family = AF_BLUETOOTH;
		l2->l2_psm = htole16((uint16_t)psm);
		l2->l2_bdaddr = bdaddr;
		a->len = sizeof *l2;
	} else {
		*ret_field = "channel";
		return -EINVAL;
	}
	return 0;
}

/* Parse a JSON address; ret is written only on success. */
int
addr_from_json(json_object *obj, int family, struct addr *ret,
	       const char **ret_field)
{
	const char *const *fields;
	const char *field = NULL;
	struct addr a;
	int r;

	if (!json_object_is_type(obj, json_type_object)) {
		*ret_field = "address";
		return -EINVAL;
	}
	r = addr_family(obj, family, &family);
	if (r < 0) {
		*ret_field = "family";
		return r;
	}
	switch (family) {
	case AF_INET:
		fields = addr_fields_inet;
		break;
	case AF_INET6:
		fields = addr_fields_inet6;
		break;
	case AF_UNIX:
		fields = addr_fields_unix;
		break;
	default:
		fields = addr_fields_bt;
		break;
	}
	r = addr_check_fields(obj, fields, &field);
	if (r < 0) {
		*ret_field = field;
		return r;
	}

	memset(&a, 0, sizeof a);
	switch (family) {
	case AF_INET:
	case AF_INET6:
		r = addr_from_inet(obj, family, &a, &field);
		break;
	case AF_UNIX:
		r = addr_from_unix(obj, &a, &field);
		break;
	default:
		r = addr_from_bt(obj, &a, &field);
		break;
	}
	if (r < 0) {
		*ret_field = field;
		return r;
	}
	*ret = a;
	return 0;
}

/* Add a new value to o; a NULL value (out of memory) is an error. */
static int
addr_add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Add a string field to o. */
static int
addr_add_string(json_object *o, const char *key, const char *s, size_t len)
{
	return addr_add(o, key, json_object_new_string_len(s, (int)len));
}

/* Add an integer field to o. */
static int
addr_add_int(json_object *o, const char *key, int64_t v)
{
	return addr_add(o, key, json_object_new_int64(v));
}

/* The family's name, or its number as text for one without a name. */
static const char *
addr_family_name(int family, char *buf, size_t size)
{
	const char *name = names_name(names_family, family);

	if (name != NULL)
		return name;
	snprintf(buf, size, "%d", family);
	return buf;
}

/* The "path" of a Unix address: "@" for abstract names, "" if unnamed. */
static size_t
addr_unix_path(const struct sockaddr_un *sun, socklen_t len, char *buf)
{
	size_t n;

	if (len <= ADDR_UNIX_MIN)
		return 0;
	n = len - ADDR_UNIX_MIN;
	if (n > sizeof sun->sun_path)
		n = sizeof sun->sun_path;
	if (sun->sun_path[0] == '\0') {
		buf[0] = '@';
		memcpy(buf + 1, sun->sun_path + 1, n - 1);
		return n;
	}
	n = strnlen(sun->sun_path, n);
	memcpy(buf, sun->sun_path, n);
	return n;
}

/* The "bdaddr" text of a Bluetooth address, most significant byte first. */
static void
addr_bdaddr_text(const struct sockd_bdaddr *b, char *buf, size_t size)
{
	snprintf(buf, size, "%02X:%02X:%02X:%02X:%02X:%02X", b->b[5], b->b[4],
		 b->b[3], b->b[2], b->b[1], b->b[0]);
}

/* Fill o with the fields of the address; -ENOMEM if one could not be. */
static int
addr_fill_json(json_object *o, const struct sockaddr_storage *ss, socklen_t len)
{
	char text[sizeof(struct sockaddr_un)], fam[16];
	int family = len >= sizeof(sa_family_t) ? ss->ss_family : AF_UNSPEC;
	const char *name = addr_family_name(family, fam, sizeof fam);

	if (addr_add_string(o, "family", name, strlen(name)) < 0)
		return -ENOMEM;
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
		if (addr_add_string(o, "host", text, strlen(text)) < 0 ||
		    addr_add_int(o, "port", ntohs(sin->sin_port)) < 0)
			return -ENOMEM;
	} else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		uint32_t flowinfo = ntohl(sin6->sin6_flowinfo);

		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
		if (addr_add_string(o, "host", text, strlen(text)) < 0 ||
		    addr_add_int(o, "port", ntohs(sin6->sin6_port)) < 0 ||
		    addr_add_int(o, "flowinfo", flowinfo) < 0 ||
		    addr_add_int(o, "scope_id", sin6->sin6_scope_id) < 0)
			return -ENOMEM;
	} else if (family == AF_UNIX) {
		size_t n = addr_unix_path((const void *)ss, len, text);
		char b64[B64_ENCODED_LEN(sizeof text) + 1];

		/* Replies are UTF-8: other names travel as base64. */
		if (utf8_valid(text, n)) {
			if (addr_add_string(o, "path", text, n) < 0)
				return -ENOMEM;
		} else if (addr_add_string(o, "path_base64", b64,
					   b64_encode(text, n, b64)) < 0) {
			return -ENOMEM;
		}
	} else if (family == AF_BLUETOOTH &&
		   len == sizeof(struct sockd_sockaddr_rc)) {
		const struct sockd_sockaddr_rc *rc = (const void *)ss;

		addr_bdaddr_text(&rc->rc_bdaddr, text, sizeof text);
		if (addr_add_string(o, "bdaddr", text, strlen(text)) < 0 ||
		    addr_add_int(o, "channel", rc->rc_channel) < 0)
			return -ENOMEM;
	} else if (family == AF_BLUETOOTH &&
		   len == sizeof(struct sockd_sockaddr_l2)) {
		const struct sockd_sockaddr_l2 *l2 = (const void *)ss;

		addr_bdaddr_text(&l2->l2_bdaddr, text, sizeof text);
		if (addr_add_string(o, "bdaddr", text, strlen(text)) < 0 ||
		    addr_add_int(o, "psm", le16toh(l2->l2_psm)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A kernel address as the JSON object replies carry. */
json_object *
addr_to_json(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage ss;
	json_object *o;

	/* Copy, so that short or unaligned input is read safely. */
	if (len > sizeof ss)
		len = sizeof ss;
	memset(&ss, 0, sizeof ss);
	if (sa != NULL)
		memcpy(&ss, sa, len);
	else
		len = 0;
	o = json_object_new_object();
	if (o == NULL)
		return NULL;
	if (addr_fill_json(o, &ss, len) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Set the port of an address a host name resolved to. */
void
addr_set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)(void *)sa)->sin_port =
		    htons((uint16_t)port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)sa)->sin6_port =
		    htons((uint16_t)port);
}

/* The port of an address, for the families that have one. */
int
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return -1;
}

/* One line of text for the address, for logs and the CLI. */
void
addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN], fam[16];
	struct sockaddr_storage ss;
	int family;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (len > sizeof ss)
		len = sizeof ss;
	memset(&ss, 0, sizeof ss);
	if (sa != NULL)
		memcpy(&ss, sa, len);
	else
		len = 0;
	family = len >= sizeof(sa_family_t) ? ss.ss_family : AF_UNSPEC;

	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		if (sin6->sin6_scope_id != 0)
			snprintf(buf, size, "[%s%%%u]:%u", host,
				 sin6->sin6_scope_id, ntohs(sin6->sin6_port));
		else
			snprintf(buf, size, "[%s]:%u", host,
				 ntohs(sin6->sin6_port));
	} else if (family == AF_UNIX) {
		const struct sockaddr_un *sun = (const void *)&ss;
		char path[sizeof(struct sockaddr_un)];
		size_t n = addr_unix_path(sun, len, path);

		/* Names are bytes: what is not printable text is escaped. */
		if (n == 0)
			snprintf(buf, size, "(unnamed)");
		else
			utf8_escape(path, n, buf, size);
	} else if (family == AF_BLUETOOTH &&
		   len == sizeof(struct sockd_sockaddr_rc)) {
		const struct sockd_sockaddr_rc *rc = (const void *)&ss;
		char text[18];

		addr_bdaddr_text(&rc->rc_bdaddr, text, sizeof text);
		snprintf(buf, size, "%s/%u", text, rc->rc_channel);
	} else if (family == AF_BLUETOOTH &&
		   len == sizeof(struct sockd_sockaddr_l2)) {
		const struct sockd_sockaddr_l2 *l2 = (const void *)&ss;
		char text[18];

		addr_bdaddr_text(&l2->l2_bdaddr, text, sizeof text);
		snprintf(buf, size, "%s/%u", text, le16toh(l2->l2_psm));
	} else {
		snprintf(buf, size, "%s",
			 addr_family_name(family, fam, sizeof fam));
	}
}

/* Parse "AA:BB:CC:DD:EE:FF", exactly: six hex pairs and five colons. */
int
addr_parse_bdaddr(const char *text, struct sockd_bdaddr *ret)
{
	struct sockd_bdaddr b;

	if (text == NULL || strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = text + i * 3;
		int hi = b64_hex_digit(p[0]), lo = b64_hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		b.b[5 - i] = (unsigned char)(hi << 4 | lo);
	}
	*ret = b;
	return 0;
}
