/*
 * sockd-bench: a load generator for sockd in the style of redis-benchmark.
 * One epoll loop drives N connections with P calls in flight on each
 * (pipelined: P NUL-terminated calls written at once, then P replies
 * read); a sink thread reads and discards what reaches a loopback TCP
 * port, so that byte rates count only bytes delivered. Each run prints
 * one line of key=value pairs; bench/run makes the table from them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "bench.h"

static const char *const mode_names[] = {
    "calls", "sendall", "fileno", "attach", "plain", "socat", "scale",
};

struct options opt = {
    .mode = MODE_CALLS,
    .conns = -1,
    .depth = 1,
    .secs = 3,
    .chunk = 65536,
    .handles = 100000,
    .idle = 10000,
    .base = 10,
    .rounds = 3,
    .socat = "socat",
    .socat_buf = 262144,
};

/* Exit with a message. */
void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("sockd-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The payload: bytes that are not all alike. */
static char *
payload_new(size_t len)
{
	char *p = malloc(len);
	uint32_t x = 2463534242u;

	if (p == NULL)
		die("out of memory");
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)x;
	}
	return p;
}

/* calls: GetTimeout on each connection's own handle. */
static void
bench_calls(void)
{
	struct client *cl = clients_new(opt.conns);
	struct run *r = run_new();
	char call[128];

	for (int i = 0; i < opt.conns; i++) {
		cl[i].handle = client_socket(&cl[i]);
		snprintf(call, sizeof call,
			 "{\"method\":\"io.sockd.GetTimeout\",\"parameters\":"
			 "{\"handle\":%" PRId64 "}}",
			 cl[i].handle);
		client_repeat(&cl[i], call, opt.depth);
		set_blocking(cl[i].fd, false);
	}
	run_loop(cl, opt.conns, r);
	printf("mode=calls c=%d P=%d calls=%" PRIu64 " completed=%" PRIu64
	       " secs=%.3f calls_per_sec=%.0f p50_us=%.1f p99_us=%.1f\n",
	       opt.conns, opt.depth, r->counted, r->completed, run_secs(r),
	       run_rate(r), hist_quantile_us(&r->lat, 0.50),
	       hist_quantile_us(&r->lat, 0.99));
}

/* Print a byte run's result: from the first byte written to the last
 * byte the sink read. */
static void
print_bytes(const char *extra, uint64_t t_start, uint64_t bytes)
{
	/* Nothing else reaches the sink: one run per process. */
	uint64_t t_done = sink_wait(bytes);
	double secs = (double)(t_done - t_start) / 1e9;

	printf("mode=%s c=%d%s chunk=%zu bytes=%" PRIu64 " secs=%.3f "
	       "MBps=%.1f\n",
	       mode_names[opt.mode], opt.conns, extra, opt.chunk, bytes, secs,
	       secs > 0 ? (double)bytes / secs / 1e6 : 0);
}

/* sendall: SendAll of base64 chunks on handles connected to the sink. */
static void
bench_sendall(void)
{
	struct client *cl = clients_new(opt.conns);
	struct run *r = run_new();
	char *payload = payload_new(opt.chunk);
	size_t b64len = B64_ENCODED_LEN(opt.chunk);
	char *call = malloc(b64len + 256), extra[32];
	int len;

	if (call == NULL)
		die("out of memory");
	for (int i = 0; i < opt.conns; i++) {
		cl[i].handle = client_socket(&cl[i]);
		client_connect_sink(&cl[i]);
		len =
		    snprintf(call, 256,
			     "{\"method\":\"io.sockd.SendAll\",\"parameters\":"
			     "{\"handle\":%" PRId64 ",\"data\":\"",
			     cl[i].handle);
		len += (int)b64_encode(payload, opt.chunk, call + len);
		strcpy(call + len, "\"}}");
		client_repeat(&cl[i], call, opt.depth);
		set_blocking(cl[i].fd, false);
	}
	run_loop(cl, opt.conns, r);
	snprintf(extra, sizeof extra, " P=%d", opt.depth);
	print_bytes(extra, r->t_start, r->completed * opt.chunk);
	free(call);
	free(payload);
}

/* Write payload to fds (one per connection) until the time is up. */
static void
bench_raw(int *fds, const char *extra)
{
	struct client *cl = calloc((size_t)opt.conns, sizeof *cl);
	struct run *r = run_new();

	if (cl == NULL)
		die("out of memory");
	for (int i = 0; i < opt.conns; i++) {
		cl[i].fd = fds[i];
		cl[i].passed_fd = -1;
		set_blocking(fds[i], false);
	}
	r->raw = true;
	r->chunk = payload_new(opt.chunk);
	r->chunk_len = opt.chunk;
	run_loop(cl, opt.conns, r);
	print_bytes(extra, r->t_start, r->bytes);
}

