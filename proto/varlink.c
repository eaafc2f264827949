/*
 * Varlink messages: call parsing and checking, parameter specs, replies.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "utf8.h"
#include "varlink.h"

static bool
vl_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* JSON's whitespace. */
static bool
vl_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The length of the RFC 8259 number at s, or 0 when there is none (json-c
 * also takes NaN, Infinity and "1."). */
static size_t
vl_number_len(const unsigned char *s, size_t left)
{
	size_t i = 0, d;

	if (i < left && s[i] == '-')
		i++;
	if (i < left && s[i] == '0')
		i++;
	else if (i < left && s[i] >= '1' && s[i] <= '9')
		while (i < left && vl_digit(s[i]))
			i++;
	else
		return 0;
	if (i < left && s[i] == '.') {
		for (d = ++i; i < left && vl_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < left && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < left && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < left && vl_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i;
}

/* Are the 8 bytes at s printable ASCII, none a quote or a backslash? */
static bool
vl_plain8(const unsigned char *s)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t v, q, b;

	memcpy(&v, s, sizeof v);
	q = v ^ (ones * '"');
	b = v ^ (ones * '\\');
	/* No byte >= 0x80, none < 0x20 (valid once all are below 0x80),
	 * none zero after the xors (a quote or a backslash). */
	return ((v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) |
		 ((b - ones) & ~b)) &
		highs) == 0;
}

/* How many bytes from s on are plain (as vl_plain8 says), in whole
 * blocks. */
static size_t
vl_plain_run(const unsigned char *s, size_t left)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i low = _mm_set1_epi8(0x1f);

	for (; left - i >= 16; i += 16) {
		__m128i v =
		    _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* Signed compare: bytes >= 0x80 are negative, so "> 0x1f"
		 * fails for them as for control characters. */
		__m128i bad =
		    _mm_or_si128(_mm_cmpeq_epi8(v, quote),
				 _mm_or_si128(_mm_cmpeq_epi8(v, bslash),
					      _mm_cmpgt_epi8(low, v)));

		bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, low));
		if (_mm_movemask_epi8(bad) != 0)
			break;
	}
#endif
	while (left - i >= 8 && vl_plain8(s + i))
		i += 8;
	return i;
}

/* Where a long, plain "data" string of the parameters sits in a message
 * (its quotes), so that json-c need not scan it byte by byte. */
struct vl_span {
	size_t open, close;
	bool found;
};

#define VL_SPAN_MIN 1024 /* shorter strings are left to json-c */

/* Check the string whose opening quote is at s[i]: the index of its
 * closing quote (len when it has none: json-c reports that), or 0 with
 * *why set. *plain says whether it is all printable ASCII, no escapes. */
static size_t
vl_lex_string(const unsigned char *s, size_t len, size_t i, bool *plain,
	      const char **why)
{
	size_t n;

	*plain = true;
	for (i++; i < len && s[i] != '"'; i += n) {
		unsigned char c;

		/* Runs of plain ASCII (base64 data) go 16 or 8 bytes at a
		 * time. */
		i += vl_plain_run(s + i, len - i);
		if (i >= len || s[i] == '"')
			break;
		c = s[i];
		n = 1;
		if (c < 0x20) {
			*why = "not valid JSON (a control character in a "
			       "string)";
			return 0;
		}
		if (c >= 0x80) {
			*plain = false;
			n = utf8_seq(s + i, len - i);
			if (n == 0) {
				*why = "message is not valid UTF-8";
				return 0;
			}
		} else if (c == '\\') {
			*plain = false;
			n = 2;
			if (i + 1 >= len || s[i + 1] == '\0' ||
			    strchr("\"\\/bfnrtu", s[i + 1]) == NULL)
				n = 0;
			else if (s[i + 1] == 'u')
				for (size_t k = 2; k < 6 && n != 0; k++, n++)
					if (i + k >= len || s[i + k] == '\0' ||
					    !strchr("0123456789abcdefABCDEF",
						    s[i + k]))
						n = 0;
			if (n == 0) {
				*why = "not valid JSON (an escape)";
				return 0;
			}
		}
	}
	return i;
}

/* Is the string at s[open..close] (its quotes) the key text, followed
 * by a colon? */
