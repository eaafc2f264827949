/*
 * sockc exec: run a program with sockets made through sockd, handed over
 * the way systemd's socket activation hands them (fds 3, 4, ... and
 * LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID), so that a socket-activatable
 * server, or a client in a sandbox that may not make sockets, runs
 * unchanged. libsockc's sockc_listen_fds and sockc_listen_fds_pass do the
 * work; this file turns the command line into their specs.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "lib.h"

#define EXEC_CANNOT_RUN 126 /* as env(1): PROGRAM found, not runnable */
#define EXEC_NOT_FOUND	127 /* as env(1): no PROGRAM */

/* One --connect, --listen, --udp or --name, as typed and as a spec. */
struct exec_sock {
	char op[300]; /* "exec: --listen :8080", for messages */
	char *host;   /* a host name to resolve ("" for none), or NULL */
	int port;     /* ... and its port */
	struct sockaddr_storage ss;
	struct sockc_fdspec spec;
};

/* The kind of socket option opt makes, or 0 when it makes none. */
static enum sockc_fdkind
exec_kind(const char *opt)
{
	if (strcmp(opt, "connect") == 0)
		return SOCKC_FD_CONNECT;
	if (strcmp(opt, "listen") == 0)
		return SOCKC_FD_LISTEN;
	if (strcmp(opt, "udp") == 0)
		return SOCKC_FD_UDP;
	if (strcmp(opt, "name") == 0)
		return SOCKC_FD_NAME;
	return 0;
}

/* The numeric IPv4 or IPv6 address of a (from cli_parse_address) into
 * *ret: false when a's host is empty or a name. */
static bool
exec_numeric(json_object *a, struct addr *ret)
{
	const char *why;
	json_object *v;

	if (!json_object_object_get_ex(a, "host", &v) ||
	    json_object_get_string_len(v) == 0)
		return false;
	if (addr_from_json(a, AF_INET, ret, &why) == 0 && !ret->host_name)
		return true;
	return addr_from_json(a, AF_INET6, ret, &why) == 0 && !ret->host_name;
}

/* Fill es from one option, as far as it goes without sockd: a usage
 * error when the value is no good. No host, or a host name, is resolved
 * later, by sockd. */
static int
exec_parse(struct cli *cli, const char *opt, const char *value,
	   struct exec_sock *es)
{
	json_object *a, *v;
	const char *why;
	struct addr addr;

	snprintf(es->op, sizeof es->op, "exec: --%s %s", opt, value);
	es->spec.kind = exec_kind(opt);
	if (es->spec.kind == SOCKC_FD_NAME) {
		if (value[0] == '\0')
			return cli_usage(cli, "empty name");
		es->spec.name = value;
		return CLI_OK;
	}
	if (cli_parse_address(value, &a, &why) < 0)
		return cli_usage(cli, "bad address '%s': %s", value, why);
	if (json_object_object_get_ex(a, "path", &v) ||
	    json_object_object_get_ex(a, "path_base64", &v)) {
		addr_from_json(a, AF_UNIX, &addr, &why);
	} else if (!json_object_object_get_ex(a, "host", &v)) {
		json_object_put(a);
		return cli_usage(cli,
				 "bad address '%s': exec takes HOST:PORT, "
				 "[V6]:PORT, /path or @abstract",
				 value);
	} else if (!exec_numeric(a, &addr)) {
		/* No host, or a name: sockd resolves it (exec_resolve). */
		es->host = strdup(json_object_get_string(v));
		if (es->host == NULL)
			cli_oom();
		json_object_object_get_ex(a, "port", &v);
		es->port = json_object_get_int(v);
		json_object_put(a);
		return CLI_OK;
	}
	json_object_put(a);
	memcpy(&es->ss, &addr.ss, addr.len);
	es->spec.addr = (struct sockaddr *)&es->ss;
	es->spec.addrlen = addr.len;
	return CLI_OK;
}

/* Resolve es's host through sockd, as getaddrinfo with the socket's type
 * would: the first address, or for no host where a socket is bound, the
 * IPv6 wildcard (dual-stack) when there is one, as systemd binds
 * ListenStream=PORT. The status, after saying what went wrong. */