/* plain: the anchor, straight to the sink. */
static void
bench_plain(void)
{
	int *fds = calloc((size_t)opt.conns, sizeof *fds);

	if (fds == NULL)
		die("out of memory");
	for (int i = 0; i < opt.conns; i++)
		fds[i] = sink_connect();
	bench_raw(fds, "");
	free(fds);
}

/* fileno: the handle's fd from FileNo, written to directly. */
static void
bench_fileno(void)
{
	struct client *cl = clients_new(opt.conns);
	int *fds = calloc((size_t)opt.conns, sizeof *fds);
	char call[128];

	if (fds == NULL)
		die("out of memory");
	for (int i = 0; i < opt.conns; i++) {
		cl[i].handle = client_socket(&cl[i]);
		client_connect_sink(&cl[i]);
		snprintf(call, sizeof call,
			 "{\"method\":\"io.sockd.FileNo\",\"parameters\":"
			 "{\"handle\":%" PRId64 "}}",
			 cl[i].handle);
		client_call(&cl[i], call, NULL);
		if (cl[i].passed_fd < 0)
			die("FileNo: no fd came with the reply");
		fds[i] = cl[i].passed_fd;
		cl[i].passed_fd = -1;
	}
	bench_raw(fds, "");
	free(fds);
}

/* attach: the connection upgraded to a raw pipe to the handle. */
static int
bench_attach(void)
{
	struct client *cl = clients_new(opt.conns);
	int *fds = calloc((size_t)opt.conns, sizeof *fds);
	char call[128], *err = NULL;

	if (fds == NULL)
		die("out of memory");
	for (int i = 0; i < opt.conns; i++) {
		cl[i].handle = client_socket(&cl[i]);
		client_connect_sink(&cl[i]);
		snprintf(call, sizeof call,
			 "{\"method\":\"io.sockd.Attach\",\"parameters\":"
			 "{\"handle\":%" PRId64 "},\"upgrade\":true}",
			 cl[i].handle);
		if (client_call(&cl[i], call, &err) == NULL) {
			char name[128];

			reply_str(err, "error", name, sizeof name);
			printf("mode=attach result=error error=%s\n", name);
			fprintf(stderr, "sockd-bench: Attach: %s\n", err);
			free(fds);
			return 3;
		}
		if (cl[i].in_start != cl[i].in_len)
			die("Attach: bytes after the upgrade reply");
		fds[i] = cl[i].fd;
	}
	bench_raw(fds, "");
	free(fds);
	return 0;
}

/* socat: the anchor relay, unix socket -> socat -> TCP sink. */
static void
bench_socat(void)
{
	char dir[] = "/tmp/sockd-bench-XXXXXX", path[128], target[64],
	     listen[160], bufarg[32];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int *fds = calloc((size_t)opt.conns, sizeof *fds), status;
	pid_t pid;

	if (fds == NULL || mkdtemp(dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/relay.sock", dir);
	snprintf(listen, sizeof listen, "UNIX-LISTEN:%s,fork", path);
	snprintf(target, sizeof target, "TCP:127.0.0.1:%u",
		 (unsigned)sink.port);
	snprintf(bufarg, sizeof bufarg, "%ld", opt.socat_buf);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execlp(opt.socat, opt.socat, "-b", bufarg, listen, target,
		       (char *)NULL);
		fprintf(stderr, "sockd-bench: %s: %s\n", opt.socat,
			strerror(errno));
		_exit(127);
	}
	strcpy(sun.sun_path, path);
	for (int i = 0; i < opt.conns; i++) {
		for (int tries = 0;; tries++) {
			fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (connect(fds[i], (void *)&sun, sizeof sun) == 0)
				break;
			close(fds[i]);
			if (tries == 500 || waitpid(pid, &status, WNOHANG) > 0)
				die("socat did not listen on %s", path);
			nanosleep(&(struct timespec){.tv_nsec = 10000000},
				  NULL);
		}
	}
	bench_raw(fds, "");
	free(fds);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	unlink(path);
	rmdir(dir);
}

/* Raise the soft limit on open files to the hard one. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The help text. */
static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: sockd-bench -s SOCKET [-m MODE] [OPTION]...\n"
		"Load sockd like redis-benchmark loads redis; print one line "
		"of key=value.\n"
		"\n"
		"Modes:\n"
		"  calls    GetTimeout on a handle of each connection "
		"(calls/s, p50/p99)\n"
		"  sendall  SendAll of base64 chunks to a loopback TCP sink "
		"(MB/s)\n"
		"  fileno   write() to the fd FileNo hands out (MB/s)\n"
		"  attach   write() to the connection after Attach upgrades "
		"it (MB/s)\n"
		"  plain    write() to a plain loopback TCP socket (MB/s; "
		"the anchor)\n"
		"  socat    write() through socat -b N, unix -> TCP (MB/s; "
		"an anchor)\n"
		"  scale    calls/s with -k handles, then with -M idle "
		"connections and -K\n"
		"           more handles, dropped again, for -R rounds; "
		"sockd's RSS per idle\n"
		"           connection and handle\n"
		"\n"
		"  -s PATH  sockd's socket (not needed for plain and socat)\n"
		"  -m MODE  the mode (default calls)\n"
		"  -c N     connections (default 50 for calls and scale, "
		"else 1)\n"
		"  -P N     calls in flight per connection (default 1)\n"
		"  -t SECS  run for SECS seconds (default 3; scale: each "
		"half of a round)\n"
		"  -w SECS  calls not counted for the first SECS (default "
		"0)\n"
		"  -n N     stop after N rounds of calls, or N chunks, "
		"instead of -t\n"
		"  -d BYTES payload per SendAll or write (default 65536)\n"
		"  -k N     scale: handles of the small run (default 10)\n"
		"  -R N     scale: rounds of small and large runs (default "
		"3)\n"
		"  -K N     scale: handles to add (default 100000)\n"
		"  -M N     scale: idle connections to add (default 10000)\n"
		"  -b N     socat's -b (default 262144)\n"
		"  -S PROG  the socat binary (default socat)\n"
		"  -h       this help\n");
}