static bool
vl_lex_key(const unsigned char *s, size_t len, size_t open, size_t close,
	   const char *text)
{
	size_t n = strlen(text), i = close + 1;

	if (close - open - 1 != n || memcmp(s + open + 1, text, n) != 0)
		return false;
	while (i < len && vl_space(s[i]))
		i++;
	return i < len && s[i] == ':';
}

/* The tokens of a message, checked before json-c parses its structure:
 * well-formed UTF-8, strings without raw control characters and with
 * only JSON's escapes, numbers as RFC 8259 writes them, and no words but
 * true, false and null. NULL when they are all right, else the reason.
 * On the way, finds the parameters' "data" string when it is long and
 * plain, and the only "data" there. */
static const char *
vl_lex_check(const unsigned char *s, size_t len, struct vl_span *data)
{
	static const char *const words[] = {"true", "false", "null"};
	const char *why = NULL;
	bool params_next = false, data_next = false;
	size_t i = 0, depth = 0, params_depth = 0, ndata = 0;

	data->found = false;
	data->open = data->close = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n = 0, close;
		bool plain;

		if (vl_space(c) || c == ':' || c == ',') {
			i++;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
			if (params_next && c == '{' && depth == 2)
				params_depth = 2;
			params_next = data_next = false;
			i++;
			continue;
		}
		if (c == '}' || c == ']') {
			if (depth == params_depth)
				params_depth = 0;
			depth--;
			i++;
			continue;
		}
		if (c == '"') {
			bool value = data_next;

			close = vl_lex_string(s, len, i, &plain, &why);
			if (close == 0)
				return why;
			params_next = data_next = false;
			if (depth == 1 &&
			    vl_lex_key(s, len, i, close, "parameters")) {
				params_next = true;
			} else if (depth == 2 && params_depth == 2 &&
				   vl_lex_key(s, len, i, close, "data")) {
				data_next = true;
				ndata++;
			} else if (value && plain && close < len &&
				   close - i > VL_SPAN_MIN) {
				data->open = i;
				data->close = close;
				data->found = true;
			}
			i = close + 1;
			continue;
		}
		params_next = data_next = false;
		if (c == '-' || vl_digit(c)) {
			n = vl_number_len(s + i, len - i);
			if (n == 0)
				return "not valid JSON (a number)";
			i += n;
			continue;
		}
		for (size_t w = 0; w < 3 && n == 0; w++)
			if (len - i >= strlen(words[w]) &&
			    memcmp(s + i, words[w], strlen(words[w])) == 0)
				n = strlen(words[w]);
		if (n == 0)
			return "not valid JSON";
		i += n;
	}
	/* With two "data" keys json-c keeps the last: leave it to json-c. */
	if (ndata != 1)
		data->found = false;
	return NULL;
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

