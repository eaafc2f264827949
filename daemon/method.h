/*
 * The method table: every varlink method the daemon serves, with its
 * parameter spec, its flags and its handler. The dispatcher checks all of
 * it once, so a handler starts with valid parameters and a handle its
 * caller may use.
 */
#ifndef SOCKD_METHOD_H
#define SOCKD_METHOD_H

#include "varlink.h"

struct call;
struct conn;

#define M_HANDLE  (1u << 0) /* "handle" looked up, ownership checked */
#define M_OPEN	  (1u << 1) /* any uid may call (introspection) */
#define M_UPGRADE (1u << 2) /* must be called with "upgrade" */
/* The dispatcher reads these parameters into call->req (names made
 * numbers, InvalidParameter otherwise) and asks the policy about them. */
#define M_SOCKET      (1u << 3) /* family, type, proto: POLICY_SOCKET */
#define M_FILENO      (1u << 4) /* detach: POLICY_FILENO */
#define M_SOCKOPT     (1u << 5) /* level, option (read only, no check) */
#define M_SOCKOPT_SET (1u << 6) /* level, option: POLICY_SOCKOPT */
/* Allowed on a handle that Attach relays (others get OSError EBUSY). */
#define M_ATTACHED_OK (1u << 7)

struct method {
	const char *interface; /* "io.sockd" */
	const char *name;      /* "Connect" */
	const struct vl_param *params;
	unsigned flags;		    /* M_* */
	int (*run)(struct call *c); /* returns CALL_DONE or CALL_WAIT */
};

/* The rows each group of operations contributes, ended by { NULL }. */
extern const struct method op_service_methods[];
extern const struct method op_sock_methods[];
extern const struct method op_io_methods[];
extern const struct method op_opt_methods[];
extern const struct method op_name_methods[];

/* Every group of rows, in lookup order, ended by NULL. */
extern const struct method *const method_groups[];

/* The method named by "interface.Method": NULL with *ret_err -ENOENT for
 * an unknown interface, -ESRCH for an unknown method. */
const struct method *method_find(const char *full, int *ret_err);

/* Parse, check and start the call in one message from conn. */
void method_dispatch(struct conn *conn, char *msg, size_t len);

/* The embedded text of proto/io.sockd.varlink. */
extern const char sockd_idl[];

#endif
