/*
 * sockd-bench's parts: the options, the latency histogram, the sink that
 * counts delivered bytes, varlink connections to sockd, and the load
 * loop.
 */
#ifndef SOCKD_BENCH_H
#define SOCKD_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_EVENTS 256
#define READ_SIZE  65536

enum mode {
	MODE_CALLS,
	MODE_SENDALL,
	MODE_FILENO,
	MODE_ATTACH,
	MODE_PLAIN,
	MODE_SOCAT,
	MODE_SCALE,
};

/* The command line. */
struct options {
	enum mode mode;
	const char *socket; /* sockd's socket */
	int conns;	    /* -c */
	int depth;	    /* -P: calls in flight per connection */
	double secs;	    /* -t */
	double warm;	    /* -w: seconds not counted at the start */
	uint64_t count;	    /* -n: rounds (or chunks) instead of -t */
	size_t chunk;	    /* -d: payload bytes per write or SendAll */
	long handles;	    /* -K */
	long idle;	    /* -M */
	long base;	    /* -k: handles of the small scale run */
	int rounds;	    /* -R: scale rounds */
	const char *socat;  /* socat binary */
	long socat_buf;	    /* socat -b */
};

extern struct options opt;

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
uint64_t now_ns(void);

/* Latency histogram: exact below 64 ns, then 64 linear buckets per power
 * of two (about 1.6 % resolution), like a small HdrHistogram. */
#define HIST_SUB  64
#define HIST_SIZE (HIST_SUB + 58 * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t b[HIST_SIZE];
};

void hist_add(struct hist *h, uint64_t ns);
double hist_quantile_us(const struct hist *h, double q);

/* The sink: a thread reading and discarding what reaches 127.0.0.1. */
struct sink {
	int lfd;
	uint16_t port;
	_Atomic uint64_t bytes;	 /* received in all */
	_Atomic uint64_t target; /* 0, or the count awaited */
	_Atomic uint64_t done;	 /* when bytes reached target (ns) */
};

extern struct sink sink;

void sink_start(void);
uint64_t sink_wait(uint64_t target);
int sink_connect(void);

/* A varlink connection to sockd, and what the load loop keeps on it. */
struct client {
	int fd;
	int64_t handle; /* the handle this connection calls on */
	char *in;	/* received; in_start..in_len not yet consumed */
	size_t in_cap, in_start, in_len;
	int passed_fd;	   /* the last fd received, or -1 */
	const char *batch; /* what one round writes */
	size_t batch_len;
	size_t woff;	  /* bytes of the round written */
	int inflight;	  /* replies awaited */
	uint64_t sent_at; /* when the round was written */
	bool want_out;	  /* EPOLLOUT armed */
	bool done;	  /* finished for this run */
	char *gen;	  /* this connection's own round */
	size_t gen_cap;
	uint64_t rng;
};

int vl_connect(void);
void client_init(struct client *c, int fd);
struct client *clients_new(int n);
ssize_t client_read(struct client *c);
char *client_next(struct client *c);
char *client_wait(struct client *c);
char *client_call(struct client *c, const char *call, char **ret_err);
int64_t client_socket(struct client *c);
void client_connect_sink(struct client *c);
void client_repeat(struct client *c, const char *call, int n);
bool reply_is_error(const char *msg);
int64_t reply_int(const char *msg, const char *key);
void reply_str(const char *msg, const char *key, char *buf, size_t size);
void write_all(int fd, const char *buf, size_t len);
void set_blocking(int fd, bool blocking);
pid_t peer_pid(int fd);

/* One run of the load loop. A call run keeps opt.depth calls in flight
 * on each connection; a raw run writes payload to each connection's fd
 * as fast as it takes it. */
struct run {
	bool raw;
	const int64_t *pool; /* calls on random handles of these, or NULL:
				each client repeats its own round */
	size_t npool;
	const char *chunk; /* raw payload */
	size_t chunk_len;
	uint64_t t_start, t_warm, t_end;
	uint64_t limit;	    /* rounds (or chunks) to issue, 0: by time */
	uint64_t issued;    /* rounds (or chunks) */
	uint64_t completed; /* replies */
	uint64_t counted;   /* replies within [t_warm, t_end] */
	uint64_t t_last;    /* time of the last reply */
	uint64_t bytes;	    /* raw payload written */
	bool stopping;
	struct hist lat; /* of the counted replies */
};

void bench_scale(void);

struct run *run_new(void);
void run_loop(struct client *cl, int n, struct run *r);
double run_secs(const struct run *r);
double run_rate(const struct run *r);

#endif
