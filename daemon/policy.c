/*
 * Policy checks. A call from root or the daemon's uid is always allowed.
 * For anyone else, the rules that match the caller (by uid, or by any of
 * its groups) are tried in order; the first that grants the request
 * allows it, and the log names it. When none does, the refusal names the
 * rules that were tried (or the default policy, when none matches).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "conn.h"
#include "log.h"
#include "method.h"
#include "names.h"
#include "policy-rules.h"
#include "policy.h"
#include "sockd.h"

static struct policy *policy; /* NULL: the built-in default */

/* Options any caller may set: everyday tuning that cannot reach beyond
 * the socket. Everything else needs an "options" grant. */
static const struct optgrant safe_options[] = {
    {SOL_SOCKET, SO_REUSEADDR},
    {SOL_SOCKET, SO_REUSEPORT},
    {SOL_SOCKET, SO_KEEPALIVE},
    {SOL_SOCKET, SO_LINGER},
    {SOL_SOCKET, SO_SNDBUF},
    {SOL_SOCKET, SO_RCVBUF},
    {SOL_SOCKET, SO_SNDLOWAT},
    {SOL_SOCKET, SO_RCVLOWAT},
    {SOL_SOCKET, SO_SNDTIMEO},
    {SOL_SOCKET, SO_RCVTIMEO},
    {SOL_SOCKET, SO_OOBINLINE},
    {SOL_SOCKET, SO_BROADCAST},
    {SOL_SOCKET, SO_PASSCRED},
    {IPPROTO_TCP, TCP_NODELAY},
    {IPPROTO_TCP, TCP_MAXSEG},
    {IPPROTO_TCP, TCP_CORK},
    {IPPROTO_TCP, TCP_KEEPIDLE},
    {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT},
    {IPPROTO_TCP, TCP_SYNCNT},
    {IPPROTO_TCP, TCP_LINGER2},
    {IPPROTO_TCP, TCP_DEFER_ACCEPT},
    {IPPROTO_TCP, TCP_WINDOW_CLAMP},
    {IPPROTO_TCP, TCP_QUICKACK},
    {IPPROTO_TCP, TCP_FASTOPEN},
    {IPPROTO_TCP, TCP_USER_TIMEOUT},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT},
    {IPPROTO_IP, IP_TOS},
    {IPPROTO_IP, IP_TTL},
    {IPPROTO_IP, IP_RECVERR},
    {IPPROTO_IP, IP_PKTINFO},
    {IPPROTO_IP, IP_RECVTOS},
    {IPPROTO_IP, IP_MTU_DISCOVER},
    {IPPROTO_IP, IP_MULTICAST_TTL},
    {IPPROTO_IP, IP_MULTICAST_LOOP},
    {IPPROTO_IP, IP_MULTICAST_IF},
    {IPPROTO_IP, IP_ADD_MEMBERSHIP},
    {IPPROTO_IP, IP_DROP_MEMBERSHIP},
    {IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT},
    {IPPROTO_IPV6, IPV6_V6ONLY},
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS},
    {IPPROTO_IPV6, IPV6_MULTICAST_HOPS},
    {IPPROTO_IPV6, IPV6_MULTICAST_IF},
    {IPPROTO_IPV6, IPV6_MULTICAST_LOOP},
    {IPPROTO_IPV6, IPV6_JOIN_GROUP},
    {IPPROTO_IPV6, IPV6_LEAVE_GROUP},
    {IPPROTO_IPV6, IPV6_RECVPKTINFO},
    {IPPROTO_IPV6, IPV6_TCLASS},
    {IPPROTO_IPV6, IPV6_RECVERR},
    {IPPROTO_IPV6, IPV6_MTU_DISCOVER},
    {IPPROTO_UDP, UDP_CORK},
};

/* Root and the daemon's own uid are trusted with everything. */
static bool
policy_trusted(const struct conn *conn)
{
	return conn->uid == 0 || conn->uid == sockd_uid;
}

