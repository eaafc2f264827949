/*
 * sockc: drive sockets held by sockd from a shell. This file holds main(),
 * the global options, the parsing of a command's options, help, and the
 * helpers every command uses to call sockd, print replies and report
 * errors (Python-style text on stderr, and the exit status).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib.h"

/* The socket sockc_open() will try, for messages. */
const char *
cli_socket_path(const struct cli *cli)
{
	const char *env = getenv("SOCKD_SOCKET");

	if (cli->socket_path != NULL)
		return cli->socket_path;
	if (env != NULL && env[0] != '\0')
		return env;
	return lib_default_socket();
}

/* Out of memory: nothing sensible is left to do. */
void
cli_oom(void)
{
	fputs("sockc: out of memory\n", stderr);
	exit(CLI_FAILED);
}

/* obj, or exit when json-c could not allocate it. */
json_object *
cli_json(json_object *obj)
{
	if (obj == NULL)
		cli_oom();
	return obj;
}

/* Add value (checked) to obj under key. */
void
cli_add(json_object *obj, const char *key, json_object *value)
{
	if (json_object_object_add(obj, key, cli_json(value)) < 0)
		cli_oom();
}

/* The connection to sockd, opened on first use; NULL after saying why. */
struct sockc *
cli_connect(struct cli *cli)
{
	if (cli->c == NULL) {
		cli->c = sockc_open(cli->socket_path);
		if (cli->c == NULL)
			fprintf(stderr, "sockc: cannot reach sockd at %s: %s\n",
				cli_socket_path(cli), strerror(errno));
	}
	return cli->c;
}

/* The command's name, for messages. */
static const char *
cli_op(const struct cli *cli)
{
	return cli->cmd != NULL ? cli->cmd->name : "sockc";
}

