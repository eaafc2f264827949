/*
 * Persistent handles that survive a restart. The socket goes to the
 * service manager's fd store (FDSTORE=1, FDNAME=sockd-handle-ID, FDPOLL=0)
 * when the handle is made and leaves it (FDSTOREREMOVE=1) when a client
 * closes it; shutting down removes nothing. The metadata — id, owner,
 * name, family, type, protocol, timeout — is a small JSON file per handle
 * under $RUNTIME_DIRECTORY/handles, written atomically, beside next-id, the
 * id below which every id may have been used.
 *
 * The store is used when NOTIFY_SOCKET and RUNTIME_DIRECTORY are both set
 * (and $FDSTORE, where the manager sets it, is not 0). Otherwise every
 * call here does nothing and persistent handles end with the daemon.
 */
#ifndef SOCKD_STORE_H
#define SOCKD_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct handle;

#define STORE_FDNAME_PREFIX "sockd-handle-"

/* Decide whether the store is used; read the ids used before. */
void store_init(void);
/* Is fdname one of ours (a stored handle), by its prefix? */
bool store_is_fdname(const char *fdname);
/* A socket the manager handed back: make it a handle again from its
 * metadata, or log why not, close it and drop it from the store. */
void store_restore(int fd, const char *fdname);
/* After the handed-back sockets: forget metadata whose socket did not come
 * back, and make sure no id seen on disk is handed out again. */
void store_sweep(void);

/* Mark ids up to some ceiling above next as used; returns the ceiling. */
uint64_t store_reserve_ids(uint64_t next);
/* A persistent handle was made, changed, closed by a client. */
void store_add(const struct handle *h);
void store_update(const struct handle *h);
void store_remove(const struct handle *h);
/* At exit: record the exact next id. */
void store_shutdown(void);

#endif
