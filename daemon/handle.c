/*
 * The handle table: two chained hash tables (by id, by owner and name)
 * that grow with the number of handles, so lookups stay O(1) at 100,000
 * handles, and a list in id order for List.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "conn.h"
#include "guard.h"
#include "handle.h"
#include "notify.h"
#include "relay.h"
#include "sockd.h"
#include "store.h"

struct handle_list handles_all = TAILQ_HEAD_INITIALIZER(handles_all);

static struct handle **by_id;	/* buckets, hash of id */
static struct handle **by_name; /* buckets, hash of (owner, name) */
static size_t nbuckets;		/* a power of two, same for both */
static size_t nhandles;
static size_t npersistent;
static uint64_t next_id = 1;
static uint64_t id_ceiling; /* ids below it are reserved in the store */

/* Bucket of an id. */
static size_t
handle_id_bucket(uint64_t id)
{
	/* Fibonacci hashing spreads consecutive ids. */
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (nbuckets - 1);
}

/* Bucket of an (owner, name) pair: FNV-1a. */
static size_t
handle_name_bucket(uid_t owner, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ owner;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 32)) & (nbuckets - 1);
}

/* Insert h into both hash tables. */
static void
handle_link(struct handle *h)
{
	size_t b = handle_id_bucket(h->id);

	h->id_next = by_id[b];
	by_id[b] = h;
	if (h->name != NULL) {
		b = handle_name_bucket(h->owner, h->name);
		h->name_next = by_name[b];
		by_name[b] = h;
	}
}

/* Double the tables when they are full (load factor 1). */
static int
handle_grow(void)
{
	size_t n = nbuckets ? nbuckets * 2 : 256;
	struct handle **ids, **names, *h;

	/* Arrays of pointers to handles: sizeof a pointer each.
	 * NOLINTBEGIN(bugprone-sizeof-expression) */
	ids = calloc(n, sizeof *ids);
	names = calloc(n, sizeof *names);
	/* NOLINTEND(bugprone-sizeof-expression) */
	if (ids == NULL || names == NULL) {
		free(ids);
		free(names);
		return -ENOMEM;
	}
	free(by_id);
	free(by_name);
	by_id = ids;
	by_name = names;
	nbuckets = n;
	TAILQ_FOREACH(h, &handles_all, all)
	handle_link(h);
	return 0;
}

/* Name rules, shared by Socket and the store. */
bool
handle_name_valid(const char *name)
{
	bool digits = true;
	size_t len = 0;

	for (const unsigned char *p = (const void *)name; *p; p++, len++) {
		if (*p <= ' ' || *p == 0x7f)
			return false;
		if (*p < '0' || *p > '9')
			digits = false;
	}
	return len > 0 && len <= HANDLE_NAME_MAX && !digits;
}

/* A new handle with this id in the tables and lists; NULL when out of
 * memory. */
static struct handle *
handle_insert(uint64_t id, int fd, uid_t owner, int family, int type, int proto,
	      struct conn *scope, const char *name)
{
	struct handle *h;

	if (nhandles >= nbuckets && handle_grow() < 0)
		return NULL;
	h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	if (name != NULL && (h->name = strdup(name)) == NULL) {
		free(h);
		return NULL;
	}
	h->id = id;
	h->fd = fd;
	h->owner = owner;
	h->family = family;
	h->type = type;
	h->proto = proto;
	h->timeout = -1;
	h->scope = scope;
	LIST_INIT(&h->waits);
	LIST_INIT(&h->pollers);
	TAILQ_INSERT_TAIL(&handles_all, h, all);
	if (scope != NULL)
		TAILQ_INSERT_TAIL(&scope->handles, h, scoped);
	else
		npersistent++;
	handle_link(h);
	nhandles++;
	notify_changed();
	return h;
}

/* Create a handle for fd. */
int
handle_new(int fd, uid_t owner, int family, int type, int proto,
	   struct conn *scope, const char *name, unsigned quota,
	   struct handle **ret)
{
	struct uidstat *us = uidstat_get(owner);
	struct handle *h;

	if (us == NULL)
		return -ENOMEM;
	if (us->handles >= quota)
		return -EMFILE;
	if (name != NULL && handle_find_name(owner, name) != NULL)
		return -EEXIST;
	/* Ids are reserved on disk in blocks, so that a crash cannot make
	 * the next start hand out one again. */
	if (next_id >= id_ceiling)
		id_ceiling = store_reserve_ids(next_id);
	h = handle_insert(next_id, fd, owner, family, type, proto, scope, name);
	if (h == NULL)
		return -ENOMEM;
	next_id++;
	us->handles++;
	if (scope == NULL)
		store_add(h);
	*ret = h;
	return 0;
}

