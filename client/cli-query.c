/*
 * sockc's commands that ask rather than act: list, poll, the name
 * lookups (getaddrinfo, getnameinfo, gethostbyaddr), the raw call, and
 * the hidden __complete that feeds the shell completion from the same
 * name tables the protocol uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib.h"

#define LIST_COLS 9

static const char *const list_headers[LIST_COLS] = {
    "HANDLE", "NAME", "FAMILY",	 "TYPE",  "STATE",
    "LOCAL",  "PEER", "TIMEOUT", "OWNER",
};

/* A member of obj, or NULL when absent or null. */
static json_object *
query_get(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* An integer member of obj, or def. */
static int64_t
query_int(json_object *obj, const char *key, int64_t def)
{
	json_object *v = query_get(obj, key);

	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
						     : def;
}

/* A constant's name from a reply ("AF_INET6") as its short name. */
static const char *
query_short(const struct name *table, json_object *v, char *buf, size_t size)
{
	const char *text = json_object_get_string(v);
	int value;

	if (text == NULL || text[0] == '\0')
		return "-";
	if (names_value(table, text, &value) < 0)
		return text;
	return cli_short_name(table, NULL, value, buf, size);
}

/* Is host the wildcard address? */
static bool
list_any(json_object *host)
{
	const char *text = json_object_get_string(host);

	return text == NULL || strcmp(text, "0.0.0.0") == 0 ||
	       strcmp(text, "::") == 0;
}

/* Does the local address of a List entry say the socket is bound? 1
 * yes, 0 no, -1 for a family whose address sockd does not spell out. */
static int
list_bound(json_object *local)
{
	json_object *v;

	if (local == NULL)
		return 0;
	if ((v = query_get(local, "port")) != NULL)
		return json_object_get_int(v) != 0 ||
		       !list_any(query_get(local, "host"));
	if ((v = query_get(local, "path")) != NULL ||
	    (v = query_get(local, "path_base64")) != NULL)
		return json_object_get_string_len(v) > 0;
	if (query_get(local, "bdaddr") != NULL)
		return 1;
	return -1;
}

/* SO_ACCEPTCONN of a handle: 1, 0, or -1 when it could not be read. */
static int
list_accepting(struct cli *cli, int64_t handle)
{
	json_object *p = cli_json(json_object_new_object()), *reply;
	int v = -1;

	cli_add(p, "handle", json_object_new_int64(handle));
	cli_add(p, "level", json_object_new_string("SOL_SOCKET"));
	cli_add(p, "option", json_object_new_string("SO_ACCEPTCONN"));
	if (lib_call(cli->c, "io.sockd.GetSockOpt", p, &reply, NULL) < 0)
		return -1;
	v = (int)query_int(reply, "value", -1);
	json_object_put(reply);
	return v;
}

/* The state of a List entry: listening, connected, bound, unbound, or
 * "-" when it cannot be told. Costs a GetSockOpt call only for a bound
 * stream socket without a peer, the one case List cannot settle. */
static const char *
list_state(struct cli *cli, json_object *e)
{
	const char *type = json_object_get_string(query_get(e, "type"));
	int bound;

	if (query_get(e, "peer") != NULL)
		return "connected";
	bound = list_bound(query_get(e, "local"));
	if (bound < 0)
		return "-";
	if (bound == 0)
		return "unbound";
	if (type != NULL &&
	    (strcmp(type, "SOCK_STREAM") == 0 ||
	     strcmp(type, "SOCK_SEQPACKET") == 0) &&
	    list_accepting(cli, query_int(e, "handle", 0)) == 1)
		return "listening";
	return "bound";
}

/* One cell of the table for entry e. */
static const char *
list_cell(json_object *e, int col, char *buf, size_t size)
{
	json_object *v;

	switch (col) {
	case 0:
		snprintf(buf, size, "%lld",
			 (long long)query_int(e, "handle", 0));
		return buf;
	case 1:
		v = query_get(e, "name");
		return v != NULL ? json_object_get_string(v) : "-";
	case 2:
		return query_short(names_family, query_get(e, "family"), buf,
				   size);
	case 3:
		return query_short(names_socktype, query_get(e, "type"), buf,
				   size);
	case 4:
		v = query_get(e, "state");
		return v != NULL ? json_object_get_string(v) : "-";
	case 5:
	case 6:
		cli_format_address(query_get(e, col == 5 ? "local" : "peer"),
				   buf, size);
		return buf;
	case 7:
		v = query_get(e, "timeout");
		return v != NULL ? json_object_to_json_string(v) : "none";
	default:
		snprintf(buf, size, "%lld",
			 (long long)query_int(e, "owner", -1));
		return buf;
	}
}

/* list: one List call, a GetSockOpt for each bound stream socket. */
int
cli_cmd_list(struct cli *cli, struct cli_args *args)
{
	json_object *reply, *socks;
	size_t width[LIST_COLS], n;
	char buf[512];
	int r;

	(void)args;
	r = cli_call_get(cli, "io.sockd.List", NULL, "sockets", json_type_array,
			 &reply, &socks);
	if (r != CLI_OK)
		return r;
	n = json_object_array_length(socks);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(socks, i);

		if (json_object_is_type(e, json_type_object))
			cli_add(e, "state",
				json_object_new_string(list_state(cli, e)));
	}
	if (cli->json) {
		cli_print_json(reply);
		json_object_put(reply);
		return CLI_OK;
	}
	for (int col = 0; col < LIST_COLS; col++) {
		width[col] = strlen(list_headers[col]);
		for (size_t i = 0; i < n; i++) {
			size_t w = strlen(
			    list_cell(json_object_array_get_idx(socks, i), col,
				      buf, sizeof buf));

			if (w > width[col])
				width[col] = w;
		}
	}
	for (size_t i = 0; i <= n; i++) {
		json_object *e =
		    i > 0 ? json_object_array_get_idx(socks, i - 1) : NULL;

		for (int col = 0; col < LIST_COLS; col++) {
			const char *text =
			    e ? list_cell(e, col, buf, sizeof buf)
			      : list_headers[col];

			if (col == LIST_COLS - 1)
				printf("%s\n", text);
			else
				printf("%-*s  ", (int)width[col], text);
		}
	}
	json_object_put(reply);
	return CLI_OK;
}

