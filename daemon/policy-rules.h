/*
 * The parsed form of a policy file, shared by its parser and its checks.
 */
#ifndef SOCKD_POLICY_RULES_H
#define SOCKD_POLICY_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One address pattern of "bind" or "connect". */
struct netpat {
	int family; /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC:
		       any IP address */
	unsigned char addr[16];
	int prefix;	      /* CIDR prefix length */
	int port_lo, port_hi; /* inclusive */
	char *path;	      /* AF_UNIX: a path prefix, "@..." abstract */
	char *text;	      /* as written, for messages */
};

struct optgrant {
	int level, option;
};

enum {
	FILENO_NONE = 0,
	FILENO_SHARE = 1 << 0,	/* FileNo without detach */
	FILENO_DETACH = 1 << 1, /* FileNo with detach */
};

struct rule {
	char *name;    /* "web", or "rule N" */
	bool everyone; /* "users": ["*"] */
	uid_t *uids;
	size_t nuids;
	gid_t *gids;
	size_t ngids;
	uint64_t families; /* bit per AF_ number */
	uint64_t types;	   /* bit per SOCK_ number */
	struct netpat *bind;
	size_t nbind;
	struct netpat *connect;
	size_t nconnect;
	char **resolve; /* "*", "*.example.org", "host.example.org" */
	size_t nresolve;
	unsigned fileno; /* FILENO_* */
	struct optgrant *options;
	size_t noptions;
	long max_handles;     /* -1: the global limit */
	long max_connections; /* -1: the global limit */
};

struct policy {
	char *path;
	struct rule *rules;
	size_t nrules;
};

#endif
