/*
 * Reading a policy file: JSON with comments, one object with "rules", each
 * rule checked field by field. An error names the line it is on (for
 * JSON syntax, where the parser stopped; for a bad value, where its key
 * is written) and says what is wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "names.h"
#include "policy.h"
#include "policy-rules.h"

#define POLICY_MAX_SIZE (4 * 1024 * 1024)

/* Parsing state: the text (for line numbers) and the first error. */
struct parse {
	const char *text;
	char *err;
	size_t size;
	const char *rule;  /* the rule being read, for messages */
	size_t rule_start; /* where that rule's text is: [start, end) */
	size_t rule_end;
};

/* Skip white space and comments from i; the offset of what follows. */
static size_t
skip_blank(const char *t, size_t i)
{
	for (;;) {
		while (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' ||
		       t[i] == '\r')
			i++;
		if (t[i] == '/' && t[i + 1] == '/') {
			while (t[i] != '\0' && t[i] != '\n')
				i++;
		} else if (t[i] == '/' && t[i + 1] == '*') {
			const char *end = strstr(t + i + 2, "*/");

			i = end ? (size_t)(end - t) + 2 : strlen(t);
		} else {
			return i;
		}
	}
}

/* The end of the JSON value starting at i (strings, comments and
 * nesting understood); the text is known to parse. */
static size_t
skip_value(const char *t, size_t i)
{
	int depth = 0;

	i = skip_blank(t, i);
	for (;;) {
		char ch = t[i];

		if (ch == '\0')
			return i;
		if (ch == '"') {
			for (i++; t[i] != '\0' && t[i] != '"'; i++)
				if (t[i] == '\\' && t[i + 1] != '\0')
					i++;
			if (t[i] == '"')
				i++;
			continue;
		}
		if (ch == '/' && (t[i + 1] == '/' || t[i + 1] == '*')) {
			i = skip_blank(t, i);
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && ch == ',') {
			return i;
		}
		i++;
	}
}

/* Find where rule number index is written inside the "rules" list. */
static void
parse_rule_span(struct parse *ps, size_t index)
{
	const char *t = ps->text, *key = strstr(t, "\"rules\"");
	size_t i;

	ps->rule_start = 0;
	ps->rule_end = strlen(t);
	if (key == NULL)
		return;
	i = skip_blank(t, (size_t)(key - t) + 7);
	if (t[i] != ':')
		return;
	i = skip_blank(t, i + 1);
	if (t[i] != '[')
		return;
	i++;
	for (size_t n = 0;; n++) {
		size_t start = skip_blank(t, i), end = skip_value(t, start);

		if (n == index) {
			ps->rule_start = start;
			ps->rule_end = end;
			return;
		}
		i = skip_blank(t, end);
		if (t[i] != ',')
			return;
		i++;
	}
}

/* Line number of "key" (quoted) inside the current rule (or anywhere,
 * outside a rule), or of the rule itself; 0 when not found. */
static int
parse_line_of(const struct parse *ps, const char *key)
{
	size_t from = ps->rule ? ps->rule_start : 0;
	size_t to = ps->rule ? ps->rule_end : strlen(ps->text);
	char needle[128];
	const char *at = NULL;
	int line = 1;

	snprintf(needle, sizeof needle, "\"%s\"", key);
	for (const char *p = ps->text + from;
	     (p = strstr(p, needle)) != NULL && (size_t)(p - ps->text) < to;
	     p++) {
		at = p;
		break;
	}
	if (at == NULL)
		at = ps->text + from;
	for (const char *p = ps->text; p < at; p++)
		line += *p == '\n';
	return line;
}

