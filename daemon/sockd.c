/*
 * sockd: the configuration and state every part shares, and the per-uid
 * counters the limits are checked on. main() is in main.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
};
struct event_base *sockd_base;
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
			    uidstats[i].handles == 0)
				uidstats[i] = uidstats[--nuidstats];
			return;
		}
}

/* Forget every uid's counters (at exit). */
void
uidstat_free_all(void)
{
	free(uidstats);
	uidstats = NULL;
	nuidstats = 0;
}
