/*
 * libsockc's insides, shared by the library's files and the sockc CLI
 * (which links the same code statically). Not installed.
 */
#ifndef SOCKC_LIB_H
#define SOCKC_LIB_H

#include <stdbool.h>
#include <json-c/json.h>

#include "frame.h"
#include "sockc.h"

#define SOCKC_EXPORT __attribute__((visibility("default")))

struct sockc {
	int fd;
	struct frame in;
	char *error_name;	   /* last error reply, NULL after success */
	char *error_message;	   /* its message, "" when none */
	json_object *error_params; /* its parameters, NULL after success */
	int gai;		   /* EAI_* of the last GAIError */
	int herr;		   /* h_errno of the last HError */
	bool broken;		   /* the connection is unusable */
	bool upgraded;		   /* Attach succeeded: raw bytes now */
};

/*
 * Call method with params (taken over; NULL for none) and wait for its
 * reply. Returns 0 with the reply's parameters in *ret_params (the
 * caller's reference; never NULL) and, when ret_fd is not NULL, the fd
 * that came with it in *ret_fd (-1 if none). Returns -1 with errno set:
 * for an error reply, errno follows the error (OSError: its errno;
 * Timeout: ETIMEDOUT; GAIError: EIO; InvalidParameter: EINVAL; unknown
 * methods: ENOSYS; others: EPROTO) and sockc_error_name() names it; for
 * a failure to talk to the daemon, sockc_error_name() is NULL.
 */
int lib_call(struct sockc *c, const char *method, json_object *params,
	     json_object **ret_params, int *ret_fd);
/* lib_call with call flags (VL_UPGRADE: the reply is read without taking
 * a byte past its NUL, for the raw bytes that follow). */
int lib_call_flags(struct sockc *c, const char *method, json_object *params,
		   unsigned flags, json_object **ret_params, int *ret_fd);

/* A service name or number as a port (a name is looked up for the
 * hints' socket type, TCP by default): 0 and *ret, or an EAI_* code. */
int lib_port(const char *service, const struct addrinfo *hints, int *ret);

/* Close h after a failed step without losing that failure's errno and
 * error details (the clean-up of the one-call paths). */
void lib_close_quietly(struct sockc *c, sockc_handle_t h);

/* The default socket path for this user. */
const char *lib_default_socket(void);

/* Address conversions: a sockaddr as a JSON object (NULL on ENOMEM); a
 * JSON address into addr and addrlen (truncated as accept() does, addrlen
 * set to the full length); 0 or -1 with errno. */
json_object *lib_addr_json(const struct sockaddr *addr, socklen_t addrlen);
int lib_addr_out(json_object *obj, struct sockaddr *addr, socklen_t *addrlen);

#endif
