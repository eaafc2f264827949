/*
 * sockd's main: the command line, the event loop and signals.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "conn.h"
#include "guard.h"
#include "handle.h"
#include "ident.h"
#include "log.h"
#include "notify.h"
#include "policy.h"
#include "resolver.h"
#include "server.h"
#include "sockd.h"
#include "store.h"
#include "varlink.h"

/* The help text. */
static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: sockd [OPTION]...\n"
	    "Own kernel sockets and let other processes drive them over "
	    "varlink.\n"
	    "\n"
	    "  -s, --socket PATH              listen on PATH (default "
	    "/run/sockd/sockd.sock\n"
	    "                                 for root, "
	    "$XDG_RUNTIME_DIR/sockd/sockd.sock\n"
	    "                                 otherwise)\n"
	    "  -p, --policy FILE              the policy "
	    "(default " POLICY_DEFAULT_PATH "\n"
	    "                                 if it exists; else only root "
	    "and sockd's uid\n"
	    "                                 may use sockd); SIGHUP "
	    "reloads it\n"
	    "      --check-policy FILE        check FILE, print its rules, "
	    "exit 0 or 1\n"
	    "\n"
	    "Limits (see LIMITS in sockd(8)):\n"
	    "      --max-message BYTES        largest message (default "
	    "16777216)\n"
	    "      --max-connections N        connections in all (default "
	    "4096)\n"
	    "      --max-connections-per-uid N  per client uid (default "
	    "1024)\n"
	    "      --max-handles-per-uid N    sockets per owner uid "
	    "(default 4096)\n"
	    "      --max-output BYTES         unsent replies per connection "
	    "before it\n"
	    "                                 stops being read (default "
	    "16777216)\n"
	    "      --max-queued-calls N       calls read and not yet run per "
	    "connection\n"
	    "                                 before it stops being read "
	    "(default 256)\n"
	    "      --max-recv BYTES           largest Recv bufsize (default: "
	    "what fits\n"
	    "                                 in one message)\n"
	    "      --max-depth N              JSON nesting (default 32)\n"
	    "      --max-addrinfo N           GetAddrInfo results (default "
	    "256)\n"
	    "      --max-poll-items N         items in one Poll (default "
	    "4096)\n"
	    "      --resolver-threads N       name lookups at once (default "
	    "4; one uid\n"
	    "                                 gets at most half of them)\n"
	    "      --max-lookups-per-uid N    name lookups one uid may have "
	    "queued or\n"
	    "                                 running (default 32)\n"
	    "      --max-memory-per-uid BYTES  what one uid's connections may "
	    "make sockd\n"
	    "                                 hold: input, unsent replies, "
	    "waiting calls\n"
	    "                                 (default 268435456)\n"
	    "      --max-linger SECONDS       longest SO_LINGER time a client "
	    "may set\n"
	    "                                 (default 60)\n"
	    "\n"
	    "  -v, --verbose                  log more: info and debug lines\n"
	    "  -h, --help                     show this help\n"
	    "  -V, --version                  show the version\n"
	    "\n"
	    "sockd runs in the foreground and logs to stderr. It tells "
	    "systemd when it is\n"
	    "ready (sd_notify) and exits cleanly on SIGTERM or SIGINT.\n"
	    "See sockd(8).\n");
}

/* The numeric options: each sets one field of cfg. */
static const struct limit_opt {
	const char *name;
	size_t *size;	 /* the field, when it is a size_t */
	unsigned *count; /* or an unsigned */
	unsigned long long min, max;
} limit_opts[] = {
    {"max-message", &cfg.max_message, NULL, SOCKD_MIN_MESSAGE, 1ULL << 30},
    {"max-connections", NULL, &cfg.max_connections, 1, 1000000},
    {"max-connections-per-uid", NULL, &cfg.max_connections_per_uid, 1, 1000000},
    {"max-handles-per-uid", NULL, &cfg.max_handles_per_uid, 1, 100000000},
    {"max-output", &cfg.max_output, NULL, SOCKD_MIN_MESSAGE, 1ULL << 34},
    {"max-queued-calls", NULL, &cfg.max_queued_calls, 1, 1000000},
    {"max-recv", &cfg.max_recv, NULL, 1, 1ULL << 30},
    {"max-depth", NULL, &cfg.max_depth, 2, 1000},
    {"max-addrinfo", NULL, &cfg.max_addrinfo, 1, 65536},
    {"max-poll-items", NULL, &cfg.max_poll_items, 1, 1000000},
    {"resolver-threads", NULL, &cfg.resolver_threads, 1, RESOLVER_MAX_THREADS},
    {"max-lookups-per-uid", NULL, &cfg.max_lookups_per_uid, 1, 1000000},
    {"max-memory-per-uid", &cfg.max_memory_per_uid, NULL, 1 << 20, 1ULL << 40},
    {"max-linger", NULL, &cfg.max_linger, 0, 86400},
};
#define NLIMIT_OPTS (sizeof limit_opts / sizeof limit_opts[0])

