/*
 * sockc's commands: the one table of them, and the commands that drive one
 * socket (socket, bind, connect, send, recv, setsockopt, close, ...). Each
 * is one call to sockd, or a few; its reply is printed as text, or as it
 * came with --json.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define CMD_MAX_DATA (64u * 1024 * 1024) /* send/sendto input */
#define CMD_CHUNK    (4u * 1024 * 1024)	 /* sendall: bytes per call */

/* Add the handle text gives to p; on failure p is dropped. */
int
cli_add_handle(struct cli *cli, json_object *p, const char *text)
{
	sockc_handle_t h;
	int r = cli_handle(cli, text, &h);

	if (r != CLI_OK) {
		json_object_put(p);
		return r;
	}
	cli_add(p, "handle", json_object_new_int64(h));
	return CLI_OK;
}

/* New parameters naming the handle text gives: the status, CLI_OK with
 * *ret set. */
int
cli_handle_params(struct cli *cli, const char *text, json_object **ret)
{
	*ret = cli_json(json_object_new_object());
	return cli_add_handle(cli, *ret, text);
}

/* The end of a command whose reply says nothing: {} with --json. */
static int
cmd_done(struct cli *cli, json_object *reply)
{
	if (cli->json)
		cli_print_json(reply);
	json_object_put(reply);
	return CLI_OK;
}

/* Call method with params; print nothing but the --json reply. */
int
cli_simple_call(struct cli *cli, const char *method, json_object *params)
{
	json_object *reply;
	int r = cli_call(cli, method, params, &reply);

	return r != CLI_OK ? r : cmd_done(cli, reply);
}

/* Add an address given on the command line to params; a usage error
 * (params freed) when it does not parse. */
static int
cmd_address(struct cli *cli, json_object *params, const char *text)
{
	json_object *a;
	const char *why;

	if (cli_parse_address(text, &a, &why) < 0) {
		json_object_put(params);
		return cli_usage(cli, "bad address '%s': %s", text, why);
	}
	cli_add(params, "address", a);
	return CLI_OK;
}

/* A protocol number or name from /etc/protocols: 0, or -EINVAL. */
static int
cmd_proto(const char *text, int *ret)
{
	struct protoent pe, *res = NULL;
	char buf[1024];
	long long v;

	if (cli_parse_int(text, 0, 65535, &v) == 0) {
		*ret = (int)v;
		return 0;
	}
	if (getprotobyname_r(text, &pe, buf, sizeof buf, &res) != 0 ||
	    res == NULL)
		return -EINVAL;
	*ret = res->p_proto;
	return 0;
}

/* socket FAMILY TYPE [PROTO] [--name NAME] */
static int
cmd_socket(struct cli *cli, struct cli_args *args)
{
	const char *name = cli_opt(args, "name");
	int family, type, proto = 0, r;
	json_object *p, *reply, *h;

	if (cli_lookup(names_family, NULL, args->argv[0], &family) < 0)
		return cli_usage(cli, "unknown family '%s'", args->argv[0]);
	if (cli_lookup(names_socktype, NULL, args->argv[1], &type) < 0)
		return cli_usage(cli, "unknown type '%s'", args->argv[1]);
	if (args->argc > 2 && cmd_proto(args->argv[2], &proto) < 0)
		return cli_usage(cli, "unknown protocol '%s'", args->argv[2]);
	if (name != NULL && name[0] == '\0')
		return cli_usage(cli, "empty name");
	p = cli_json(json_object_new_object());
	cli_add(p, "family",
		json_object_new_string(names_name(names_family, family)));
	cli_add(p, "type",
		json_object_new_string(names_name(names_socktype, type)));
	if (proto != 0)
		cli_add(p, "proto", json_object_new_int(proto));
	/* Each sockc run is a connection of its own: a socket that died
	 * with it would be of no use. */
	cli_add(p, "persistent", json_object_new_boolean(1));
	if (name != NULL)
		cli_add(p, "name", json_object_new_string(name));
	r = cli_call_get(cli, "io.sockd.Socket", p, "handle", json_type_int,
			 &reply, &h);
	if (r != CLI_OK)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		printf("%lld\n", (long long)json_object_get_int64(h));
	json_object_put(reply);
	return CLI_OK;
}

