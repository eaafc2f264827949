/*
 * sockc: what the user types (constant names, numbers, addresses, data,
 * handles) turned into what sockd takes, and sockd's answers turned back
 * into text. Names come from proto/names.c and addresses go through
 * proto/addr.c: nothing here spells a constant or a sockaddr twice.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "b64.h"
#include "cli.h"
#include "lib.h"
#include "utf8.h"

/* The part of a constant's name after its prefix: "INET" of "AF_INET"
 * (prefix NULL: everything after the first '_'), or NULL. */
static const char *
cli_strip(const char *name, const char *prefix)
{
	const char *rest;

	if (prefix != NULL) {
		size_t n = strlen(prefix);

		return strncmp(name, prefix, n) == 0 && name[n] ? name + n
								: NULL;
	}
	rest = strchr(name, '_');
	return rest != NULL && rest[1] ? rest + 1 : NULL;
}

/*
 * A constant of table by its name, case-insensitively, in full
 * ("AF_INET6", "so_reuseaddr") or without its prefix ("inet6",
 * "reuseaddr"). prefix is the prefix to drop ("POLL"), NULL for
 * everything up to the first '_'. Returns 0 and *ret_value, or -ENOENT.
 */
int
cli_lookup(const struct name *table, const char *prefix, const char *text,
	   int *ret_value)
{
	if (table == NULL || text == NULL || text[0] == '\0')
		return -ENOENT;
	for (const struct name *n = table; n->name; n++)
		if (strcasecmp(n->name, text) == 0) {
			*ret_value = n->value;
			return 0;
		}
	for (const struct name *n = table; n->name; n++) {
		const char *rest = cli_strip(n->name, prefix);

		if (rest != NULL && strcasecmp(rest, text) == 0) {
			*ret_value = n->value;
			return 0;
		}
	}
	return -ENOENT;
}

/* The short lower-case name of value in table ("inet6", "stream"), as
 * cli_lookup() takes it; its number when it has no name. */
const char *
cli_short_name(const struct name *table, const char *prefix, int value,
	       char *buf, size_t size)
{
	const char *name = names_name(table, value), *rest;
	size_t i;

	if (name == NULL) {
		snprintf(buf, size, "%d", value);
		return buf;
	}
	rest = cli_strip(name, prefix);
	if (rest == NULL)
		rest = name;
	for (i = 0; rest[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)rest[i]);
	buf[i] = '\0';
	return buf;
}

