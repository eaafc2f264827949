/*
 * Handles: the sockets the daemon holds, named by a number that is never
 * reused, owned by a uid, scoped to a connection unless persistent.
 */
#ifndef SOCKD_HANDLE_H
#define SOCKD_HANDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

struct conn;
struct poll_item;
struct relay;
struct wait;

struct handle {
	uint64_t id;
	int fd;
	uid_t owner;
	int family, type, proto;
	double timeout;			/* seconds; < 0 is null: blocking */
	char *name;			/* unique per owner; NULL if unnamed */
	bool shared;			/* a client holds the fd (FileNo) */
	struct relay *relay;		/* attached: a connection relays it */
	struct conn *scope;		/* dies with this connection; NULL when
					   persistent */
	TAILQ_ENTRY(handle) all;	/* every handle, in id order */
	TAILQ_ENTRY(handle) scoped;	/* scope->handles */
	struct handle *id_next;		/* hash chain by id */
	struct handle *name_next;	/* hash chain by (owner, name) */
	LIST_HEAD(, wait) waits;	/* calls waiting on this socket */
	LIST_HEAD(, poll_item) pollers; /* Poll items naming it */
	uint32_t poll_events;		/* op-io.c's scratch space */
};

TAILQ_HEAD(handle_list, handle);
extern struct handle_list handles_all;

/*
 * Make a handle for fd (which it then owns). scope NULL makes it
 * persistent. Returns 0 and the handle, -EMFILE when the owner already
 * has quota handles,
 * -EEXIST for a name the owner already uses, -ENOMEM. fd is not closed on
 * failure.
 */
int handle_new(int fd, uid_t owner, int family, int type, int proto,
	       struct conn *scope, const char *name, unsigned quota,
	       struct handle **ret);

/* Make a persistent handle again, with the id and metadata it had before
 * a restart (no quota: it existed already). 0, -EEXIST for an id or name
 * in use, -ENOMEM. fd is not closed on failure. */
int handle_restore(int fd, uint64_t id, uid_t owner, int family, int type,
		   int proto, const char *name, double timeout,
		   struct handle **ret);

/* A handle name: 1 to HANDLE_NAME_MAX bytes, no spaces or control
 * characters, not all digits (it must never read as a handle number). */
#define HANDLE_NAME_MAX 255
bool handle_name_valid(const char *name);

/* The handle with this id, or NULL. */
struct handle *handle_find(uint64_t id);
/* The handle with this id if uid may use it (its owner, or root): the one
 * rule for who sees which handle. NULL for an unknown, closed or other
 * uid's handle, which callers must not tell apart. */
struct handle *handle_lookup(uid_t uid, int64_t id);
/* The handle of owner with this name, or NULL. */
struct handle *handle_find_name(uid_t owner, const char *name);

/* Close the socket and forget the handle; calls waiting on it are told.
 * A persistent handle leaves the fd store too. */
void handle_close(struct handle *h);
/* Forget the handle but keep the socket: returns its fd. */
int handle_detach(struct handle *h);
/* Close the socket at shutdown: a persistent handle stays in the fd store,
 * to come back at the next start. */
void handle_release(struct handle *h);

/* settimeout(): seconds, < 0 for null (blocking). */
void handle_set_timeout(struct handle *h, double timeout);

/* How many handles there are, and how many of them are persistent. */
size_t handle_count(void);
size_t handle_count_persistent(void);
/* The id the next handle gets; at start, the first one not used before
 * (ids are never reused, across restarts too). */
uint64_t handle_next_id(void);
void handle_set_next_id(uint64_t id);

#endif