static int parse_fail(struct parse *ps, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record an error about key (the first one wins); returns -EINVAL. */
static int
parse_fail(struct parse *ps, const char *key, const char *fmt, ...)
{
	char msg[256];
	int line = key != NULL ? parse_line_of(ps, key) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(ps->err, ps->size, "line %d: %s%s%s", line,
			 ps->rule ? ps->rule : "", ps->rule ? ": " : "", msg);
	else
		snprintf(ps->err, ps->size, "%s%s%s", ps->rule ? ps->rule : "",
			 ps->rule ? ": " : "", msg);
	return -EINVAL;
}

/* A "a-b", "a" or "*" port range. */
static int
parse_ports(const char *text, int *lo, int *hi)
{
	char *end;
	long a, b;

	if (strcmp(text, "*") == 0) {
		*lo = 0;
		*hi = 65535;
		return 0;
	}
	if (strspn(text, "0123456789-") != strlen(text) || text[0] == '-')
		return -EINVAL;
	a = strtol(text, &end, 10);
	if (end == text)
		return -EINVAL;
	b = a;
	if (*end == '-') {
		const char *s = end + 1;

		b = strtol(s, &end, 10);
		if (end == s)
			return -EINVAL;
	}
	if (*end != '\0' || a < 0 || b > 65535 || a > b)
		return -EINVAL;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

/* One address pattern: "CIDR[:PORTS]", "[CIDR6][:PORTS]", "*[:PORTS]",
 * "unix:/path/prefix", "unix:@abstract-prefix". */
static int
parse_netpat(const char *text, struct netpat *np)
{
	char buf[128], *ports = NULL, *slash;
	int maxprefix;

	memset(np, 0, sizeof *np);
	np->port_lo = 0;
	np->port_hi = 65535;
	if (strncmp(text, "unix:", 5) == 0) {
		const char *p = text + 5;

		if (p[0] != '/' && p[0] != '@')
			return -EINVAL;
		np->family = AF_UNIX;
		np->path = strdup(p);
		np->text = strdup(text);
		return np->path && np->text ? 0 : -ENOMEM;
	}
	if (strlen(text) >= sizeof buf)
		return -EINVAL;
	strcpy(buf, text);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (close == NULL)
			return -EINVAL;
		*close = '\0';
		if (close[1] == ':')
			ports = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
		memmove(buf, buf + 1, strlen(buf + 1) + 1);
		np->family = AF_INET6;
	} else {
		ports = strchr(buf, ':');
		if (ports != NULL)
			*ports++ = '\0';
		np->family = strcmp(buf, "*") == 0 ? AF_UNSPEC : AF_INET;
	}
	if (ports != NULL && parse_ports(ports, &np->port_lo, &np->port_hi) < 0)
		return -EINVAL;
	if (np->family != AF_UNSPEC) {
		maxprefix = np->family == AF_INET ? 32 : 128;
		np->prefix = maxprefix;
		slash = strchr(buf, '/');
		if (slash != NULL) {
			char *end;
			long pl = strtol(slash + 1, &end, 10);

			if (end == slash + 1 || *end != '\0' || pl < 0 ||
			    pl > maxprefix)
				return -EINVAL;
			np->prefix = (int)pl;
			*slash = '\0';
		}
		if (inet_pton(np->family, buf, np->addr) != 1)
			return -EINVAL;
	}
	np->text = strdup(text);
	return np->text ? 0 : -ENOMEM;
}

/* An array of strings under key, handed to each() one by one. */
static int
parse_strings(struct parse *ps, json_object *v, const char *key,
	      int (*each)(struct parse *, const char *, const char *, void *),
	      void *arg)
{
	if (!json_object_is_type(v, json_type_array))
		return parse_fail(ps, key, "\"%s\" must be a list", key);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		int r;

		if (!json_object_is_type(e, json_type_string))
			return parse_fail(ps, key, "\"%s\" lists only strings",
					  key);
		r = each(ps, key, json_object_get_string(e), arg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "families" and "types": names into a bit set; "*" is every name but
 * the raw ones, which must be named. */
static int
parse_bits_each(struct parse *ps, const char *key, const char *text, void *arg)
{
	const struct name *table =
	    strcmp(key, "families") == 0 ? names_family : names_socktype;
	uint64_t *bits = arg;
	int v;

	/* "*" leaves out what reaches beyond one socket: raw sockets,
	 * packet sockets, and netlink (which would lend the daemon's
	 * privileges to configure the network). Those must be named. */
	if (strcmp(text, "*") == 0) {
		for (const struct name *n = table; n->name; n++) {
			if (table == names_family &&
			    (n->value == AF_PACKET || n->value == AF_NETLINK))
				continue;
			if (table == names_socktype && n->value == SOCK_RAW)
				continue;
			*bits |= 1ULL << (n->value & 63);
		}
		return 0;
	}
	if (names_value(table, text, &v) < 0 || v < 0 || v > 63)
		return parse_fail(ps, key, "unknown name \"%s\" in \"%s\"",
				  text, key);
	*bits |= 1ULL << v;
	return 0;
}

/* "users" and "groups": names or numbers, or "*" for everyone. */
static int
parse_ids(struct parse *ps, json_object *v, const char *key, struct rule *r)
{
	bool users = strcmp(key, "users") == 0;

	if (!json_object_is_type(v, json_type_array))
		return parse_fail(ps, key, "\"%s\" must be a list", key);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		long id;

		if (json_object_is_type(e, json_type_int)) {
			id = (long)json_object_get_int64(e);
			if (id < 0 || id > 0x7fffffffL)
				return parse_fail(ps, key, "bad id %ld", id);
		} else if (json_object_is_type(e, json_type_string)) {
			const char *name = json_object_get_string(e);

			if (strcmp(name, "*") == 0 && users) {
				r->everyone = true;
				continue;
			}
			if (users) {
				/* Policies load on the main thread alone. */
				/* cppcheck-suppress getpwnamCalled */
				struct passwd *pw = getpwnam(name);

				if (pw == NULL)
					return parse_fail(
					    ps, key, "no user \"%s\"", name);
				id = (long)pw->pw_uid;
			} else {
				/* cppcheck-suppress getgrnamCalled */
				struct group *gr = getgrnam(name);

				if (gr == NULL)
					return parse_fail(
					    ps, key, "no group \"%s\"", name);
				id = (long)gr->gr_gid;
			}
		} else {
			return parse_fail(ps, key,
					  "\"%s\" lists names or numbers", key);
		}
		if (users) {
			uid_t *n = realloc(r->uids, (r->nuids + 1) * sizeof *n);

			if (n == NULL)
				return -ENOMEM;
			r->uids = n;
			r->uids[r->nuids++] = (uid_t)id;
		} else {
			gid_t *n = realloc(r->gids, (r->ngids + 1) * sizeof *n);

			if (n == NULL)
				return -ENOMEM;
			r->gids = n;
			r->gids[r->ngids++] = (gid_t)id;
		}
	}
	return 0;
}

/* "bind" and "connect" patterns. */
static int
parse_netpat_each(struct parse *ps, const char *key, const char *text,
		  void *arg)
{
	struct rule *r = arg;
	bool bind = strcmp(key, "bind") == 0;
	struct netpat **list = bind ? &r->bind : &r->connect;
	size_t *n = bind ? &r->nbind : &r->nconnect;
	struct netpat *grown = realloc(*list, (*n + 1) * sizeof **list);

	if (grown == NULL)
		return -ENOMEM;
	*list = grown;
	if (parse_netpat(text, &grown[*n]) < 0)
		return parse_fail(ps, key,
				  "bad address pattern \"%s\" (CIDR[:PORTS], "
				  "[CIDR6][:PORTS], *[:PORTS], unix:/path or "
				  "unix:@name)",
				  text);
	(*n)++;
	return 0;
}

/* "resolve" host patterns. */
static int
parse_resolve_each(struct parse *ps, const char *key, const char *text,
		   void *arg)
{
	struct rule *r = arg;
	char **grown = realloc(r->resolve, (r->nresolve + 1) * sizeof *grown);

	if (grown == NULL)
		return -ENOMEM;
	r->resolve = grown;
	if (text[0] == '\0' ||
	    (strchr(text, '*') != NULL && strcmp(text, "*") != 0 &&
	     (strncmp(text, "*.", 2) != 0 || strchr(text + 1, '*') != NULL)))
		return parse_fail(ps, key,
				  "bad host pattern \"%s\" (\"*\", "
				  "\"*.domain\" or a name)",
				  text);
	grown[r->nresolve] = strdup(text);
	if (grown[r->nresolve] == NULL)
		return -ENOMEM;
	r->nresolve++;
	return 0;
}

/* "options": names of socket options granted beyond the safe set. */
static int
parse_option_each(struct parse *ps, const char *key, const char *text,
		  void *arg)
{
	struct rule *r = arg;
	struct optgrant *grown;

	for (const struct name *lv = names_level; lv->name; lv++) {
		const struct name *opts = names_options(lv->value);
		int v;

		if (opts == NULL || names_value(opts, text, &v) < 0)
			continue;
		grown = realloc(r->options, (r->noptions + 1) * sizeof *grown);
		if (grown == NULL)
			return -ENOMEM;
		r->options = grown;
		r->options[r->noptions].level = lv->value;
		r->options[r->noptions++].option = v;
		return 0;
	}
	return parse_fail(ps, key, "unknown socket option \"%s\"", text);
}

/* A quota: a positive number. */
static int
parse_quota(struct parse *ps, json_object *v, const char *key, long *ret)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return parse_fail(ps, key, "\"%s\" must be a number", key);
	n = json_object_get_int64(v);
	if (n < 1 || n > 100000000)
		return parse_fail(ps, key, "\"%s\" must be 1 to 100000000",
				  key);
	*ret = (long)n;
	return 0;
}

/* "fileno": true (with or without detach), false, "share", "detach". */
static int
parse_fileno(struct parse *ps, json_object *v, struct rule *r)
{
	if (json_object_is_type(v, json_type_boolean)) {
		r->fileno = json_object_get_boolean(v)
				? FILENO_SHARE | FILENO_DETACH
				: FILENO_NONE;
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (strcmp(s, "share") == 0) {
			r->fileno = FILENO_SHARE;
			return 0;
		}
		if (strcmp(s, "detach") == 0) {
			r->fileno = FILENO_DETACH;
			return 0;
		}
	}
	return parse_fail(ps, "fileno",
			  "\"fileno\" is true, false, \"share\" or \"detach\"");
}

/* One rule object. */
static int
parse_rule(struct parse *ps, json_object *o, size_t index, struct rule *r)
{
	json_object *v;
	char name[32];
	int e = 0;

	r->max_handles = r->max_connections = -1;
	if (json_object_object_get_ex(o, "name", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0 ||
		    json_object_get_string_len(v) > 64)
			return parse_fail(ps, "name",
					  "rule %zu: \"name\" must be a "
					  "string of 1 to 64 characters",
					  index + 1);
		r->name = strdup(json_object_get_string(v));
	} else {
		snprintf(name, sizeof name, "rule %zu", index + 1);
		r->name = strdup(name);
	}
	if (r->name == NULL)
		return -ENOMEM;
	ps->rule = r->name;
	json_object_object_foreach(o, key, val)
	{
		if (e < 0)
			break;
		if (strcmp(key, "name") == 0)
			continue;
		if (strcmp(key, "users") == 0 || strcmp(key, "groups") == 0)
			e = parse_ids(ps, val, key, r);
		else if (strcmp(key, "families") == 0)
			e = parse_strings(ps, val, key, parse_bits_each,
					  &r->families);
		else if (strcmp(key, "types") == 0)
			e = parse_strings(ps, val, key, parse_bits_each,
					  &r->types);
		else if (strcmp(key, "bind") == 0 ||
			 strcmp(key, "connect") == 0)
			e = parse_strings(ps, val, key, parse_netpat_each, r);
		else if (strcmp(key, "resolve") == 0)
			e = parse_strings(ps, val, key, parse_resolve_each, r);
		else if (strcmp(key, "options") == 0)
			e = parse_strings(ps, val, key, parse_option_each, r);
		else if (strcmp(key, "fileno") == 0)
			e = parse_fileno(ps, val, r);
		else if (strcmp(key, "max_handles") == 0)
			e = parse_quota(ps, val, key, &r->max_handles);
		else if (strcmp(key, "max_connections") == 0)
			e = parse_quota(ps, val, key, &r->max_connections);
		else
			e = parse_fail(ps, key, "unknown key \"%s\"", key);
	}
	if (e < 0)
		return e;
	if (!r->everyone && r->nuids == 0 && r->ngids == 0)
		return parse_fail(ps, "name",
				  "matches nobody: give \"users\" or "
				  "\"groups\" (\"users\": [\"*\"] for "
				  "everyone)");
	return 0;
}

/* Free one rule's contents. */
static void
rule_free(struct rule *r)
{
	free(r->name);
	free(r->uids);
	free(r->gids);
	for (size_t i = 0; i < r->nbind; i++) {
		free(r->bind[i].path);
		free(r->bind[i].text);
	}
	free(r->bind);
	for (size_t i = 0; i < r->nconnect; i++) {
		free(r->connect[i].path);
		free(r->connect[i].text);
	}
	free(r->connect);
	for (size_t i = 0; i < r->nresolve; i++)
		free(r->resolve[i]);
	free(r->resolve);
	free(r->options);
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	free(p->path);
	free(p);
}

/* Read the whole file, NUL-terminated; its length in *ret_len. */
static char *
policy_read(const char *path, size_t *ret_len, int *ret_err)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *text;
	size_t n;

	if (f == NULL) {
		*ret_err = -errno;
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size > POLICY_MAX_SIZE) {
		(void)fclose(f); /* read only: nothing to lose */
		*ret_err = -EFBIG;
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		(void)fclose(f);
		*ret_err = -ENOMEM;
		return NULL;
	}
	n = fread(text, 1, (size_t)st.st_size, f);
	text[n] = '\0';
	(void)fclose(f);
	*ret_len = n;
	return text;
}

