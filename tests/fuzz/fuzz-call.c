/*
 * Fuzz target: one varlink message as the daemon's dispatcher sees it
 * (proto/varlink.c, the method table of daemon/op-*.c, proto/names.c and
 * the parameter conversions the dispatcher and handlers make). Properties:
 *
 * - a call is accepted only if it is well-formed UTF-8 (checked here
 *   against RFC 3629's table), a JSON object with a string method free of
 *   NULs, at most one of oneway/more/upgrade, and object parameters;
 * - every string the daemon could send back (the method name, the
 *   interface, a parameter's name) makes a reply that parses again;
 * - a call rebuilt with vl_call_build parses to the same call;
 * - vl_params_check agrees with a plain reading of the method's spec, and
 *   names the field it refuses;
 * - names and flag lists map to values and back, addresses and base64
 *   are refused or decoded, never crash.
 *
 * At start, every io.sockd row of the method table is checked against
 * the interface definition embedded in the daemon: same methods, same
 * parameters, same optionality and types.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "b64.h"
#include "fuzz.h"
#include "method.h"
#include "names.h"
#include "varlink.h"

FUZZ_TARGET("call");

/* RFC 3629's table of well-formed UTF-8, byte by byte. */
static bool
fuzz_utf8_ok(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t n;

		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c == 0xe0)
			n = 2, lo = 0xa0;
		else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
			n = 2;
		else if (c == 0xed)
			n = 2, hi = 0x9f;
		else if (c == 0xf0)
			n = 3, lo = 0x90;
		else if (c >= 0xf1 && c <= 0xf3)
			n = 3;
		else if (c == 0xf4)
			n = 3, hi = 0x8f;
		else
			return false;
		if (len - i <= n) /* cut short */
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += n + 1;
	}
	return true;
}

/* Is s (NUL-terminated) well-formed UTF-8? */
static bool
fuzz_str_ok(const char *s)
{
	return fuzz_utf8_ok((const unsigned char *)s, strlen(s));
}

/* Every key and string in v is well-formed UTF-8: what the daemon holds
 * after parsing, escapes decoded, is what it may send back. */
static bool
fuzz_tree_ok(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return fuzz_utf8_ok(
		    (const unsigned char *)json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	case json_type_object: {
		json_object_object_foreach(v, key, val)
		{
			if (!fuzz_str_ok(key) || !fuzz_tree_ok(val))
				return false;
		}
		return true;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!fuzz_tree_ok(json_object_array_get_idx(v, i)))
				return false;
		return true;
	default:
		return true;
	}
}

/* A reply the daemon would send with one string parameter parses back
 * as that error with that string. */
static void
fuzz_reply_roundtrip(const char *error, const char *key, const char *value)
{
	json_object *p = json_object_new_object(), *root, *params, *v;
	const char *err;
	size_t len = 0;
	bool cont;
	char *msg;

	FUZZ_CHECK(p != NULL);
	json_object_object_add(p, key, json_object_new_string(value));
	msg = vl_error_build(error, p, &len);
	FUZZ_CHECK(msg != NULL && len > 0 && msg[len - 1] == '\0');
	FUZZ_CHECK(memchr(msg, '\0', len - 1) == NULL);
	FUZZ_CHECK(vl_reply_parse(msg, len - 1, &root, &err, &params, &cont) ==
		   0);
	FUZZ_CHECK(err != NULL && strcmp(err, error) == 0 && !cont);
	FUZZ_CHECK(json_object_object_get_ex(params, key, &v));
	FUZZ_CHECK(strcmp(json_object_get_string(v), value) == 0);
	json_object_put(root);
	free(msg);
}

/* A string C sees whole: no NUL inside (JSON may write \u0000). */
static bool
fuzz_whole_string(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	       memchr(json_object_get_string(v), '\0',
		      (size_t)json_object_get_string_len(v)) == NULL;
}

