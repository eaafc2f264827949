/*
 * sockc nc: netcat through sockd. sockd resolves, creates, binds,
 * connects or accepts (so that its policy decides), then hands the socket
 * over with FileNo, and the bytes flow between it and stdin/stdout here at
 * full speed. When the policy refuses to hand sockets out, the bytes go
 * through Send and Recv calls instead: slower, but everything still passes
 * through sockd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "addr.h"
#include "cli.h"
#include "lib.h"

#define NC_BUF 65536 /* bytes per read, and the largest datagram */

/* One nc run. */
struct nc {
	struct cli *cli;
	struct sockc *c;
	int socktype;	   /* SOCK_STREAM, or SOCK_DGRAM with -u */
	bool verbose;	   /* -v: addresses on stderr */
	double quit_after; /* -q: seconds after stdin ends; < 0: none */
};

/* A local call's failure, worded like sockd's: "[Errno 32] Broken pipe
 * (EPIPE)". */
static int
nc_errno(const char *op, int err)
{
	const char *name = names_errno_name(err);

	fprintf(stderr, "sockc: %s: [Errno %d] %s (%s)\n", op, err,
		strerror(err), name ? name : "E?");
	return CLI_FAILED;
}

/* Milliseconds on the monotonic clock. */
static long long
nc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -v: what is going on, with an address. */
static void
nc_say(const struct nc *nc, const char *what, const struct sockaddr *sa,
       socklen_t len)
{
	char text[256];

	if (!nc->verbose)
		return;
	addr_format(sa, len, text, sizeof text);
	fprintf(stderr, "sockc: nc: %s %s\n", what, text);
}

/* Resolve host and port through sockd: CLI_OK and *ret, or the exit
 * status after saying why. */
static int
nc_resolve(struct nc *nc, const char *host, const char *port, bool passive,
	   struct addrinfo **ret)
{
	struct addrinfo hints = {
	    .ai_socktype = nc->socktype,
	    .ai_flags = passive ? AI_PASSIVE : 0,
	};
	int r = sockc_getaddrinfo(nc->c, host, port, &hints, ret);
	const char *name;

	if (r == 0)
		return CLI_OK;
	if (sockc_error_name(nc->c) != NULL || r == EAI_SYSTEM)
		return cli_fail(nc->cli, nc->c, "getaddrinfo");
	name = names_name(names_eai, r);
	fprintf(stderr, "sockc: getaddrinfo: [%s] %s\n", name ? name : "EAI_?",
		gai_strerror(r));
	return CLI_FAILED;
}

/* Report a failed call, unless another address is left to try and the
 * connection to sockd still works: CLI_OK to go on, else the status. */
static int
nc_try_next(struct nc *nc, const struct addrinfo *ai, const char *op)
{
	if (ai->ai_next != NULL && !nc->c->broken)
		return CLI_OK;
	return cli_fail(nc->cli, nc->c, op);
}

/* nc HOST PORT: a connected socket, trying each address in turn. */
static int
nc_connect(struct nc *nc, const char *host, const char *port,
	   sockc_handle_t *ret)
{
	struct addrinfo *res, *ai;
	int r = nc_resolve(nc, host, port, false, &res);

	if (r != CLI_OK)
		return r;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		sockc_handle_t h = sockc_socket(
		    nc->c, ai->ai_family, ai->ai_socktype, ai->ai_protocol);

		if (h < 0) {
			r = nc_try_next(nc, ai, "socket");
		} else if (sockc_connect(nc->c, h, ai->ai_addr,
					 ai->ai_addrlen) == 0) {
			nc_say(nc, "connected to", ai->ai_addr, ai->ai_addrlen);
			*ret = h;
			sockc_freeaddrinfo(res);
			return CLI_OK;
		} else {
			r = nc_try_next(nc, ai, "connect");
			sockc_close(nc->c, h);
		}
		if (r != CLI_OK)
			break;
	}
	sockc_freeaddrinfo(res);
	return r != CLI_OK ? r : CLI_FAILED;
}

