/*
 * Unit tests for proto/addr.c: each family both ways, checked against
 * inet_pton(), htons() and the kernel itself (bind, getsockname, connect),
 * host names left for the resolver, Unix names that are not UTF-8 as
 * path_base64, and every kind of invalid input refused with the name of
 * the field at fault.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "b64.h"
#include "unit.h"

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)
/* A string literal and its length, NULs inside included. */
#define S(lit) (lit), sizeof(lit) - 1

/* Parse JSON text; a test bug if it does not parse. */
static json_object *
J(const char *text)
{
	json_object *o = json_tokener_parse(text);

	if (o == NULL) {
		fprintf(stderr, "bad JSON in test: %s\n", text);
		exit(2);
	}
	return o;
}

/* Expect addr_from_json to accept text; the object is returned in *ret_obj
 * so that host_name stays valid until the caller puts it. */
static int
parse(const char *text, int family, struct addr *ret, json_object **ret_obj)
{
	const char *field = "(unset)";
	json_object *o = J(text);
	int r;

	memset(ret, 0, sizeof *ret);
	r = addr_from_json(o, family, ret, &field);
	if (r != 0)
		fprintf(stderr, "refused %s: %d, field %s\n", text, r, field);
	CHECK(r == 0);
	if (ret_obj != NULL)
		*ret_obj = o;
	else
		json_object_put(o);
	return r;
}

/* Expect err naming field, with the result left untouched. */
static void
refuse(const char *text, int family, int err, const char *field)
{
	struct addr a, before;
	const char *got = NULL;
	json_object *o = text != NULL ? J(text) : NULL;
	int r;

	memset(&a, 0xa5, sizeof a);
	memcpy(&before, &a, sizeof a); /* padding too, unlike = */
	r = addr_from_json(o, family, &a, &got);
	if (r != err || got == NULL || strcmp(got, field) != 0)
		fprintf(stderr, "%s: got %d field %s, want %d field %s\n",
			text ? text : "NULL", r, got ? got : "NULL", err,
			field);
	CHECK(r == err);
	CHECK_STR(got, field);
	/* Untouched means every byte, padding included.
	 * NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
	CHECK(memcmp(&a, &before, sizeof a) == 0);
	json_object_put(o);
}

#define BAD(text, family, field) refuse((text), (family), -EINVAL, (field))

/* The string field key of an object and its length, or "" and -1. */
static const char *
json_field(json_object *j, const char *key, int *ret_len)
{
	json_object *p;

	if (j == NULL || !json_object_object_get_ex(j, key, &p) ||
	    !json_object_is_type(p, json_type_string)) {
		*ret_len = -1;
		return "";
	}
	*ret_len = json_object_get_string_len(p);
	return json_object_get_string(p);
}

/* The "path" of an address object and its length, or "" and -1. */
static const char *
json_path(json_object *j, int *ret_len)
{
	return json_field(j, "path", ret_len);
}

/* addr_to_json of an address must equal the JSON text want. */
static void
check_json(const struct sockaddr *sa, socklen_t len, const char *want)
{
	json_object *got = addr_to_json(sa, len), *w = J(want);

	CHECK(got != NULL);
	if (!json_object_equal(got, w))
		fprintf(stderr, "addr_to_json: %s, want %s\n",
			json_object_to_json_string(got), want);
	CHECK(json_object_equal(got, w));
	json_object_put(got);
	json_object_put(w);
}

/* Parse in, render it back, and compare with want. */
static void
round_trip(const char *in, int family, const char *want)
{
	struct addr a;

	if (parse(in, family, &a, NULL) == 0) {
		CHECK(a.host_name == NULL);
		check_json((struct sockaddr *)&a.ss, a.len, want);
	}
}

/* addr_format of an address must be want. */
static void
check_format(const struct addr *a, const char *want)
{
	char buf[256];

	addr_format((const struct sockaddr *)&a->ss, a->len, buf, sizeof buf);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "addr_format: \"%s\", want \"%s\"\n", buf,
			want);
	CHECK_STR(buf, want);
}

static void
test_inet(void)
{
	struct sockaddr_in *sin;
	struct in_addr want;
	struct addr a;

	CHECK(parse("{\"host\": \"192.0.2.7\", \"port\": 8080}", AF_INET, &a,
		    NULL) == 0);
	sin = (struct sockaddr_in *)&a.ss;
	CHECK(inet_pton(AF_INET, "192.0.2.7", &want) == 1);
	CHECK(sin->sin_family == AF_INET);
	CHECK(sin->sin_port == htons(8080));
	CHECK(sin->sin_addr.s_addr == want.s_addr);
	CHECK(a.len == sizeof(struct sockaddr_in));
	CHECK(a.host_name == NULL);
	check_format(&a, "192.0.2.7:8080");
	check_json((struct sockaddr *)&a.ss, a.len,
		   "{\"family\": \"AF_INET\", \"host\": \"192.0.2.7\","
		   " \"port\": 8080}");

	/* The family may come from the object when the socket has none. */
	round_trip("{\"family\": \"AF_INET\", \"host\": \"10.1.2.3\","
		   " \"port\": 0}",
		   AF_UNSPEC,
		   "{\"family\": \"AF_INET\", \"host\": \"10.1.2.3\","
		   " \"port\": 0}");
	round_trip("{\"family\": \"AF_INET\", \"host\": \"10.1.2.3\","
		   " \"port\": 65535}",
		   AF_INET,
		   "{\"family\": \"AF_INET\", \"host\": \"10.1.2.3\","
		   " \"port\": 65535}");
	/* Missing and null are the same for optional fields; null family
	 * means the socket's. */
	round_trip("{\"family\": null, \"host\": \"10.1.2.3\", \"port\": 1}",
		   AF_INET,
		   "{\"family\": \"AF_INET\", \"host\": \"10.1.2.3\","
		   " \"port\": 1}");

	/* Python's spellings of the wildcard and the broadcast address. */
	CHECK(parse("{\"host\": \"\", \"port\": 80}", AF_INET, &a, NULL) == 0);
	sin = (struct sockaddr_in *)&a.ss;
	CHECK(sin->sin_addr.s_addr == htonl(INADDR_ANY));
	CHECK(a.host_name == NULL);
	check_format(&a, "0.0.0.0:80");
	CHECK(parse("{\"host\": \"<broadcast>\", \"port\": 9}", AF_INET, &a,
		    NULL) == 0);
	sin = (struct sockaddr_in *)&a.ss;
	CHECK(inet_pton(AF_INET, "255.255.255.255", &want) == 1);
	CHECK(sin->sin_addr.s_addr == want.s_addr);
	CHECK(a.host_name == NULL);
}

