/*
 * Fuzz target: the policy parser (daemon/policy-parse.c) and the checks
 * made against what it parsed (daemon/policy.c).
 *
 * The input is a policy file, optionally followed by a NUL and request
 * bytes. The file must be refused with a message, or parsed into rules
 * that each match somebody and hold only well-formed patterns. Then the
 * requests are asked of it for a caller the bytes choose: root is always
 * granted, a caller no rule matches is always refused, and every refusal
 * says why.
 *
 * Input: policy text [ '\0' uid-1 (2 bytes) gid-1 (2 bytes) requests ]
 * where each request is an op byte and its arguments (see fuzz_requests).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "conn.h"
#include "fuzz.h"
#include "method.h"
#include "names.h"
#include "policy-rules.h"
#include "policy.h"

FUZZ_TARGET("policy");

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet(); /* refusals are logged */
	return 0;
}

/* Does rule r name conn's uid or one of its groups? */
static bool
fuzz_rule_matches(const struct rule *r, const struct conn *c)
{
	if (r->everyone)
		return true;
	for (size_t i = 0; i < r->nuids; i++)
		if (r->uids[i] == c->uid)
			return true;
	for (size_t i = 0; i < r->ngids; i++)
		if (r->gids[i] == c->gid)
			return true;
	return false;
}

/* A parsed address pattern is well-formed. */
static void
fuzz_netpat(const struct netpat *np)
{
	FUZZ_CHECK(np->text != NULL);
	FUZZ_CHECK(np->port_lo >= 0 && np->port_lo <= np->port_hi &&
		   np->port_hi <= 65535);
	switch (np->family) {
	case AF_UNIX:
		FUZZ_CHECK(np->path != NULL &&
			   (np->path[0] == '/' || np->path[0] == '@'));
		break;
	case AF_INET:
		FUZZ_CHECK(np->prefix >= 0 && np->prefix <= 32);
		break;
	case AF_INET6:
		FUZZ_CHECK(np->prefix >= 0 && np->prefix <= 128);
		break;
	default:
		FUZZ_CHECK(np->family == AF_UNSPEC);
	}
}

/* Every parsed rule is one a reader of the file would expect. */
static void
fuzz_rules(const struct policy *p)
{
	FILE *devnull = fopen("/dev/null", "w");

	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		FUZZ_CHECK(r->name != NULL && r->name[0] != '\0');
		FUZZ_CHECK(r->everyone || r->nuids > 0 || r->ngids > 0);
		for (size_t k = 0; k < r->nbind; k++)
			fuzz_netpat(&r->bind[k]);
		for (size_t k = 0; k < r->nconnect; k++)
			fuzz_netpat(&r->connect[k]);
		for (size_t k = 0; k < r->nresolve; k++)
			FUZZ_CHECK(r->resolve[k][0] != '\0');
		for (size_t k = 0; k < r->noptions; k++)
			FUZZ_CHECK(names_options(r->options[k].level) != NULL);
		FUZZ_CHECK(r->max_handles == -1 || r->max_handles >= 1);
		FUZZ_CHECK(r->max_connections == -1 || r->max_connections >= 1);
	}
	if (devnull != NULL) {
		policy_print(p, devnull);
		(void)fclose(devnull); /* /dev/null */
	}
}

/* Bytes of the request, read in order; zeros once they run out. */
struct fuzz_bytes {
	const uint8_t *p;
	size_t n;
};

static uint8_t
fuzz_byte(struct fuzz_bytes *b)
{
	if (b->n == 0)
		return 0;
	b->n--;
	return *b->p++;
}

/* An address for a bind/connect request, made the way the daemon makes
 * one: through the codec. false when the codec refuses it. */
static bool
fuzz_address(struct fuzz_bytes *b, struct addr *a)
{
	json_object *o = json_object_new_object();
	const char *field;
	uint8_t kind = fuzz_byte(b);
	char host[INET6_ADDRSTRLEN];
	unsigned char raw[16];
	int port, r;

	FUZZ_CHECK(o != NULL);
	if (kind % 3 == 2) {
		/* A Unix path: the rest of the bytes, NULs and all. */
		json_object_object_add(o, "family",
				       json_object_new_string("AF_UNIX"));
		json_object_object_add(
		    o, "path",
		    json_object_new_string_len((const char *)b->p, (int)b->n));
		b->n = 0;
	} else {
		int family = kind % 3 ? AF_INET6 : AF_INET;
		size_t n = family == AF_INET ? 4 : 16;

		for (size_t i = 0; i < n; i++)
			raw[i] = fuzz_byte(b);
		inet_ntop(family, raw, host, sizeof host);
		json_object_object_add(
		    o, "family",
		    json_object_new_string(family == AF_INET ? "AF_INET"
							     : "AF_INET6"));
		json_object_object_add(o, "host", json_object_new_string(host));
		port = fuzz_byte(b) << 8;
		port |= fuzz_byte(b);
		json_object_object_add(o, "port", json_object_new_int(port));
	}
	r = addr_from_json(o, AF_UNSPEC, a, &field);
	json_object_put(o);
	return r == 0 && a->host_name == NULL;
}