/* Parse a number option within [min, max]; exits with status 2 when
 * invalid. */
static unsigned long long
parse_count(const char *opt, const char *text, unsigned long long min,
	    unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max ||
	    text[0] == '-') {
		fprintf(stderr,
			"sockd: %s: invalid value '%s' (%llu to %llu)\n", opt,
			text, min, max);
		exit(2);
	}
	return v;
}

/* Set a limit from its option's text (exits with status 2 if invalid). */
static void
set_limit(const struct limit_opt *o, const char *text)
{
	char name[64];
	unsigned long long v;

	snprintf(name, sizeof name, "--%s", o->name);
	v = parse_count(name, text, o->min, o->max);
	if (o->size != NULL)
		*o->size = (size_t)v;
	else
		*o->count = (unsigned)v;
}

/* The default socket path for this uid, or NULL. */
static const char *
default_socket(void)
{
	static char path[PATH_MAX];
	const char *rt;

	if (geteuid() == 0)
		return "/run/sockd/sockd.sock";
	rt = getenv("XDG_RUNTIME_DIR");
	if (rt == NULL || rt[0] != '/')
		return NULL;
	snprintf(path, sizeof path, "%s/sockd/sockd.sock", rt);
	return path;
}

/* SIGTERM / SIGINT: leave the loop. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	log_info("signal %d: shutting down", (int)sig);
	notify_stopping();
	event_base_loopbreak(sockd_base);
}

/* SIGHUP: read the policy again; a broken file keeps the old one. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_info("SIGHUP: reloading the policy");
	notify_reloading();
	policy_reload();
	notify_ready();
}

/* --check-policy: 0 and the effective rules, or 1 and the first error. */
static int
check_policy(const char *path)
{
	struct policy *p;
	char err[512];

	if (policy_load(path, &p, err, sizeof err) < 0) {
		fprintf(stderr, "sockd: %s: %s\n", path, err);
		return 1;
	}
	policy_print(p, stdout);
	policy_free(p);
	printf("%s: ok\n", path);
	return 0;
}

/* The sockets the service manager passed (LISTEN_FDS): control sockets to
 * serve, and stored handles to take back. Returns how many control sockets
 * are served, or -1 on a fatal error. */
static int
take_passed_fds(void)
{
	char **names = NULL;
	int n, served = 0;

	n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		log_err("cannot read the passed fds: %s", strerror(-n));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names ? names[i] : "unknown";

		if (store_is_fdname(name))
			store_restore(fd, name);
		else if (server_adopt(fd, name) == 0)
			served++;
		else
			close(fd);
	}
	for (int i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return served;
}

/*
 * Keep big buffers (a SendAll's data, its decoded bytes, an input buffer
 * grown for one message) in the heap instead of fresh mmaps, and give
 * freed memory back only past 8 MiB: otherwise glibc's adaptive limits,
 * depending on what else the heap holds, can make every big message cost
 * page faults and zeroed pages (SendAll fell from ~840 to ~480 MB/s after
 * a burst of small calls). At most 8 MiB of freed heap stays resident.
 */
static void
tune_malloc(void)
{
	if (mallopt(M_MMAP_THRESHOLD, 4 << 20) == 0 ||
	    mallopt(M_TRIM_THRESHOLD, 8 << 20) == 0)
		log_warn("cannot set malloc's thresholds");
}