static void
test_inet6(void)
{
	struct sockaddr_in6 *sin6;
	struct in6_addr want;
	unsigned lo = if_nametoindex("lo");
	struct addr a;
	char text[128];

	CHECK(parse("{\"host\": \"fe80::1\", \"port\": 443, \"flowinfo\": 5,"
		    " \"scope_id\": 3}",
		    AF_INET6, &a, NULL) == 0);
	sin6 = (struct sockaddr_in6 *)&a.ss;
	CHECK(inet_pton(AF_INET6, "fe80::1", &want) == 1);
	CHECK(sin6->sin6_family == AF_INET6);
	CHECK(memcmp(&sin6->sin6_addr, &want, sizeof want) == 0);
	CHECK(sin6->sin6_port == htons(443));
	CHECK(sin6->sin6_flowinfo == htonl(5));
	CHECK(sin6->sin6_scope_id == 3);
	CHECK(a.len == sizeof(struct sockaddr_in6));
	check_format(&a, "[fe80::1%3]:443");
	check_json((struct sockaddr *)&a.ss, a.len,
		   "{\"family\": \"AF_INET6\", \"host\": \"fe80::1\","
		   " \"port\": 443, \"flowinfo\": 5, \"scope_id\": 3}");

	/* Optional fields default to 0; the text comes back canonical. */
	round_trip("{\"host\": \"2001:DB8:0:0:0:0:0:1\", \"port\": 1}",
		   AF_INET6,
		   "{\"family\": \"AF_INET6\", \"host\": \"2001:db8::1\","
		   " \"port\": 1, \"flowinfo\": 0, \"scope_id\": 0}");
	round_trip("{\"host\": \"::ffff:192.0.2.1\", \"port\": 2,"
		   " \"flowinfo\": 4294967295, \"scope_id\": 4294967295}",
		   AF_INET6,
		   "{\"family\": \"AF_INET6\", \"host\": \"::ffff:192.0.2.1\","
		   " \"port\": 2, \"flowinfo\": 4294967295,"
		   " \"scope_id\": 4294967295}");
	round_trip("{\"host\": \"\", \"port\": 3}", AF_INET6,
		   "{\"family\": \"AF_INET6\", \"host\": \"::\", \"port\": 3,"
		   " \"flowinfo\": 0, \"scope_id\": 0}");
	CHECK(parse("{\"host\": \"::1\", \"port\": 80}", AF_INET6, &a, NULL) ==
	      0);
	check_format(&a, "[::1]:80");

	/* A %scope suffix, numeric or an interface name. */
	CHECK(parse("{\"host\": \"fe80::2%7\", \"port\": 1}", AF_INET6, &a,
		    NULL) == 0);
	sin6 = (struct sockaddr_in6 *)&a.ss;
	CHECK(inet_pton(AF_INET6, "fe80::2", &want) == 1);
	CHECK(memcmp(&sin6->sin6_addr, &want, sizeof want) == 0);
	CHECK(sin6->sin6_scope_id == 7);
	CHECK(a.host_name == NULL);
	CHECK(parse("{\"host\": \"fe80::2%7\", \"port\": 1, \"scope_id\": 7}",
		    AF_INET6, &a, NULL) == 0);
	if (lo != 0) {
		CHECK(parse("{\"host\": \"fe80::2%lo\", \"port\": 1}", AF_INET6,
			    &a, NULL) == 0);
		sin6 = (struct sockaddr_in6 *)&a.ss;
		CHECK(sin6->sin6_scope_id == lo);
	}
	BAD("{\"host\": \"fe80::2%\", \"port\": 1}", AF_INET6, "host");
	BAD("{\"host\": \"fe80::2%no-such-if0\", \"port\": 1}", AF_INET6,
	    "host");
	BAD("{\"host\": \"fe80::2%4294967296\", \"port\": 1}", AF_INET6,
	    "host");
	BAD("{\"host\": \"fe80::2%7x\", \"port\": 1}", AF_INET6, "host");
	BAD("{\"host\": \"fe80::2%7\", \"port\": 1, \"scope_id\": 8}", AF_INET6,
	    "scope_id");

	/* IPv6 has no broadcast address. */
	BAD("{\"host\": \"<broadcast>\", \"port\": 1}", AF_INET6, "host");

	/* addr_set_port, for addresses the resolver filled in. */
	addr_set_port((struct sockaddr *)&a.ss, 5353);
	CHECK(((struct sockaddr_in6 *)&a.ss)->sin6_port == htons(5353));
	snprintf(text, sizeof text, "{\"host\": \"1.2.3.4\", \"port\": 1}");
	CHECK(parse(text, AF_INET, &a, NULL) == 0);
	addr_set_port((struct sockaddr *)&a.ss, 65535);
	CHECK(((struct sockaddr_in *)&a.ss)->sin_port == htons(65535));
}

static void
test_host_names(void)
{
	json_object *o, *h;
	struct addr a;

	/* A name is left for the resolver, pointing into the object. */
	CHECK(parse("{\"host\": \"localhost\", \"port\": 80}", AF_INET, &a,
		    &o) == 0);
	CHECK(json_object_object_get_ex(o, "host", &h));
	CHECK(a.host_name == json_object_get_string(h));
	CHECK_STR(a.host_name, "localhost");
	CHECK(a.port == 80);
	CHECK(a.ss.ss_family == AF_INET);
	json_object_put(o);

	CHECK(parse("{\"host\": \"example.org\", \"port\": 65535}", AF_INET6,
		    &a, &o) == 0);
	CHECK_STR(a.host_name, "example.org");
	CHECK(a.port == 65535);
	CHECK(a.ss.ss_family == AF_INET6);
	json_object_put(o);

	CHECK(parse("{\"family\": \"AF_INET6\", \"host\": \"ip6-localhost\","
		    " \"port\": 0}",
		    AF_UNSPEC, &a, &o) == 0);
	CHECK_STR(a.host_name, "ip6-localhost");
	CHECK(a.port == 0);
	CHECK(a.ss.ss_family == AF_INET6);
	json_object_put(o);

	/* inet_pton() is strict: other spellings go to the resolver, and
	 * an IPv6 text is a name in an AF_INET address. */
	CHECK(parse("{\"host\": \"127.1\", \"port\": 1}", AF_INET, &a, &o) ==
	      0);
	CHECK_STR(a.host_name, "127.1");
	json_object_put(o);
	CHECK(parse("{\"host\": \"::1\", \"port\": 1}", AF_INET, &a, &o) == 0);
	CHECK_STR(a.host_name, "::1");
	json_object_put(o);
	CHECK(parse("{\"host\": \"1.2.3.4\", \"port\": 1}", AF_INET, &a, &o) ==
	      0);
	CHECK(a.host_name == NULL);
	json_object_put(o);
}