/* Ask one request of the policy in force, for conn and for root. */
static void
fuzz_ask(const struct policy *p, struct conn *conn, struct policy_req *req)
{
	struct conn root = {.uid = 0, .gid = 0};
	bool matched = false;
	char why[512];
	int r;

	for (size_t i = 0; i < p->nrules; i++)
		matched = matched || fuzz_rule_matches(&p->rules[i], conn);
	memset(why, 'x', sizeof why);
	why[0] = '\0';
	r = policy_check(conn, req, why, sizeof why);
	FUZZ_CHECK(r == 0 || r == -EACCES);
	FUZZ_CHECK(memchr(why, '\0', sizeof why) != NULL);
	if (r < 0)
		FUZZ_CHECK(why[0] != '\0');
	/* Nobody's rule grants nothing, beyond the safe options. */
	if (!matched && req->op != POLICY_SOCKOPT)
		FUZZ_CHECK(r == -EACCES && strstr(why, "default policy"));
	FUZZ_CHECK(policy_check(&root, req, why, sizeof why) == 0);
}

/* Requests from the bytes after the policy text. */
static void
fuzz_requests(const struct policy *p, struct fuzz_bytes *b)
{
	struct conn conn = {0};
	struct addr a;
	char host[64];
	size_t n;
	int r;

	/* Never root or the daemon's uid (0): they are always granted. */
	conn.uid = fuzz_byte(b) << 8;
	conn.uid = 1 + (conn.uid | fuzz_byte(b));
	conn.gid = fuzz_byte(b) << 8;
	conn.gid = 1 + (conn.gid | fuzz_byte(b));
	{
		bool matched = false;
		char why[512];

		for (size_t i = 0; i < p->nrules; i++)
			matched =
			    matched || fuzz_rule_matches(&p->rules[i], &conn);
		r = policy_check_call(&conn, &op_sock_methods[0], why,
				      sizeof why);
		FUZZ_CHECK((r == 0) == matched);
	}
	while (b->n > 0) {
		struct policy_req req = {.what = "Fuzz"};
		uint8_t op = fuzz_byte(b);

		switch (op % 6) {
		case 0:
			req.op = POLICY_SOCKET;
			req.family = fuzz_byte(b) % 70 - 2;
			req.type = fuzz_byte(b) % 70 - 2;
			req.proto = fuzz_byte(b);
			break;
		case 1:
		case 2:
			req.op = op % 6 == 1 ? POLICY_BIND : POLICY_CONNECT;
			if (!fuzz_address(b, &a))
				continue;
			req.sa = (struct sockaddr *)&a.ss;
			req.salen = a.len;
			break;
		case 3:
			req.op = POLICY_RESOLVE;
			n = fuzz_byte(b) % sizeof host;
			for (size_t i = 0; i < n; i++)
				host[i] = (char)fuzz_byte(b);
			host[n] = '\0';
			req.host = host;
			break;
		case 4:
			req.op = POLICY_FILENO;
			req.detach = fuzz_byte(b) & 1;
			break;
		default: {
			size_t nlevels = 0, nopts = 0;
			const struct name *lv, *opts;

			while (names_level[nlevels].name != NULL)
				nlevels++;
			FUZZ_CHECK(nlevels > 0);
			lv = &names_level[fuzz_byte(b) % nlevels];
			opts = names_options(lv->value);

			req.op = POLICY_SOCKOPT;
			req.level = lv->value;
			for (; opts != NULL && opts[nopts].name; nopts++)
				;
			req.option = nopts ? opts[fuzz_byte(b) % nopts].value
					   : fuzz_byte(b);
			break;
		}
		}
		fuzz_ask(p, &conn, &req);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul != NULL ? (size_t)(nul - data) : size;
	struct fuzz_bytes b = {nul ? nul + 1 : data + size,
			       nul ? size - tlen - 1 : 0};
	struct policy *p = NULL;
	char err[256];
	int r;

	/* A NUL inside the file is refused, not read past. */
	if (nul != NULL) {
		r = policy_parse((const char *)data, size, "fuzz", &p, err,
				 sizeof err);
		FUZZ_CHECK(r == -EINVAL && p == NULL);
	}
	memset(err, 'x', sizeof err);
	err[0] = '\0';
	r = policy_parse((const char *)data, tlen, "fuzz", &p, err, sizeof err);
	FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM || r == -EFBIG);
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(r == 0 && p != NULL);
	fuzz_rules(p);
	policy_set(p);
	fuzz_requests(p, &b);
	policy_set(NULL);
	return 0;
}