/* A socket bound to ai, listening when it is a stream: CLI_OK and
 * *ret; -1 to try the next address (nothing said); or, for the last
 * address (or a lost daemon), the exit status after saying why. */
static int
nc_bind_one(struct nc *nc, const struct addrinfo *ai, bool dual, bool last,
	    sockc_handle_t *ret)
{
	int one = 1, zero = 0, r;
	const char *op = "setsockopt";
	sockc_handle_t h;

	h = sockc_socket(nc->c, ai->ai_family, ai->ai_socktype,
			 ai->ai_protocol);
	if (h < 0)
		return last || nc->c->broken
			   ? cli_fail(nc->cli, nc->c, "socket")
			   : -1;
	if (sockc_setsockopt(nc->c, h, SOL_SOCKET, SO_REUSEADDR, &one,
			     sizeof one) < 0 ||
	    (dual && sockc_setsockopt(nc->c, h, IPPROTO_IPV6, IPV6_V6ONLY,
				      &zero, sizeof zero) < 0))
		goto fail;
	op = "bind";
	if (sockc_bind(nc->c, h, ai->ai_addr, ai->ai_addrlen) < 0)
		goto fail;
	op = "listen";
	if (nc->socktype == SOCK_STREAM && sockc_listen(nc->c, h, 1) < 0)
		goto fail;
	*ret = h;
	return CLI_OK;
fail:
	r = last || nc->c->broken ? cli_fail(nc->cli, nc->c, op) : -1;
	sockc_close(nc->c, h);
	return r;
}

/* Split [HOST:]PORT: CLI_OK with *ret_host (NULL: every address) and
 * *ret_port pointing into spec, or a usage error. */
static int
nc_split(struct nc *nc, const char *spec, char **ret_host,
	 const char **ret_port)
{
	const char *colon, *port = spec;
	char *host = NULL;
	int p;

	if (spec[0] == '[' && (colon = strstr(spec, "]:")) != NULL) {
		host = strndup(spec + 1, (size_t)(colon - spec - 1));
		port = colon + 2;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		if (memchr(spec, ':', (size_t)(colon - spec)) != NULL)
			return cli_usage(nc->cli, "an IPv6 address goes in "
						  "brackets: [V6]:PORT");
		host = strndup(spec, (size_t)(colon - spec));
		port = colon + 1;
	}
	if (colon != NULL && host == NULL)
		cli_oom();
	if (cli_parse_port(port, nc->socktype, &p) < 0) {
		free(host);
		return cli_usage(nc->cli, "bad port '%s'", port);
	}
	if (host != NULL && (host[0] == '\0' || strcmp(host, "*") == 0)) {
		free(host);
		host = NULL;
	}
	*ret_host = host;
	*ret_port = port;
	return CLI_OK;
}

/* nc -l [HOST:]PORT: a bound socket, listening for a stream. Without a
 * host, IPv6 comes first, dual-stack, so that both families reach it. */
static int
nc_bind(struct nc *nc, const char *spec, sockc_handle_t *ret)
{
	struct addrinfo *res, *ai, *first;
	const char *port = NULL;
	int r, n = 0, k = 0;
	char *host = NULL;

	r = nc_split(nc, spec, &host, &port);
	if (r != CLI_OK)
		return r;
	r = nc_resolve(nc, host, port, true, &res);
	if (r != CLI_OK) {
		free(host);
		return r;
	}
	for (first = res;
	     host == NULL && first && first->ai_family != AF_INET6;)
		first = first->ai_next;
	if (first == NULL)
		first = res;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	r = -1;
	/* The preferred address, then the others in order. */
	for (int pass = 0; pass < 2 && r < 0; pass++)
		for (ai = res; ai != NULL && r < 0; ai = ai->ai_next) {
			if ((ai == first) != (pass == 0))
				continue;
			r = nc_bind_one(
			    nc, ai, host == NULL && ai->ai_family == AF_INET6,
			    ++k == n, ret);
		}
	free(host);
	sockc_freeaddrinfo(res);
	return r;
}