/* A number option, or exit 2. */
static double
num_arg(int o, const char *text, double min)
{
	char *end;
	double v = strtod(text, &end);

	if (end == text || *end != '\0' || v < min) {
		fprintf(stderr, "sockd-bench: -%c: invalid value '%s'\n", o,
			text);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	int o, rc = 0;

	while ((o = getopt(argc, argv, "s:m:c:P:t:w:n:d:k:K:M:R:b:S:h")) !=
	       -1) {
		switch (o) {
		case 's':
			opt.socket = optarg;
			break;
		case 'm': {
			size_t i;

			for (i = 0; i < sizeof mode_names / sizeof *mode_names;
			     i++)
				if (strcmp(optarg, mode_names[i]) == 0)
					break;
			if (i == sizeof mode_names / sizeof *mode_names) {
				fprintf(stderr,
					"sockd-bench: unknown mode '%s'\n",
					optarg);
				return 2;
			}
			opt.mode = (enum mode)i;
			break;
		}
		case 'c':
			opt.conns = (int)num_arg(o, optarg, 1);
			break;
		case 'P':
			opt.depth = (int)num_arg(o, optarg, 1);
			break;
		case 't':
			opt.secs = num_arg(o, optarg, 0.01);
			break;
		case 'w':
			opt.warm = num_arg(o, optarg, 0);
			break;
		case 'n':
			opt.count = (uint64_t)num_arg(o, optarg, 1);
			break;
		case 'd':
			opt.chunk = (size_t)num_arg(o, optarg, 1);
			break;
		case 'k':
			opt.base = (long)num_arg(o, optarg, 1);
			break;
		case 'K':
			opt.handles = (long)num_arg(o, optarg, 0);
			break;
		case 'M':
			opt.idle = (long)num_arg(o, optarg, 0);
			break;
		case 'R':
			opt.rounds = (int)num_arg(o, optarg, 1);
			break;
		case 'b':
			opt.socat_buf = (long)num_arg(o, optarg, 1);
			break;
		case 'S':
			opt.socat = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (opt.socket == NULL && opt.mode != MODE_PLAIN &&
	    opt.mode != MODE_SOCAT) {
		fprintf(stderr, "sockd-bench: -s SOCKET is needed\n");
		return 2;
	}
	if (opt.conns < 0)
		opt.conns =
		    opt.mode == MODE_CALLS || opt.mode == MODE_SCALE ? 50 : 1;
	if (opt.warm >= opt.secs)
		opt.warm = 0;
	if (opt.depth > 1 && opt.mode != MODE_CALLS &&
	    opt.mode != MODE_SENDALL && opt.mode != MODE_SCALE) {
		fprintf(stderr, "sockd-bench: -P is for call modes\n");
		return 2;
	}
	(void)signal(SIGPIPE, SIG_IGN); /* cannot fail for SIGPIPE */
	raise_nofile();
	sink_start();
	switch (opt.mode) {
	case MODE_CALLS:
		bench_calls();
		break;
	case MODE_SENDALL:
		bench_sendall();
		break;
	case MODE_FILENO:
		bench_fileno();
		break;
	case MODE_ATTACH:
		rc = bench_attach();
		break;
	case MODE_PLAIN:
		bench_plain();
		break;
	case MODE_SOCAT:
		bench_socat();
		break;
	case MODE_SCALE:
		bench_scale();
		break;
	}
	(void)fflush(stdout); /* exit flushes it again, and fails alike */
	return rc;
}
