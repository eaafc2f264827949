/*
 * The scale mode: calls/s with a few handles and with many (plus idle
 * connections), measured in alternating rounds on one daemon so that
 * load from elsewhere on the machine hits both alike; and the daemon's
 * RSS per idle connection and per handle.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SETUP_BATCH 256 /* calls pipelined while setting up */
#define HOLDERS	    16	/* connections that hold the many handles */
#define DROP_WAIT   60	/* seconds for sockd to close what was dropped */

/* What one round adds to the daemon, and drops again. */
struct extra {
	struct client holders[HOLDERS]; /* own the many handles */
	int *idle;			/* idle connections */
	long nidle, nhandles;		/* made this round */
};

/* Create n handles over the clients, pipelined; their ids are appended
 * to pool. Stops at the first error (the fd limit, a quota) and says
 * so; returns how many it made. */
static long
scale_handles(struct client *cl, int ncl, long n, int64_t *pool, size_t *npool)
{
	static const char call[] =
	    "{\"method\":\"io.sockd.Socket\",\"parameters\":"
	    "{\"family\":\"AF_INET\",\"type\":\"SOCK_STREAM\"}}";
	long made = 0;
	char *batch = malloc(sizeof call * SETUP_BATCH);
	bool failed = false;

	if (batch == NULL)
		die("out of memory");
	for (int i = 0; i < SETUP_BATCH; i++)
		memcpy(batch + sizeof call * (size_t)i, call, sizeof call);
	for (int k = 0; made < n && !failed; k = (k + 1) % ncl) {
		long want = n - made < SETUP_BATCH ? n - made : SETUP_BATCH;

		write_all(cl[k].fd, batch, sizeof call * (size_t)want);
		for (long j = 0; j < want; j++) {
			char *msg = client_wait(&cl[k]);

			if (reply_is_error(msg)) {
				if (!failed)
					fprintf(stderr,
						"sockd-bench: handle %ld: %s\n",
						made + 1, msg);
				failed = true;
				continue;
			}
			pool[(*npool)++] = reply_int(msg, "handle");
			made++;
		}
	}
	free(batch);
	return made;
}

/* Open n idle connections, each served one call on handle h. */
static void
scale_idle(int *fds, long n, int64_t h)
{
	char call[128];
	long made = 0;
	size_t len;

	len = (size_t)snprintf(call, sizeof call,
			       "{\"method\":\"io.sockd.GetTimeout\","
			       "\"parameters\":{\"handle\":%" PRId64 "}}",
			       h) +
	      1;
	while (made < n) {
		long want = n - made < SETUP_BATCH ? n - made : SETUP_BATCH;

		for (long j = 0; j < want; j++) {
			fds[made + j] = vl_connect();
			write_all(fds[made + j], call, len);
		}
		for (long j = 0; j < want; j++) {
			char buf[256];
			size_t got = 0;

			do {
				ssize_t r = recv(fds[made + j], buf + got,
						 sizeof buf - got, 0);

				if (r <= 0 || got + (size_t)r >= sizeof buf)
					die("idle connection %ld: no reply",
					    made + j + 1);
				got += (size_t)r;
			} while (memchr(buf, '\0', got) == NULL);
			if (reply_is_error(buf))
				die("idle connection %ld: %s", made + j + 1,
				    buf);
		}
		made += want;
	}
}

/* VmRSS of pid in KiB. */
static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	(void)fclose(f);
	if (kib < 0)
		die("%s: no VmRSS", path);
	return kib;
}