static void
test_unix(void)
{
	struct sockaddr_un *sun;
	char text[512], name[200];
	const char *path;
	struct addr a;
	json_object *o, *j;
	int plen;

	CHECK(parse("{\"path\": \"/run/sockd/x.sock\"}", AF_UNIX, &a, NULL) ==
	      0);
	sun = (struct sockaddr_un *)&a.ss;
	CHECK(sun->sun_family == AF_UNIX);
	CHECK(strcmp(sun->sun_path, "/run/sockd/x.sock") == 0);
	CHECK(a.len == SUN_OFF + strlen("/run/sockd/x.sock") + 1);
	check_format(&a, "/run/sockd/x.sock");
	check_json(
	    (struct sockaddr *)&a.ss, a.len,
	    "{\"family\": \"AF_UNIX\", \"path\": \"/run/sockd/x.sock\"}");
	round_trip("{\"path\": \"relative/name\"}", AF_UNIX,
		   "{\"family\": \"AF_UNIX\", \"path\": \"relative/name\"}");

	/* Abstract: a NUL first, the length counts exactly the name. */
	CHECK(parse("{\"path\": \"@sockd/test\"}", AF_UNIX, &a, NULL) == 0);
	sun = (struct sockaddr_un *)&a.ss;
	CHECK(sun->sun_path[0] == '\0');
	CHECK(memcmp(sun->sun_path + 1, "sockd/test", 10) == 0);
	CHECK(a.len == SUN_OFF + 1 + 10);
	check_format(&a, "@sockd/test");
	check_json((struct sockaddr *)&a.ss, a.len,
		   "{\"family\": \"AF_UNIX\", \"path\": \"@sockd/test\"}");
	round_trip("{\"path\": \"@\"}", AF_UNIX,
		   "{\"family\": \"AF_UNIX\", \"path\": \"@\"}");
	CHECK(parse("{\"path\": \"@\"}", AF_UNIX, &a, NULL) == 0);
	CHECK(a.len == SUN_OFF + 1);

	/* Abstract names are bytes: NULs inside are kept both ways. */
	CHECK(parse("{\"path\": \"@a\\u0000b\"}", AF_UNIX, &a, &o) == 0);
	sun = (struct sockaddr_un *)&a.ss;
	CHECK(a.len == SUN_OFF + 4);
	CHECK(memcmp(sun->sun_path, "\0a\0b", 4) == 0);
	check_format(&a, "@a\\x00b");
	j = addr_to_json((struct sockaddr *)&a.ss, a.len);
	path = json_path(j, &plen);
	CHECK(plen == 4 && memcmp(path, "@a\0b", 4) == 0);
	json_object_put(j);
	json_object_put(o);

	/* Unnamed: only the family. */
	CHECK(parse("{\"path\": \"\"}", AF_UNIX, &a, NULL) == 0);
	CHECK(a.len == sizeof(sa_family_t));
	CHECK(a.ss.ss_family == AF_UNIX);
	check_format(&a, "(unnamed)");
	check_json((struct sockaddr *)&a.ss, a.len,
		   "{\"family\": \"AF_UNIX\", \"path\": \"\"}");

	/* The longest names that fit, and one byte more. */
	memset(name, 'x', sizeof name);
	name[0] = '/';
	snprintf(text, sizeof text, "{\"path\": \"%.*s\"}",
		 (int)sizeof(sun->sun_path) - 1, name);
	CHECK(parse(text, AF_UNIX, &a, NULL) == 0);
	CHECK(a.len == sizeof(struct sockaddr_un));
	snprintf(text, sizeof text, "{\"path\": \"%.*s\"}",
		 (int)sizeof(sun->sun_path), name);
	BAD(text, AF_UNIX, "path");
	name[0] = '@';
	snprintf(text, sizeof text, "{\"path\": \"%.*s\"}",
		 (int)sizeof(sun->sun_path), name);
	CHECK(parse(text, AF_UNIX, &a, NULL) == 0);
	CHECK(a.len == sizeof(struct sockaddr_un));
	snprintf(text, sizeof text, "{\"path\": \"%.*s\"}",
		 (int)sizeof(sun->sun_path) + 1, name);
	BAD(text, AF_UNIX, "path");

	/* A NUL in a file name would silently cut it short. */
	BAD("{\"path\": \"/tmp/a\\u0000b\"}", AF_UNIX, "path");
	BAD("{\"path\": \"\\u0000\"}", AF_UNIX, "path");
}

/* {"path_base64": base64 of the len bytes at name}, in buf. */
static const char *
b64_object(const char *name, size_t len, char *buf, size_t size)
{
	char b64[B64_ENCODED_LEN(256) + 1];

	if (len > 256) {
		fprintf(stderr, "name too long for the test: %zu\n", len);
		exit(2);
	}
	b64_encode(name, len, b64);
	snprintf(buf, size, "{\"path_base64\": \"%s\"}", b64);
	return buf;
}

/* The address holds the Unix name given as bytes: "@" and an abstract
 * name, or a file name. */
static void
check_unix_bytes(const struct addr *a, const char *name, size_t len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;

	CHECK(sun->sun_family == AF_UNIX);
	if (len > 0 && name[0] == '@') {
		CHECK(a->len == SUN_OFF + len);
		CHECK(sun->sun_path[0] == '\0');
		CHECK(memcmp(sun->sun_path + 1, name + 1, len - 1) == 0);
	} else {
		CHECK(a->len == SUN_OFF + len + 1);
		CHECK(memcmp(sun->sun_path, name, len) == 0);
		CHECK(sun->sun_path[len] == '\0');
	}
}

/*
 * The Unix name given as path_base64 is accepted as those bytes, goes
 * back to JSON as "path" when it is UTF-8 and as the same path_base64
 * when not, and that JSON parses to the very same address.
 */
static void
round_trip_bytes(const char *name, size_t len, bool utf8)
{
	char text[512], b64[B64_ENCODED_LEN(256) + 1];
	struct addr a, a2;
	const char *field = NULL, *got;
	json_object *j, *j2;
	int glen;

	if (parse(b64_object(name, len, text, sizeof text), AF_UNIX, &a,
		  NULL) != 0)
		return;
	check_unix_bytes(&a, name, len);
	j = addr_to_json((struct sockaddr *)&a.ss, a.len);
	CHECK(j != NULL);
	got = json_field(j, "family", &glen);
	CHECK_STR(got, "AF_UNIX");
	if (utf8) {
		got = json_field(j, "path", &glen);
		CHECK(glen == (int)len && memcmp(got, name, len) == 0);
		CHECK(!json_object_object_get_ex(j, "path_base64", NULL));
	} else {
		b64_encode(name, len, b64);
		got = json_field(j, "path_base64", &glen);
		CHECK_STR(got, b64);
		CHECK(!json_object_object_get_ex(j, "path", NULL));
	}
	CHECK(json_object_object_length(j) == 2);

	memset(&a2, 0x5a, sizeof a2);
	CHECK(addr_from_json(j, AF_UNSPEC, &a2, &field) == 0);
	CHECK(a2.len == a.len);
	CHECK(memcmp(&a2.ss, &a.ss, a.len) == 0);
	j2 = addr_to_json((struct sockaddr *)&a2.ss, a2.len);
	CHECK(json_object_equal(j, j2));
	if (!json_object_equal(j, j2) || a2.len != a.len)
		fprintf(stderr, "round trip: %s, then %s\n",
			json_object_to_json_string(j),
			json_object_to_json_string(j2));
	json_object_put(j2);
	json_object_put(j);
}