/* Parse text with the parser; NULL with the reason in *ret_why. */
static json_object *
vl_parse_text(const char *text, size_t len, const char **ret_why)
{
	json_tokener *tok = vl_parser();
	json_object *root;
	size_t end;

	if (tok == NULL) {
		*ret_why = "out of memory";
		return NULL;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
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
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	vl_parser_done(tok);
	while (end < len && vl_space((unsigned char)text[end]))
		end++;
	if (end != len) {
		json_object_put(root);
		*ret_why = "trailing data after the JSON object";
		return NULL;
	}
	return root;
}

/*
 * Parse the message with its long "data" string cut out (json-c would
 * scan it a byte at a time; the lexer has checked it), then put the
 * string back in, copied at memcpy speed.
 */
static json_object *
vl_parse_cut(const char *msg, size_t len, const struct vl_span *data,
	     const char **ret_why)
{
	size_t head = data->open + 1, tail = len - data->close;
	json_object *root, *params, *v;
	char *text = malloc(head + tail);

	if (text == NULL) {
		*ret_why = "out of memory";
		return NULL;
	}
	memcpy(text, msg, head);
	memcpy(text + head, msg + data->close, tail);
	root = vl_parse_text(text, head + tail, ret_why);
	free(text);
	if (root != NULL &&
	    json_object_object_get_ex(root, "parameters", &params) &&
	    json_object_object_get_ex(params, "data", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) == 0 &&
	    json_object_set_string_len(v, msg + head,
				       (int)(data->close - head)) == 0)
		return root;
	/* Not where the lexer saw it (it should be): parse it all. */
	json_object_put(root);
	return vl_parse_text(msg, len, ret_why);
}

/* The fast parser recurses once per level of nesting, and gives up past
 * --max-depth (vl_max_depth), so a client cannot make it recurse deeper.
 * NOLINTBEGIN(misc-no-recursion) */

/*
 * A parser for the messages clients send most: objects, arrays, strings
 * without escapes, integers that fit in 64 bits, true, false, null. It
 * builds the same json-c objects json-c's tokener would, without the
 * tokener's per-call costs (its state machine, and a new locale made and
 * freed on every parse). Anything else — escapes, fractions, exponents,
 * big integers, deep nesting, broken structure — it leaves to json-c,
 * which then parses the whole text as before. The text has passed
 * vl_lex_check, so its tokens are sound.
 */
struct vl_fast {
	const char *s;
	size_t len, i;
	int depth;
};

#define VL_FAST_KEY_MAX 256

static void
vl_fast_ws(struct vl_fast *p)
{
	while (p->i < p->len && vl_space((unsigned char)p->s[p->i]))
		p->i++;
}

/* An escape-free string at p->i (its opening quote): its bytes. */
static int
vl_fast_string(struct vl_fast *p, const char **ret, size_t *ret_len)
{
	const char *start = p->s + p->i + 1;
	const char *end = memchr(start, '"', p->len - p->i - 1);

	if (end == NULL || memchr(start, '\\', (size_t)(end - start)) != NULL)
		return -1;
	*ret = start;
	*ret_len = (size_t)(end - start);
	p->i = (size_t)(end - p->s) + 1;
	return 0;
}

static int vl_fast_value(struct vl_fast *p, json_object **ret);

/* The members of an object, its "{" consumed. */
static int
vl_fast_members(struct vl_fast *p, json_object *obj)
{
	char key[VL_FAST_KEY_MAX];
	const char *k;
	size_t klen;
	json_object *v;

	vl_fast_ws(p);
	if (p->i < p->len && p->s[p->i] == '}') {
		p->i++;
		return 0;
	}
	for (;;) {
		if (p->i >= p->len || p->s[p->i] != '"' ||
		    vl_fast_string(p, &k, &klen) < 0 || klen >= sizeof key ||
		    memchr(k, '\0', klen) != NULL)
			return -1;
		memcpy(key, k, klen);
		key[klen] = '\0';
		vl_fast_ws(p);
		if (p->i >= p->len || p->s[p->i++] != ':')
			return -1;
		if (vl_fast_value(p, &v) < 0)
			return -1;
		if (json_object_object_add(obj, key, v) < 0) {
			json_object_put(v);
			return -1;
		}
		vl_fast_ws(p);
		if (p->i >= p->len)
			return -1;
		if (p->s[p->i] == '}') {
			p->i++;
			return 0;
		}
		if (p->s[p->i++] != ',')
			return -1;
		vl_fast_ws(p);
	}
}

/* The elements of an array, its "[" consumed. */
static int
vl_fast_elements(struct vl_fast *p, json_object *arr)
{
	json_object *v;

	vl_fast_ws(p);
	if (p->i < p->len && p->s[p->i] == ']') {
		p->i++;
		return 0;
	}
	for (;;) {
		if (vl_fast_value(p, &v) < 0)
			return -1;
		if (json_object_array_add(arr, v) < 0) {
			json_object_put(v);
			return -1;
		}
		vl_fast_ws(p);
		if (p->i >= p->len)
			return -1;
		if (p->s[p->i] == ']') {
			p->i++;
			return 0;
		}
		if (p->s[p->i++] != ',')
			return -1;
	}
}

/* An integer that fits in int64, and nothing json-c would treat
 * otherwise ("-0" is a double to it). */
static int
vl_fast_int(struct vl_fast *p, json_object **ret)
{
	size_t n =
	    vl_number_len((const unsigned char *)p->s + p->i, p->len - p->i);
	char text[24];
	long long v;
	char *end;

	if (n == 0 || n >= sizeof text ||
	    (p->s[p->i] == '-' && p->s[p->i + 1] == '0'))
		return -1;
	memcpy(text, p->s + p->i, n);
	text[n] = '\0';
	if (strpbrk(text, ".eE") != NULL)
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*ret = json_object_new_int64(v);
	if (*ret == NULL)
		return -1;
	p->i += n;
	return 0;
}

/* Any value: 0 and *ret (NULL for null), or -1 to leave it to json-c. */
static int
vl_fast_value(struct vl_fast *p, json_object **ret)
{
	const char *str;
	size_t len;
	int r;

	vl_fast_ws(p);
	if (p->i >= p->len)
		return -1;
	switch (p->s[p->i]) {
	case '{':
	case '[':
		if (++p->depth >= vl_max_depth - 1)
			return -1;
		*ret = p->s[p->i] == '{' ? json_object_new_object()
					 : json_object_new_array();
		p->i++;
		if (*ret == NULL)
			return -1;
		r = json_object_is_type(*ret, json_type_object)
			? vl_fast_members(p, *ret)
			: vl_fast_elements(p, *ret);
		p->depth--;
		if (r < 0)
			json_object_put(*ret);
		return r;
	case '"':
		if (vl_fast_string(p, &str, &len) < 0)
			return -1;
		*ret = json_object_new_string_len(str, (int)len);
		return *ret != NULL ? 0 : -1;
	case 't':
	case 'f':
	case 'n':
		/* The lexer checked the word. */
		len = p->s[p->i] == 'f' ? 5 : 4;
		*ret = p->s[p->i] == 'n'
			   ? NULL
			   : json_object_new_boolean(p->s[p->i] == 't');
		p->i += len;
		return 0;
	default:
		return vl_fast_int(p, ret);
	}
}

/* NOLINTEND(misc-no-recursion) */

/* The whole message by the fast parser, or NULL to use json-c. */
static json_object *
vl_parse_fast(const char *msg, size_t len)
{
	struct vl_fast p = {.s = msg, .len = len};
	json_object *root;

	vl_fast_ws(&p);
	if (p.i >= len || msg[p.i] != '{' || vl_fast_value(&p, &root) < 0)
		return NULL;
	vl_fast_ws(&p);
	if (p.i != len) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* Parse a whole message as one JSON object, strictly. */
static int
vl_parse_object(const char *msg, size_t len, json_object **ret,
		const char **ret_why)
{
	struct vl_span data;
	json_object *root;

	if (len > (size_t)INT32_MAX) {
		*ret_why = "message too long";
		return -EBADMSG;
	}
	*ret_why = vl_lex_check((const unsigned char *)msg, len, &data);
	if (*ret_why != NULL)
		return -EBADMSG;
	root = vl_parse_fast(msg, len);
	if (root == NULL)
		root = data.found ? vl_parse_cut(msg, len, &data, ret_why)
				  : vl_parse_text(msg, len, ret_why);
	if (root == NULL)
		return -EBADMSG;
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
	if (!vl_whole_string(method)) {
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

bool
vl_whole_string(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	       strlen(json_object_get_string(v)) ==
		   (size_t)json_object_get_string_len(v);
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
		return vl_whole_string(v);
	case VL_OBJECT:
		return json_object_is_type(v, json_type_object);
	case VL_ARRAY:
		return json_object_is_type(v, json_type_array);
	case VL_STRINGS:
		if (!json_object_is_type(v, json_type_array))
			return false;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (!vl_whole_string(json_object_array_get_idx(v, i)))
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

/* A reply message. The envelope is written around the parameters'
 * text, rather than built as one more object to serialise: replies are
 * the daemon's hottest path. */
char *
vl_reply_build(json_object *params, bool continues, size_t *ret_len)
{
	static const char head[] = "{\"parameters\":";
	static const char more[] = ",\"continues\":true";
	const char *text = "";
	size_t len = 0;
	char *buf, *p;

	if (params != NULL && json_object_object_length(params) > 0) {
		text = json_object_to_json_string_length(
		    params,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
		if (text == NULL) {
			json_object_put(params);
			return NULL;
		}
	}
	/* Room for the longest: head, text, more, "}" and the NUL. */
	buf = malloc(sizeof head + len + sizeof more + 2);
	if (buf != NULL) {
		p = buf;
		*p++ = '{';
		if (len > 0) {
			memcpy(p, head + 1, sizeof head - 2);
			p += sizeof head - 2;
			memcpy(p, text, len);
			p += len;
		}
		if (continues) {
			/* After the parameters, a comma; alone, none. */
			const char *m = len > 0 ? more : more + 1;

			memcpy(p, m, strlen(m));
			p += strlen(m);
		}
		*p++ = '}';
		*p++ = '\0';
		*ret_len = (size_t)(p - buf);
	}
	json_object_put(params);
	return buf;
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
