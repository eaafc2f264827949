/*
 * sockd: the configuration and state every part shares, and the per-uid
 * counters the limits are checked on. main() is in main.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "sockd.h"

struct config cfg = {
    .max_message = 16 * 1024 * 1024,
    .max_output = 16 * 1024 * 1024,
    .max_connections = 4096,
    .max_connections_per_uid = 1024,
    .max_handles_per_uid = 4096,
    .max_queued_calls = 256,
    .max_depth = 32,
    .max_addrinfo = 256,
    .max_poll_items = 4096,
    .resolver_threads = 4,
    .max_memory_per_uid = 256 * 1024 * 1024,
    .max_lookups_per_uid = 32,
    .max_linger = 60,
};
struct event_base *sockd_base;
unsigned long sockd_turn;
uid_t sockd_uid;

static struct uidstat *uidstats;
static size_t nuidstats;

/* Counters of one uid; a short array, since few uids talk to us. */
struct uidstat *
uidstat_get(uid_t uid)
{
	struct uidstat *n;

	for (size_t i = 0; i < nuidstats; i++)
		if (uidstats[i].uid == uid)
			return &uidstats[i];
	n = realloc(uidstats, (nuidstats + 1) * sizeof *n);
	if (n == NULL)
		return NULL;
	uidstats = n;
	memset(&uidstats[nuidstats], 0, sizeof *n);
	uidstats[nuidstats].uid = uid;
	return &uidstats[nuidstats++];
}

/* Drop an idle uid, so the table holds only uids in use. */
void
uidstat_trim(uid_t uid)
{
	for (size_t i = 0; i < nuidstats; i++)
		if (uidstats[i].uid == uid) {
			if (uidstats[i].connections == 0 &&
			    uidstats[i].handles == 0 && uidstats[i].bytes == 0)
				uidstats[i] = uidstats[--nuidstats];
			return;
		}
}

void
uidstat_charge(uid_t uid, ssize_t delta)
{
	struct uidstat *us = uidstat_get(uid);

	if (us == NULL)
		return;
	if (delta < 0 && (size_t)-delta > us->bytes)
		us->bytes = 0; /* never below zero, whatever was missed */
	else
		us->bytes += (size_t)delta;
	if (delta < 0 && us->throttled && us->bytes < cfg.max_memory_per_uid) {
		us->throttled = false;
		conn_unthrottle(uid);
	}
}

bool
uidstat_may_charge(uid_t uid, size_t add)
{
	struct uidstat *us = uidstat_get(uid);

	return us != NULL && us->bytes + add <= cfg.max_memory_per_uid;
}

bool
uidstat_over(uid_t uid)
{
	struct uidstat *us = uidstat_get(uid);

	if (us == NULL || us->bytes < cfg.max_memory_per_uid)
		return false;
	us->throttled = true;
	return true;
}

size_t
uidstat_bytes(uid_t uid)
{
	struct uidstat *us = uidstat_get(uid);

	return us != NULL ? us->bytes : 0;
}

bool
uidstat_take_call(uid_t uid)
{
	struct uidstat *us = uidstat_get(uid);

	if (us == NULL)
		return true;
	if (us->turn != sockd_turn) {
		us->turn = sockd_turn;
		us->turn_calls = 0;
	}
	if (us->turn_calls >= SOCKD_CALLS_PER_TURN)
		return false;
	us->turn_calls++;
	return true;
}

bool
uidstat_may_log(uid_t uid, unsigned *ret_dropped)
{
	struct uidstat *us = uidstat_get(uid);
	struct timespec ts;

	*ret_dropped = 0;
	if (us == NULL)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (us->log_second != ts.tv_sec) {
		us->log_second = ts.tv_sec;
		us->log_lines = 0;
	}
	if (us->log_lines >= SOCKD_LOG_PER_UID) {
		us->log_dropped++;
		return false;
	}
	us->log_lines++;
	*ret_dropped = us->log_dropped;
	us->log_dropped = 0;
	return true;
}

/* Forget every uid's counters (at exit). */
void
uidstat_free_all(void)
{
	free(uidstats);
	uidstats = NULL;
	nuidstats = 0;
}