/* Relay between stdin/stdout and the socket's own fd: poll(2) and plain
 * reads and writes, no call to sockd. One loop for both directions, which
 * share its state: complex, but no simpler in pieces. */
static int /* NOLINTNEXTLINE(readability-function-cognitive-complexity) */
nc_relay_fd(struct nc *nc, int fd)
{
	bool stream = nc->socktype == SOCK_STREAM;
	bool in_open = true, out_open = true, shut = false;
	size_t in_len = 0, in_off = 0;
	long long deadline = -1;
	int status = CLI_OK;
	char *in = malloc(NC_BUF), *out = malloc(NC_BUF);

	if (in == NULL || out == NULL)
		cli_oom();
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		status = nc_errno("fcntl", errno);
	while (status == CLI_OK && (in_open || in_len > 0 || out_open)) {
		struct pollfd pfd[2];
		int timeout = -1, n;

		if (!in_open && in_len == 0 && stream && !shut) {
			/* Half-close: the peer sees our EOF, and may still
			 * answer. */
			if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
				status = nc_errno("shutdown", errno);
			shut = true;
		}
		pfd[0].fd = in_open && in_len == 0 ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].events = (short)((out_open ? POLLIN : 0) |
					(in_len > 0 ? POLLOUT : 0));
		pfd[1].fd = pfd[1].events ? fd : -1;
		pfd[0].revents = pfd[1].revents = 0;
		if (deadline >= 0) {
			long long left = deadline - nc_now();

			timeout = left > 0 ? (int)left : 0;
		}
		n = poll(pfd, 2, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			status = nc_errno("poll", errno);
			break;
		}
		if (n == 0)
			break; /* -q: the time after stdin ended is up */
		if (pfd[0].revents) {
			ssize_t r = (pfd[0].revents & POLLNVAL)
					? 0
					: read(STDIN_FILENO, in, NC_BUF);

			if (r < 0 && errno != EINTR && errno != EAGAIN)
				status = nc_errno("read", errno);
			if (r > 0) {
				in_len = (size_t)r;
				in_off = 0;
			} else if (r == 0 || status != CLI_OK) {
				in_open = false;
				if (nc->quit_after >= 0)
					deadline =
					    nc_now() +
					    (long long)(nc->quit_after * 1000);
			}
		}
		if ((pfd[1].revents & (POLLOUT | POLLERR | POLLHUP)) &&
		    in_len > 0) {
			ssize_t w = send(fd, in + in_off, in_len - in_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w < 0 && errno != EINTR && errno != EAGAIN)
				status = nc_errno("send", errno);
			if (w > 0) {
				in_off += (size_t)w;
				if (in_off >= in_len || !stream)
					in_len = 0;
			}
		}
		if ((pfd[1].revents & (POLLIN | POLLERR | POLLHUP)) &&
		    out_open && status == CLI_OK) {
			ssize_t r = recv(fd, out, NC_BUF, MSG_DONTWAIT);

			if (r < 0 && errno != EINTR && errno != EAGAIN)
				status = nc_errno("recv", errno);
			if (r == 0 && stream)
				out_open = false;
			/* A reader gone from stdout ends that direction,
			 * quietly, as it would end a pipeline. */
			if (r > 0 &&
			    cli_write(STDOUT_FILENO, out, (size_t)r) == -EPIPE)
				out_open = false;
		}
	}
	close(fd);
	free(in);
	free(out);
	return status;
}

/* The socket to stdout through Recv calls, on a connection of its own
 * (the child of nc_relay_calls). */