/* Does v have type t, read plainly? */
static bool
fuzz_type_ok(json_object *v, enum vl_type t)
{
	enum json_type jt = json_object_get_type(v);

	switch (t) {
	case VL_BOOL:
		return jt == json_type_boolean;
	case VL_INT:
		return jt == json_type_int;
	case VL_FLOAT:
		return jt == json_type_int ||
		       (jt == json_type_double &&
			isfinite(json_object_get_double(v)));
	case VL_STRING:
		return fuzz_whole_string(v);
	case VL_OBJECT:
		return jt == json_type_object;
	case VL_ARRAY:
	case VL_STRINGS:
		if (jt != json_type_array)
			return false;
		if (t == VL_ARRAY)
			return true;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!fuzz_whole_string(json_object_array_get_idx(v, i)))
				return false;
		return true;
	}
	return false;
}

/* The spec row for key, or NULL. */
static const struct vl_param *
fuzz_spec(const struct vl_param *spec, const char *key)
{
	for (; spec->name != NULL; spec++)
		if (strcmp(spec->name, key) == 0)
			return spec;
	return NULL;
}

/* Would the spec accept params? */
static bool
fuzz_params_ok(json_object *params, const struct vl_param *spec)
{
	json_object_object_foreach(params, key, val)
	{
		const struct vl_param *p = fuzz_spec(spec, key);

		if (p == NULL)
			return false;
		if (val == NULL ? !(p->flags & (VL_P_OPTIONAL | VL_P_NULLABLE))
				: !fuzz_type_ok(val, p->type))
			return false;
	}
	for (; spec->name != NULL; spec++) {
		json_object *v = NULL;

		if (!(spec->flags & (VL_P_OPTIONAL | VL_P_NULLABLE)) &&
		    (!json_object_object_get_ex(params, spec->name, &v) ||
		     v == NULL))
			return false;
	}
	return true;
}

/* A constant name maps to a value whose name maps back to it. */
static void
fuzz_name(const struct name *table, const char *text)
{
	const char *back;
	int v, v2;

	if (text == NULL || names_value(table, text, &v) < 0)
		return;
	back = names_name(table, v);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(names_value(table, back, &v2) == 0 && v2 == v);
}

/* A list of flag names ORs to bits that list back to the same bits. */
static void
fuzz_flags(const struct name *table, json_object *list)
{
	json_object *back;
	int bits, bits2;

	if (names_json_bits(list, table, &bits) < 0)
		return;
	back = names_bits_json(table, bits);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(names_json_bits(back, table, &bits2) == 0 && bits2 == bits);
	json_object_put(back);
}

/* A timeout as GetTimeout sends it back: a JSON float (never an int)
 * that reads back as exactly the same number. */
static void
fuzz_float(double d)
{
	json_object *f = vl_new_float(d), *back;
	const char *text;

	FUZZ_CHECK(f != NULL);
	text = json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN);
	FUZZ_CHECK(strpbrk(text, ".eE") != NULL);
	back = json_tokener_parse(text);
	FUZZ_CHECK(back != NULL && json_object_is_type(back, json_type_double));
	FUZZ_CHECK(json_object_get_double(back) == d);
	json_object_put(back);
	json_object_put(f);
}