/* One "H[:EVENTS]" as a poll item: CLI_OK and a new object, or the exit
 * status. EVENTS are split off at the last ':' only when they parse, so
 * that a name may hold a ':'. */
static int
poll_item(struct cli *cli, const char *text, json_object **ret)
{
	const char *colon = strrchr(text, ':');
	int events = POLLIN, r;
	sockc_handle_t h;
	char *name;

	if (colon != NULL && cli_parse_events(colon + 1, &events) == 0) {
		name = strndup(text, (size_t)(colon - text));
	} else if (colon != NULL && colon > text &&
		   strspn(text, "0123456789") == (size_t)(colon - text)) {
		return cli_usage(cli, "bad events '%s'", colon + 1);
	} else {
		/* No events: a name may hold a ':'. */
		events = POLLIN;
		name = strdup(text);
	}
	if (name == NULL)
		cli_oom();
	r = cli_handle(cli, name, &h);
	free(name);
	if (r != CLI_OK)
		return r;
	*ret = cli_json(json_object_new_object());
	cli_add(*ret, "handle", json_object_new_int64(h));
	cli_add(*ret, "events", cli_json(names_bits_json(names_poll, events)));
	return CLI_OK;
}

/* poll H[:EVENTS]... [--timeout S] */
int
cli_cmd_poll(struct cli *cli, struct cli_args *args)
{
	const char *timeout = cli_opt(args, "timeout");
	json_object *p, *items, *reply, *ready;
	double t = -1;
	int r;

	if (timeout != NULL && cli_parse_seconds(timeout, &t) < 0)
		return cli_usage(cli, "bad timeout '%s'", timeout);
	items = cli_json(json_object_new_array());
	for (int i = 0; i < args->argc; i++) {
		json_object *it = NULL;

		r = poll_item(cli, args->argv[i], &it);
		if (r != CLI_OK) {
			json_object_put(items);
			return r;
		}
		if (json_object_array_add(items, it) < 0)
			cli_oom();
	}
	p = cli_json(json_object_new_object());
	cli_add(p, "items", items);
	if (t >= 0)
		cli_add(p, "timeout", json_object_new_double(t));
	r = cli_call_get(cli, "io.sockd.Poll", p, "items", json_type_array,
			 &reply, &ready);
	if (r != CLI_OK)
		return r;
	if (cli->json) {
		cli_print_json(reply);
		json_object_put(reply);
		return CLI_OK;
	}
	for (size_t i = 0; i < json_object_array_length(ready); i++) {
		json_object *it = json_object_array_get_idx(ready, i);
		json_object *evs = query_get(it, "events");
		char text[256];
		int events = 0, v;

		for (size_t k = 0; json_object_is_type(evs, json_type_array) &&
				   k < json_object_array_length(evs);
		     k++)
			if (names_value(names_poll,
					json_object_get_string(
					    json_object_array_get_idx(evs, k)),
					&v) == 0)
				events |= v;
		cli_format_events(events, text, sizeof text);
		printf("%lld %s\n", (long long)query_int(it, "handle", 0),
		       text);
	}
	json_object_put(reply);
	return CLI_OK;
}

