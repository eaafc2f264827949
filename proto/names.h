/*
 * The tables that map the kernel's constant names ("AF_INET6", "ECONNREFUSED",
 * "MSG_PEEK", "TCP_NODELAY", ...) to their values and back. The protocol
 * speaks names; these tables are the only place they are spelled.
 */
#ifndef SOCKD_NAMES_H
#define SOCKD_NAMES_H

#include <json-c/json.h>

struct name {
	const char *name;
	int value;
};

/* Each table ends with { NULL, 0 }. */
extern const struct name names_family[];   /* AF_UNSPEC, AF_INET, ... */
extern const struct name names_socktype[]; /* SOCK_STREAM, ... */
extern const struct name names_msgflag[];  /* MSG_PEEK, ... */
extern const struct name names_shut[];	   /* SHUT_RD, SHUT_WR, SHUT_RDWR */
extern const struct name names_poll[];	   /* POLLIN, POLLOUT, ... */
extern const struct name names_errno[];	   /* EPERM ... every Linux errno */
extern const struct name names_eai[];	   /* EAI_NONAME, ... */
extern const struct name names_ai_flag[];  /* AI_PASSIVE, ... */
extern const struct name names_ni_flag[];  /* NI_NUMERICHOST, ... */
extern const struct name names_level[];	   /* SOL_SOCKET, IPPROTO_TCP, ... */

/* Value of name in table: 0 and *ret_value, or -ENOENT. */
int names_value(const struct name *table, const char *name, int *ret_value);
/* Name of value in table, or NULL. The first entry with that value wins. */
const char *names_name(const struct name *table, int value);

/* The option table of a socket option level (SOL_SOCKET, IPPROTO_TCP,
 * IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP), or NULL for another level. */
const struct name *names_options(int level);

/* "ECONNREFUSED" for 111; "E123" style text is never returned: unknown
 * values give NULL. Shorthand for names_name(names_errno, err). */
const char *names_errno_name(int err);

/* Flag bits as a JSON array of names (each value by its first name), or
 * NULL with errno EINVAL when a set bit has no name. */
json_object *names_bits_json(const struct name *table, int bits);
/* The OR of the names in a JSON array of strings (NULL: 0): 0, -EINVAL
 * for a non-array, a non-string or more strings than the table has
 * names, -ENOENT for an unknown name. */
int names_json_bits(json_object *array, const struct name *table, int *ret);

#endif
