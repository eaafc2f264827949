/*
 * Policy: who may do what. For now only the built-in default: root and the
 * daemon's own uid may do everything, every other uid nothing.
 */
#ifndef SOCKD_POLICY_H
#define SOCKD_POLICY_H

#include <stddef.h>

struct conn;
struct method;

/* 0 if conn may call m; -EACCES with the reason in why otherwise. */
int policy_check_call(const struct conn *conn, const struct method *m,
		      char *why, size_t size);

#endif
