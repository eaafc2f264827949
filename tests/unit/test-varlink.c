/*
 * Unit tests for proto/varlink.c: call parsing and its refusals, parameter
 * specs, and reply building.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "varlink.h"
#include "unit.h"

/* Parse text as a call; returns the parse result, fills why. */
static int
parse(const char *text, struct vl_call *c, const char **why)
{
	int r = vl_call_parse(text, strlen(text), c, why);

	if (r == 0)
		json_object_put(c->root);
	return r;
}

static void
test_calls(void)
{
	struct vl_call c;
	const char *why;
	int r;

	r = vl_call_parse("{\"method\":\"io.sockd.List\"}",
			  strlen("{\"method\":\"io.sockd.List\"}"), &c, &why);
	CHECK(r == 0);
	if (r == 0) {
		CHECK_STR(c.method, "io.sockd.List");
		CHECK(c.flags == 0);
		CHECK(json_object_is_type(c.params, json_type_object));
		json_object_put(c.root);
	}
	CHECK(parse("{\"method\":\"a.B\",\"parameters\":null}", &c, &why) == 0);
	CHECK(parse("{\"method\":\"a.B\",\"oneway\":true}", &c, &why) == 0);
	CHECK(parse("{\"method\":\"a.B\",\"oneway\":false,\"more\":true}", &c,
		    &why) == 0);
	CHECK(parse("{\"method\":\"a.B\",\"org.example.x\":1}", &c, &why) == 0);

	/* Refusals. */
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[1,2]",
	    "\"string\"",
	    "{}",
	    "{\"method\":1}",
	    "{\"method\":\"a.B\",\"oneway\":true,\"more\":true}",
	    "{\"method\":\"a.B\",\"more\":true,\"upgrade\":true}",
	    "{\"method\":\"a.B\",\"oneway\":1}",
	    "{\"method\":\"a.B\",\"bogus\":1}",
	    "{\"method\":\"a.B\",\"parameters\":[]}",
	    "{\"method\":\"a.B\"} trailing",
	    "{\"method\":\"a.B\",}",
	    "{\"method\":\"a\\u0000B\"}",
	    "{\"method\":\"\xff\xfe\"}",
	    "{\"method\":\"a.B\"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		r = parse(bad[i], &c, &why);
		if (r != -EBADMSG)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(r == -EBADMSG);
		CHECK(why != NULL && why[0] != '\0');
	}

	/* Nesting: VL_MAX_DEPTH levels parse, one more does not. */
	char deep[256];
	size_t n = 0;

	n += (size_t)snprintf(deep, sizeof deep,
			      "{\"method\":\"a.B\","
			      "\"parameters\":{\"x\":");
	for (int i = 0; i < VL_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < VL_MAX_DEPTH; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n++] = '}';
	deep[n] = '\0';
	CHECK(parse(deep, &c, &why) == -EBADMSG);
}