/* What the dispatcher and the handlers read from checked parameters. */
static void
fuzz_convert(const struct method *m, json_object *params)
{
	json_object_object_foreach(params, key, val)
	{
		const char *s = json_object_is_type(val, json_type_string)
				    ? json_object_get_string(val)
				    : NULL;

		if (val == NULL)
			continue;
		if (strcmp(key, "family") == 0) {
			fuzz_name(names_family, s);
		} else if (strcmp(key, "type") == 0) {
			fuzz_name(names_socktype, s);
		} else if (strcmp(key, "how") == 0) {
			fuzz_name(names_shut, s);
		} else if (strcmp(key, "level") == 0) {
			int level;
			json_object *o;

			fuzz_name(names_level, s);
			if (names_value(names_level, s, &level) == 0 &&
			    names_options(level) != NULL &&
			    json_object_object_get_ex(params, "option", &o))
				fuzz_name(names_options(level),
					  json_object_get_string(o));
		} else if (strcmp(key, "flags") == 0) {
			fuzz_flags(strcmp(m->name, "GetAddrInfo") == 0
				       ? names_ai_flag
				   : strcmp(m->name, "GetNameInfo") == 0
				       ? names_ni_flag
				       : names_msgflag,
				   val);
		} else if (strcmp(key, "items") == 0) {
			for (size_t i = 0; i < json_object_array_length(val);
			     i++) {
				json_object *it =
				    json_object_array_get_idx(val, i);
				json_object *e;

				if (json_object_is_type(it, json_type_object) &&
				    json_object_object_get_ex(it, "events", &e))
					fuzz_flags(names_poll, e);
			}
		} else if (strcmp(key, "address") == 0) {
			struct addr a;
			const char *field = NULL;
			int r = addr_from_json(val, AF_UNSPEC, &a, &field);

			FUZZ_CHECK(r == 0 || r == -EINVAL ||
				   r == -EAFNOSUPPORT);
			FUZZ_CHECK(r == 0 || field != NULL);
			FUZZ_CHECK(r != 0 || a.len <= sizeof a.ss);
		} else if (strcmp(key, "data") == 0) {
			size_t len = (size_t)json_object_get_string_len(val);
			unsigned char *buf = malloc(B64_DECODED_MAX(len) + 1);
			size_t n = 0;

			FUZZ_CHECK(buf != NULL);
			if (b64_decode(s, len, buf, &n) == 0)
				FUZZ_CHECK(n <= B64_DECODED_MAX(len));
			free(buf);
		} else if (strcmp(key, "timeout") == 0) {
			FUZZ_CHECK(isfinite(json_object_get_double(val)));
			fuzz_float(json_object_get_double(val));
		}
	}
}

/* The type a varlink IDL type text stands for, and whether it is
 * optional ("?string"). */
static enum vl_type
fuzz_idl_type(const char *t, size_t len, bool *ret_optional)
{
	*ret_optional = len > 0 && t[0] == '?';
	if (*ret_optional)
		t++, len--;
#define IS(s) (len == strlen(s) && strncmp(t, s, len) == 0)
	if (IS("bool"))
		return VL_BOOL;
	if (IS("int"))
		return VL_INT;
	if (IS("float"))
		return VL_FLOAT;
	if (IS("string"))
		return VL_STRING;
	if (IS("[]string"))
		return VL_STRINGS;
	if (len > 2 && t[0] == '[' && t[1] == ']')
		return VL_ARRAY;
#undef IS
	return VL_OBJECT;
}

/* The parameter list of "method NAME(" in the IDL, or NULL. */
static const char *
fuzz_idl_method(const char *name)
{
	char needle[128];
	const char *p;

	snprintf(needle, sizeof needle, "\nmethod %s(", name);
	p = strstr(sockd_idl, needle);
	return p != NULL ? p + strlen(needle) : NULL;
}