/* A whole decimal (or 0x hex) integer in [min, max]: 0, or -EINVAL. */
int
cli_parse_int(const char *text, long long min, long long max, long long *ret)
{
	const char *p = text;
	long long v;
	char *end;
	int base = 10;

	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16;
	if (!isxdigit((unsigned char)p[base == 16 ? 2 : 0]))
		return -EINVAL;
	errno = 0;
	v = strtoll(text, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Seconds, >= 0, or "none" (-1): 0, or -EINVAL. */
int
cli_parse_seconds(const char *text, double *ret)
{
	double v;
	char *end;

	if (strcasecmp(text, "none") == 0) {
		*ret = -1;
		return 0;
	}
	if (!isdigit((unsigned char)text[0]) && text[0] != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A port number or service name ("http", looked up for socktype, 0 for
 * TCP): 0, or -EINVAL. */
int
cli_parse_port(const char *text, int socktype, int *ret)
{
	struct addrinfo hints = {.ai_socktype = socktype};

	if (text[0] == '\0' || text[0] == '-' || text[0] == '+')
		return -EINVAL;
	return lib_port(text, &hints, ret) == 0 ? 0 : -EINVAL;
}

/* {"host": host, "port": port} for HOST:PORT and [V6]:PORT. */
static int
cli_parse_inet(const char *host, size_t hostlen, const char *port,
	       json_object **ret, const char **ret_why)
{
	json_object *a;
	int p;

	if (cli_parse_port(port, 0, &p) < 0) {
		*ret_why = "bad port";
		return -EINVAL;
	}
	if (hostlen == 1 && host[0] == '*')
		hostlen = 0;
	if (memchr(host, '\0', hostlen) != NULL) {
		*ret_why = "bad host";
		return -EINVAL;
	}
	a = cli_json(json_object_new_object());
	cli_add(a, "host", json_object_new_string_len(host, (int)hostlen));
	cli_add(a, "port", json_object_new_int(p));
	*ret = a;
	return 0;
}

/* BDADDR/CHANNEL: 1 with the address, 0 when text is not one. */
static int
cli_parse_bluetooth(const char *text, json_object **ret)
{
	struct sockd_bdaddr b;
	long long channel;
	char bdaddr[18];
	json_object *a;

	if (strlen(text) < 19 || text[17] != '/')
		return 0;
	memcpy(bdaddr, text, 17);
	bdaddr[17] = '\0';
	if (addr_parse_bdaddr(bdaddr, &b) < 0 ||
	    cli_parse_int(text + 18, 0, 255, &channel) < 0)
		return 0;
	a = cli_json(json_object_new_object());
	cli_add(a, "family", json_object_new_string("AF_BLUETOOTH"));
	cli_add(a, "bdaddr", json_object_new_string(bdaddr));
	cli_add(a, "channel", json_object_new_int((int)channel));
	*ret = a;
	return 1;
}

/*
 * An address as typed: HOST:PORT, [V6]:PORT, /path, @abstract or
 * BDADDR/CHANNEL, as the JSON Address sockd takes. Internet addresses
 * carry no family (sockd uses the socket's). Returns 0 and a new object,
 * or -EINVAL with a short reason in *ret_why.
 */
int
cli_parse_address(const char *text, json_object **ret, const char **ret_why)
{
	const char *colon;
	struct addr check;
	json_object *a;

	if (text[0] == '/' || text[0] == '@') {
		size_t len = strlen(text);

		a = cli_json(json_object_new_object());
		cli_add(a, "family", json_object_new_string("AF_UNIX"));
		if (utf8_valid(text, len)) {
			cli_add(a, "path", json_object_new_string(text));
		} else {
			/* Messages are UTF-8: other names go as base64. */
			char b64[B64_ENCODED_LEN(sizeof check.ss) + 1];

			if (len > sizeof check.ss) {
				json_object_put(a);
				*ret_why = "path too long";
				return -EINVAL;
			}
			cli_add(a, "path_base64",
				json_object_new_string_len(
				    b64, (int)b64_encode(text, len, b64)));
		}
		if (addr_from_json(a, AF_UNIX, &check, ret_why) < 0) {
			json_object_put(a);
			*ret_why = "path too long";
			return -EINVAL;
		}
		*ret = a;
		return 0;
	}
	if (cli_parse_bluetooth(text, ret))
		return 0;
	if (text[0] == '[') {
		const char *close = strstr(text, "]:");

		if (close == NULL) {
			*ret_why = "expected [V6]:PORT";
			return -EINVAL;
		}
		return cli_parse_inet(text + 1, (size_t)(close - text - 1),
				      close + 2, ret, ret_why);
	}
	colon = strrchr(text, ':');
	if (colon == NULL) {
		*ret_why = "expected HOST:PORT, [V6]:PORT, /path, @abstract "
			   "or BDADDR/CHANNEL";
		return -EINVAL;
	}
	if (memchr(text, ':', (size_t)(colon - text)) != NULL) {
		*ret_why = "an IPv6 address goes in brackets: [V6]:PORT";
		return -EINVAL;
	}
	return cli_parse_inet(text, (size_t)(colon - text), colon + 1, ret,
			      ret_why);
}

/* Poll events: "in,out", "POLLIN|POLLPRI". 0 and the bits, or -EINVAL. */
int
cli_parse_events(const char *text, int *ret_events)
{
	int events = 0;

	while (*text != '\0') {
		size_t n = strcspn(text, ",|");
		char word[32];
		int v;

		if (n == 0 || n >= sizeof word)
			return -EINVAL;
		memcpy(word, text, n);
		word[n] = '\0';
		if (cli_lookup(names_poll, "POLL", word, &v) < 0)
			return -EINVAL;
		events |= v;
		text += n;
		if (*text != '\0' && *++text == '\0')
			return -EINVAL;
	}
	if (events == 0)
		return -EINVAL;
	*ret_events = events;
	return 0;
}

/* Poll events as "in,out". */
void
cli_format_events(int events, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct name *n = names_poll; n->name; n++) {
		char word[32];

		if (!(events & n->value) ||
		    names_name(names_poll, n->value) != n->name)
			continue;
		cli_short_name(names_poll, "POLL", n->value, word, sizeof word);
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 used ? "," : "", word);
		if (used >= size)
			return;
	}
}

/* Flags such as "numerichost,NI_NAMEREQD" as a JSON array of their
 * canonical names: 0, or -EINVAL. */
int
cli_parse_flags(const char *text, const struct name *table, json_object **ret)
{
	json_object *a = cli_json(json_object_new_array());

	while (*text != '\0') {
		size_t n = strcspn(text, ",|");
		char word[32];
		int v;

		if (n == 0 || n >= sizeof word)
			goto bad;
		memcpy(word, text, n);
		word[n] = '\0';
		if (cli_lookup(table, NULL, word, &v) < 0)
			goto bad;
		if (json_object_array_add(a, cli_json(json_object_new_string(
						 names_name(table, v)))) < 0)
			cli_oom();
		text += n;
		if (*text != '\0')
			text++;
	}
	*ret = a;
	return 0;
bad:
	json_object_put(a);
	return -EINVAL;
}

/* An address from a reply as text, in the forms cli_parse_address()
 * reads; "-" when there is none. */
void
cli_format_address(json_object *addr, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	json_object *family;

	if (addr == NULL || json_object_get_type(addr) == json_type_null) {
		snprintf(buf, size, "-");
		return;
	}
	if (lib_addr_out(addr, (struct sockaddr *)&ss, &len) == 0 && len > 0) {
		addr_format((struct sockaddr *)&ss, len, buf, size);
		return;
	}
	/* A family the codec has no fields for (AF_PACKET): its name. */
	if (json_object_object_get_ex(addr, "family", &family))
		snprintf(buf, size, "%s", json_object_get_string(family));
	else
		snprintf(buf, size, "?");
}

/* All of fd until EOF, at most max bytes: 0 and a malloc'ed buffer
 * (NUL-terminated, the NUL not counted), -EFBIG, or -errno. */
int
cli_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = max + 2 < 65536 ? max + 2 : 65536;
	char *buf = malloc(cap);

	if (buf == NULL)
		cli_oom();
	for (;;) {
		ssize_t n;

		/* Room for one byte more than max, to see it is too much,
		 * and for the NUL. */
		if (len + 1 >= cap) {
			char *bigger;

			cap = cap * 2 > max + 2 ? max + 2 : cap * 2;
			bigger = realloc(buf, cap);
			if (bigger == NULL)
				cli_oom();
			buf = bigger;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* DATA as given, or standard input for "-": 0 and a malloc'ed buffer,
 * or -errno (-EFBIG above max bytes). */
int
cli_read_data(const char *text, size_t max, char **ret, size_t *ret_len)
{
	size_t len;

	if (strcmp(text, "-") == 0)
		return cli_read_all(STDIN_FILENO, max, ret, ret_len);
	len = strlen(text);
	if (len > max)
		return -EFBIG;
	*ret = malloc(len + 1);
	if (*ret == NULL)
		cli_oom();
	memcpy(*ret, text, len + 1);
	*ret_len = len;
	return 0;
}

/* Bytes as a base64 JSON string. */
json_object *
cli_data(const void *buf, size_t len)
{
	char *text = malloc(B64_ENCODED_LEN(len) + 1);
	json_object *s;

	if (text == NULL)
		cli_oom();
	s = json_object_new_string_len(text, (int)b64_encode(buf, len, text));
	free(text);
	return cli_json(s);
}

/* A reply's base64 "data" decoded: 0 and a malloc'ed buffer, or -EPROTO
 * when it is missing or not base64. */
int
cli_data_out(json_object *reply, unsigned char **ret, size_t *ret_len)
{
	json_object *v;
	unsigned char *buf;
	size_t len;

	if (!json_object_object_get_ex(reply, "data", &v) ||
	    !json_object_is_type(v, json_type_string))
		return -EPROTO;
	len = (size_t)json_object_get_string_len(v);
	buf = malloc(B64_DECODED_MAX(len) + 1);
	if (buf == NULL)
		cli_oom();
	if (b64_decode(json_object_get_string(v), len, buf, ret_len) < 0) {
		free(buf);
		return -EPROTO;
	}
	*ret = buf;
	return 0;
}

/* Is text a handle number rather than a name? */
static bool
cli_is_number(const char *text)
{
	if (*text == '\0')
		return false;
	for (; *text; text++)
		if (*text < '0' || *text > '9')
			return false;
	return true;
}

/*
 * The handle text names: its number, or the name of one of the caller's
 * handles (Find: root too names only its own). Returns 0 and *ret, or
 * the exit status after saying what is wrong.
 */
int
cli_handle(struct cli *cli, const char *text, sockc_handle_t *ret)
{
	struct sockc *c;
	sockc_handle_t h;
	long long num;

	if (cli_is_number(text)) {
		if (cli_parse_int(text, 1, INT64_MAX, &num) < 0)
			return cli_usage(cli, "bad handle '%s'", text);
		*ret = num;
		return CLI_OK;
	}
	if (text[0] == '\0')
		return cli_usage(cli, "empty handle");
	c = cli_connect(cli);
	if (c == NULL)
		return CLI_DAEMON;
	h = sockc_find(c, text);
	if (h < 0) {
		const char *error = sockc_error_name(c);

		if (errno != ENOENT || error == NULL ||
		    strcmp(error, "io.sockd.OSError") != 0)
			return cli_fail(cli, c, NULL);
		fprintf(stderr, "sockc: no handle named '%s'\n", text);
		return CLI_FAILED;
	}
	*ret = h;
	return CLI_OK;
}