/* Does rule r apply to conn's credentials? */
static bool
rule_matches(const struct rule *r, const struct conn *conn)
{
	if (r->everyone)
		return true;
	for (size_t i = 0; i < r->nuids; i++)
		if (r->uids[i] == conn->uid)
			return true;
	for (size_t i = 0; i < r->ngids; i++) {
		if (r->gids[i] == conn->gid)
			return true;
		for (size_t k = 0; k < conn->ngroups; k++)
			if (r->gids[i] == conn->groups[k])
				return true;
	}
	return false;
}

/* Does the pattern's port range hold every port the kernel may pick
 * for a socket it binds itself (net.ipv4.ip_local_port_range, which
 * IPv6 shares)? */
static bool
policy_all_local_ports(const struct netpat *np)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	long lo = 1, hi = 65535;
	char line[64], *end;

	if (f != NULL) {
		if (fgets(line, sizeof line, f) != NULL) {
			lo = strtol(line, &end, 10);
			hi = strtol(end, &end, 10);
		}
		(void)fclose(f); /* read only: nothing to lose */
	}
	if (lo < 1 || hi > 65535 || lo > hi) { /* unreadable: assume all */
		lo = 1;
		hi = 65535;
	}
	return np->port_lo <= lo && np->port_hi >= hi;
}

/* Does the address match one pattern? */
static bool
netpat_matches(const struct netpat *np, const struct sockaddr *sa,
	       socklen_t len, bool any_port)
{
	const unsigned char *a;
	int family = sa->sa_family, port, bits;

	if (family == AF_UNIX) {
		const struct sockaddr_un *sun = (const void *)sa;
		size_t plen = len > offsetof(struct sockaddr_un, sun_path)
				  ? len - offsetof(struct sockaddr_un, sun_path)
				  : 0;
		char path[sizeof sun->sun_path + 2];
		size_t n;

		if (np->family != AF_UNIX || plen == 0)
			return false;
		if (sun->sun_path[0] == '\0') { /* abstract: "@name" */
			path[0] = '@';
			memcpy(path + 1, sun->sun_path + 1, plen - 1);
			path[plen] = '\0';
			if (memchr(path + 1, '\0', plen - 1) != NULL)
				return false;
		} else {
			memcpy(path, sun->sun_path, plen);
			path[plen] = '\0';
			/* No way out of the granted directory. */
			if (path[0] != '/' || strstr(path, "/../") != NULL ||
			    (strlen(path) >= 3 &&
			     strcmp(path + strlen(path) - 3, "/..") == 0))
				return false;
		}
		n = strlen(np->path);
		if (strncmp(path, np->path, n) != 0)
			return false;
		/* "/run/app" grants /run/app and /run/app/..., not
		 * /run/apple; an abstract prefix is a plain prefix. */
		return path[0] == '@' || np->path[n - 1] == '/' ||
		       path[n] == '\0' || path[n] == '/';
	}
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		a = (const unsigned char *)&sin->sin_addr;
		port = ntohs(sin->sin_port);
	} else if (family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		a = (const unsigned char *)&sin6->sin6_addr;
		port = ntohs(sin6->sin6_port);
	} else {
		return false;
	}
	if (np->family != AF_UNSPEC && np->family != family)
		return false;
	if (port != 0 && (port < np->port_lo || port > np->port_hi))
		return false;
	if (port == 0 && any_port && !policy_all_local_ports(np))
		return false;
	if (np->family == AF_UNSPEC)
		return true;
	bits = np->prefix;
	for (int i = 0; bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : (0xff << (8 - bits));

		if ((a[i] & mask) != (np->addr[i] & mask))
			return false;
	}
	return true;
}

/* Does a host name match a "resolve" pattern? */
static bool
host_matches(const char *pattern, const char *host)
{
	size_t hl = strlen(host), pl;

	if (strcmp(pattern, "*") == 0)
		return true;
	if (strncmp(pattern, "*.", 2) == 0) {
		pl = strlen(pattern + 1); /* ".example.org" */
		return hl > pl && strcasecmp(host + hl - pl, pattern + 1) == 0;
	}
	return strcasecmp(pattern, host) == 0;
}