static int
nc_recv_loop(struct nc *nc, sockc_handle_t h)
{
	struct sockc *c = sockc_open(nc->cli->socket_path);
	int status = CLI_OK;
	char *buf;

	if (c == NULL) {
		fprintf(stderr, "sockc: cannot reach sockd at %s: %s\n",
			cli_socket_path(nc->cli), strerror(errno));
		return CLI_DAEMON;
	}
	buf = malloc(NC_BUF);
	if (buf == NULL)
		cli_oom();
	for (;;) {
		ssize_t n = sockc_recv(c, h, buf, NC_BUF, 0);

		if (n < 0) {
			status = cli_fail(nc->cli, c, "recv");
			break;
		}
		if (n == 0 && nc->socktype == SOCK_STREAM)
			break;
		if (cli_write(STDOUT_FILENO, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	sockc_free(c);
	return status;
}

/* stdin to the socket through Send calls; the sending side shut down at
 * the end. */
static int
nc_send_loop(struct nc *nc, sockc_handle_t h)
{
	char *buf = malloc(NC_BUF);
	int status = CLI_OK;

	if (buf == NULL)
		cli_oom();
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, NC_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			status = nc_errno("read", errno);
			break;
		}
		if (n == 0) {
			if (nc->socktype == SOCK_STREAM &&
			    sockc_shutdown(nc->c, h, SHUT_WR) < 0 &&
			    errno != ENOTCONN)
				status = cli_fail(nc->cli, nc->c, "shutdown");
			break;
		}
		if ((nc->socktype == SOCK_STREAM
			 ? sockc_sendall(nc->c, h, buf, (size_t)n, 0)
			 : sockc_send(nc->c, h, buf, (size_t)n, 0)) < 0) {
			status = cli_fail(nc->cli, nc->c, "send");
			break;
		}
	}
	free(buf);
	return status;
}

/* Wait for the receiving child; with -q, at most that long. */
static int
nc_wait(struct nc *nc, pid_t pid)
{
	long long deadline = nc->quit_after >= 0
				 ? nc_now() + (long long)(nc->quit_after * 1000)
				 : -1;
	bool killed = false;
	int st;

	for (;;) {
		pid_t r =
		    waitpid(pid, &st, deadline >= 0 && !killed ? WNOHANG : 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return nc_errno("waitpid", errno);
		if (r == pid)
			break;
		if (nc_now() >= deadline) {
			kill(pid, SIGTERM);
			killed = true;
			continue;
		}
		nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return killed ? CLI_OK : CLI_FAILED;
}

/*
 * Relay through Send and Recv calls, for a datagram socket the policy
 * keeps in sockd (Attach takes only streams): this process sends stdin, a
 * child receives into stdout on its own connection (a call that waits
 * holds its connection).
 */
static int
nc_relay_calls(struct nc *nc, sockc_handle_t h)
{
	int status, child;
	pid_t pid;

	(void)fflush(stdout); /* at worst, the child writes it again */
	pid = fork();
	if (pid < 0)
		return nc_errno("fork", errno);
	if (pid == 0) {
		/* The parent's connection is not the child's to use. */
		close(sockc_connection_fd(nc->c));
		_exit(nc_recv_loop(nc, h));
	}
	status = nc_send_loop(nc, h);
	child = nc_wait(nc, pid);
	return status > child ? status : child;
}

/* Move bytes for handle h until both directions end: through its own fd
 * when sockd hands it over; when the policy keeps it in sockd, through the
 * control connection upgraded by Attach (a stream), else through calls. */
static int
nc_relay(struct nc *nc, sockc_handle_t h)
{
	int fd = sockc_fileno(nc->c, h, 1);
	const char *error;

	if (fd >= 0)
		return nc_relay_fd(nc, fd);
	error = sockc_error_name(nc->c);
	if (errno != EACCES || error == NULL ||
	    strcmp(error, "io.sockd.OSError") != 0)
		return cli_fail(nc->cli, nc->c, "fileno");
	if (nc->socktype != SOCK_STREAM)
		return nc_relay_calls(nc, h);
	if (sockc_attach(nc->c, h) < 0) {
		if (errno == ENOSYS) /* an older sockd */
			return nc_relay_calls(nc, h);
		return cli_fail(nc->cli, nc->c, "attach");
	}
	fd = fcntl(sockc_connection_fd(nc->c), F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return nc_errno("dup", errno);
	return nc_relay_fd(nc, fd);
}

/* nc -l: accept one connection (TCP) or wait for the first datagram and
 * connect to its sender (UDP), then relay. */
static int
nc_listen(struct nc *nc, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	sockc_handle_t h = 0, peer;
	int r = nc_bind(nc, spec, &h);

	if (r != CLI_OK)
		return r;
	if (nc->verbose &&
	    sockc_getsockname(nc->c, h, (struct sockaddr *)&ss, &len) == 0)
		nc_say(nc, "listening on", (struct sockaddr *)&ss, len);
	len = sizeof ss;
	if (nc->socktype == SOCK_STREAM) {
		peer = sockc_accept(nc->c, h, (struct sockaddr *)&ss, &len);
		if (peer < 0)
			return cli_fail(nc->cli, nc->c, "accept");
		nc_say(nc, "connection from", (struct sockaddr *)&ss, len);
		sockc_close(nc->c, h);
		return nc_relay(nc, peer);
	} else {
		char *buf = malloc(NC_BUF);
		ssize_t n;

		if (buf == NULL)
			cli_oom();
		n = sockc_recvfrom(nc->c, h, buf, NC_BUF, 0,
				   (struct sockaddr *)&ss, &len);
		if (n < 0) {
			free(buf);
			return cli_fail(nc->cli, nc->c, "recvfrom");
		}
		nc_say(nc, "datagram from", (struct sockaddr *)&ss, len);
		r = cli_write(STDOUT_FILENO, buf, (size_t)n);
		free(buf);
		if (r < 0 && r != -EPIPE)
			return nc_errno("write", -r);
		if (len > 0 &&
		    sockc_connect(nc->c, h, (struct sockaddr *)&ss, len) < 0)
			return cli_fail(nc->cli, nc->c, "connect");
		return nc_relay(nc, h);
	}
}

/* nc [-u] [-v] [-q S] HOST PORT | nc -l [-u] [-v] [-q S] [HOST:]PORT */
int
cli_cmd_nc(struct cli *cli, struct cli_args *args)
{
	const char *quit = cli_opt(args, "q");
	bool listen = cli_opt(args, "l") != NULL;
	struct nc nc = {
	    .cli = cli,
	    .socktype = cli_opt(args, "u") ? SOCK_DGRAM : SOCK_STREAM,
	    .verbose = cli_opt(args, "v") != NULL,
	    .quit_after = -1,
	};
	sockc_handle_t h = 0;
	int p, r;

	if (quit != NULL && cli_parse_seconds(quit, &nc.quit_after) < 0)
		return cli_usage(cli, "bad -q SECONDS '%s'", quit);
	if (listen && args->argc != 1)
		return cli_usage(cli, "-l takes one [HOST:]PORT");
	if (!listen && args->argc != 2)
		return cli_usage(cli, "expected HOST PORT");
	if (!listen && cli_parse_port(args->argv[1], nc.socktype, &p) < 0)
		return cli_usage(cli, "bad port '%s'", args->argv[1]);
	/* A reader gone from stdout must not kill nc. */
	(void)signal(SIGPIPE, SIG_IGN); /* cannot fail for SIGPIPE */
	nc.c = cli_connect(cli);
	if (nc.c == NULL)
		return CLI_DAEMON;
	if (listen)
		return nc_listen(&nc, args->argv[0]);
	r = nc_connect(&nc, args->argv[0], args->argv[1], &h);
	return r != CLI_OK ? r : nc_relay(&nc, h);
}
