/*
 * sockc's commands for a socket's settings: settimeout, gettimeout,
 * setblocking, setsockopt, getsockopt. Levels and options are the names of
 * proto/names.c, typed with or without their prefix, in any case.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "cli.h"

#define OPT_MAX_BUFLEN 1024 /* getsockopt, as sockd */

/* settimeout H SECONDS|none */
int
cli_cmd_settimeout(struct cli *cli, struct cli_args *args)
{
	json_object *p;
	double t;
	int r;

	if (cli_parse_seconds(args->argv[1], &t) < 0)
		return cli_usage(cli, "bad timeout '%s'", args->argv[1]);
	r = cli_handle_params(cli, args->argv[0], &p);
	if (r != CLI_OK)
		return r;
	json_object_object_add(
	    p, "timeout", t < 0 ? NULL : cli_json(json_object_new_double(t)));
	return cli_simple_call(cli, "io.sockd.SetTimeout", p);
}

/* gettimeout H: seconds, or "none". */
int
cli_cmd_gettimeout(struct cli *cli, struct cli_args *args)
{
	json_object *p, *reply, *t = NULL;
	int r = cli_handle_params(cli, args->argv[0], &p);

	if (r == CLI_OK)
		r = cli_call(cli, "io.sockd.GetTimeout", p, &reply);
	if (r != CLI_OK)
		return r;
	json_object_object_get_ex(reply, "timeout", &t);
	if (cli->json)
		cli_print_json(reply);
	else
		puts(t == NULL ? "none" : json_object_to_json_string(t));
	json_object_put(reply);
	return CLI_OK;
}

/* setblocking H 0|1 */
int
cli_cmd_setblocking(struct cli *cli, struct cli_args *args)
{
	const char *v = args->argv[1];
	json_object *p;
	int r;

	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
		return cli_usage(cli, "expected 0 or 1, not '%s'", v);
	r = cli_handle_params(cli, args->argv[0], &p);
	if (r != CLI_OK)
		return r;
	cli_add(p, "blocking", json_object_new_boolean(v[0] == '1'));
	return cli_simple_call(cli, "io.sockd.SetBlocking", p);
}

/* LEVEL and OPTION as their canonical names in p: CLI_OK, or a usage
 * error (p freed). */
static int
opt_names(struct cli *cli, json_object *p, const char *level,
	  const char *option)
{
	int lv, ov;

	if (cli_lookup(names_level, NULL, level, &lv) < 0) {
		json_object_put(p);
		return cli_usage(cli, "unknown level '%s'", level);
	}
	if (cli_lookup(names_options(lv), NULL, option, &ov) < 0) {
		json_object_put(p);
		return cli_usage(cli, "unknown option '%s' at level %s", option,
				 names_name(names_level, lv));
	}
	cli_add(p, "level",
		json_object_new_string(names_name(names_level, lv)));
	cli_add(p, "option",
		json_object_new_string(names_name(names_options(lv), ov)));
	return CLI_OK;
}

/*
 * A setsockopt VALUE into p: an integer ("1", "-1", "0x10") is "value";
 * "hex:0100000005000000" is raw bytes; "str:TEXT" and any other text
 * (TCP_CONGESTION's "cubic", SO_BINDTODEVICE's "lo") are those bytes.
 * CLI_OK, or a usage error (p freed).
 */
