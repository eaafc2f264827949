/*
 * Varlink messages: call parsing and checking, parameter specs, replies.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "varlink.h"

/* Whether s is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). json-c's own check lets overlong
 * forms through. */
static bool
vl_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static int vl_max_depth = VL_MAX_DEPTH;
/* A parser kept between messages, when the program asked for it: making
 * one costs more than parsing a small call. */
static json_tokener *vl_tok;
static bool vl_keep_tok;

void
vl_set_max_depth(int depth)
{
	vl_max_depth = depth < 2 ? 2 : depth;
	vl_keep_parser(vl_keep_tok);
}

void
vl_keep_parser(bool keep)
{
	if (vl_tok != NULL)
		json_tokener_free(vl_tok);
	vl_tok = NULL;
	vl_keep_tok = keep;
}

/* A parser for one message: the kept one, reset, or a new one. */
static json_tokener *
vl_parser(void)
{
	json_tokener *tok = vl_tok;

	if (tok != NULL) {
		json_tokener_reset(tok);
		return tok;
	}
	tok = json_tokener_new_ex(vl_max_depth);
	if (tok == NULL)
		return NULL;
	/* Strict JSON; UTF-8 is checked before, more strictly than json-c
	 * does. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (vl_keep_tok)
		vl_tok = tok;
	return tok;
}

/* Done with a parser from vl_parser(). */
static void
vl_parser_done(json_tokener *tok)
{
	if (tok != vl_tok)
		json_tokener_free(tok);
}

/* Parse a whole message as one JSON object, strictly. */
static int
vl_parse_object(const char *msg, size_t len, json_object **ret,
		const char **ret_why)
{
	json_tokener *tok;
	json_object *root;
	size_t end;

	if (len > (size_t)INT32_MAX) {
		*ret_why = "message too long";
		return -EBADMSG;
	}
	if (!vl_utf8_valid((const unsigned char *)msg, len)) {
		*ret_why = "message is not valid UTF-8";
		return -EBADMSG;
	}
	tok = vl_parser();
	if (tok == NULL) {
		*ret_why = "out of memory";
		return -ENOMEM;
	}
	root = json_tokener_parse_ex(tok, msg, (int)len);
	if (root == NULL) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		vl_parser_done(tok);
		if (e == json_tokener_error_depth)
			*ret_why = "JSON nested too deeply";
		else if (e == json_tokener_continue ||
			 e == json_tokener_success)
			*ret_why = "incomplete JSON";
		else
			*ret_why = "not valid JSON";
		return -EBADMSG;
	}
	end = json_tokener_get_parse_end(tok);
	vl_parser_done(tok);
	while (end < len && strchr(" \t\r\n", msg[end]) != NULL)
		end++;
	if (end != len) {
		json_object_put(root);
		*ret_why = "trailing data after the JSON object";
		return -EBADMSG;
	}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		*ret_why = "message is not a JSON object";
		return -EBADMSG;
	}
	*ret = root;
	return 0;
}

/* The "parameters" member: an object, or an empty one when missing/null. */
static int
vl_get_params(json_object *root, json_object **ret)
{
	json_object *params;

	if (!json_object_object_get_ex(root, "parameters", &params) ||
	    params == NULL) {
		params = json_object_new_object();
		if (params == NULL)
			return -ENOMEM;
		json_object_object_add(root, "parameters", params);
	}
	if (!json_object_is_type(params, json_type_object))
		return -EBADMSG;
	*ret = params;
	return 0;
}