/* The line of offset at in text, counting from 1. */
static int
line_at(const char *text, size_t at)
{
	int line = 1;

	for (size_t i = 0; i < at && text[i] != '\0'; i++)
		line += text[i] == '\n';
	return line;
}

/* Parse the text of a policy, NUL-terminated: the scanners that find
 * line numbers rely on it. */
static int
policy_parse_text(const char *text, size_t len, const char *path,
		  struct policy **ret, char *err, size_t size)
{
	struct parse ps = {.text = text, .err = err, .size = size};
	struct json_tokener *tok;
	json_object *root = NULL, *rules;
	struct policy *p;
	int r = 0;

	tok = json_tokener_new_ex(16);
	if (tok != NULL)
		root = json_tokener_parse_ex(tok, text, (int)len);
	if (root == NULL) {
		size_t at = tok ? json_tokener_get_parse_end(tok) : 0;

		snprintf(
		    err, size, "line %d: not valid JSON (%s)",
		    line_at(text, at),
		    tok == NULL ? "out of memory"
		    : json_tokener_get_error(tok) == json_tokener_continue
			? "the file ends inside the object"
			: json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		return -EINVAL;
	}
	{
		size_t end = skip_blank(text, json_tokener_get_parse_end(tok));

		if (text[end] != '\0') {
			snprintf(err, size,
				 "line %d: text after the policy object",
				 line_at(text, end));
			json_tokener_free(tok);
			json_object_put(root);
			return -EINVAL;
		}
	}
	json_tokener_free(tok);
	p = calloc(1, sizeof *p);
	if (p == NULL || (p->path = strdup(path)) == NULL) {
		free(p);
		r = -ENOMEM;
		snprintf(err, size, "out of memory");
		goto out;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "rules", &rules) ||
	    !json_object_is_type(rules, json_type_array)) {
		r = parse_fail(&ps, "rules",
			       "the file must be an object with a \"rules\" "
			       "list");
		policy_free(p);
		goto out;
	}
	json_object_object_foreach(root, key, val)
	{
		(void)val;
		if (strcmp(key, "rules") != 0 && r == 0)
			r = parse_fail(&ps, key, "unknown key \"%s\"", key);
	}
	p->rules =
	    calloc(json_object_array_length(rules) + 1, sizeof *p->rules);
	if (p->rules == NULL && r == 0)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < json_object_array_length(rules); i++) {
		json_object *o = json_object_array_get_idx(rules, i);

		ps.rule = NULL;
		parse_rule_span(&ps, i);
		p->nrules++;
		if (!json_object_is_type(o, json_type_object)) {
			char name[32];

			snprintf(name, sizeof name, "rule %zu", i + 1);
			ps.rule = name;
			r = parse_fail(&ps, "", "not an object");
			ps.rule = NULL;
		} else
			r = parse_rule(&ps, o, i, &p->rules[i]);
		ps.rule = NULL;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, size, "out of memory");
		policy_free(p);
		goto out;
	}
	*ret = p;