/* One io.sockd row against its IDL signature, both ways. */
static void
fuzz_idl_check(const struct method *m)
{
	const char *p = fuzz_idl_method(m->name);
	size_t nidl = 0, nspec = 0;

	if (p == NULL) {
		fprintf(stderr, "method %s is not in io.sockd.varlink\n",
			m->name);
		FUZZ_CHECK(!"every method is in the IDL");
	}
	for (const struct vl_param *s = m->params; s->name; s++)
		nspec++;
	while (*p != ')') {
		const char *colon = strchr(p, ':'), *end;
		const struct vl_param *s;
		char field[64];
		bool optional;
		enum vl_type t;

		FUZZ_CHECK(colon != NULL && (size_t)(colon - p) < sizeof field);
		memcpy(field, p, (size_t)(colon - p));
		field[colon - p] = '\0';
		p = colon + 2;
		end = p + strcspn(p, ",)");
		t = fuzz_idl_type(p, (size_t)(end - p), &optional);
		s = fuzz_spec(m->params, field);
		if (s == NULL || s->type != t ||
		    optional !=
			!!(s->flags & (VL_P_OPTIONAL | VL_P_NULLABLE))) {
			fprintf(stderr,
				"%s: parameter %s differs from the IDL\n",
				m->name, field);
			FUZZ_CHECK(!"the table matches the IDL");
		}
		nidl++;
		p = *end == ',' ? end + 2 : end;
	}
	FUZZ_CHECK(nidl == nspec);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t nrows = 0, nidl = 0;

	(void)argc;
	(void)argv;
	for (size_t g = 0; method_groups[g] != NULL; g++)
		for (const struct method *m = method_groups[g]; m->name; m++) {
			if (strcmp(m->interface, "io.sockd") != 0)
				continue;
			fuzz_idl_check(m);
			nrows++;
		}
	for (const char *p = sockd_idl; (p = strstr(p, "\nmethod ")); p++)
		nidl++;
	FUZZ_CHECK(nrows == nidl);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data, *why = NULL, *field = NULL;
	const char *nul = memchr(data, '\0', size);
	const struct method *m;
	struct vl_call vc, again;
	size_t len, blen = 0;
	char *built;
	int r, err;

	/* The frame splitter hands out what comes before a NUL. */
	len = nul != NULL ? (size_t)(nul - msg) : size;
	r = vl_call_parse(msg, len, &vc, &why);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (r < 0) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		/* The reason goes back in a ProtocolError. */
		fuzz_reply_roundtrip("io.sockd.ProtocolError", "message", why);
		return 0;
	}
	FUZZ_CHECK(fuzz_utf8_ok(data, len));
	FUZZ_CHECK(json_object_is_type(vc.root, json_type_object));
	FUZZ_CHECK(json_object_is_type(vc.params, json_type_object));
	FUZZ_CHECK(vc.method != NULL && (vc.flags & (vc.flags - 1)) == 0);
	FUZZ_CHECK(fuzz_tree_ok(vc.root));

	/* The same call, rebuilt, parses to the same call. */
	built = vl_call_build(vc.method, json_object_get(vc.params), vc.flags,
			      &blen);
	FUZZ_CHECK(built != NULL && blen > 0 && built[blen - 1] == '\0');
	r = vl_call_parse(built, blen - 1, &again, &why);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(strcmp(again.method, vc.method) == 0);
	FUZZ_CHECK(again.flags == vc.flags);
	FUZZ_CHECK(json_object_equal(again.params, vc.params));
	json_object_put(again.root);
	free(built);

	m = method_find(vc.method, &err);
	if (m == NULL) {
		/* MethodNotFound names the method, InterfaceNotFound the
		 * interface: both go back to the caller. */
		char *iface = strdup(vc.method), *dot;

		FUZZ_CHECK(iface != NULL);
		dot = strrchr(iface, '.');
		if (dot != NULL)
			*dot = '\0';
		fuzz_reply_roundtrip("org.varlink.service.MethodNotFound",
				     "method", vc.method);
		fuzz_reply_roundtrip("org.varlink.service.InterfaceNotFound",
				     "interface", iface);
		free(iface);
		json_object_put(vc.root);
		return 0;
	}

	r = vl_params_check(vc.params, m->params, &field);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK((r == 0) == fuzz_params_ok(vc.params, m->params));
	if (r < 0) {
		json_object *v;

		/* The refused field is a parameter given or one required. */
		FUZZ_CHECK(field != NULL);
		FUZZ_CHECK(json_object_object_get_ex(vc.params, field, &v) ||
			   fuzz_spec(m->params, field) != NULL);
		fuzz_reply_roundtrip("org.varlink.service.InvalidParameter",
				     "parameter", field);
	} else {
		fuzz_convert(m, vc.params);
	}
	json_object_put(vc.root);
	return 0;
}