/* Parse and check a call message. */
int
vl_call_parse(const char *msg, size_t len, struct vl_call *ret,
	      const char **ret_why)
{
	static const struct {
		const char *name;
		unsigned flag;
	} flags[] = {
	    {"oneway", VL_ONEWAY},
	    {"more", VL_MORE},
	    {"upgrade", VL_UPGRADE},
	};
	json_object *root, *method = NULL, *params = NULL;
	unsigned set = 0, nset = 0;
	int r;

	r = vl_parse_object(msg, len, &root, ret_why);
	if (r < 0)
		return r;
	json_object_object_foreach(root, key, val)
	{
		size_t i;

		if (strcmp(key, "method") == 0) {
			method = val;
			continue;
		}
		if (strcmp(key, "parameters") == 0)
			continue;
		for (i = 0; i < sizeof flags / sizeof flags[0]; i++)
			if (strcmp(key, flags[i].name) == 0)
				break;
		if (i == sizeof flags / sizeof flags[0]) {
			/* Extensions live under reverse-domain keys. */
			if (strchr(key, '.') != NULL)
				continue;
			*ret_why = "unknown field in call";
			goto bad;
		}
		if (val == NULL)
			continue;
		if (!json_object_is_type(val, json_type_boolean)) {
			*ret_why = "call flag is not a boolean";
			goto bad;
		}
		if (json_object_get_boolean(val)) {
			set |= flags[i].flag;
			nset++;
		}
	}
	if (method == NULL || !json_object_is_type(method, json_type_string)) {
		*ret_why = method == NULL ? "call has no method"
					  : "method is not a string";
		goto bad;
	}
	if (json_object_get_string_len(method) !=
	    (int)strlen(json_object_get_string(method))) {
		*ret_why = "method name contains a NUL";
		goto bad;
	}
	if (nset > 1) {
		*ret_why = "call sets more than one of oneway, more, upgrade";
		goto bad;
	}
	r = vl_get_params(root, &params);
	if (r < 0) {
		*ret_why = r == -ENOMEM ? "out of memory"
					: "parameters is not an object";
		json_object_put(root);
		return r;
	}
	ret->root = root;
	ret->method = json_object_get_string(method);
	ret->params = params;
	ret->flags = set;
	return 0;
bad:
	json_object_put(root);
	return -EBADMSG;
}

/* Parse a reply message. */
int
vl_reply_parse(const char *msg, size_t len, json_object **ret_root,
	       const char **ret_error, json_object **ret_params,
	       bool *ret_continues)
{
	json_object *root, *v, *params;
	const char *why, *error = NULL;
	bool continues = false;

	if (vl_parse_object(msg, len, &root, &why) < 0)
		return -EBADMSG;
	if (json_object_object_get_ex(root, "error", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string))
			goto bad;
		error = json_object_get_string(v);
	}
	if (json_object_object_get_ex(root, "continues", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			goto bad;
		continues = json_object_get_boolean(v);
	}
	if (vl_get_params(root, &params) < 0)
		goto bad;
	*ret_root = root;
	*ret_error = error;
	*ret_params = params;
	*ret_continues = continues;
	return 0;
bad:
	json_object_put(root);
	return -EBADMSG;
}

/* Whether v has the JSON type t asks for. */
static bool
vl_type_ok(json_object *v, enum vl_type t)
{
	switch (t) {
	case VL_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case VL_INT:
		return json_object_is_type(v, json_type_int);
	case VL_FLOAT:
		if (json_object_is_type(v, json_type_int))
			return true;
		return json_object_is_type(v, json_type_double) &&
		       isfinite(json_object_get_double(v));
	case VL_STRING:
		return json_object_is_type(v, json_type_string);
	case VL_OBJECT:
		return json_object_is_type(v, json_type_object);
	case VL_ARRAY:
		return json_object_is_type(v, json_type_array);
	case VL_STRINGS:
		if (!json_object_is_type(v, json_type_array))
			return false;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_string))
				return false;
		}
		return true;
	}
	return false;
}