out:
	json_object_put(root);
	return r;
}

/* Parse the len bytes of a policy at text. */
int
policy_parse(const char *text, size_t len, const char *path,
	     struct policy **ret, char *err, size_t size)
{
	const char *nul = memchr(text, '\0', len);
	char *copy;
	int r;

	/* A NUL would end the text early for the JSON parser and hide
	 * whatever follows it. */
	if (nul != NULL) {
		snprintf(err, size, "line %d: a NUL byte in the file",
			 line_at(text, (size_t)(nul - text)));
		return -EINVAL;
	}
	if (len > POLICY_MAX_SIZE) {
		snprintf(err, size, "%s: %s", path, strerror(EFBIG));
		return -EFBIG;
	}
	copy = malloc(len + 1);
	if (copy == NULL) {
		snprintf(err, size, "out of memory");
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	r = policy_parse_text(copy, len, path, ret, err, size);
	free(copy);
	return r;
}

/* Parse a policy file. */
int
policy_load(const char *path, struct policy **ret, char *err, size_t size)
{
	size_t len = 0;
	char *text;
	int r = 0;

	text = policy_read(path, &len, &r);
	if (text == NULL) {
		snprintf(err, size, "%s: %s", path, strerror(-r));
		return r;
	}
	r = policy_parse(text, len, path, ret, err, size);
	free(text);
	return r;
}

/* Print bits of a table as names. */
static void
print_bits(FILE *f, const char *key, const struct name *table, uint64_t bits)
{
	fprintf(f, "  %s:", key);
	if (bits == 0)
		fprintf(f, " (none)");
	for (int v = 0; v < 64; v++)
		if (bits & (1ULL << v)) {
			const char *n = names_name(table, v);

			if (n != NULL)
				fprintf(f, " %s", n);
		}
	fputc('\n', f);
}

/* The effective rules, as --check-policy shows them. */
void
policy_print(const struct policy *p, FILE *f)
{
	fprintf(f, "policy %s: %zu rule%s\n", p->path, p->nrules,
		p->nrules == 1 ? "" : "s");
	fprintf(f, "(root and the daemon's uid may do everything)\n");
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		fprintf(f, "rule \"%s\":\n  users:", r->name);
		if (r->everyone)
			fprintf(f, " *");
		for (size_t k = 0; k < r->nuids; k++)
			fprintf(f, " %u", (unsigned)r->uids[k]);
		fprintf(f, "\n  groups:");
		for (size_t k = 0; k < r->ngids; k++)
			fprintf(f, " %u", (unsigned)r->gids[k]);
		fputc('\n', f);
		print_bits(f, "families", names_family, r->families);
		print_bits(f, "types", names_socktype, r->types);
		fprintf(f, "  bind:");
		for (size_t k = 0; k < r->nbind; k++)
			fprintf(f, " %s", r->bind[k].text);
		fprintf(f, "\n  connect:");
		for (size_t k = 0; k < r->nconnect; k++)
			fprintf(f, " %s", r->connect[k].text);
		fprintf(f, "\n  resolve:");
		for (size_t k = 0; k < r->nresolve; k++)
			fprintf(f, " %s", r->resolve[k]);
		fprintf(f, "\n  fileno: %s\n",
			r->fileno == (FILENO_SHARE | FILENO_DETACH) ? "yes"
			: r->fileno == FILENO_SHARE		    ? "share"
			: r->fileno == FILENO_DETACH		    ? "detach"
								    : "no");
		fprintf(f, "  options:");
		for (size_t k = 0; k < r->noptions; k++) {
			const struct name *opts =
			    names_options(r->options[k].level);

			fprintf(f, " %s",
				names_name(opts, r->options[k].option));
		}
		fputc('\n', f);
		if (r->max_handles > 0)
			fprintf(f, "  max_handles: %ld\n", r->max_handles);
		if (r->max_connections > 0)
			fprintf(f, "  max_connections: %ld\n",
				r->max_connections);
	}
}