/* getaddrinfo HOST [PORT] [--family F] [--type T] [--flags FLAGS] */
int
cli_cmd_getaddrinfo(struct cli *cli, struct cli_args *args)
{
	const char *family = cli_opt(args, "family"),
		   *type = cli_opt(args, "type");
	const char *flags = cli_opt(args, "flags");
	json_object *p, *reply, *list, *fl = NULL;
	int fv = 0, tv = 0, port = 0, r;

	if (family != NULL && cli_lookup(names_family, NULL, family, &fv) < 0)
		return cli_usage(cli, "unknown family '%s'", family);
	if (type != NULL && cli_lookup(names_socktype, NULL, type, &tv) < 0)
		return cli_usage(cli, "unknown type '%s'", type);
	if (args->argc > 1 && cli_parse_port(args->argv[1], tv, &port) < 0)
		return cli_usage(cli, "bad port '%s'", args->argv[1]);
	if (flags != NULL && cli_parse_flags(flags, names_ai_flag, &fl) < 0)
		return cli_usage(cli, "bad flags '%s'", flags);
	p = cli_json(json_object_new_object());
	/* "": no host, as Python's None (the wildcard with passive). */
	if (args->argv[0][0] != '\0')
		cli_add(p, "host", json_object_new_string(args->argv[0]));
	if (args->argc > 1)
		cli_add(p, "port", json_object_new_int(port));
	if (family != NULL)
		cli_add(p, "family",
			json_object_new_string(names_name(names_family, fv)));
	if (type != NULL)
		cli_add(p, "type",
			json_object_new_string(names_name(names_socktype, tv)));
	if (fl != NULL)
		cli_add(p, "flags", fl);
	r = cli_call_get(cli, "io.sockd.GetAddrInfo", p, "addresses",
			 json_type_array, &reply, &list);
	if (r != CLI_OK)
		return r;
	if (cli->json) {
		cli_print_json(reply);
		json_object_put(reply);
		return CLI_OK;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		const char *canon =
		    json_object_get_string(query_get(e, "canonname"));
		char fam[32], typ[32], addr[256];

		cli_format_address(query_get(e, "address"), addr, sizeof addr);
		printf("%s %s %s%s%s\n",
		       query_short(names_family, query_get(e, "family"), fam,
				   sizeof fam),
		       query_short(names_socktype, query_get(e, "type"), typ,
				   sizeof typ),
		       addr, canon && canon[0] ? " " : "",
		       canon && canon[0] ? canon : "");
	}
	json_object_put(reply);
	return CLI_OK;
}

