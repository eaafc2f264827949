/*
 * Policy: who may do what, decided by the caller's kernel credentials.
 *
 * Root and the daemon's own uid may do everything. Every other uid may do
 * only what the rules of the policy file grant it; with no file, nothing.
 * The file (JSON with comments) is described in sockd.policy(5):
 *
 *   { "rules": [ { "name": "web", "users": ["www-data"],
 *                  "families": ["AF_INET6"], "types": ["SOCK_STREAM"],
 *                  "bind": ["[::]:80", "[::]:443"], "fileno": true } ] }
 */
#ifndef SOCKD_POLICY_H
#define SOCKD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

struct conn;
struct method;
struct policy;

/* Where a policy is read from when --policy is not given. */
#define POLICY_DEFAULT_PATH "/etc/sockd/policy.json"

/* What is being asked for. */
enum policy_op {
	POLICY_SOCKET,	/* family, type, proto */
	POLICY_BIND,	/* sa */
	POLICY_CONNECT, /* sa: Connect, ConnectEx, SendTo */
	POLICY_RESOLVE, /* host: a name to look up */
	POLICY_FILENO,	/* detach */
	POLICY_SOCKOPT, /* level, option */
};

struct policy_req {
	enum policy_op op;
	const char *what; /* the method, for the log: "bind" */
	int family, type, proto;
	const struct sockaddr *sa;
	socklen_t salen;
	bool any_port; /* POLICY_BIND: port 0, and the kernel will choose one
			  (Listen): only patterns with all of the kernel's
			  local port range grant it */
	const char *host;
	bool detach;
	int level, option;
};

/* Parse the policy in path. Returns 0 and the policy, or -errno with a
 * message (naming the line when it can) in err. */
int policy_load(const char *path, struct policy **ret, char *err, size_t size);
/* The same for the len bytes of text (a NUL among them is an error);
 * path is only recorded, for messages. */
int policy_parse(const char *text, size_t len, const char *path,
		 struct policy **ret, char *err, size_t size);
void policy_free(struct policy *p);
/* Print the effective rules (for --check-policy). */
void policy_print(const struct policy *p, FILE *f);

/* Make p the policy in force (NULL: the built-in default); takes it. */
void policy_set(struct policy *p);
/* Read cfg.policy_path (or the default path, if it exists) and put it in
 * force; on error keep the old one. Returns 0 or -errno, logged. */
int policy_reload(void);
/* Did the last policy_reload() keep the old policy? */
bool policy_reload_failed(void);
/* A one-line summary for logs and STATUS=. */
const char *policy_describe(void);

/* May conn call m at all? 0, or -EACCES with the reason in why. */
int policy_check_call(const struct conn *conn, const struct method *m,
		      char *why, size_t size);
/* May conn do req? 0, or -EACCES with the rule or default that refused
 * in why. Refusals (and at -v grants) are logged. */
int policy_check(const struct conn *conn, const struct policy_req *req,
		 char *why, size_t size);
/* Log a refusal of conn's ("uid N pid P: why"), at most SOCKD_LOG_PER_UID
 * a second for its uid, saying how many were not when it goes on. */
void policy_log_refusal(const struct conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The handle and connection quotas for conn's uid. */
unsigned policy_max_handles(const struct conn *conn);
unsigned policy_max_connections(const struct conn *conn);

#endif