static void
test_unix_base64(void)
{
	char text[512], name[200];
	struct addr a;
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	/* Names that are not UTF-8, abstract and file names. */
	round_trip_bytes(S("@\xff\xfe"), false);
	round_trip_bytes(S("@sockd-\xff\xfe-x"), false);
	round_trip_bytes(S("/tmp/\xff\xfe"), false);
	round_trip_bytes(S("relative\xfe"), false);
	round_trip_bytes(S("\xff"), false);
	/* NULs in an abstract name beside bytes that are not UTF-8. */
	round_trip_bytes(S("@a\0\xff"), false);
	round_trip_bytes(S("@\xff\0"), false);
	/* Not UTF-8 only by the strict rules: overlong, surrogate, too
	 * high, truncated, a lone continuation byte. */
	round_trip_bytes(S("/tmp/\xc0\xaf"), false);
	round_trip_bytes(S("@\xed\xa0\x80"), false);
	round_trip_bytes(S("@\xf4\x90\x80\x80"), false);
	round_trip_bytes(S("/tmp/\xe2\x82"), false);
	round_trip_bytes(S("@\x80"), false);
	/* UTF-8 sent as base64 comes back as "path": one form per name.
	 * NULs in abstract names are UTF-8 (JSON escapes them), so are C1
	 * controls. */
	round_trip_bytes(S("@\0\0"), true);
	round_trip_bytes(S("@a\0b"), true);
	round_trip_bytes(S("/tmp/\xc3\xa9"), true);
	round_trip_bytes(S("@\xf4\x8f\xbf\xbf"), true);
	round_trip_bytes(S("/tmp/\xc2\x85"), true);
	round_trip_bytes(S("/x"), true);
	round_trip_bytes(S("@"), true);

	/* Empty: unnamed, as "path": "". */
	CHECK(parse("{\"path_base64\": \"\"}", AF_UNIX, &a, NULL) == 0);
	CHECK(a.len == sizeof(sa_family_t));
	check_json((struct sockaddr *)&a.ss, a.len,
		   "{\"family\": \"AF_UNIX\", \"path\": \"\"}");
	/* The family from the object. */
	CHECK(parse("{\"family\": \"AF_UNIX\", \"path_base64\": \"QP8=\"}",
		    AF_UNSPEC, &a, NULL) == 0);
	check_unix_bytes(&a, S("@\xff"));
	/* null is absent: the other field is the address. */
	CHECK(parse("{\"path\": null, \"path_base64\": \"L3g=\"}", AF_UNIX, &a,
		    NULL) == 0);
	check_unix_bytes(&a, S("/x"));
	CHECK(parse("{\"path\": \"/y\", \"path_base64\": null}", AF_UNIX, &a,
		    NULL) == 0);
	check_unix_bytes(&a, S("/y"));
	BAD("{\"path\": null, \"path_base64\": null}", AF_UNIX, "path");

	/* The longest names, 107 bytes of file name and "@" with 107 of
	 * abstract name, and one byte more. */
	memset(name, 'x', sizeof name);
	name[0] = '/';
	name[max - 1] = (char)0xff;
	round_trip_bytes(name, max, false);
	CHECK(parse(b64_object(name, max, text, sizeof text), AF_UNIX, &a,
		    NULL) == 0);
	CHECK(a.len == sizeof(struct sockaddr_un));
	name[max] = (char)0xfe;
	BAD(b64_object(name, max + 1, text, sizeof text), AF_UNIX,
	    "path_base64");
	memset(name, 'x', sizeof name);
	name[0] = '/';
	round_trip_bytes(name, max, true);
	BAD(b64_object(name, max + 1, text, sizeof text), AF_UNIX,
	    "path_base64");
	name[0] = '@';
	round_trip_bytes(name, max + 1, true);
	BAD(b64_object(name, max + 2, text, sizeof text), AF_UNIX,
	    "path_base64");
	name[1] = (char)0xff;
	name[max] = (char)0xfe;
	round_trip_bytes(name, max + 1, false);
	CHECK(parse(b64_object(name, max + 1, text, sizeof text), AF_UNIX, &a,
		    NULL) == 0);
	CHECK(a.len == sizeof(struct sockaddr_un));
	BAD(b64_object(name, max + 2, text, sizeof text), AF_UNIX,
	    "path_base64");
	/* A kernel name that fills sun_path, no NUL after it. */
	{
		struct sockaddr_un sun;
		char b64[B64_ENCODED_LEN(sizeof sun.sun_path) + 1];

		memset(&sun, 0xff, sizeof sun);
		sun.sun_family = AF_UNIX;
		sun.sun_path[0] = '/';
		b64_encode(sun.sun_path, sizeof sun.sun_path, b64);
		snprintf(text, sizeof text,
			 "{\"family\": \"AF_UNIX\", \"path_base64\": \"%s\"}",
			 b64);
		check_json((struct sockaddr *)&sun, sizeof sun, text);
		/* and the name ends at len */
		check_json((struct sockaddr *)&sun, (socklen_t)(SUN_OFF + 2),
			   "{\"family\": \"AF_UNIX\", \"path_base64\": "
			   "\"L/8=\"}");
	}

	/* Not both at once, whatever they say. */
	BAD("{\"path\": \"/x\", \"path_base64\": \"L3g=\"}", AF_UNIX,
	    "path_base64");
	BAD("{\"path\": \"@a\", \"path_base64\": \"QGI=\"}", AF_UNIX,
	    "path_base64");
	BAD("{\"path\": \"\", \"path_base64\": \"\"}", AF_UNIX, "path_base64");
	BAD("{\"family\": \"AF_UNIX\", \"path_base64\": \"L3g=\","
	    " \"path\": \"/x\"}",
	    AF_UNSPEC, "path_base64");

	/* Invalid base64: outside the alphabet, a length that is not a
	 * multiple of 4, padding inside, bits under the padding, spaces,
	 * a NUL, not a string, longer than any name. */
	BAD("{\"path_base64\": \"@@@=\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \"L3g\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \"L3g=L3g=\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \"L3h=\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \"L3g=\\n\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \" L3g=\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \"====\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \"L3g=\\u0000\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": \"L_g=\"}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": 1}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": true}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": [\"L3g=\"]}", AF_UNIX, "path_base64");
	BAD("{\"path_base64\": {}}", AF_UNIX, "path_base64");
	memset(name, 'A', sizeof name);
	snprintf(text, sizeof text, "{\"path_base64\": \"%.*s\"}", 148, name);
	BAD(text, AF_UNIX, "path_base64");

	/* A file name that decodes with a NUL in it. */
	BAD(b64_object(S("/tmp/a\0b"), text, sizeof text), AF_UNIX,
	    "path_base64");
	BAD(b64_object(S("/x\0"), text, sizeof text), AF_UNIX, "path_base64");
	BAD(b64_object(S("\0abc"), text, sizeof text), AF_UNIX, "path_base64");
	BAD(b64_object(S("\0"), text, sizeof text), AF_UNIX, "path_base64");

	/* Only Unix addresses have it. */
	BAD("{\"host\": \"1.2.3.4\", \"port\": 1, \"path_base64\": \"L3g=\"}",
	    AF_INET, "path_base64");
	BAD("{\"host\": \"::1\", \"port\": 1, \"path_base64\": \"L3g=\"}",
	    AF_INET6, "path_base64");

	/* addr_format: bytes that are not printable text are escaped. */
	CHECK(parse(b64_object(S("/tmp/\xff\xfe\n"), text, sizeof text),
		    AF_UNIX, &a, NULL) == 0);
	check_format(&a, "/tmp/\\xff\\xfe\\n");
	CHECK(parse(b64_object(S("@\xff\0\x1b[0m"), text, sizeof text), AF_UNIX,
		    &a, NULL) == 0);
	check_format(&a, "@\\xff\\x00\\x1b[0m");
	CHECK(parse(b64_object(S("/tmp/\xc2\x85\x7f"), text, sizeof text),
		    AF_UNIX, &a, NULL) == 0);
	check_format(&a, "/tmp/\\xc2\\x85\\x7f");
	CHECK(parse(b64_object(S("/tmp/\xc3\xa9\\"), text, sizeof text),
		    AF_UNIX, &a, NULL) == 0);
	check_format(&a, "/tmp/\xc3\xa9\\");
	CHECK(parse(b64_object(S("/tmp/\xed\xa0\x80"), text, sizeof text),
		    AF_UNIX, &a, NULL) == 0);
	check_format(&a, "/tmp/\\xed\\xa0\\x80");
}