/* How many fds pid has open. */
static long
fd_count(pid_t pid)
{
	char path[64];
	struct dirent *d;
	long n = 0;
	DIR *dir;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (dir == NULL)
		die("%s: %s", path, strerror(errno));
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Run GetTimeout on random handles of the pool for opt.secs; calls/s. */
static double
scale_rate(struct client *cl, int ncl, const int64_t *pool, size_t npool)
{
	struct run *r = run_new();
	double rate;

	r->pool = pool;
	r->npool = npool;
	for (int i = 0; i < ncl; i++)
		set_blocking(cl[i].fd, false);
	run_loop(cl, ncl, r);
	for (int i = 0; i < ncl; i++)
		set_blocking(cl[i].fd, true);
	rate = run_rate(r);
	free(r);
	return rate;
}

/* Add the idle connections, then the handles; sockd's RSS before, and
 * after each (rss[0..2]). */
static void
extra_add(struct extra *x, pid_t pid, int64_t *pool, size_t *npool, long rss[3])
{
	for (int i = 0; i < HOLDERS; i++)
		client_init(&x->holders[i], vl_connect());
	/* A call on each holder: sockd has set them up before the RSS. */
	for (int i = 0; i < HOLDERS; i++)
		client_call(&x->holders[i],
			    "{\"method\":\"org.varlink.service.GetInfo\"}",
			    NULL);
	rss[0] = rss_kib(pid);
	scale_idle(x->idle, opt.idle, pool[0]);
	x->nidle = opt.idle;
	rss[1] = rss_kib(pid);
	x->nhandles =
	    scale_handles(x->holders, HOLDERS, opt.handles, pool, npool);
	rss[2] = rss_kib(pid);
}

/* Close what extra_add opened, and wait until sockd has closed its side
 * (the holders' handles go with their connections). */
static void
extra_drop(struct extra *x, pid_t pid, long fds_before)
{
	uint64_t limit = now_ns() + DROP_WAIT * 1000000000ull;
	struct timespec ms = {0, 10000000};

	for (long i = 0; i < x->nidle; i++)
		close(x->idle[i]);
	for (int i = 0; i < HOLDERS; i++) {
		close(x->holders[i].fd);
		free(x->holders[i].in);
	}
	while (fd_count(pid) > fds_before) {
		if (now_ns() > limit)
			die("sockd still holds %ld fds, %ld before, after %d s",
			    fd_count(pid), fds_before, DROP_WAIT);
		nanosleep(&ms, NULL);
	}
}

/* qsort order for doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (sorts them). */
static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* scale: rounds of calls/s with opt.base handles, then with opt.handles
 * more and opt.idle idle connections, dropped again before the next
 * round; medians of the rates and of each round's ratio. RSS deltas
 * come from the first round, on a daemon that has not grown before. */
void
bench_scale(void)
{
	struct client *cl = clients_new(opt.conns);
	int64_t *pool = malloc(sizeof *pool * (size_t)(opt.base + opt.handles));
	struct extra x = {.idle = malloc(sizeof(int) * (size_t)(opt.idle + 1))};
	double base[64], big[64], ratio[64];
	size_t npool = 0;
	long rss[3] = {0, 0, 0}, fds0, nidle = 0, nhandles = 0;
	pid_t pid = peer_pid(cl[0].fd);

	if (pool == NULL || x.idle == NULL)
		die("out of memory");
	if (opt.rounds > 64)
		opt.rounds = 64;
	if (scale_handles(cl, 1, opt.base, pool, &npool) < opt.base)
		die("cannot create the %ld base handles", opt.base);
	fds0 = fd_count(pid);
	for (int i = 0; i < opt.rounds; i++) {
		long r[3];

		npool = (size_t)opt.base;
		base[i] = scale_rate(cl, opt.conns, pool, npool);
		extra_add(&x, pid, pool, &npool, r);
		if (i == 0) {
			memcpy(rss, r, sizeof rss);
			nidle = x.nidle;
			nhandles = x.nhandles;
		}
		big[i] = scale_rate(cl, opt.conns, pool, npool);
		ratio[i] = base[i] > 0 ? big[i] / base[i] : 0;
		extra_drop(&x, pid, fds0);
	}
	/* Each round's rates, in order, before the medians sort them. */
	printf("rounds:");
	for (int i = 0; i < opt.rounds; i++)
		printf(" %.0f/%.0f", base[i], big[i]);
	printf("\n");
	printf("mode=scale c=%d P=%d rounds=%d base_handles=%ld handles=%ld "
	       "idle_conns=%ld calls_per_sec_base=%.0f calls_per_sec=%.0f "
	       "ratio=%.3f rss_base_kib=%ld rss_idle_kib=%ld "
	       "rss_handles_kib=%ld bytes_per_idle_conn=%.0f "
	       "bytes_per_handle=%.0f\n",
	       opt.conns, opt.depth, opt.rounds, opt.base, nhandles, nidle,
	       median(base, opt.rounds), median(big, opt.rounds),
	       median(ratio, opt.rounds), rss[0], rss[1], rss[2],
	       nidle ? (double)(rss[1] - rss[0]) * 1024 / (double)nidle : 0,
	       nhandles ? (double)(rss[2] - rss[1]) * 1024 / (double)nhandles
			: 0);
	free(pool);
	free(x.idle);
}
