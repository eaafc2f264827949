/*
 * Handles: the sockets the daemon holds, named by a number that is never
 * reused, owned by a uid, scoped to a connection unless persistent.
 */
#ifndef SOCKD_HANDLE_H
#define SOCKD_HANDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

struct conn;
struct wait;

struct handle {
	uint64_t id;
	int fd;
	uid_t owner;
	int family, type, proto;
	double timeout;		    /* seconds; < 0 is null: blocking */
	char *name;		    /* unique per owner; NULL if unnamed */
	bool shared;		    /* a client holds the fd (FileNo) */
	struct conn *scope;	    /* dies with this connection; NULL when
				       persistent */
	TAILQ_ENTRY(handle) all;    /* every handle, in id order */
	TAILQ_ENTRY(handle) scoped; /* scope->handles */
	struct handle *id_next;	    /* hash chain by id */
	struct handle *name_next;   /* hash chain by (owner, name) */
	LIST_HEAD(, wait) waits;    /* calls waiting on this socket */
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

/* The handle with this id, or NULL. */
struct handle *handle_find(uint64_t id);
/* The handle of owner with this name, or NULL. */
struct handle *handle_find_name(uid_t owner, const char *name);

/* Close the socket and forget the handle; calls waiting on it are told. */
void handle_close(struct handle *h);
/* Forget the handle but keep the socket: returns its fd. */
int handle_detach(struct handle *h);

#endif