/* bind and connect: H ADDR. */
static int
cmd_address_call(struct cli *cli, struct cli_args *args)
{
	const char *method = cli->cmd->method;
	json_object *p;
	int r = cli_handle_params(cli, args->argv[0], &p);

	if (r == CLI_OK)
		r = cmd_address(cli, p, args->argv[1]);
	return r != CLI_OK ? r : cli_simple_call(cli, method, p);
}

/* listen H [BACKLOG] */
static int
cmd_listen(struct cli *cli, struct cli_args *args)
{
	long long backlog = -1;
	json_object *p;
	int r;

	if (args->argc > 1 &&
	    cli_parse_int(args->argv[1], 0, INT_MAX, &backlog) < 0)
		return cli_usage(cli, "bad backlog '%s'", args->argv[1]);
	r = cli_handle_params(cli, args->argv[0], &p);
	if (r != CLI_OK)
		return r;
	if (backlog >= 0)
		cli_add(p, "backlog", json_object_new_int((int)backlog));
	return cli_simple_call(cli, "io.sockd.Listen", p);
}

/* accept H: "HANDLE PEER". */
static int
cmd_accept(struct cli *cli, struct cli_args *args)
{
	json_object *p, *reply, *h, *a = NULL;
	char text[256];
	int r = cli_handle_params(cli, args->argv[0], &p);

	if (r == CLI_OK)
		r = cli_call_get(cli, "io.sockd.Accept", p, "handle",
				 json_type_int, &reply, &h);
	if (r != CLI_OK)
		return r;
	json_object_object_get_ex(reply, "address", &a);
	cli_format_address(a, text, sizeof text);
	if (cli->json)
		cli_print_json(reply);
	else
		printf("%lld %s\n", (long long)json_object_get_int64(h), text);
	json_object_put(reply);
	return CLI_OK;
}

/* connect-ex H ADDR: "0", or "ERRNO NAME"; exit 0 either way. */
static int
cmd_connect_ex(struct cli *cli, struct cli_args *args)
{
	json_object *p, *reply, *e, *n;
	int r = cli_handle_params(cli, args->argv[0], &p);

	if (r == CLI_OK)
		r = cmd_address(cli, p, args->argv[1]);
	if (r == CLI_OK)
		r = cli_call_get(cli, "io.sockd.ConnectEx", p, "errno",
				 json_type_int, &reply, &e);
	if (r != CLI_OK)
		return r;
	if (!json_object_object_get_ex(reply, "name", &n)) {
		json_object_put(reply);
		return cli_bad_reply(cli, "name");
	}
	if (cli->json)
		cli_print_json(reply);
	else if (json_object_get_int(e) == 0)
		puts("0");
	else
		printf("%d %s\n", json_object_get_int(e),
		       json_object_get_string(n));
	json_object_put(reply);
	return CLI_OK;
}

/* send and sendto: one call, "SENT". */
static int
cmd_send_once(struct cli *cli, struct cli_args *args, const char *method,
	      const char *addr, const char *data)
{
	json_object *p, *reply, *sent;
	size_t len;
	char *buf;
	int r;

	r = cli_read_data(data, CMD_MAX_DATA, &buf, &len);
	if (r < 0)
		return cli_error(cli, CLI_FAILED, "reading DATA: %s",
				 r == -EFBIG ? "too large for one call"
					     : strerror(-r));
	r = cli_handle_params(cli, args->argv[0], &p);
	if (r == CLI_OK && addr != NULL)
		r = cmd_address(cli, p, addr);
	if (r != CLI_OK) {
		free(buf);
		return r;
	}
	cli_add(p, "data", cli_data(buf, len));
	free(buf);
	r = cli_call_get(cli, method, p, "sent", json_type_int, &reply, &sent);
	if (r != CLI_OK)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		printf("%lld\n", (long long)json_object_get_int64(sent));
	json_object_put(reply);
	return CLI_OK;
}

/* send H DATA|- */
static int
cmd_send(struct cli *cli, struct cli_args *args)
{
	return cmd_send_once(cli, args, "io.sockd.Send", NULL, args->argv[1]);
}