static int
opt_value(struct cli *cli, json_object *p, const char *text)
{
	long long v;

	if (strncmp(text, "hex:", 4) == 0) {
		size_t n = strlen(text + 4), i;
		unsigned char *buf;

		if (n % 2 != 0) {
			json_object_put(p);
			return cli_usage(cli, "odd number of hex digits");
		}
		buf = malloc(n / 2 + 1);
		if (buf == NULL)
			cli_oom();
		for (i = 0; i < n / 2; i++) {
			int hi = b64_hex_digit(text[4 + 2 * i]);
			int lo = b64_hex_digit(text[5 + 2 * i]);

			if (hi < 0 || lo < 0) {
				free(buf);
				json_object_put(p);
				return cli_usage(cli, "bad hex in '%s'", text);
			}
			buf[i] = (unsigned char)(hi << 4 | lo);
		}
		cli_add(p, "data", cli_data(buf, n / 2));
		free(buf);
	} else if (strncmp(text, "str:", 4) == 0) {
		cli_add(p, "data", cli_data(text + 4, strlen(text + 4)));
	} else if (cli_parse_int(text, INT_MIN, INT_MAX, &v) == 0) {
		cli_add(p, "value", json_object_new_int((int)v));
	} else {
		cli_add(p, "data", cli_data(text, strlen(text)));
	}
	return CLI_OK;
}

/* setsockopt H LEVEL OPTION VALUE */
int
cli_cmd_setsockopt(struct cli *cli, struct cli_args *args)
{
	json_object *p = cli_json(json_object_new_object());
	int r;

	/* Check the whole line before the handle's name is looked up. */
	r = opt_names(cli, p, args->argv[1], args->argv[2]);
	if (r == CLI_OK)
		r = opt_value(cli, p, args->argv[3]);
	if (r != CLI_OK)
		return r;
	r = cli_add_handle(cli, p, args->argv[0]);
	if (r != CLI_OK)
		return r;
	return cli_simple_call(cli, "io.sockd.SetSockOpt", p);
}

/* Option bytes as text setsockopt reads back: printable text as it is
 * (trailing NULs dropped), anything else as "hex:...". */
static void
opt_print_data(const unsigned char *buf, size_t len)
{
	size_t n = len, i;
	long long v;

	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			break;
	if (n > 0 && i == n) {
		char *text = strndup((const char *)buf, n);

		if (text == NULL)
			cli_oom();
		/* Text that would read back as a number or a prefix. */
		if (cli_parse_int(text, LLONG_MIN, LLONG_MAX, &v) == 0 ||
		    strncmp(text, "hex:", 4) == 0 ||
		    strncmp(text, "str:", 4) == 0)
			fputs("str:", stdout);
		puts(text);
		free(text);
		return;
	}
	fputs("hex:", stdout);
	for (i = 0; i < len; i++)
		printf("%02x", buf[i]);
	putchar('\n');
}

/* getsockopt H LEVEL OPTION [BUFLEN]: the integer, or with BUFLEN the
 * bytes. */
int
cli_cmd_getsockopt(struct cli *cli, struct cli_args *args)
{
	json_object *p = cli_json(json_object_new_object()), *reply, *v;
	long long buflen = 0;
	unsigned char *data;
	size_t len;
	int r;

	if (args->argc > 3 &&
	    cli_parse_int(args->argv[3], 1, OPT_MAX_BUFLEN, &buflen) < 0) {
		json_object_put(p);
		return cli_usage(cli, "bad BUFLEN '%s' (1 to %d)",
				 args->argv[3], OPT_MAX_BUFLEN);
	}
	r = opt_names(cli, p, args->argv[1], args->argv[2]);
	if (r != CLI_OK)
		return r;
	r = cli_add_handle(cli, p, args->argv[0]);
	if (r != CLI_OK)
		return r;
	if (buflen > 0)
		cli_add(p, "buflen", json_object_new_int((int)buflen));
	r = cli_call(cli, "io.sockd.GetSockOpt", p, &reply);
	if (r != CLI_OK)
		return r;
	if (cli->json) {
		cli_print_json(reply);
	} else if (buflen == 0) {
		if (!json_object_object_get_ex(reply, "value", &v) ||
		    !json_object_is_type(v, json_type_int)) {
			json_object_put(reply);
			return cli_bad_reply(cli, "value");
		}
		printf("%d\n", json_object_get_int(v));
	} else {
		if (cli_data_out(reply, &data, &len) < 0) {
			json_object_put(reply);
			return cli_bad_reply(cli, "data");
		}
		opt_print_data(data, len);
		free(data);
	}
	json_object_put(reply);
	return CLI_OK;
}