static void
test_params(void)
{
	static const struct vl_param spec[] = {
	    {"handle", VL_INT, 0},
	    {"timeout", VL_FLOAT, VL_P_NULLABLE},
	    {"flags", VL_STRINGS, VL_P_OPTIONAL},
	    {"name", VL_STRING, VL_P_OPTIONAL},
	    {NULL, 0, 0},
	};
	static const struct {
		const char *json;
		const char *field; /* NULL: accepted */
	} cases[] = {
	    {"{\"handle\":1}", NULL},
	    {"{\"handle\":1,\"timeout\":null}", NULL},
	    {"{\"handle\":1,\"timeout\":2}", NULL},
	    {"{\"handle\":1,\"timeout\":2.5}", NULL},
	    {"{\"handle\":1,\"flags\":[\"MSG_PEEK\"]}", NULL},
	    {"{\"handle\":1,\"name\":null}", NULL},
	    {"{}", "handle"},
	    {"{\"handle\":null}", "handle"},
	    {"{\"handle\":\"1\"}", "handle"},
	    {"{\"handle\":1.5}", "handle"},
	    {"{\"handle\":1,\"timeout\":\"x\"}", "timeout"},
	    {"{\"handle\":1,\"flags\":[1]}", "flags"},
	    {"{\"handle\":1,\"flags\":\"MSG_PEEK\"}", "flags"},
	    {"{\"handle\":1,\"extra\":1}", "extra"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_object *o = json_tokener_parse(cases[i].json);
		const char *field = NULL;
		int r = vl_params_check(o, spec, &field);

		if (cases[i].field == NULL) {
			CHECK(r == 0);
		} else {
			CHECK(r == -EINVAL);
			CHECK_STR(field, cases[i].field);
		}
		json_object_put(o);
	}
}

static void
test_build(void)
{
	json_object *p = json_object_new_object(), *root, *params;
	const char *error;
	size_t len;
	bool cont;
	char *msg;

	json_object_object_add(p, "handle", json_object_new_int(7));
	msg = vl_reply_build(p, true, &len);
	CHECK(msg != NULL && msg[len - 1] == '\0' && strlen(msg) == len - 1);
	CHECK(vl_reply_parse(msg, len - 1, &root, &error, &params, &cont) == 0);
	CHECK(error == NULL && cont);
	json_object *h;
	CHECK(json_object_object_get_ex(params, "handle", &h) &&
	      json_object_get_int(h) == 7);
	json_object_put(root);
	free(msg);

	/* Empty parameters are left out, as varlink asks. */
	msg = vl_reply_build(json_object_new_object(), false, &len);
	CHECK_STR(msg, "{}");
	free(msg);

	msg = vl_error_build("io.sockd.Timeout", NULL, &len);
	CHECK_STR(msg, "{\"error\":\"io.sockd.Timeout\"}");
	free(msg);

	msg = vl_call_build("io.sockd.List", NULL, VL_ONEWAY, &len);
	CHECK_STR(msg, "{\"method\":\"io.sockd.List\",\"oneway\":true}");
	free(msg);
}

static void
test_float(void)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
	    {0.1, "0.1"},     {2.5, "2.5"},    {1, "1.0"},
	    {0, "0.0"},	      {10, "10.0"},    {3600, "3600.0"},
	    {0.001, "0.001"}, {1e-7, "1e-07"}, {1e20, "1e+20"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_object *o = vl_new_float(cases[i].v);

		CHECK_STR(json_object_to_json_string(o), cases[i].text);
		json_object_put(o);
	}
}

/* The "data" string of a call, parsed: its text (malloc'ed) or NULL. */
static char *
parse_data(const char *text, const char *key)
{
	struct vl_call c;
	const char *why;
	json_object *v;
	char *out = NULL;

	if (vl_call_parse(text, strlen(text), &c, &why) != 0)
		return NULL;
	if (json_object_object_get_ex(c.params, key, &v))
		out = strdup(json_object_get_string(v));
	json_object_put(c.root);
	return out;
}

/* Tokens json-c takes and RFC 8259 does not; long data strings, which
 * the parser cuts out of the text for json-c and puts back. */
