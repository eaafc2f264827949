/*
 * sockd: what every part of the daemon shares — its configuration, the
 * event base, and the per-uid accounting that the limits are checked on.
 */
#ifndef SOCKD_SOCKD_H
#define SOCKD_SOCKD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;

/* Room a reply needs besides its data; --max-message is at least
 * SOCKD_MIN_MESSAGE. */
#define SOCKD_REPLY_OVERHEAD 256
#define SOCKD_MIN_MESSAGE    4096

struct config {
	const char *socket_path;
	const char *policy_path;
	size_t max_message; /* bytes in one message, NUL excluded */
	size_t max_output;  /* unsent reply bytes before a
			       connection stops being read */
	size_t max_recv;    /* Recv bufsize ceiling */
	unsigned max_connections;
	unsigned max_connections_per_uid;
	unsigned max_handles_per_uid;
	unsigned max_queued_calls; /* received, not yet answered, per
				      connection, before it stops being read */
	unsigned max_depth;	   /* JSON nesting */
	unsigned max_addrinfo;	   /* GetAddrInfo results */
	unsigned max_poll_items;
	unsigned resolver_threads;
	size_t max_memory_per_uid;    /* input, output and parked calls */
	unsigned max_lookups_per_uid; /* name lookups queued or running */
	unsigned max_linger;	      /* SO_LINGER seconds a client may set */
	int verbosity;
};

extern struct config cfg;
extern struct event_base *sockd_base;
/* Turns of the event loop so far (main.c counts them). */
extern unsigned long sockd_turn;

/* Counters kept per uid, for the per-uid limits. */
struct uidstat {
	uid_t uid;
	unsigned connections;
	unsigned handles;
	time_t strike_second; /* guard.c: the second strikes counts in */
	unsigned strikes;     /* guarded calls interrupted in it */
	size_t bytes;	      /* memory its connections make sockd hold */
	bool throttled;	      /* a connection of it is not read for that */
	unsigned long turn;   /* the loop's turn turn_calls counts in */
	unsigned turn_calls;  /* calls its connections ran in it */
	time_t log_second;    /* the second log_lines counts in */
	unsigned log_lines;   /* refusals logged in it */
	unsigned log_dropped; /* refusals not logged since the last one */
};

/* Refusals of one uid logged per second: a client that keeps being
 * refused must not flood the log, nor stall sockd on a slow journal. */
#define SOCKD_LOG_PER_UID 10

/* The counters of uid, created on first use; NULL when out of memory.
 * The pointer is good until the next uidstat_ call. */
struct uidstat *uidstat_get(uid_t uid);
/* Forget uid's counters once they are all zero. */
void uidstat_trim(uid_t uid);

/* Count delta bytes (negative: release) against uid's memory limit
 * (--max-memory-per-uid). A release that brings a throttled uid back
 * under it has its connections read again. */
void uidstat_charge(uid_t uid, ssize_t delta);
/* Would add more bytes keep uid within its limit? */
bool uidstat_may_charge(uid_t uid, size_t add);
/* Is uid at or over its limit (its connections are not read)? Marks it
 * throttled when it is. */
bool uidstat_over(uid_t uid);
/* The bytes counted against uid. */
size_t uidstat_bytes(uid_t uid);
/* Calls one uid's connections may run in one turn of the event loop,
 * together: opening more connections buys a uid no more of sockd. */
#define SOCKD_CALLS_PER_TURN 256
/* May uid run one more call in this turn of the loop? Counts it. */
bool uidstat_take_call(uid_t uid);
/* May a refusal of uid be logged now (SOCKD_LOG_PER_UID a second)? When
 * it may, *ret_dropped is how many were not since the last one. */
bool uidstat_may_log(uid_t uid, unsigned *ret_dropped);
/* Forget all counters (at exit). */
void uidstat_free_all(void);

/* The daemon's own uid, which the default policy trusts like root. */
extern uid_t sockd_uid;

#endif