/* "sockc: CMD: message" on stderr. */
__attribute__((format(printf, 2, 0))) static void
cli_vsay(struct cli *cli, const char *fmt, va_list ap)
{
	fprintf(stderr, "sockc: %s: ", cli_op(cli));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Print "sockc: CMD: message" and return status. */
int
cli_error(struct cli *cli, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(cli, fmt, ap);
	va_end(ap);
	return status;
}

/* A usage error: what is wrong, then the command's usage line. */
int
cli_usage(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(cli, fmt, ap);
	va_end(ap);
	if (cli->cmd != NULL)
		fprintf(stderr, "usage: sockc %s%s%s\n", cli->cmd->name,
			cli->cmd->usage[0] ? " " : "", cli->cmd->usage);
	return CLI_USAGE;
}

/* A reply that lacks what its method promises. */
int
cli_bad_reply(struct cli *cli, const char *field)
{
	return cli_error(cli, CLI_DAEMON, "bad reply from sockd (no %s)",
			 field);
}

/* A string member of the last error reply's parameters, or "". */
static const char *
cli_error_str(struct sockc *c, const char *key)
{
	json_object *v;

	if (c->error_params != NULL &&
	    json_object_object_get_ex(c->error_params, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

/* An integer member of the last error reply's parameters, or def. */
static int
cli_error_int(struct sockc *c, const char *key, int def)
{
	json_object *v;

	if (c->error_params != NULL &&
	    json_object_object_get_ex(c->error_params, key, &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int(v);
	return def;
}

/* An OSError as Python prints it: "[Errno 111] Connection refused
 * (ECONNREFUSED)", plus the daemon's context when it says more than the
 * name of the call that failed (a policy refusal, a quota). */
static void
cli_print_oserror(struct sockc *c, const char *op, int err)
{
	const char *name = cli_error_str(c, "name");
	const char *msg = cli_error_str(c, "message");
	const char *text = strerror(err), *ctx = msg;
	size_t tlen = strlen(text), oplen = strlen(op);

	if (name[0] == '\0')
		name = names_errno_name(err) ? names_errno_name(err) : "E?";
	if (strncmp(msg, text, tlen) == 0)
		ctx = msg[tlen] == ':' ? msg + tlen + 1 : msg + tlen;
	while (*ctx == ' ')
		ctx++;
	fprintf(stderr, "sockc: %s: [Errno %d] %s (%s)", op, err, text, name);
	/* "connect", "setsockopt SOL_SOCKET SO_LINGER": nothing new; but
	 * "socket AF_INET ...: refused by policy ..." says why. */
	if (ctx[0] != '\0' && strchr(ctx, ' ') != NULL &&
	    !(strncmp(ctx, op, oplen) == 0 && ctx[oplen] == ' ' &&
	      strchr(ctx, ':') == NULL))
		fprintf(stderr, ": %s", ctx);
	fputc('\n', stderr);
}

/*
 * Report the failure of the last call on c, as op, and return the exit
 * status: 1 for an error reply, 3 when sockd could not be talked to or
 * answered wrongly.
 */
int
cli_fail(struct cli *cli, struct sockc *c, const char *op)
{
	const char *error = sockc_error_name(c);
	const char *msg = sockc_error_message(c);
	int err = errno;

	if (op == NULL)
		op = cli_op(cli);
	if (error == NULL) {
		if (err == EPROTO) {
			fprintf(stderr, "sockc: %s: bad reply from sockd\n",
				op);
			return CLI_DAEMON;
		}
		if (c->broken) {
			fprintf(stderr,
				"sockc: %s: connection to sockd failed: %s\n",
				op, strerror(err));
			return CLI_DAEMON;
		}
		fprintf(stderr, "sockc: %s: %s\n", op, strerror(err));
		return CLI_FAILED;
	}
	if (strcmp(error, "io.sockd.OSError") == 0) {
		cli_print_oserror(c, op, cli_error_int(c, "errno", err));
	} else if (strcmp(error, "io.sockd.Timeout") == 0) {
		fprintf(stderr, "sockc: %s: %s\n", op,
			msg[0] ? msg : "timed out");
	} else if (strcmp(error, "io.sockd.GAIError") == 0) {
		const char *name = cli_error_str(c, "name");
		int code = cli_error_int(c, "code", sockc_gai_error(c));

		if (name[0] == '\0')
			name = names_name(names_eai, code);
		fprintf(stderr, "sockc: %s: [%s] %s\n", op,
			name ? name : "EAI_?", msg);
	} else if (strcmp(error, "io.sockd.HError") == 0) {
		fprintf(stderr, "sockc: %s: [Errno %d] %s\n", op,
			cli_error_int(c, "code", sockc_herror(c)), msg);
	} else if (strcmp(error, "org.varlink.service.InvalidParameter") == 0) {
		fprintf(stderr, "sockc: %s: invalid parameter: %s\n", op,
			cli_error_str(c, "parameter"));
	} else if (strcmp(error, "io.sockd.ProtocolError") == 0) {
		/* sockd refused the connection itself (a connection limit),
		 * or took our message for garbage: the daemon's side. */
		fprintf(stderr, "sockc: %s: sockd refused the connection: %s\n",
			op, msg);
		return CLI_DAEMON;
	} else {
		fprintf(stderr, "sockc: %s: %s%s%s\n", op, error,
			msg[0] ? ": " : "", msg);
	}
	return CLI_FAILED;
}

/* A call and one member of its reply, checked. */
int
cli_call_get(struct cli *cli, const char *method, json_object *params,
	     const char *key, json_type type, json_object **ret_reply,
	     json_object **ret_value)
{
	int r = cli_call(cli, method, params, ret_reply);

	if (r != CLI_OK)
		return r;
	if (!json_object_object_get_ex(*ret_reply, key, ret_value) ||
	    !json_object_is_type(*ret_value, type)) {
		json_object_put(*ret_reply);
		return cli_bad_reply(cli, key);
	}
	return CLI_OK;
}

/* One call to sockd for the running command: 0 with the reply's
 * parameters, or the exit status after reporting the failure. */
int
cli_call(struct cli *cli, const char *method, json_object *params,
	 json_object **ret_reply)
{
	struct sockc *c = cli_connect(cli);

	if (c == NULL) {
		json_object_put(params);
		return CLI_DAEMON;
	}
	if (lib_call(c, method, params, ret_reply, NULL) < 0)
		return cli_fail(cli, c, NULL);
	return CLI_OK;
}

/* The value of option name (--name or -n), "" for a flag that was
 * given, NULL when it was not. */
const char *
cli_opt(const struct cli_args *args, const char *name)
{
	for (int i = args->nopts - 1; i >= 0; i--)
		if (strcmp(args->opts[i].name, name) == 0)
			return args->opts[i].value ? args->opts[i].value : "";
	return NULL;
}

/* A JSON value as one line on stdout. */
void
cli_print_json(json_object *obj)
{
	const char *text = json_object_to_json_string_ext(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (text == NULL)
		cli_oom();
	puts(text);
}

/* Write all of buf to fd: 0, or -errno. */
int
cli_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The command called name, or NULL. */
static const struct cli_cmd *
cli_find(const char *name)
{
	for (const struct cli_cmd *cmd = cli_cmds; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

/* Does cmd take option name, and does it take a value? 1 with
 * *ret_value, 0 when it is not an option of cmd. */
static int
cli_option_spec(const struct cli_cmd *cmd, const char *name, size_t len,
		bool *ret_value)
{
	const char *p = cmd->options;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, " =");

		if (n == len && strncmp(p, name, len) == 0) {
			*ret_value = p[n] == '=';
			return 1;
		}
		p += n;
		p += strspn(p, " =");
	}
	return 0;
}

/* Record one option; a usage error when there are too many. */
static int
cli_args_add(struct cli *cli, struct cli_args *args, const char *name,
	     size_t len, const char *value)
{
	if (args->nopts >= CLI_MAX_OPTS || len >= sizeof args->opts[0].name)
		return cli_usage(cli, "too many options");
	memcpy(args->opts[args->nopts].name, name, len);
	args->opts[args->nopts].name[len] = '\0';
	args->opts[args->nopts].value = value;
	args->nopts++;
	return CLI_OK;
}

/* "--name VALUE", "--name=VALUE" or "--flag". */
static int
cli_args_long(struct cli *cli, struct cli_args *args, char **argv, int argc,
	      int *i)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	bool has_value;

	if (len < 2 || !cli_option_spec(cli->cmd, name, len, &has_value))
		return cli_usage(cli, "unknown option '--%.*s'", (int)len,
				 name);
	if (!has_value && eq != NULL)
		return cli_usage(cli, "option '--%.*s' takes no value",
				 (int)len, name);
	if (has_value && eq == NULL) {
		if (*i + 1 >= argc)
			return cli_usage(cli, "option '--%s' needs a value",
					 name);
		return cli_args_add(cli, args, name, len, argv[++*i]);
	}
	return cli_args_add(cli, args, name, len, eq ? eq + 1 : NULL);
}

/* A group of one-letter options: "-lv", "-q 3", "-q3". */
static int
cli_args_short(struct cli *cli, struct cli_args *args, char **argv, int argc,
	       int *i)
{
	for (const char *p = argv[*i] + 1; *p != '\0'; p++) {
		bool has_value;

		if (!cli_option_spec(cli->cmd, p, 1, &has_value))
			return cli_usage(cli, "unknown option '-%c'", *p);
		if (!has_value) {
			int r = cli_args_add(cli, args, p, 1, NULL);

			if (r != CLI_OK)
				return r;
			continue;
		}
		if (p[1] != '\0')
			return cli_args_add(cli, args, p, 1, p + 1);
		if (*i + 1 >= argc)
			return cli_usage(cli, "option '-%c' needs a value", *p);
		return cli_args_add(cli, args, p, 1, argv[++*i]);
	}
	return CLI_OK;
}

/* Is arg a positional argument, though it starts with '-'? "-" is
 * standard input, "-1" and "-.5" are numbers. */
static bool
cli_is_positional(const char *arg)
{
	return arg[0] != '-' || arg[1] == '\0' ||
	       (arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.';
}

/*
 * Split a command's arguments into options and positional arguments and
 * check their number. --json and --help are accepted by every command.
 * Returns CLI_OK, a usage error, or -1 when help was printed.
 */
static int
cli_args_parse(struct cli *cli, int argc, char **argv, struct cli_args *args)
{
	const struct cli_cmd *cmd = cli->cmd;
	bool dashdash = false;
	int r;

	args->argv = calloc((size_t)argc + 1, sizeof *args->argv);
	if (args->argv == NULL)
		cli_oom();
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (dashdash || cli_is_positional(arg)) {
			args->argv[args->argc++] = argv[i];
			dashdash = dashdash || (cmd->flags & CLI_OPTS_FIRST);
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(arg, "--json") == 0) {
			cli->json = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			cli_help_command(cmd);
			return -1;
		}
		r = arg[1] == '-' ? cli_args_long(cli, args, argv, argc, &i)
				  : cli_args_short(cli, args, argv, argc, &i);
		if (r != CLI_OK)
			return r;
	}
	if (args->argc < cmd->min_args ||
	    (cmd->max_args >= 0 && args->argc > cmd->max_args))
		return cli_usage(cli, args->argc < cmd->min_args
					  ? "too few arguments"
					  : "too many arguments");
	return CLI_OK;
}

/* The help of one command: its usage and its text. */
void
cli_help_command(const struct cli_cmd *cmd)
{
	printf("Usage: sockc %s%s%s\n\n%s\n", cmd->name,
	       cmd->usage[0] ? " " : "", cmd->usage, cmd->help);
}

/* The top of sockc --help. */
static const char cli_help_head[] =
    "Usage: sockc [--socket PATH] [--json] COMMAND [ARGS...]\n"
    "\n"
    "Drive the sockets sockd holds. Each command is a call (or a few)\n"
    "to sockd; the sockets it creates outlive the command.\n"
    "\n"
    "Options:\n"
    "  --socket PATH  sockd's socket (default: $SOCKD_SOCKET, else\n"
    "                 " SOCKC_DEFAULT_SOCKET " for root and\n"
    "                 $XDG_RUNTIME_DIR/sockd/sockd.sock for others)\n"
    "  --json         print each reply as one line of JSON\n"
    "                 (also accepted after COMMAND)\n"
    "  -h, --help     print this help\n"
    "  --version      print the version\n"
    "\n"
    "Commands:\n";

/* The bottom of sockc --help. */
static const char cli_help_tail[] =
    "\n"
    "H is a handle: its number, or its name (socket --name).\n"
    "ADDR is HOST:PORT, [V6]:PORT, /path, @abstract or BDADDR/CHANNEL.\n"
    "HOST may be a name (sockd resolves it), or empty or '*' for every\n"
    "address; PORT may be a service name.\n"
    "DATA is sent as it is given; '-' reads standard input to its end.\n"
    "Put '--' before DATA that starts with '-'.\n"
    "recv and recvfrom write the bytes to standard output as they are;\n"
    "recvfrom writes the sender's address to standard error, one line.\n"
    "With --json, bytes are base64 in \"data\", all on standard output.\n"
    "Errors go to standard error, worded as Python's. Exit status:\n"
    "0 success, 1 the operation failed, 2 usage error, 3 sockd could\n"
    "not be reached or answered wrongly.\n"
    "\n"
    "Run 'sockc help COMMAND' for more about a command.\n";

/* sockc --help */
static void
cli_help(void)
{
	fputs(cli_help_head, stdout);
	for (const struct cli_cmd *cmd = cli_cmds; cmd->name; cmd++) {
		size_t n = strcspn(cmd->help, "\n");

		if (cmd->flags & CLI_HIDDEN)
			continue;
		printf("  %s%s%s\n      %.*s\n", cmd->name,
		       cmd->usage[0] ? " " : "", cmd->usage, (int)n, cmd->help);
	}
	fputs(cli_help_tail, stdout);
}

/* sockc help [COMMAND] */
int
cli_cmd_help(struct cli *cli, struct cli_args *args)
{
	const struct cli_cmd *cmd;

	if (args->argc == 0) {
		cli_help();
		return CLI_OK;
	}
	cmd = cli_find(args->argv[0]);
	if (cmd == NULL)
		return cli_usage(cli, "unknown command '%s'", args->argv[0]);
	cli_help_command(cmd);
	return CLI_OK;
}

/* An unknown or missing command. */
static int
cli_no_command(const char *what)
{
	if (what == NULL)
		fputs("sockc: no command given\n", stderr);
	else
		fprintf(stderr, "sockc: unknown command '%s'\n", what);
	fputs("Try 'sockc --help' for the list of commands.\n", stderr);
	return CLI_USAGE;
}

/* Flush stdout and report a failed write: the last word on the status. */
static int
cli_finish(struct cli *cli, int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sockc: %s: write error: %s\n", cli_op(cli),
			strerror(errno));
		if (status == CLI_OK)
			status = CLI_FAILED;
	}
	sockc_free(cli->c);
	cli->c = NULL;
	return status;
}

int
main(int argc, char **argv)
{
	struct cli cli = {0};
	struct cli_args args = {0};
	int i, status;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		} else if (strcmp(arg, "--json") == 0) {
			cli.json = true;
		} else if (strcmp(arg, "--socket") == 0) {
			if (i + 1 >= argc) {
				fputs("sockc: option '--socket' needs a PATH\n"
				      "Try 'sockc --help'.\n",
				      stderr);
				return CLI_USAGE;
			}
			cli.socket_path = argv[++i];
		} else if (strncmp(arg, "--socket=", 9) == 0) {
			cli.socket_path = arg + 9;
		} else if (strcmp(arg, "--help") == 0 ||
			   strcmp(arg, "-h") == 0) {
			cli_help();
			return cli_finish(&cli, CLI_OK);
		} else if (strcmp(arg, "--version") == 0) {
			printf("sockc %s\n", PACKAGE_VERSION);
			return cli_finish(&cli, CLI_OK);
		} else {
			fprintf(stderr, "sockc: unknown option '%s'\n", arg);
			fputs("Try 'sockc --help'.\n", stderr);
			return CLI_USAGE;
		}
	}
	if (cli.socket_path != NULL && cli.socket_path[0] == '\0') {
		fputs("sockc: --socket needs a non-empty PATH\n", stderr);
		return CLI_USAGE;
	}
	if (i >= argc)
		return cli_no_command(NULL);
	cli.cmd = cli_find(argv[i]);
	if (cli.cmd == NULL)
		return cli_no_command(argv[i]);
	status = cli_args_parse(&cli, argc - i - 1, argv + i + 1, &args);
	if (status == CLI_OK)
		status = cli.cmd->exec(&cli, &args);
	else if (status < 0)
		status = CLI_OK;
	free(args.argv);
	return cli_finish(&cli, status);
}