static void
test_port(void)
{
	struct sockaddr_storage ss, before;
	struct addr a;

	CHECK(parse("{\"host\": \"192.0.2.1\", \"port\": 8080}", AF_INET, &a,
		    NULL) == 0);
	CHECK(addr_port((struct sockaddr *)&a.ss) == 8080);
	addr_set_port((struct sockaddr *)&a.ss, 5353);
	CHECK(addr_port((struct sockaddr *)&a.ss) == 5353);
	CHECK(parse("{\"host\": \"192.0.2.1\", \"port\": 0}", AF_INET, &a,
		    NULL) == 0);
	CHECK(addr_port((struct sockaddr *)&a.ss) == 0);
	CHECK(parse("{\"host\": \"192.0.2.1\", \"port\": 65535}", AF_INET, &a,
		    NULL) == 0);
	CHECK(addr_port((struct sockaddr *)&a.ss) == 65535);
	CHECK(parse("{\"host\": \"::1\", \"port\": 443}", AF_INET6, &a, NULL) ==
	      0);
	CHECK(addr_port((struct sockaddr *)&a.ss) == 443);
	addr_set_port((struct sockaddr *)&a.ss, 65535);
	CHECK(addr_port((struct sockaddr *)&a.ss) == 65535);
	/* 0x0102 in network order reads as 258, not 513. */
	((struct sockaddr_in6 *)&a.ss)->sin6_port = htons(0x0102);
	CHECK(addr_port((struct sockaddr *)&a.ss) == 0x0102);

	/* Families without ports: -1, and addr_set_port leaves them be. */
	CHECK(parse("{\"path\": \"/run/x\"}", AF_UNIX, &a, NULL) == 0);
	CHECK(addr_port((struct sockaddr *)&a.ss) == -1);
	memcpy(&before, &a.ss, sizeof before);
	addr_set_port((struct sockaddr *)&a.ss, 80);
	CHECK(memcmp(&before, &a.ss, sizeof before) == 0);
	CHECK(parse("{\"bdaddr\": \"01:02:03:04:05:06\", \"channel\": 3}",
		    AF_BLUETOOTH, &a, NULL) == 0);
	CHECK(addr_port((struct sockaddr *)&a.ss) == -1);
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNSPEC;
	CHECK(addr_port((struct sockaddr *)&ss) == -1);
	ss.ss_family = AF_PACKET;
	CHECK(addr_port((struct sockaddr *)&ss) == -1);
}