/* Does rule r grant req? */
static bool
rule_grants(const struct rule *r, const struct policy_req *req)
{
	const struct netpat *pats;
	size_t n;

	switch (req->op) {
	case POLICY_SOCKET:
		return req->family >= 0 && req->family < 64 && req->type >= 0 &&
		       req->type < 64 &&
		       (r->families & (1ULL << req->family)) &&
		       (r->types & (1ULL << req->type));
	case POLICY_BIND:
	case POLICY_CONNECT:
		pats = req->op == POLICY_BIND ? r->bind : r->connect;
		n = req->op == POLICY_BIND ? r->nbind : r->nconnect;
		for (size_t i = 0; i < n; i++)
			if (netpat_matches(&pats[i], req->sa, req->salen,
					   req->any_port))
				return true;
		return false;
	case POLICY_RESOLVE:
		for (size_t i = 0; i < r->nresolve; i++)
			if (host_matches(r->resolve[i], req->host))
				return true;
		return false;
	case POLICY_FILENO:
		return r->fileno & (req->detach ? FILENO_DETACH : FILENO_SHARE);
	case POLICY_SOCKOPT:
		for (size_t i = 0; i < r->noptions; i++)
			if (r->options[i].level == req->level &&
			    r->options[i].option == req->option)
				return true;
		return false;
	}
	return false;
}

/* The request in words, for messages: "bind 0.0.0.0:80". */
static void
policy_request_text(const struct policy_req *req, char *buf, size_t size)
{
	char addr[160];

	switch (req->op) {
	case POLICY_SOCKET: {
		const char *f = names_name(names_family, req->family);
		const char *t = names_name(names_socktype, req->type);

		snprintf(buf, size, "socket %s %s proto %d", f ? f : "?",
			 t ? t : "?", req->proto);
		break;
	}
	case POLICY_BIND:
	case POLICY_CONNECT:
		addr_format(req->sa, req->salen, addr, sizeof addr);
		snprintf(buf, size, "%s %s", req->what, addr);
		break;
	case POLICY_RESOLVE:
		snprintf(buf, size, "resolve %s", req->host);
		break;
	case POLICY_FILENO:
		snprintf(buf, size, "fileno%s", req->detach ? " detach" : "");
		break;
	case POLICY_SOCKOPT: {
		const struct name *opts = names_options(req->level);
		const char *o = opts ? names_name(opts, req->option) : NULL;

		snprintf(buf, size, "setsockopt %s", o ? o : "?");
		break;
	}
	}
}

/* Is a socket option in the safe set? */
static bool
policy_safe_option(int level, int option)
{
	for (size_t i = 0; i < sizeof safe_options / sizeof safe_options[0];
	     i++)
		if (safe_options[i].level == level &&
		    safe_options[i].option == option)
			return true;
	return false;
}

/* Log a refusal, as often as the uid's share allows. */
void
policy_log_refusal(const struct conn *conn, const char *fmt, ...)
{
	unsigned dropped;
	char why[768];
	va_list ap;

	if (!uidstat_may_log(conn->uid, &dropped))
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (dropped > 0)
		log_notice("uid %u: %u refusals were not logged (more than "
			   "%d a second)",
			   (unsigned)conn->uid, dropped, SOCKD_LOG_PER_UID);
	log_notice("uid %u pid %d: %s", (unsigned)conn->uid, (int)conn->pid,
		   why);
}

