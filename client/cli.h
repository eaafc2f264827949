/*
 * The sockc command line: the command table's shape, one run's state, and
 * the helpers the command files share (parsing what the user typed,
 * calling sockd, printing replies and errors).
 */
#ifndef SOCKC_CLI_H
#define SOCKC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "names.h"
#include "sockc.h"

/* Exit statuses. */
#define CLI_OK	   0 /* success */
#define CLI_FAILED 1 /* the operation failed: sockd replied with an error */
#define CLI_USAGE  2 /* a bad command line */
#define CLI_DAEMON 3 /* sockd could not be reached, or answered wrongly */

#define CLI_MAX_OPTS 32 /* options one command line may carry */

struct cli_cmd;

/* One run of sockc. */
struct cli {
	const char *socket_path;   /* --socket, NULL for the default */
	bool json;		   /* --json: each reply as one JSON line */
	struct sockc *c;	   /* opened by cli_connect() on first use */
	const struct cli_cmd *cmd; /* the command being run */
};

/* A command's arguments, its options taken out. */
struct cli_args {
	int argc;
	char **argv; /* the positional arguments */
	struct {
		char name[16];	   /* "name" for --name, "l" for -l */
		const char *value; /* NULL for a flag */
	} opts[CLI_MAX_OPTS];
	int nopts;
};

/* One subcommand. */
struct cli_cmd {
	const char *name;
	const char *usage; /* the arguments: "H ADDR" */
	int min_args;
	int max_args; /* -1: no limit */
	/* The options it takes, space-separated: one letter for -l, more
	 * for --name; a trailing '=' when it takes a value. */
	const char *options;
	const char *help; /* the first line is the summary */
	int (*exec)(struct cli *cli, struct cli_args *args);
	unsigned flags; /* CLI_* below */
	/* The varlink method, for commands whose exec serves several
	 * (bind and connect, recv and recvfrom, getsockname and
	 * getpeername); NULL for the others. */
	const char *method;
};

#define CLI_HIDDEN     0x1 /* not listed by --help */
#define CLI_OPTS_FIRST 0x2 /* options end at the first argument (exec) */

/* The command table (cli-cmds.c), ended by a NULL name. */
extern const struct cli_cmd cli_cmds[];

/* sockc.c: the run, output and errors. */
struct sockc *cli_connect(struct cli *cli);
int cli_call(struct cli *cli, const char *method, json_object *params,
	     json_object **ret_reply);
/* cli_call, then the reply's member key of JSON type type in *ret_value
 * (borrowed from *ret_reply); a reply without it is a bad reply. */
int cli_call_get(struct cli *cli, const char *method, json_object *params,
		 const char *key, json_type type, json_object **ret_reply,
		 json_object **ret_value);
int cli_fail(struct cli *cli, struct sockc *c, const char *op);
int cli_usage(struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cli_error(struct cli *cli, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cli_bad_reply(struct cli *cli, const char *field);
const char *cli_opt(const struct cli_args *args, const char *name);
void cli_print_json(json_object *obj);
int cli_write(int fd, const void *buf, size_t len);
void cli_oom(void) __attribute__((noreturn));
json_object *cli_json(json_object *obj);
void cli_add(json_object *obj, const char *key, json_object *value);
const char *cli_socket_path(const struct cli *cli);
void cli_help_command(const struct cli_cmd *cmd);

/* cli-parse.c: what the user typed, and what sockd answered, as text. */
int cli_lookup(const struct name *table, const char *prefix, const char *text,
	       int *ret_value);
const char *cli_short_name(const struct name *table, const char *prefix,
			   int value, char *buf, size_t size);
int cli_parse_int(const char *text, long long min, long long max,
		  long long *ret);
int cli_parse_seconds(const char *text, double *ret);
int cli_parse_port(const char *text, int socktype, int *ret);
int cli_parse_address(const char *text, json_object **ret,
		      const char **ret_why);
int cli_parse_events(const char *text, int *ret_events);
int cli_parse_flags(const char *text, const struct name *table,
		    json_object **ret);
void cli_format_address(json_object *addr, char *buf, size_t size);
void cli_format_events(int events, char *buf, size_t size);
int cli_read_data(const char *text, size_t max, char **ret, size_t *ret_len);
int cli_read_all(int fd, size_t max, char **ret, size_t *ret_len);
json_object *cli_data(const void *buf, size_t len);
int cli_data_out(json_object *reply, unsigned char **ret, size_t *ret_len);
int cli_handle(struct cli *cli, const char *text, sockc_handle_t *ret);

/* cli-cmds.c: shared by the commands on one handle. */
int cli_handle_params(struct cli *cli, const char *text, json_object **ret);
/* Add the handle text names to p; on failure p is dropped. */
int cli_add_handle(struct cli *cli, json_object *p, const char *text);
int cli_simple_call(struct cli *cli, const char *method, json_object *params);

/* The commands that live outside cli-cmds.c. */
int cli_cmd_settimeout(struct cli *cli, struct cli_args *args);
int cli_cmd_gettimeout(struct cli *cli, struct cli_args *args);
int cli_cmd_setblocking(struct cli *cli, struct cli_args *args);
int cli_cmd_setsockopt(struct cli *cli, struct cli_args *args);
int cli_cmd_getsockopt(struct cli *cli, struct cli_args *args);
int cli_cmd_help(struct cli *cli, struct cli_args *args);
int cli_cmd_list(struct cli *cli, struct cli_args *args);
int cli_cmd_poll(struct cli *cli, struct cli_args *args);
int cli_cmd_getaddrinfo(struct cli *cli, struct cli_args *args);
int cli_cmd_getnameinfo(struct cli *cli, struct cli_args *args);
int cli_cmd_gethostbyaddr(struct cli *cli, struct cli_args *args);
int cli_cmd_call(struct cli *cli, struct cli_args *args);
int cli_cmd_complete(struct cli *cli, struct cli_args *args);
int cli_cmd_nc(struct cli *cli, struct cli_args *args);
int cli_cmd_exec(struct cli *cli, struct cli_args *args);

#endif