static void
test_bluetooth(void)
{
	struct sockd_sockaddr_rc *rc;
	struct sockd_sockaddr_l2 *l2;
	const unsigned char *psm;
	struct addr a;

	/* The kernel's struct sizes, which replies are told apart by. */
	CHECK(sizeof(struct sockd_sockaddr_rc) == 10);
	CHECK(sizeof(struct sockd_sockaddr_l2) == 14);
	CHECK(offsetof(struct sockd_sockaddr_l2, l2_bdaddr) == 4);

	CHECK(parse("{\"bdaddr\": \"01:23:45:67:89:aB\", \"channel\": 3}",
		    AF_BLUETOOTH, &a, NULL) == 0);
	rc = (struct sockd_sockaddr_rc *)&a.ss;
	CHECK(rc->rc_family == AF_BLUETOOTH);
	CHECK(a.len == 10);
	CHECK(memcmp(rc->rc_bdaddr.b, "\xab\x89\x67\x45\x23\x01", 6) == 0);
	CHECK(rc->rc_channel == 3);
	check_format(&a, "01:23:45:67:89:AB/3");
	check_json((struct sockaddr *)&a.ss, a.len,
		   "{\"family\": \"AF_BLUETOOTH\", \"bdaddr\":"
		   " \"01:23:45:67:89:AB\", \"channel\": 3}");

	CHECK(parse("{\"family\": \"AF_BLUETOOTH\", \"bdaddr\":"
		    " \"FF:EE:DD:CC:BB:AA\", \"psm\": 4097}",
		    AF_UNSPEC, &a, NULL) == 0);
	l2 = (struct sockd_sockaddr_l2 *)&a.ss;
	psm = (const unsigned char *)&l2->l2_psm;
	CHECK(l2->l2_family == AF_BLUETOOTH);
	CHECK(a.len == 14);
	CHECK(memcmp(l2->l2_bdaddr.b, "\xaa\xbb\xcc\xdd\xee\xff", 6) == 0);
	CHECK(psm[0] == 0x01 && psm[1] == 0x10); /* 0x1001, little-endian */
	CHECK(l2->l2_cid == 0 && l2->l2_bdaddr_type == 0);
	check_format(&a, "FF:EE:DD:CC:BB:AA/4097");
	check_json((struct sockaddr *)&a.ss, a.len,
		   "{\"family\": \"AF_BLUETOOTH\", \"bdaddr\":"
		   " \"FF:EE:DD:CC:BB:AA\", \"psm\": 4097}");
	round_trip("{\"bdaddr\": \"00:00:00:00:00:00\", \"channel\": 255}",
		   AF_BLUETOOTH,
		   "{\"family\": \"AF_BLUETOOTH\", \"bdaddr\":"
		   " \"00:00:00:00:00:00\", \"channel\": 255}");
	round_trip("{\"bdaddr\": \"00:00:00:00:00:01\", \"psm\": 65535}",
		   AF_BLUETOOTH,
		   "{\"family\": \"AF_BLUETOOTH\", \"bdaddr\":"
		   " \"00:00:00:00:00:01\", \"psm\": 65535}");

	BAD("{\"bdaddr\": \"01:02:03:04:05:06\"}", AF_BLUETOOTH, "channel");
	BAD("{\"bdaddr\": \"01:02:03:04:05:06\", \"channel\": 1, \"psm\": 1}",
	    AF_BLUETOOTH, "psm");
	BAD("{\"bdaddr\": \"01:02:03:04:05:06\", \"channel\": 256}",
	    AF_BLUETOOTH, "channel");
	BAD("{\"bdaddr\": \"01:02:03:04:05:06\", \"channel\": -1}",
	    AF_BLUETOOTH, "channel");
	BAD("{\"bdaddr\": \"01:02:03:04:05:06\", \"channel\": \"1\"}",
	    AF_BLUETOOTH, "channel");
	BAD("{\"bdaddr\": \"01:02:03:04:05:06\", \"psm\": 65536}", AF_BLUETOOTH,
	    "psm");
	BAD("{\"bdaddr\": \"01:02:03:04:05:06\", \"psm\": 1.0}", AF_BLUETOOTH,
	    "psm");
	BAD("{\"channel\": 1}", AF_BLUETOOTH, "bdaddr");
	BAD("{\"bdaddr\": 1, \"channel\": 1}", AF_BLUETOOTH, "bdaddr");
	BAD("{\"bdaddr\": \"01:02:03:04:05\", \"channel\": 1}", AF_BLUETOOTH,
	    "bdaddr");
	BAD("{\"bdaddr\": \"01:02:03:04:05:06\", \"channel\": 1,"
	    " \"host\": \"x\"}",
	    AF_BLUETOOTH, "host");
}

static void
test_bdaddr(void)
{
	static const char *const bad[] = {
	    "",
	    "01:02:03:04:05",
	    "01:02:03:04:05:06:",
	    "01:02:03:04:05:0G",
	    "01-02-03-04-05-06",
	    "01:02:03:04:05:6",
	    "1:02:03:04:05:06",
	    "001:02:03:04:05:6",
	    " 01:02:03:04:05:06",
	    "01:02:03:04:05:06 ",
	    "01:02:03:04:05:06\n",
	    "0x:02:03:04:05:06",
	    "01:02:03:04:05\x10\x30",
	    "01::02:03:04:05:6",
	};
	struct sockd_bdaddr b, before;

	CHECK(addr_parse_bdaddr("00:11:22:33:44:55", &b) == 0);
	CHECK(memcmp(b.b, "\x55\x44\x33\x22\x11\x00", 6) == 0);
	CHECK(addr_parse_bdaddr("aA:bB:cC:dD:eE:fF", &b) == 0);
	CHECK(memcmp(b.b, "\xff\xee\xdd\xcc\xbb\xaa", 6) == 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&b, 0x5a, sizeof b);
		before = b;
		if (addr_parse_bdaddr(bad[i], &b) != -EINVAL)
			fprintf(stderr, "accepted bdaddr \"%s\"\n", bad[i]);
		CHECK(addr_parse_bdaddr(bad[i], &b) == -EINVAL);
		CHECK(memcmp(&b, &before, sizeof b) == 0);
	}
}