/* Check call parameters against a spec. */
int
vl_params_check(json_object *params, const struct vl_param *spec,
		const char **ret_field)
{
	const struct vl_param *p;

	json_object_object_foreach(params, key, val)
	{
		for (p = spec; p->name != NULL; p++)
			if (strcmp(p->name, key) == 0)
				break;
		if (p->name == NULL) {
			*ret_field = key;
			return -EINVAL;
		}
		if (val == NULL) {
			if (p->flags & (VL_P_OPTIONAL | VL_P_NULLABLE))
				continue;
			*ret_field = p->name;
			return -EINVAL;
		}
		if (!vl_type_ok(val, p->type)) {
			*ret_field = p->name;
			return -EINVAL;
		}
	}
	for (p = spec; p->name != NULL; p++) {
		json_object *v;

		if (p->flags & (VL_P_OPTIONAL | VL_P_NULLABLE))
			continue;
		if (!json_object_object_get_ex(params, p->name, &v) ||
		    v == NULL) {
			*ret_field = p->name;
			return -EINVAL;
		}
	}
	return 0;
}

/* Serialise root as a message (with its NUL) and drop root. */
static char *
vl_finish(json_object *root, size_t *ret_len)
{
	const char *text;
	size_t len;
	char *buf;

	if (root == NULL)
		return NULL;
	text = json_object_to_json_string_length(
	    root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    &len);
	buf = text != NULL ? malloc(len + 1) : NULL;
	if (buf != NULL) {
		memcpy(buf, text, len);
		buf[len] = '\0';
		*ret_len = len + 1;
	}
	json_object_put(root);
	return buf;
}

/* Add params to root unless empty: varlink senders omit empty ones. */
static void
vl_add_params(json_object *root, json_object *params)
{
	if (params == NULL)
		return;
	if (json_object_object_length(params) == 0) {
		json_object_put(params);
		return;
	}
	json_object_object_add(root, "parameters", params);
}

/* A reply message. */
char *
vl_reply_build(json_object *params, bool continues, size_t *ret_len)
{
	json_object *root = json_object_new_object();

	if (root == NULL) {
		json_object_put(params);
		return NULL;
	}
	vl_add_params(root, params);
	if (continues)
		json_object_object_add(root, "continues",
				       json_object_new_boolean(1));
	return vl_finish(root, ret_len);
}

/* An error reply message. */
char *
vl_error_build(const char *error, json_object *params, size_t *ret_len)
{
	json_object *root = json_object_new_object();

	if (root == NULL) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(root, "error", json_object_new_string(error));
	vl_add_params(root, params);
	return vl_finish(root, ret_len);
}

/* A call message. */
char *
vl_call_build(const char *method, json_object *params, unsigned flags,
	      size_t *ret_len)
{
	json_object *root = json_object_new_object();

	if (root == NULL) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(root, "method", json_object_new_string(method));
	vl_add_params(root, params);
	if (flags & VL_ONEWAY)
		json_object_object_add(root, "oneway",
				       json_object_new_boolean(1));
	if (flags & VL_MORE)
		json_object_object_add(root, "more",
				       json_object_new_boolean(1));
	if (flags & VL_UPGRADE)
		json_object_object_add(root, "upgrade",
				       json_object_new_boolean(1));
	return vl_finish(root, ret_len);
}

/* A float printed in its shortest form that reads back exactly. */
json_object *
vl_new_float(double value)
{
	double mag = value < 0 ? -value : value;
	char text[48];

	/* Plain decimals where they are short ("10.0", "0.25"), the
	 * exponent form only for the very small and the very large. */
	for (int prec = 1; prec <= 17; prec++) {
		if (mag == 0 || (mag >= 1e-6 && mag < 1e15))
			snprintf(text, sizeof text, "%.*f", prec, value);
		else
			snprintf(text, sizeof text, "%.*g", prec, value);
		if (strtod(text, NULL) == value)
			break;
	}
	/* Keep it a float on the wire: 1 is printed "1.0". */
	if (strpbrk(text, ".eEn") == NULL && strlen(text) + 2 < sizeof text)
		strcat(text, ".0");
	return json_object_new_double_s(value, text);
}
