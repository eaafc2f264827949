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
#include "handle.h"
#include "sockd.h"

struct handle_list handles_all = TAILQ_HEAD_INITIALIZER(handles_all);

static struct handle **by_id;	/* buckets, hash of id */
static struct handle **by_name; /* buckets, hash of (owner, name) */
static size_t nbuckets;		/* a power of two, same for both */
static size_t nhandles;
static uint64_t next_id = 1;

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

	ids = calloc(n, sizeof *ids);
	names = calloc(n, sizeof *names);
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
	if (nhandles >= nbuckets && handle_grow() < 0)
		return -ENOMEM;
	h = calloc(1, sizeof *h);
	if (h == NULL)
		return -ENOMEM;
	if (name != NULL && (h->name = strdup(name)) == NULL) {
		free(h);
		return -ENOMEM;
	}
	h->id = next_id++;
	h->fd = fd;
	h->owner = owner;
	h->family = family;
	h->type = type;
	h->proto = proto;
	h->timeout = -1;
	h->scope = scope;
	LIST_INIT(&h->waits);
	TAILQ_INSERT_TAIL(&handles_all, h, all);
	if (scope != NULL)
		TAILQ_INSERT_TAIL(&scope->handles, h, scoped);
	handle_link(h);
	nhandles++;
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

	/* Calls waiting on the socket learn it is gone first. */
	while (!LIST_EMPTY(&h->waits))
		call_handle_gone(LIST_FIRST(&h->waits), h);

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
	nhandles--;
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

	handle_forget(h);
	close(fd);
}

/* Forget, keeping the socket open for the caller. */
int
handle_detach(struct handle *h)
{
	int fd = h->fd;

	handle_forget(h);
	return fd;
}