static int
exec_resolve(struct cli *cli, struct sockc *c, struct exec_sock *es)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICSERV}, *res, *ai;
	bool wildcard = es->host[0] == '\0';
	bool passive = wildcard && es->spec.kind != SOCKC_FD_CONNECT;
	char port[16];
	int r;

	hints.ai_socktype =
	    es->spec.kind == SOCKC_FD_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	snprintf(port, sizeof port, "%d", es->port);
	r = sockc_getaddrinfo(c, wildcard ? NULL : es->host, port, &hints,
			      &res);
	if (r != 0) {
		const char *name = names_name(names_eai, r);

		if (sockc_error_name(c) != NULL || r == EAI_SYSTEM)
			return cli_fail(cli, c, es->op);
		fprintf(stderr, "sockc: %s: [%s] %s\n", es->op,
			name ? name : "EAI_?", gai_strerror(r));
		return CLI_FAILED;
	}
	for (ai = res; passive && ai != NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET6)
			break;
	if (ai == NULL)
		ai = res;
	/* Success is a non-empty list, as from getaddrinfo: ai is not NULL.
	 * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	memcpy(&es->ss, ai->ai_addr, ai->ai_addrlen);
	es->spec.addr = (struct sockaddr *)&es->ss;
	es->spec.addrlen = ai->ai_addrlen;
	sockc_freeaddrinfo(res);
	return CLI_OK;
}

/* Make es's socket: its fd in *ret_fd, or the status after saying why. */
static int
exec_make(struct cli *cli, struct sockc *c, struct exec_sock *es, int *ret_fd)
{
	int r;

	if (es->host != NULL) {
		r = exec_resolve(cli, c, es);
		if (r != CLI_OK)
			return r;
	}
	if (sockc_listen_fds(c, &es->spec, 1, ret_fd) == 0)
		return CLI_OK;
	/* The one failure of sockc_listen_fds's own, not sockd's. */
	if (errno == EINVAL && sockc_error_name(c) == NULL &&
	    es->spec.kind == SOCKC_FD_NAME)
		return cli_usage(cli,
				 "the name '%s' cannot be passed in "
				 "LISTEN_FDNAMES (':', or a character that is "
				 "not printable ASCII)",
				 es->spec.name);
	return cli_fail(cli, c, es->op);
}

/* exec [--connect ADDR]... [--listen ADDR]... [--udp ADDR]...
 * [--name NAME]... [--] PROGRAM [ARG]... */
int
cli_cmd_exec(struct cli *cli, struct cli_args *args)
{
	struct exec_sock socks[CLI_MAX_OPTS] = {0};
	struct sockc_fdspec specs[CLI_MAX_OPTS];
	int fds[CLI_MAX_OPTS], n = 0, r = CLI_OK, e;
	struct sockc *c = NULL;

	for (int i = 0; i < args->nopts && r == CLI_OK; i++)
		if (exec_kind(args->opts[i].name) != 0)
			r = exec_parse(cli, args->opts[i].name,
				       args->opts[i].value, &socks[n++]);
	if (r == CLI_OK && n == 0)
		r = cli_usage(cli, "no socket to pass: give --connect, "
				   "--listen, --udp or --name");
	if (r == CLI_OK && (c = cli_connect(cli)) == NULL)
		r = CLI_DAEMON;
	for (int i = 0; i < n && r == CLI_OK; i++)
		r = exec_make(cli, c, &socks[i], &fds[i]);
	for (int i = 0; i < n; i++) {
		free(socks[i].host);
		specs[i] = socks[i].spec;
	}
	if (r != CLI_OK)
		return r; /* the fds made so far close at exit */
	/* The connection must be gone before the fds take 3, 4, ... */
	sockc_free(cli->c);
	cli->c = NULL;
	if (sockc_listen_fds_pass(specs, (size_t)n, fds) < 0)
		return cli_error(cli, CLI_FAILED, "passing the sockets: %s",
				 strerror(errno));
	(void)fflush(stdout); /* nothing to do if it fails: exec anyway */
	execvp(args->argv[0], args->argv);
	e = errno;
	return cli_error(cli, e == ENOENT ? EXEC_NOT_FOUND : EXEC_CANNOT_RUN,
			 "%s: %s", args->argv[0], strerror(e));
}
