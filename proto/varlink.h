/*
 * Varlink messages: parsing and checking a call, checking its parameters
 * against a method's spec, and building replies. Shared by the daemon and
 * the client library; no I/O here.
 */
#ifndef SOCKD_VARLINK_H
#define SOCKD_VARLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Deepest JSON nesting accepted in a message, by default. */
#define VL_MAX_DEPTH 32

/* Is v a string C sees whole: no NUL inside (JSON may write \u0000)? */
bool vl_whole_string(json_object *v);

/* Change the deepest nesting accepted (at least 2: the message's object
 * and its parameters). */
void vl_set_max_depth(int depth);
/* Keep one parser between messages (true), or free it (false, at exit).
 * For single-threaded programs: the daemon, not the client library. */
void vl_keep_parser(bool keep);

enum vl_flag {
	VL_ONEWAY = 1 << 0,
	VL_MORE = 1 << 1,
	VL_UPGRADE = 1 << 2,
};

struct vl_call {
	json_object *root;   /* the whole message; owns the rest */
	const char *method;  /* "io.sockd.Bind" */
	json_object *params; /* an object, never NULL */
	unsigned flags;	     /* enum vl_flag */
};

/*
 * Parse one message (len bytes, no NUL inside) as a call. Returns 0, or
 * -EBADMSG with a static description of what is wrong in *ret_why: not
 * JSON, not an object, no method, a bad flag, two flags, an unknown
 * top-level field. On success the caller owns ret->root (json_object_put).
 */
int vl_call_parse(const char *msg, size_t len, struct vl_call *ret,
		  const char **ret_why);

/* Parse one reply message. Returns 0 with *ret_root owning the whole
 * message, *ret_error the error name or NULL, *ret_params an object
 * (never NULL) and *ret_continues; or -EBADMSG. */
int vl_reply_parse(const char *msg, size_t len, json_object **ret_root,
		   const char **ret_error, json_object **ret_params,
		   bool *ret_continues);

enum vl_type {
	VL_BOOL,
	VL_INT,	  /* a JSON integer */
	VL_FLOAT, /* a JSON integer or float */
	VL_STRING,
	VL_OBJECT,
	VL_ARRAY,
	VL_STRINGS, /* an array of strings */
};

struct vl_param {
	const char *name;
	enum vl_type type;
	unsigned flags; /* VL_P_* */
};

#define VL_P_OPTIONAL (1u << 0) /* may be missing */
#define VL_P_NULLABLE (1u << 1) /* may be null (implies optional) */

/*
 * Check params against spec (terminated by { NULL }): every field known,
 * of the right type, every required field present. Returns 0, or -EINVAL
 * with the offending field's name in *ret_field.
 */
int vl_params_check(json_object *params, const struct vl_param *spec,
		    const char **ret_field);

/* Build a message: the JSON text of the object followed by its NUL.
 * Return a malloc'ed buffer and its length (NUL included) in *ret_len, or
 * NULL when out of memory. Takes ownership of params (may be NULL). */
char *vl_reply_build(json_object *params, bool continues, size_t *ret_len);
char *vl_error_build(const char *error, json_object *params, size_t *ret_len);
char *vl_call_build(const char *method, json_object *params, unsigned flags,
		    size_t *ret_len);

/* A JSON number for a float, printed in its shortest exact form (0.1, not
 * 0.10000000000000001). */
json_object *vl_new_float(double value);

#endif