/* getnameinfo ADDR [--flags FLAGS]: "HOST SERVICE". */
int
cli_cmd_getnameinfo(struct cli *cli, struct cli_args *args)
{
	const char *flags = cli_opt(args, "flags"), *why;
	json_object *p, *reply, *a, *fl = NULL, *host, *port;
	int r;

	if (flags != NULL && cli_parse_flags(flags, names_ni_flag, &fl) < 0)
		return cli_usage(cli, "bad flags '%s'", flags);
	if (cli_parse_address(args->argv[0], &a, &why) < 0) {
		json_object_put(fl);
		return cli_usage(cli, "bad address '%s': %s", args->argv[0],
				 why);
	}
	p = cli_json(json_object_new_object());
	cli_add(p, "address", a);
	if (fl != NULL)
		cli_add(p, "flags", fl);
	r = cli_call(cli, "io.sockd.GetNameInfo", p, &reply);
	if (r != CLI_OK)
		return r;
	host = query_get(reply, "host");
	port = query_get(reply, "port");
	if (host == NULL || port == NULL) {
		json_object_put(reply);
		return cli_bad_reply(cli, "host");
	}
	if (cli->json)
		cli_print_json(reply);
	else
		printf("%s %s\n", json_object_get_string(host),
		       json_object_get_string(port));
	json_object_put(reply);
	return CLI_OK;
}

/* Print "key VALUE" for each string of an array. */
static void
query_print_strings(const char *key, json_object *a)
{
	for (size_t i = 0; json_object_is_type(a, json_type_array) &&
			   i < json_object_array_length(a);
	     i++)
		printf("%s %s\n", key,
		       json_object_get_string(json_object_array_get_idx(a, i)));
}

/* gethostbyaddr HOST */
int
cli_cmd_gethostbyaddr(struct cli *cli, struct cli_args *args)
{
	json_object *p = cli_json(json_object_new_object()), *reply, *name;
	int r;

	cli_add(p, "host", json_object_new_string(args->argv[0]));
	r = cli_call(cli, "io.sockd.GetHostByAddr", p, &reply);
	if (r != CLI_OK)
		return r;
	name = query_get(reply, "hostname");
	if (name == NULL) {
		json_object_put(reply);
		return cli_bad_reply(cli, "hostname");
	}
	if (cli->json) {
		cli_print_json(reply);
	} else {
		printf("hostname %s\n", json_object_get_string(name));
		query_print_strings("alias", query_get(reply, "aliases"));
		query_print_strings("address", query_get(reply, "addresses"));
	}
	json_object_put(reply);
	return CLI_OK;
}

/* The JSON parameters of a raw call: CLI_OK and an object, or a usage
 * error. */
static int
call_params(struct cli *cli, const char *text, json_object **ret)
{
	enum json_tokener_error jerr = json_tokener_success;
	char *input = NULL;
	json_object *obj;
	size_t len;
	int r;

	if (strcmp(text, "-") == 0) {
		r = cli_read_all(STDIN_FILENO, 64u * 1024 * 1024, &input, &len);
		if (r < 0)
			return cli_error(cli, CLI_FAILED,
					 "reading standard input: %s",
					 strerror(-r));
		if (memchr(input, '\0', len) != NULL) {
			free(input);
			return cli_usage(cli, "NUL byte in the JSON");
		}
		text = input;
	}
	obj = json_tokener_parse_verbose(text, &jerr);
	free(input);
	if (obj == NULL && jerr != json_tokener_success)
		return cli_usage(cli, "bad JSON: %s",
				 json_tokener_error_desc(jerr));
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return cli_usage(cli, "the parameters must be a JSON object");
	}
	*ret = obj;
	return CLI_OK;
}

/* call METHOD [JSON|-]: the reply's parameters as JSON. */
int
cli_cmd_call(struct cli *cli, struct cli_args *args)
{
	const char *method = args->argv[0];
	json_object *params = NULL, *reply;
	char full[256];
	struct sockc *c;
	int r;

	if (method[0] == '\0' || strlen(method) >= sizeof full - 9)
		return cli_usage(cli, "bad method '%s'", method);
	snprintf(full, sizeof full, "%s%s",
		 strchr(method, '.') ? "" : "io.sockd.", method);
	if (args->argc > 1) {
		r = call_params(cli, args->argv[1], &params);
		if (r != CLI_OK)
			return r;
	}
	c = cli_connect(cli);
	if (c == NULL) {
		json_object_put(params);
		return CLI_DAEMON;
	}
	if (lib_call(c, full, params, &reply, NULL) < 0) {
		if (sockc_error_name(c) == NULL)
			return cli_fail(cli, c, NULL);
		fprintf(stderr, "sockc: call: %s %s\n", sockc_error_name(c),
			c->error_params
			    ? json_object_to_json_string_ext(
				  c->error_params,
				  JSON_C_TO_STRING_PLAIN |
				      JSON_C_TO_STRING_NOSLASHESCAPE)
			    : "{}");
		return CLI_FAILED;
	}
	if (cli->json) {
		cli_print_json(reply);
	} else {
		const char *text = json_object_to_json_string_ext(
		    reply, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			       JSON_C_TO_STRING_NOSLASHESCAPE);

		if (text == NULL)
			cli_oom();
		puts(text);
	}
	json_object_put(reply);
	return CLI_OK;
}