/* sendto H ADDR DATA|- */
static int
cmd_sendto(struct cli *cli, struct cli_args *args)
{
	return cmd_send_once(cli, args, "io.sockd.SendTo", args->argv[1],
			     args->argv[2]);
}

/* Up to size bytes of fd, fewer only at EOF: the count, or -errno. */
static ssize_t
cmd_fill(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* One SendAll call with len bytes of buf. */
static int
cmd_sendall_call(struct cli *cli, sockc_handle_t h, const char *buf, size_t len)
{
	json_object *p = cli_json(json_object_new_object()), *reply;
	int r;

	cli_add(p, "handle", json_object_new_int64(h));
	cli_add(p, "data", cli_data(buf, len));
	r = cli_call(cli, "io.sockd.SendAll", p, &reply);
	if (r == CLI_OK)
		json_object_put(reply);
	return r;
}

/* sendall H DATA|-: standard input goes in chunks, so that any amount
 * fits sockd's message limit. */
static int
cmd_sendall(struct cli *cli, struct cli_args *args)
{
	const char *data = args->argv[1];
	sockc_handle_t h;
	ssize_t n;
	char *buf;
	int r;

	r = cli_handle(cli, args->argv[0], &h);
	if (r != CLI_OK)
		return r;
	if (strcmp(data, "-") != 0) {
		r = cmd_sendall_call(cli, h, data, strlen(data));
	} else {
		buf = malloc(CMD_CHUNK);
		if (buf == NULL)
			cli_oom();
		do {
			n = cmd_fill(STDIN_FILENO, buf, CMD_CHUNK);
			if (n < 0) {
				r = cli_error(cli, CLI_FAILED,
					      "reading standard input: %s",
					      strerror((int)-n));
				break;
			}
			r = cmd_sendall_call(cli, h, buf, (size_t)n);
		} while (r == CLI_OK && n == CMD_CHUNK);
		free(buf);
	}
	if (r == CLI_OK && cli->json)
		puts("{}");
	return r;
}

/* recv and recvfrom: the bytes to stdout, recvfrom's sender's address
 * to stderr (both in the JSON with --json). */
static int
cmd_recv(struct cli *cli, struct cli_args *args)
{
	const char *method = cli->cmd->method;
	json_object *p, *reply, *a = NULL;
	unsigned char *data;
	long long bufsize;
	char text[256];
	size_t len;
	int r;

	if (cli_parse_int(args->argv[1], 0, INT_MAX, &bufsize) < 0)
		return cli_usage(cli, "bad BUFSIZE '%s'", args->argv[1]);
	r = cli_handle_params(cli, args->argv[0], &p);
	if (r != CLI_OK)
		return r;
	cli_add(p, "bufsize", json_object_new_int64(bufsize));
	r = cli_call(cli, method, p, &reply);
	if (r != CLI_OK)
		return r;
	if (cli_data_out(reply, &data, &len) < 0) {
		json_object_put(reply);
		return cli_bad_reply(cli, "data");
	}
	if (cli->json) {
		cli_print_json(reply);
	} else {
		if (json_object_object_get_ex(reply, "address", &a) &&
		    a != NULL) {
			cli_format_address(a, text, sizeof text);
			fprintf(stderr, "%s\n", text);
		}
		/* A failed write shows in ferror(stdout): cli_finish. */
		(void)fwrite(data, 1, len, stdout);
	}
	free(data);
	json_object_put(reply);
	return CLI_OK;
}

/* shutdown H rd|wr|rdwr */
static int
cmd_shutdown(struct cli *cli, struct cli_args *args)
{
	json_object *p;
	int how, r;

	if (cli_lookup(names_shut, NULL, args->argv[1], &how) < 0)
		return cli_usage(cli, "expected rd, wr or rdwr, not '%s'",
				 args->argv[1]);
	r = cli_handle_params(cli, args->argv[0], &p);
	if (r != CLI_OK)
		return r;
	cli_add(p, "how", json_object_new_string(names_name(names_shut, how)));
	return cli_simple_call(cli, "io.sockd.Shutdown", p);
}

/* close H...: each in turn; the worst status wins, and a lost daemon
 * stops the rest. */
static int
cmd_close(struct cli *cli, struct cli_args *args)
{
	int status = CLI_OK;

	for (int i = 0; i < args->argc && status != CLI_DAEMON; i++) {
		json_object *p, *reply;
		int r = cli_handle_params(cli, args->argv[i], &p);

		if (r == CLI_OK)
			r = cli_call(cli, "io.sockd.Close", p, &reply);
		if (r == CLI_OK)
			json_object_put(reply);
		if (r > status)
			status = r;
	}
	if (status == CLI_OK && cli->json)
		puts("{}");
	return status;
}

/* getsockname and getpeername: the address. */
static int
cmd_sockname(struct cli *cli, struct cli_args *args)
{
	const char *method = cli->cmd->method;
	json_object *p, *reply, *a = NULL;
	char text[256];
	int r = cli_handle_params(cli, args->argv[0], &p);

	if (r == CLI_OK)
		r = cli_call(cli, method, p, &reply);
	if (r != CLI_OK)
		return r;
	if (!json_object_object_get_ex(reply, "address", &a) || a == NULL) {
		json_object_put(reply);
		return cli_bad_reply(cli, "address");
	}
	cli_format_address(a, text, sizeof text);
	if (cli->json)
		cli_print_json(reply);
	else
		puts(text);
	json_object_put(reply);
	return CLI_OK;
}

/* clang-format off */
const struct cli_cmd cli_cmds[] = {
    {"socket", "FAMILY TYPE [PROTO] [--name NAME]", 2, 3, "name=",
     "Create a socket and print its handle.\n"
     "FAMILY is inet, inet6, unix, bluetooth, packet, netlink or an AF_ name;\n"
     "TYPE is stream, dgram, raw, seqpacket, rdm or a SOCK_ name; PROTO is a\n"
     "number or a name from /etc/protocols (tcp, udp, icmp). The socket is\n"
     "persistent: it stays in sockd after sockc exits, until 'sockc close'.\n"
     "--name labels it, so that later commands can say NAME for H.",
     cmd_socket, 0, NULL},
    {"bind", "H ADDR", 2, 2, "",
     "Bind a socket to a local address.\n"
     "':8080' or '*:8080' binds every address.",
     cmd_address_call, 0, "io.sockd.Bind"},
    {"listen", "H [BACKLOG]", 1, 2, "",
     "Listen for connections (BACKLOG: sockd's default, 128).",
     cmd_listen, 0, NULL},
    {"accept", "H", 1, 1, "",
     "Accept a connection; print the new handle and the peer's address.\n"
     "The new handle is persistent, like its listener. Waits as the\n"
     "listener's timeout says (settimeout).",
     cmd_accept, 0, NULL},
    {"connect", "H ADDR", 2, 2, "",
     "Connect a socket to ADDR. Waits as the handle's timeout says.",
     cmd_address_call, 0, "io.sockd.Connect"},
    {"connect-ex", "H ADDR", 2, 2, "",
     "Connect, and print the outcome instead of failing.\n"
     "Prints 0 on success, or the errno number and name\n"
     "(\"111 ECONNREFUSED\"); the exit status is 0 either way.",
     cmd_connect_ex, 0, NULL},
    {"send", "H DATA|-", 2, 2, "",
     "Send DATA once and print how many bytes were sent.\n"
     "'-' sends standard input, read to its end.",
     cmd_send, 0, NULL},
    {"sendall", "H DATA|-", 2, 2, "",
     "Send all of DATA, or of standard input for '-'.\n"
     "Standard input is sent as it is read, in chunks of 4 MiB.",
     cmd_sendall, 0, NULL},
    {"sendto", "H ADDR DATA|-", 3, 3, "",
     "Send DATA to ADDR and print how many bytes were sent.",
     cmd_sendto, 0, NULL},
    {"recv", "H BUFSIZE", 2, 2, "",
     "Receive up to BUFSIZE bytes and write them to standard output.\n"
     "The bytes are written as they are, with nothing added; nothing is\n"
     "written at the end of the stream. --json: {\"data\": BASE64}.",
     cmd_recv, 0, "io.sockd.Recv"},
    {"recvfrom", "H BUFSIZE", 2, 2, "",
     "Receive up to BUFSIZE bytes and the sender's address.\n"
     "The bytes go to standard output as they are; the sender's address goes\n"
     "to standard error, one line (none when the socket reports no address,\n"
     "as a connected stream does). --json prints both on standard output:\n"
     "{\"data\": BASE64, \"address\": {...}}.",
     cmd_recv, 0, "io.sockd.RecvFrom"},
    {"settimeout", "H SECONDS|none", 2, 2, "",
     "Set the handle's timeout (calls that wait are bound by it).\n"
     "none blocks, 0 never waits (EAGAIN), more waits that many seconds and\n"
     "then fails with 'timed out'.",
     cli_cmd_settimeout, 0, NULL},
    {"gettimeout", "H", 1, 1, "",
     "Print the handle's timeout in seconds, or none.",
     cli_cmd_gettimeout, 0, NULL},
    {"setblocking", "H 0|1", 2, 2, "",
     "1: blocking (timeout none); 0: non-blocking (timeout 0).",
     cli_cmd_setblocking, 0, NULL},
    {"setsockopt", "H LEVEL OPTION VALUE", 4, 4, "",
     "Set a socket option.\n"
     "LEVEL is socket, ip, ipv6, tcp, udp or its full name (SOL_SOCKET,\n"
     "IPPROTO_TCP, ...). OPTION is the option's name, with or without its\n"
     "prefix, in any case: SO_REUSEADDR, reuseaddr, nodelay. VALUE is an\n"
     "integer (1, -1, 0x10), hex:BYTES for raw bytes (SO_LINGER's struct:\n"
     "hex:0100000005000000), or text for options that take bytes\n"
     "(TCP_CONGESTION cubic, SO_BINDTODEVICE lo); str:TEXT forces text.",
     cli_cmd_setsockopt, 0, NULL},
    {"getsockopt", "H LEVEL OPTION [BUFLEN]", 3, 4, "",
     "Print a socket option.\n"
     "Without BUFLEN: its integer value. With BUFLEN (1 to 1024): up to that\n"
     "many bytes, printed as text when they are printable (trailing NULs\n"
     "dropped), else as hex:BYTES - both forms setsockopt reads back.",
     cli_cmd_getsockopt, 0, NULL},
    {"shutdown", "H rd|wr|rdwr", 2, 2, "",
     "Shut down reading, writing or both.",
     cmd_shutdown, 0, NULL},
    {"close", "H...", 1, -1, "",
     "Close handles.\n"
     "Each is closed in turn; a failure is reported and the rest still\n"
     "closed.",
     cmd_close, 0, NULL},
    {"getsockname", "H", 1, 1, "",
     "Print the socket's local address.",
     cmd_sockname, 0, "io.sockd.GetSockName"},
    {"getpeername", "H", 1, 1, "",
     "Print the address of the socket's peer.",
     cmd_sockname, 0, "io.sockd.GetPeerName"},
    {"getaddrinfo", "HOST [PORT] [--family F] [--type T] [--flags FLAGS]",
     1, 2, "family= type= flags=",
     "Resolve HOST (and PORT) through sockd.\n"
     "An empty HOST is no host: with --flags passive, the wildcard address.\n"
     "Prints one line per result: family, type and address (and the\n"
     "canonical name when --flags canonname asks for it). FLAGS are AI_\n"
     "names, with or without the prefix, separated by commas.",
     cli_cmd_getaddrinfo, 0, NULL},
    {"getnameinfo", "ADDR [--flags FLAGS]", 1, 1, "flags=",
     "Print the host and service names of a numeric address.\n"
     "FLAGS are NI_ names (numerichost, numericserv, namereqd, ...).",
     cli_cmd_getnameinfo, 0, NULL},
    {"gethostbyaddr", "HOST", 1, 1, "",
     "Look up the name of HOST.\n"
     "Prints 'hostname NAME', then 'alias NAME' and 'address ADDRESS' lines.",
     cli_cmd_gethostbyaddr, 0, NULL},
    {"poll", "H[:EVENTS]... [--timeout SECONDS]", 1, -1, "timeout=",
     "Wait until handles are ready; print each ready one with its events.\n"
     "EVENTS are poll events, with or without POLL, separated by commas:\n"
     "in (the default), out, pri, rdhup. A line is 'HANDLE EVENTS'\n"
     "('3 in,hup'); nothing is printed when the timeout expires first.\n"
     "Without --timeout, poll waits as long as it takes.",
     cli_cmd_poll, 0, NULL},
    {"list", "", 0, 0, "",
     "List your sockets in sockd (root: everyone's), one per line.\n"
     "Columns: HANDLE NAME FAMILY TYPE STATE LOCAL PEER TIMEOUT OWNER; '-'\n"
     "where there is nothing. STATE is listening (SO_ACCEPTCONN is set),\n"
     "connected (there is a peer), bound (a local address is set) or\n"
     "unbound. OWNER is the owner's uid. --json adds \"state\" to each\n"
     "entry of sockd's reply.",
     cli_cmd_list, 0, NULL},
    {"call", "METHOD [JSON|-]", 1, 2, "",
     "Make one raw varlink call and print the reply's parameters as JSON.\n"
     "METHOD without a dot is io.sockd.METHOD. JSON is the parameters\n"
     "object ('-' reads it from standard input). An error reply is printed\n"
     "on standard error as its name and parameters, with exit status 1.",
     cli_cmd_call, 0, NULL},
    {"nc", "[-u] [-v] [-q SECONDS] HOST PORT | -l [-u] [-v] [-q SECONDS] [HOST:]PORT",
     1, 2, "l u v q=",
     "Netcat through sockd: stdin to a socket, the socket to stdout.\n"
     "-l listens on [HOST:]PORT (every address when HOST is left out) and\n"
     "relays the first connection (with -u, the first sender's datagrams).\n"
     "-u uses UDP: each read of standard input is one datagram.\n"
     "-v reports the addresses on standard error.\n"
     "-q SECONDS: after standard input ends, wait at most that long for the\n"
     "peer, then quit (a UDP relay otherwise runs until interrupted).\n"
     "At the end of standard input the socket's sending side is shut down;\n"
     "nc exits when both directions have ended. The socket is handed over\n"
     "by FileNo and relayed at full speed; when sockd's policy refuses\n"
     "that, bytes go through Send and Recv calls instead.",
     cli_cmd_nc, 0, NULL},
    {"exec",
     "[--connect ADDR]... [--listen ADDR]... [--udp ADDR]... "
     "[--name NAME]... [--] PROGRAM [ARG]...",
     1, -1, "connect= listen= udp= name=",
     "Run PROGRAM with sockets from sockd, passed as systemd passes them.\n"
     "Each option adds one socket, in the order given, at fds 3, 4, ...:\n"
     "--connect ADDR  a TCP socket connected to ADDR\n"
     "--listen ADDR   a TCP socket bound to ADDR (SO_REUSEADDR), listening\n"
     "--udp ADDR      a UDP socket bound to ADDR\n"
     "--name NAME     your socket named NAME (socket --name), as it is\n"
     "A /path or @abstract ADDR makes a Unix socket of the same kind. The\n"
     "new sockets leave sockd: PROGRAM holds them, blocking. A --name socket\n"
     "stays in sockd; PROGRAM shares it, non-blocking.\n"
     "PROGRAM gets LISTEN_FDS (how many), LISTEN_PID (its pid) and\n"
     "LISTEN_FDNAMES (':' between the names: NAME for --name, else\n"
     "connect, listen or udp), as sd_listen_fds(3) reads them; the rest of\n"
     "the environment is left as it is. Options end at PROGRAM.\n"
     "Exit status: PROGRAM's; 126 when it cannot be run, 127 when it is\n"
     "not found; 1, 2 or 3 as for every command when a socket cannot be\n"
     "made.",
     cli_cmd_exec, CLI_OPTS_FIRST, NULL},
    {"help", "[COMMAND]", 0, 1, "",
     "Print the commands, or the help of one command.",
     cli_cmd_help, 0, NULL},
    {"__complete", "WHAT [ARG]", 1, 2, "",
     "Print names for shell completion: commands, families, types,\n"
     "levels, options LEVEL, shutdown, events, ai-flags, ni-flags,\n"
     "handles, command-options COMMAND.",
     cli_cmd_complete, CLI_HIDDEN, NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, 0, NULL},
};
/* clang-format on */