/* Decide req for conn. */
int
policy_check(const struct conn *conn, const struct policy_req *req, char *why,
	     size_t size)
{
	char text[256], tried[256] = "";
	size_t matched = 0;

	if (policy_trusted(conn))
		return 0;
	if (req->op == POLICY_SOCKOPT &&
	    policy_safe_option(req->level, req->option))
		return 0;
	policy_request_text(req, text, sizeof text);
	for (size_t i = 0; policy != NULL && i < policy->nrules; i++) {
		const struct rule *r = &policy->rules[i];

		if (!rule_matches(r, conn))
			continue;
		if (rule_grants(r, req)) {
			log_info("granted %s for uid %u pid %d by rule \"%s\"",
				 text, (unsigned)conn->uid, (int)conn->pid,
				 r->name);
			return 0;
		}
		if (matched++ < 3)
			snprintf(tried + strlen(tried),
				 sizeof tried - strlen(tried), "%s\"%s\"",
				 matched > 1 ? ", " : "", r->name);
	}
	if (matched == 0)
		snprintf(why, size,
			 "%s: refused by the default policy (no "
			 "rule applies to uid %u)",
			 text, (unsigned)conn->uid);
	else
		snprintf(why, size,
			 "%s: refused by policy: not granted by "
			 "rule %s%s",
			 text, tried, matched > 3 ? ", ..." : "");
	policy_log_refusal(conn, "%s", why);
	return -EACCES;
}

/* Any io.sockd call needs at least one rule for the caller. */
int
policy_check_call(const struct conn *conn, const struct method *m, char *why,
		  size_t size)
{
	if (policy_trusted(conn))
		return 0;
	for (size_t i = 0; policy != NULL && i < policy->nrules; i++)
		if (rule_matches(&policy->rules[i], conn))
			return 0;
	snprintf(why, size,
		 "%s: refused by the default policy: no rule applies to "
		 "uid %u (only root and uid %u may use sockd unless a "
		 "policy rule says so)",
		 m->name, (unsigned)conn->uid, (unsigned)sockd_uid);
	return -EACCES;
}

/* The quota for conn: the largest that a matching rule sets (it may be
 * above or below the global limit: the rule overrides it), or the global
 * limit when no matching rule sets one. Root and the daemon's uid always
 * have the global limits. */
static unsigned
policy_quota(const struct conn *conn, bool handles, unsigned global)
{
	long best = -1;

	if (policy_trusted(conn))
		return global;

	for (size_t i = 0; policy != NULL && i < policy->nrules; i++) {
		const struct rule *r = &policy->rules[i];
		long q = handles ? r->max_handles : r->max_connections;

		if (q > best && rule_matches(r, conn))
			best = q;
	}
	return best > 0 ? (unsigned)best : global;
}

unsigned
policy_max_handles(const struct conn *conn)
{
	return policy_quota(conn, true, cfg.max_handles_per_uid);
}

unsigned
policy_max_connections(const struct conn *conn)
{
	return policy_quota(conn, false, cfg.max_connections_per_uid);
}

/* Put p in force. */
void
policy_set(struct policy *p)
{
	policy_free(policy);
	policy = p;
}

/* What is in force, in a few words. */
const char *
policy_describe(void)
{
	static char text[300];

	if (policy == NULL)
		return "default policy";
	snprintf(text, sizeof text, "policy %s (%zu rules)", policy->path,
		 policy->nrules);
	return text;
}

static bool reload_failed; /* the last reload kept the old policy */

/* Did the last reload fail? */
bool
policy_reload_failed(void)
{
	return reload_failed;
}

/* Load the configured policy file and put it in force. */
int
policy_reload(void)
{
	const char *path = cfg.policy_path;
	struct policy *p;
	char err[512];
	int r;

	if (path == NULL) {
		if (access(POLICY_DEFAULT_PATH, F_OK) < 0) {
			policy_set(NULL);
			reload_failed = false;
			log_info("no %s: using the default policy",
				 POLICY_DEFAULT_PATH);
			return 0;
		}
		path = POLICY_DEFAULT_PATH;
	}
	r = policy_load(path, &p, err, sizeof err);
	if (r < 0) {
		log_err("policy %s: %s; keeping %s", path, err,
			policy_describe());
		reload_failed = true;
		return r;
	}
	policy_set(p);
	reload_failed = false;
	log_notice("loaded %s", policy_describe());
	return 0;
}