/* Print the short names of a table, leaving out value skip. */
static void
complete_names(const struct name *table, const char *prefix, int skip)
{
	for (const struct name *n = table; n->name; n++) {
		char buf[64];

		if (n->value == skip && skip >= 0)
			continue;
		if (names_name(table, n->value) != n->name)
			continue; /* an alias */
		puts(cli_short_name(table, prefix, n->value, buf, sizeof buf));
	}
}

/* The caller's handles, numbers and names; nothing when sockd cannot be
 * reached (completion must stay quiet). */
static void
complete_handles(struct cli *cli)
{
	json_object *reply, *socks;
	struct sockc *c = sockc_open(cli->socket_path);

	if (c == NULL)
		return;
	if (lib_call(c, "io.sockd.List", NULL, &reply, NULL) == 0) {
		socks = query_get(reply, "sockets");
		for (size_t i = 0;
		     json_object_is_type(socks, json_type_array) &&
		     i < json_object_array_length(socks);
		     i++) {
			json_object *e = json_object_array_get_idx(socks, i);
			json_object *name = query_get(e, "name");

			printf("%lld\n", (long long)query_int(e, "handle", 0));
			if (name != NULL)
				puts(json_object_get_string(name));
		}
		json_object_put(reply);
	}
	sockc_free(c);
}

/* The options of command name, as typed: "--name", "-l". */
static void
complete_options(const char *name)
{
	for (const struct cli_cmd *cmd = cli_cmds; cmd->name; cmd++) {
		const char *p = cmd->options;

		if (strcmp(cmd->name, name) != 0)
			continue;
		while (*p != '\0') {
			size_t n = strcspn(p, " =");

			printf("%s%.*s\n", n == 1 ? "-" : "--", (int)n, p);
			p += n;
			p += strspn(p, " =");
		}
		puts("--json");
		puts("--help");
	}
}

/* __complete WHAT [ARG]: names for the bash completion. */
int
cli_cmd_complete(struct cli *cli, struct cli_args *args)
{
	const char *what = args->argv[0];
	int level;

	if (strcmp(what, "commands") == 0) {
		for (const struct cli_cmd *cmd = cli_cmds; cmd->name; cmd++)
			if (!(cmd->flags & CLI_HIDDEN))
				puts(cmd->name);
	} else if (strcmp(what, "families") == 0) {
		complete_names(names_family, NULL, AF_UNSPEC);
	} else if (strcmp(what, "types") == 0) {
		complete_names(names_socktype, NULL, -1);
	} else if (strcmp(what, "levels") == 0) {
		complete_names(names_level, NULL, -1);
	} else if (strcmp(what, "options") == 0) {
		if (args->argc > 1 &&
		    cli_lookup(names_level, NULL, args->argv[1], &level) == 0)
			complete_names(names_options(level), NULL, -1);
	} else if (strcmp(what, "shutdown") == 0) {
		complete_names(names_shut, NULL, -1);
	} else if (strcmp(what, "events") == 0) {
		complete_names(names_poll, "POLL", -1);
	} else if (strcmp(what, "ai-flags") == 0) {
		complete_names(names_ai_flag, NULL, -1);
	} else if (strcmp(what, "ni-flags") == 0) {
		complete_names(names_ni_flag, NULL, -1);
	} else if (strcmp(what, "handles") == 0) {
		complete_handles(cli);
	} else if (strcmp(what, "command-options") == 0) {
		if (args->argc > 1)
			complete_options(args->argv[1]);
	} else {
		return cli_usage(cli, "unknown list '%s'", what);
	}
	return CLI_OK;
}