static void
test_invalid(void)
{
	char text[128];

	/* Not an object at all. */
	refuse(NULL, AF_INET, -EINVAL, "address");
	BAD("[]", AF_INET, "address");
	BAD("\"127.0.0.1:80\"", AF_INET, "address");
	BAD("80", AF_INET, "address");

	/* The family: unknown, the wrong type, missing, or contradicting
	 * the socket's. */
	BAD("{\"host\": \"1.2.3.4\", \"port\": 1}", AF_UNSPEC, "family");
	BAD("{\"family\": \"AF_FOO\", \"host\": \"1.2.3.4\", \"port\": 1}",
	    AF_INET, "family");
	BAD("{\"family\": \"af_inet\", \"host\": \"1.2.3.4\", \"port\": 1}",
	    AF_UNSPEC, "family");
	BAD("{\"family\": 2, \"host\": \"1.2.3.4\", \"port\": 1}", AF_INET,
	    "family");
	BAD("{\"family\": \"AF_UNSPEC\", \"host\": \"1.2.3.4\", \"port\": 1}",
	    AF_UNSPEC, "family");
	BAD("{\"family\": \"AF_INET6\", \"host\": \"::1\", \"port\": 1}",
	    AF_INET, "family");
	BAD("{\"family\": \"AF_UNIX\", \"path\": \"/x\"}", AF_INET6, "family");
	/* Families the codec does not speak. */
	refuse("{\"family\": \"AF_PACKET\"}", AF_UNSPEC, -EAFNOSUPPORT,
	       "family");
	refuse("{\"family\": \"AF_NETLINK\"}", AF_NETLINK, -EAFNOSUPPORT,
	       "family");
	refuse("{\"path\": \"/x\"}", AF_PACKET, -EAFNOSUPPORT, "family");

	/* Fields the family does not have, named as sent. */
	BAD("{\"host\": \"1.2.3.4\", \"port\": 1, \"path\": \"/x\"}", AF_INET,
	    "path");
	BAD("{\"host\": \"1.2.3.4\", \"port\": 1, \"flowinfo\": 0}", AF_INET,
	    "flowinfo");
	BAD("{\"host\": \"1.2.3.4\", \"port\": 1, \"scope_id\": 0}", AF_INET,
	    "scope_id");
	BAD("{\"host\": \"::1\", \"port\": 1, \"channel\": 0}", AF_INET6,
	    "channel");
	BAD("{\"path\": \"/x\", \"port\": 1}", AF_UNIX, "port");
	BAD("{\"path\": \"/x\", \"host\": \"a\"}", AF_UNIX, "host");
	BAD("{\"host\": \"1.2.3.4\", \"port\": 1, \"Port\": 2}", AF_INET,
	    "Port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": 1, \"frobnicate\": true}",
	    AF_INET, "frobnicate");

	/* host: required, a string, no NUL. */
	BAD("{\"port\": 1}", AF_INET, "host");
	BAD("{\"host\": null, \"port\": 1}", AF_INET, "host");
	BAD("{\"host\": 16909060, \"port\": 1}", AF_INET, "host");
	BAD("{\"host\": [\"1.2.3.4\"], \"port\": 1}", AF_INET, "host");
	BAD("{\"host\": \"1.2.3.4\\u0000evil\", \"port\": 1}", AF_INET, "host");
	BAD("{\"port\": 1}", AF_INET6, "host");

	/* port: required, an integer 0..65535. */
	BAD("{\"host\": \"1.2.3.4\"}", AF_INET, "port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": null}", AF_INET, "port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": \"80\"}", AF_INET, "port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": -1}", AF_INET, "port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": 65536}", AF_INET, "port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": 80.0}", AF_INET, "port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": true}", AF_INET, "port");
	BAD("{\"host\": \"1.2.3.4\", \"port\": 18446744073709551615}", AF_INET,
	    "port");
	BAD("{\"host\": \"localhost\", \"port\": 70000}", AF_INET, "port");
	BAD("{\"host\": \"::1\", \"port\": 65536}", AF_INET6, "port");

	/* flowinfo and scope_id: unsigned 32-bit integers. */
	BAD("{\"host\": \"::1\", \"port\": 1, \"flowinfo\": -1}", AF_INET6,
	    "flowinfo");
	BAD("{\"host\": \"::1\", \"port\": 1, \"flowinfo\": 4294967296}",
	    AF_INET6, "flowinfo");
	BAD("{\"host\": \"::1\", \"port\": 1, \"flowinfo\": \"0\"}", AF_INET6,
	    "flowinfo");
	BAD("{\"host\": \"::1\", \"port\": 1, \"scope_id\": -1}", AF_INET6,
	    "scope_id");
	BAD("{\"host\": \"::1\", \"port\": 1, \"scope_id\": 4294967296}",
	    AF_INET6, "scope_id");
	BAD("{\"host\": \"::1\", \"port\": 1, \"scope_id\": 1.5}", AF_INET6,
	    "scope_id");

	/* path: required, a string. */
	BAD("{}", AF_UNIX, "path");
	BAD("{\"path\": null}", AF_UNIX, "path");
	BAD("{\"path\": 1}", AF_UNIX, "path");
	BAD("{\"path\": {}}", AF_UNIX, "path");
	snprintf(text, sizeof text, "{\"family\": \"AF_UNIX\"}");
	BAD(text, AF_UNSPEC, "path");
}

static void
test_to_json_other(void)
{
	struct sockaddr_storage ss;
	char buf[64];

	/* Families without a codec say only what they are. */
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_PACKET;
	check_json((struct sockaddr *)&ss, 20, "{\"family\": \"AF_PACKET\"}");
	addr_format((struct sockaddr *)&ss, 20, buf, sizeof buf);
	CHECK_STR(buf, "AF_PACKET");
	ss.ss_family = 77;
	check_json((struct sockaddr *)&ss, 16, "{\"family\": \"77\"}");
	/* No address at all (recvfrom on a connected stream). */
	check_json((struct sockaddr *)&ss, 0, "{\"family\": \"AF_UNSPEC\"}");
	check_json(NULL, 0, "{\"family\": \"AF_UNSPEC\"}");
	/* Too short for its family: no fields read past len. */
	ss.ss_family = AF_INET;
	check_json((struct sockaddr *)&ss, 4, "{\"family\": \"AF_INET\"}");
	ss.ss_family = AF_BLUETOOTH;
	check_json((struct sockaddr *)&ss, 8, "{\"family\": \"AF_BLUETOOTH\"}");
	/* A path that fills sun_path with no NUL after it. */
	{
		struct sockaddr_un sun;
		char want[256];

		memset(&sun, 'p', sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(want, sizeof want,
			 "{\"family\": \"AF_UNIX\", \"path\": \"%.*s\"}",
			 (int)sizeof sun.sun_path, sun.sun_path);
		check_json((struct sockaddr *)&sun, sizeof sun, want);
		/* The name ends at len even without a NUL there. */
		snprintf(sun.sun_path, sizeof sun.sun_path, "abcdef");
		check_json((struct sockaddr *)&sun, (socklen_t)(SUN_OFF + 3),
			   "{\"family\": \"AF_UNIX\", \"path\": \"abc\"}");
	}
}

static void
test_format_sizes(void)
{
	struct addr a;
	char buf[8];

	CHECK(parse("{\"host\": \"192.0.2.255\", \"port\": 65535}", AF_INET, &a,
		    NULL) == 0);
	addr_format((struct sockaddr *)&a.ss, a.len, buf, 5);
	CHECK_STR(buf, "192.");
	memset(buf, 'z', sizeof buf);
	addr_format((struct sockaddr *)&a.ss, a.len, buf, 0);
	CHECK(buf[0] == 'z');
	addr_format((struct sockaddr *)&a.ss, a.len, buf, 1);
	CHECK(buf[0] == '\0');
	/* Escapes are not cut in half. */
	CHECK(parse("{\"path\": \"@ab\\u0001\"}", AF_UNIX, &a, NULL) == 0);
	addr_format((struct sockaddr *)&a.ss, a.len, buf, 6);
	CHECK_STR(buf, "@ab");
	addr_format((struct sockaddr *)&a.ss, a.len, buf, 7);
	CHECK_STR(buf, "@ab");
	addr_format((struct sockaddr *)&a.ss, a.len, buf, 8);
	CHECK_STR(buf, "@ab\\x01");
}

/* getsockname() of fd as JSON equals want. */
static void
check_sockname(int fd, const char *want)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
	check_json((struct sockaddr *)&ss, len, want);
}