/* Create a handle that survived a restart. */
int
handle_restore(int fd, uint64_t id, uid_t owner, int family, int type,
	       int proto, const char *name, double timeout, struct handle **ret)
{
	struct uidstat *us = uidstat_get(owner);
	struct handle *h;

	if (us == NULL)
		return -ENOMEM;
	if (handle_find(id) != NULL ||
	    (name != NULL && handle_find_name(owner, name) != NULL))
		return -EEXIST;
	h = handle_insert(id, fd, owner, family, type, proto, NULL, name);
	if (h == NULL)
		return -ENOMEM;
	h->timeout = timeout;
	/* Whoever held it before may still hold the fd (FileNo). */
	h->shared = true;
	if (id >= next_id)
		next_id = id + 1;
	us->handles++;
	*ret = h;
	return 0;
}

/* Look a handle up by id. */
struct handle *
handle_find(uint64_t id)
{
	struct handle *h;

	if (nbuckets == 0)
		return NULL;
	for (h = by_id[handle_id_bucket(id)]; h != NULL; h = h->id_next)
		if (h->id == id)
			return h;
	return NULL;
}

/* Look a handle up for a uid. */
struct handle *
handle_lookup(uid_t uid, int64_t id)
{
	struct handle *h = id > 0 ? handle_find((uint64_t)id) : NULL;

	if (h != NULL && uid != 0 && h->owner != uid)
		return NULL;
	return h;
}

/* Look a handle up by owner and name. */
struct handle *
handle_find_name(uid_t owner, const char *name)
{
	struct handle *h;

	if (nbuckets == 0)
		return NULL;
	h = by_name[handle_name_bucket(owner, name)];
	for (; h != NULL; h = h->name_next)
		if (h->owner == owner && strcmp(h->name, name) == 0)
			return h;
	return NULL;
}

/* Remove h from the tables, lists and counters, and free it. */
static void
handle_forget(struct handle *h)
{
	struct handle **p;
	struct uidstat *us;

	/* A relay to it ends; calls waiting on it learn it is gone. */
	if (h->relay != NULL)
		relay_handle_gone(h->relay);
	while (!LIST_EMPTY(&h->waits))
		call_handle_gone(LIST_FIRST(&h->waits), h);
	while (!LIST_EMPTY(&h->pollers))
		op_poll_handle_gone(LIST_FIRST(&h->pollers));

	for (p = &by_id[handle_id_bucket(h->id)]; *p != h; p = &(*p)->id_next)
		;
	*p = h->id_next;
	if (h->name != NULL) {
		p = &by_name[handle_name_bucket(h->owner, h->name)];
		for (; *p != h; p = &(*p)->name_next)
			;
		*p = h->name_next;
	}
	TAILQ_REMOVE(&handles_all, h, all);
	if (h->scope != NULL)
		TAILQ_REMOVE(&h->scope->handles, h, scoped);
	else
		npersistent--;
	nhandles--;
	notify_changed();
	us = uidstat_get(h->owner);
	if (us != NULL)
		us->handles--;
	uidstat_trim(h->owner);
	free(h->name);
	free(h);
}

/* Close and forget. */
void
handle_close(struct handle *h)
{
	int fd = h->fd;
	bool shared = h->shared;

	if (h->scope == NULL)
		store_remove(h);
	handle_forget(h);
	guard_close(fd, shared);
}

/* Forget, keeping the socket open for the caller. */
int
handle_detach(struct handle *h)
{
	int fd = h->fd;

	if (h->scope == NULL)
		store_remove(h);
	handle_forget(h);
	return fd;
}

/* Close, leaving the fd store alone. */
void
handle_release(struct handle *h)
{
	int fd = h->fd;
	bool shared = h->shared;

	handle_forget(h);
	guard_close(fd, shared);
}

/* Set the timeout; the store keeps a persistent handle's. */
void
handle_set_timeout(struct handle *h, double timeout)
{
	if (h->timeout == timeout)
		return;
	h->timeout = timeout;
	if (h->scope == NULL)
		store_update(h);
}

size_t
handle_count(void)
{
	return nhandles;
}

size_t
handle_count_persistent(void)
{
	return npersistent;
}

uint64_t
handle_next_id(void)
{
	return next_id;
}

void
handle_set_next_id(uint64_t id)
{
	if (id > next_id)
		next_id = id;
}