/* Raise the soft limit on open files to the hard one. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise RLIMIT_NOFILE: %s",
				 strerror(errno));
	}
}

int
main(int argc, char **argv)
{
	enum {
		OPT_CHECK_POLICY = 256,
		OPT_LIMIT, /* OPT_LIMIT + i: limit_opts[i] */
	};
	static const struct option fixed_opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"policy", required_argument, NULL, 'p'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"check-policy", required_argument, NULL, OPT_CHECK_POLICY},
	};
	struct option longopts[sizeof fixed_opts / sizeof fixed_opts[0] +
			       NLIMIT_OPTS + 1];
	struct event *ev_term, *ev_int, *ev_hup;
	size_t nfixed = sizeof fixed_opts / sizeof fixed_opts[0];
	int opt, r, served;

	memcpy(longopts, fixed_opts, sizeof fixed_opts);
	for (size_t i = 0; i < NLIMIT_OPTS; i++)
		longopts[nfixed + i] =
		    (struct option){limit_opts[i].name, required_argument, NULL,
				    OPT_LIMIT + (int)i};
	memset(&longopts[nfixed + NLIMIT_OPTS], 0, sizeof longopts[0]);

	opterr = 0; /* our own message, not argv[0]'s */
	while ((opt = getopt_long(argc, argv, "s:p:vhV", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 's':
			cfg.socket_path = optarg;
			break;
		case 'p':
			cfg.policy_path = optarg;
			break;
		case OPT_CHECK_POLICY:
			return check_policy(optarg);
		case 'v':
			cfg.verbosity++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sockd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			if (opt >= OPT_LIMIT &&
			    opt < OPT_LIMIT + (int)NLIMIT_OPTS) {
				set_limit(&limit_opts[opt - OPT_LIMIT], optarg);
				break;
			}
			fprintf(stderr,
				"sockd: bad option '%s'; see sockd --help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"sockd: unexpected argument '%s'; see sockd --help\n",
			argv[optind]);
		return 2;
	}
	log_init(cfg.verbosity);
	/* Replies may need room for one whole message to be queued. */
	if (cfg.max_output < cfg.max_message)
		cfg.max_output = cfg.max_message;

	sockd_uid = geteuid();
	r = ident_init();
	if (r < 0) {
		log_err("cannot read sockd's own groups: %s", strerror(-r));
		return 1;
	}
	/* A policy that does not load at start is fatal: better no broker
	 * than one with rules nobody meant. */
	if (policy_reload() < 0)
		return 1;
	(void)signal(SIGPIPE, SIG_IGN); /* cannot fail for SIGPIPE */
	raise_nofile();
	tune_malloc();
	sockd_base = event_base_new();
	if (sockd_base == NULL) {
		log_err("cannot create the event loop");
		return 1;
	}
	ev_term = evsignal_new(sockd_base, SIGTERM, on_signal, NULL);
	ev_int = evsignal_new(sockd_base, SIGINT, on_signal, NULL);
	ev_hup = evsignal_new(sockd_base, SIGHUP, on_hup, NULL);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) || evsignal_add(ev_int, NULL) ||
	    evsignal_add(ev_hup, NULL)) {
		log_err("cannot set up signal handling");
		return 1;
	}
	vl_set_max_depth((int)cfg.max_depth);
	vl_keep_parser(true);
	r = guard_init();
	if (r < 0) {
		log_err("cannot set up the guard timer: %s", strerror(-r));
		return 1;
	}
	r = resolver_init(cfg.resolver_threads);
	if (r < 0) {
		log_err("cannot start the resolver: %s", strerror(-r));
		return 1;
	}
	if (notify_init() < 0) {
		log_err("cannot set up the notify timers");
		return 1;
	}
	store_init();
	served = take_passed_fds();
	if (served < 0)
		return 1;
	store_sweep();
	if (served == 0) {
		/* Not socket-activated: make the control socket. */
		if (cfg.socket_path == NULL)
			cfg.socket_path = default_socket();
		if (cfg.socket_path == NULL) {
			log_err("no socket path: XDG_RUNTIME_DIR is not set; "
				"use --socket PATH");
			return 2;
		}
		if (server_listen(cfg.socket_path) < 0)
			return 1;
	} else if (cfg.socket_path != NULL) {
		log_info("socket-activated: --socket %s is not used",
			 cfg.socket_path);
	}
	notify_ready();

	/* The loop one turn at a time, counted: a uid's calls are shared
	 * out per turn (uidstat_take_call). */
	while (!event_base_got_break(sockd_base) &&
	       event_base_loop(sockd_base, EVLOOP_ONCE) == 0)
		sockd_turn++;

	server_close();
	conn_free_all();
	/* Persistent handles stay in the fd store, for the next start. */
	while (!TAILQ_EMPTY(&handles_all))
		handle_release(TAILQ_FIRST(&handles_all));
	store_shutdown();
	guard_free();
	notify_free();
	resolver_stop();
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	policy_set(NULL);
	vl_keep_parser(false);
	event_base_free(sockd_base);
	libevent_global_shutdown();
	uidstat_free_all();
	log_info("stopped");
	return 0;
}
