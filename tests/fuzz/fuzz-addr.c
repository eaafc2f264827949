/*
 * Fuzz target: the address codec (proto/addr.c), both ways.
 *
 * JSON to sockaddr: the input is an address object, the socket's family
 * chosen by the first byte. A refusal names a field and leaves the
 * result untouched; an accepted numeric address encodes back to JSON that
 * decodes to the very same sockaddr, and to the same JSON again; a host
 * name is only ever one that is not a numeric address.
 *
 * sockaddr to JSON: the input is a kernel address of any length. The
 * JSON always names the family; whenever the codec read more than the
 * family, the JSON decodes and encodes back to itself.
 *
 * Both ways, addr_format fits any buffer and ends with a NUL.
 *
 * Input: [mode/family] [JSON text, or sockaddr bytes]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "b64.h"
#include "fuzz.h"

FUZZ_TARGET("addr");

/* The socket family the object is decoded for. */
static const int fuzz_families[8] = {
    AF_UNSPEC,	  AF_INET,   AF_INET6, AF_UNIX,
    AF_BLUETOOTH, AF_PACKET, AF_INET6, 12345,
};

/* addr_format into buffers of several sizes: always terminated. */
static void
fuzz_format(const struct sockaddr *sa, socklen_t len)
{
	static const size_t sizes[] = {1, 2, 7, 16, 64, 300};
	char buf[300];

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		memset(buf, 'x', sizeof buf);
		addr_format(sa, len, buf, sizes[i]);
		FUZZ_CHECK(memchr(buf, '\0', sizes[i]) != NULL);
		FUZZ_CHECK(sizes[i] == sizeof buf || buf[sizes[i]] == 'x');
	}
}

/* JSON that decodes to an address encodes to the same JSON. */
static void
fuzz_json_fixpoint(json_object *j)
{
	const char *field = NULL;
	json_object *j2;
	struct addr a;

	FUZZ_CHECK(addr_from_json(j, AF_UNSPEC, &a, &field) == 0);
	FUZZ_CHECK(a.host_name == NULL);
	j2 = addr_to_json((struct sockaddr *)&a.ss, a.len);
	FUZZ_CHECK(j2 != NULL);
	FUZZ_CHECK(json_object_equal(j, j2));
	json_object_put(j2);
}

/* Is host a numeric address of family, or one the codec treats as such? */
static bool
fuzz_numeric(int family, const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return *host == '\0' || strcmp(host, "<broadcast>") == 0 ||
	       inet_pton(family, host, buf) == 1;
}

/* Decode a JSON address, check, encode back. */
static void
fuzz_from_json(int family, const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(8);
	const char *field = NULL;
	json_object *obj, *j, *host;
	struct addr a, b, untouched;
	int r;

	FUZZ_CHECK(tok != NULL);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (obj == NULL)
		return;
	memset(&untouched, 0xa5, sizeof untouched);
	memcpy(&a, &untouched, sizeof a); /* padding too, unlike a = */
	r = addr_from_json(obj, family, &a, &field);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -EAFNOSUPPORT);
		FUZZ_CHECK(field != NULL); /* "" for an unknown key "" */
		FUZZ_CHECK(r == -EINVAL || strcmp(field, "family") == 0);
		/* Untouched means every byte, padding included.
		 * NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
		FUZZ_CHECK(memcmp(&a, &untouched, sizeof a) == 0);
		json_object_put(obj);
		return;
	}
	FUZZ_CHECK(json_object_is_type(obj, json_type_object));
	FUZZ_CHECK(a.len > 0 && a.len <= sizeof a.ss);
	FUZZ_CHECK(family == AF_UNSPEC || a.ss.ss_family == family);
	if (a.host_name != NULL) {
		/* A name, to be resolved: "host" itself, and not numeric. */
		FUZZ_CHECK(a.ss.ss_family == AF_INET ||
			   a.ss.ss_family == AF_INET6);
		FUZZ_CHECK(json_object_object_get_ex(obj, "host", &host));
		FUZZ_CHECK(a.host_name == json_object_get_string(host));
		FUZZ_CHECK(!fuzz_numeric(a.ss.ss_family, a.host_name));
		FUZZ_CHECK(a.port >= 0 && a.port <= 65535);
		addr_set_port((struct sockaddr *)&a.ss, a.port);
		json_object_put(obj);
		return;
	}
	fuzz_format((struct sockaddr *)&a.ss, a.len);
	/* Numeric: the round trip is exact. */
	j = addr_to_json((struct sockaddr *)&a.ss, a.len);
	FUZZ_CHECK(j != NULL);
	memset(&b, 0, sizeof b);
	r = addr_from_json(j, AF_UNSPEC, &b, &field);
	FUZZ_CHECK(r == 0 && b.host_name == NULL);
	FUZZ_CHECK(b.len == a.len && memcmp(&b.ss, &a.ss, a.len) == 0);
	fuzz_json_fixpoint(j);
	json_object_put(j);
	json_object_put(obj);
}

/* Is j a Unix file name of the whole size of sun_path ("path", or
 * "path_base64" for one that is not UTF-8)? */
static bool
fuzz_full_path(json_object *j)
{
	struct sockaddr_un sun;
	unsigned char
	    raw[B64_DECODED_MAX(B64_ENCODED_LEN(sizeof sun.sun_path))];
	json_object *path;
	size_t n;

	if (json_object_object_get_ex(j, "path", &path))
		return json_object_get_string_len(path) ==
			   sizeof sun.sun_path &&
		       json_object_get_string(path)[0] != '@';
	if (!json_object_object_get_ex(j, "path_base64", &path) ||
	    json_object_get_string_len(path) >
		(int)B64_ENCODED_LEN(sizeof sun.sun_path) ||
	    b64_decode(json_object_get_string(path),
		       (size_t)json_object_get_string_len(path), raw, &n) < 0)
		return false;
	return n == sizeof sun.sun_path && raw[0] != '@';
}

/* Encode a kernel address, check, decode back. */
static void
fuzz_to_json(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)size;
	json_object *j, *fam;

	/* Odd lengths and lengths past sockaddr_storage are the codec's to
	 * cut; hand it an aligned copy of the bytes, as the kernel would. */
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, data, size < sizeof ss ? size : sizeof ss);
	fuzz_format((struct sockaddr *)&ss, len);
	j = addr_to_json(size ? (struct sockaddr *)&ss : NULL, len);
	FUZZ_CHECK(j != NULL);
	FUZZ_CHECK(json_object_object_get_ex(j, "family", &fam) &&
		   json_object_is_type(fam, json_type_string));
	/* More than the family: the codec understood the address. Except
	 * a file name that fills sun_path with no NUL: the kernel reports
	 * one, but, as in Python, a name must leave room for its NUL. */
	if (json_object_object_length(j) > 1 && !fuzz_full_path(j))
		fuzz_json_fixpoint(j);
	json_object_put(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		fuzz_to_json(data + 1, size - 1 > 200 ? 200 : size - 1);
	else
		fuzz_from_json(fuzz_families[data[0] & 7],
			       (const char *)data + 1, size - 1);
	return 0;
}