static void
test_lexer(void)
{
	static const char *const bad[] = {
	    "{\"method\":\"a.B\",\"x.y\":NaN}",
	    "{\"method\":\"a.B\",\"x.y\":Infinity}",
	    "{\"method\":\"a.B\",\"x.y\":-Infinity}",
	    "{\"method\":\"a.B\",\"x.y\":1.}",
	    "{\"method\":\"a.B\",\"x.y\":01}",
	    "{\"method\":\"a.B\",\"x.y\":1e}",
	    "{\"method\":\"a.B\",\"x.y\":\"a\tb\"}",
	    "{\"method\":\"a.B\",\"x.y\":\"a\nb\"}",
	    "{\"method\":\"a.B\",\"x.y\":\"\\x\"}",
	    "{\"method\":\"a.B\",\"x.y\":\"\\u12\"}",
	    "{\"method\":\"a.B\",\"x.y\":tru}",
	};
	size_t n = 4000;
	char *big = malloc(n + 1), *text = malloc(n + 200), *got;
	struct vl_call c;
	const char *why;
	int r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(parse(bad[i], &c, &why) == -EBADMSG);
		CHECK(why != NULL && strncmp(why, "not valid JSON", 14) == 0);
	}
	CHECK(parse("{\"method\":\"a.B\",\"x.y\":-0.5e+3}", &c, &why) == 0);
	for (size_t i = 0; i < n; i++)
		big[i] = "ABCD+/=0"[i % 8];
	big[n] = '\0';
	snprintf(
	    text, n + 200,
	    "{\"method\":\"a.B\",\"parameters\":{\"h\":1,\"data\": \"%s\" }}",
	    big);
	got = parse_data(text, "data");
	CHECK(got != NULL && strcmp(got, big) == 0);
	free(got);
	/* Two "data" keys: the last wins, as json-c has it. */
	snprintf(text, n + 200,
		 "{\"method\":\"a.B\",\"parameters\":{\"data\":\"%s\","
		 "\"data\":\"\"}}",
		 big);
	got = parse_data(text, "data");
	CHECK(got != NULL && got[0] == '\0');
	free(got);
	/* "data" outside the parameters stays where it is. */
	snprintf(
	    text, n + 200,
	    "{\"method\":\"a.B\",\"parameters\":{\"o\":{\"data\":\"%s\"}}}",
	    big);
	r = vl_call_parse(text, strlen(text), &c, &why);
	CHECK(r == 0);
	if (r == 0) {
		json_object *o, *v;

		CHECK(json_object_object_get_ex(c.params, "o", &o) &&
		      json_object_object_get_ex(o, "data", &v) &&
		      strcmp(json_object_get_string(v), big) == 0);
		json_object_put(c.root);
	}
	/* A control character late in a long string is still found. */
	big[n - 3] = '\n';
	snprintf(text, n + 200,
		 "{\"method\":\"a.B\",\"parameters\":{\"data\":\"%s\"}}", big);
	CHECK(parse(text, &c, &why) == -EBADMSG);
	free(big);
	free(text);
}

/* The fast parser builds what json-c's own parser builds. */
static void
test_same_as_json_c(void)
{
	static const char *const msgs[] = {
	    "{\"method\":\"a.B\"}",
	    " { \"method\" : \"a.B\" , \"parameters\" : { } } ",
	    "{\"method\":\"a.B\",\"parameters\":{\"h\":9223372036854775807,"
	    "\"n\":-9223372036854775808,\"z\":0,\"t\":true,\"f\":false,"
	    "\"x\":null}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"big\":9223372036854775808,"
	    "\"neg\":-0,\"d\":1.5,\"e\":1e3,\"E\":-2E-2}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"a\":[1,[2,[]],{},\"s\"],"
	    "\"o\":{\"p\":{\"q\":[null]}}}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"k\":1,\"k\":2}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"s\":\"caf\u00e9 \\\"q\\\" "
	    "\\u00e9\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"e\\u0073c\":\"key\"}}",
	    "{\"method\":\"a.B\",\"oneway\":true,\"org.x.y\":[1,2,3]}",
	};

	for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		json_object *ref = json_tokener_parse(msgs[i]);
		struct vl_call c;
		const char *why;
		int r = vl_call_parse(msgs[i], strlen(msgs[i]), &c, &why);

		CHECK(ref != NULL && r == 0);
		if (ref != NULL && r == 0) {
			/* vl_call_parse may add an empty "parameters". */
			json_object *p;

			if (!json_object_object_get_ex(ref, "parameters", &p))
				json_object_object_add(
				    ref, "parameters",
				    json_object_new_object());
			CHECK(json_object_equal(ref, c.root));
		}
		if (r == 0)
			json_object_put(c.root);
		json_object_put(ref);
	}
}

int
main(void)
{
	test_calls();
	test_lexer();
	test_same_as_json_c();
	test_params();
	test_build();
	test_float();
	return UNIT_DONE();
}