/* The kernel is the judge: parsed addresses bind and connect as meant. */
static void
test_kernel(void)
{
	char dir[] = "/tmp/test-addr-XXXXXX", text[512], path[256];
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	socklen_t len = sizeof ss;
	struct addr a;
	struct stat st;
	int fd, fd2;
	const char *path_json;
	json_object *j;
	int plen;

	/* AF_INET: bind to port 0, read the port the kernel chose. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(parse("{\"host\": \"127.0.0.1\", \"port\": 0}", AF_INET, &a,
		    NULL) == 0);
	CHECK(bind(fd, (struct sockaddr *)&a.ss, a.len) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
	/* clang 14's analyzer does not see getsockname write ss through
	 * glibc's transparent union (llvm-project issue 60482).
	 * NOLINTBEGIN(clang-analyzer-core.CallAndMessage) */
	snprintf(text, sizeof text,
		 "{\"family\": \"AF_INET\", \"host\": \"127.0.0.1\","
		 " \"port\": %u}",
		 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	/* NOLINTEND(clang-analyzer-core.CallAndMessage) */
	CHECK(((struct sockaddr_in *)&ss)->sin_port != 0);
	check_sockname(fd, text);
	close(fd);

	/* AF_INET6 on ::1, where the host has IPv6. */
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(parse("{\"host\": \"::1\", \"port\": 0}", AF_INET6, &a, NULL) ==
	      0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a.ss, a.len) == 0) {
		len = sizeof ss;
		CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
		snprintf(text, sizeof text,
			 "{\"family\": \"AF_INET6\", \"host\": \"::1\","
			 " \"port\": %u, \"flowinfo\": 0, \"scope_id\": 0}",
			 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
		check_sockname(fd, text);
	}
	if (fd >= 0)
		close(fd);

	/* A file name: the socket appears there. */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/s", dir);
	snprintf(text, sizeof text, "{\"path\": \"%s\"}", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(parse(text, AF_UNIX, &a, NULL) == 0);
	CHECK(bind(fd, (struct sockaddr *)&a.ss, a.len) == 0);
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	snprintf(text, sizeof text,
		 "{\"family\": \"AF_UNIX\", \"path\": \"%s\"}", path);
	check_sockname(fd, text);
	close(fd);
	unlink(path);
	rmdir(dir);

	/* Abstract: bound by hand, reached through the codec. The kernel
	 * compares the whole length, so an off-by-one is refused. */
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1,
		 "sockd-test-addr-%d", (int)getpid());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(bind(fd, (struct sockaddr *)&sun,
		   (socklen_t)(SUN_OFF + 1 + strlen(sun.sun_path + 1))) == 0);
	CHECK(listen(fd, 1) == 0);
	snprintf(text, sizeof text,
		 "{\"family\": \"AF_UNIX\", \"path\": \"@%s\"}",
		 sun.sun_path + 1);
	check_sockname(fd, text);
	fd2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(parse(text, AF_UNIX, &a, NULL) == 0);
	CHECK(connect(fd2, (struct sockaddr *)&a.ss, a.len) == 0);
	close(fd2);
	snprintf(text, sizeof text, "{\"path\": \"@%.*s\"}",
		 (int)strlen(sun.sun_path + 1) - 1, sun.sun_path + 1);
	fd2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(parse(text, AF_UNIX, &a, NULL) == 0);
	CHECK(connect(fd2, (struct sockaddr *)&a.ss, a.len) < 0 &&
	      errno == ECONNREFUSED);
	close(fd2);
	close(fd);

	/* Abstract with a NUL inside: the kernel keeps every byte. */
	snprintf(text, sizeof text,
		 "{\"family\": \"AF_UNIX\", \"path\": \"@sockd\\u0000%d\"}",
		 (int)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(parse(text, AF_UNIX, &a, NULL) == 0);
	CHECK(bind(fd, (struct sockaddr *)&a.ss, a.len) == 0);
	check_sockname(fd, text);
	close(fd);

	/* Unnamed: bind() autobinds to a five hex digit abstract name. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(parse("{\"path\": \"\"}", AF_UNIX, &a, NULL) == 0);
	CHECK(bind(fd, (struct sockaddr *)&a.ss, a.len) == 0);
	len = sizeof ss;
	CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
	j = addr_to_json((struct sockaddr *)&ss, len);
	path_json = json_path(j, &plen);
	CHECK(plen == 6 && path_json[0] == '@');
	CHECK(strspn(path_json + 1, "0123456789abcdef") == 5);
	json_object_put(j);
	close(fd);

	/* An unbound socket's name is unnamed. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	check_sockname(fd, "{\"family\": \"AF_UNIX\", \"path\": \"\"}");
	close(fd);
}

/* The kernel keeps names that are not UTF-8; they come back as they
 * went, as path_base64. */
static void
test_kernel_base64(void)
{
	char dir[] = "/tmp/test-addr-XXXXXX", text[512], name[256];
	struct stat st;
	struct addr a;
	int fd, fd2, n;

	/* Abstract. */
	n = snprintf(name, sizeof name, "@sockd-\xff\xfe-%d", (int)getpid());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(parse(b64_object(name, (size_t)n, text, sizeof text), AF_UNIX, &a,
		    NULL) == 0);
	CHECK(bind(fd, (struct sockaddr *)&a.ss, a.len) == 0);
	CHECK(listen(fd, 1) == 0);
	{
		char b64[B64_ENCODED_LEN(256) + 1], want[512];

		b64_encode(name, (size_t)n, b64);
		snprintf(want, sizeof want,
			 "{\"family\": \"AF_UNIX\", \"path_base64\": \"%s\"}",
			 b64);
		check_sockname(fd, want);
		fd2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK(parse(want, AF_UNIX, &a, NULL) == 0);
		CHECK(connect(fd2, (struct sockaddr *)&a.ss, a.len) == 0);
		close(fd2);
	}
	close(fd);

	/* A file name. */
	CHECK(mkdtemp(dir) != NULL);
	n = snprintf(name, sizeof name, "%s/s\xff\xfe", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(parse(b64_object(name, (size_t)n, text, sizeof text), AF_UNIX, &a,
		    NULL) == 0);
	CHECK(bind(fd, (struct sockaddr *)&a.ss, a.len) == 0);
	CHECK(stat(name, &st) == 0 && S_ISSOCK(st.st_mode));
	{
		char b64[B64_ENCODED_LEN(256) + 1], want[512];

		b64_encode(name, (size_t)n, b64);
		snprintf(want, sizeof want,
			 "{\"family\": \"AF_UNIX\", \"path_base64\": \"%s\"}",
			 b64);
		check_sockname(fd, want);
	}
	close(fd);
	unlink(name);
	rmdir(dir);
}

int
main(void)
{
	test_inet();
	test_inet6();
	test_host_names();
	test_unix();
	test_unix_base64();
	test_port();
	test_bluetooth();
	test_bdaddr();
	test_invalid();
	test_to_json_other();
	test_format_sizes();
	test_kernel();
	test_kernel_base64();
	return UNIT_DONE();
}
