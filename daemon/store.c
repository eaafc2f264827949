/*
 * The fd store and its metadata files. A stored socket whose metadata is
 * missing, unreadable or does not match the socket is closed and dropped,
 * never guessed at.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <systemd/sd-daemon.h>

#include "guard.h"
#include "handle.h"
#include "log.h"
#include "names.h"
#include "store.h"
#include "varlink.h"

#define STORE_ID_BLOCK 4096 /* ids reserved on disk at a time */
#define STORE_META_MAX 4096 /* bytes in one metadata file */
#define STORE_NEXT_ID  "next-id"

static bool enabled;
static int dir_fd = -1; /* $RUNTIME_DIRECTORY/handles */

/* Write data to name in the store directory atomically: a temporary file
 * renamed over it. /run is tmpfs, so there is no fsync: a file that
 * survives a crash of sockd but not of the machine is all we need. */
static int
store_write(const char *name, const char *data, size_t len)
{
	char tmp[NAME_MAX + 1];
	int fd, r = 0;

	snprintf(tmp, sizeof tmp, ".tmp-%s", name);
	fd =
	    openat(dir_fd, tmp,
		   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir_fd, tmp, 0);
	return r;
}

/* Read a small file of the store directory into buf (NUL-terminated):
 * its length, or -errno (-EFBIG when it does not fit). */
static ssize_t
store_read(const char *name, char *buf, size_t size)
{
	size_t len = 0;
	int fd;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : 0;

			close(fd);
			if (r < 0)
				return r;
			break;
		}
		len += (size_t)n;
		if (len == size - 1) {
			close(fd);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* The metadata file of a handle id. */
static void
store_meta_name(uint64_t id, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 ".json", id);
}

/* A decimal id of 1 or more, the whole of text, no leading zeros. */
static int
store_parse_id(const char *text, uint64_t *ret)
{
	char *end;

	if (text[0] < '1' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	return 0;
}

/* Write next-id. */
static int
store_write_next_id(uint64_t id)
{
	char text[32];
	int len = snprintf(text, sizeof text, "%" PRIu64 "\n", id);

	return store_write(STORE_NEXT_ID, text, (size_t)len);
}

void
store_init(void)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");
	const char *max = getenv("FDSTORE");
	char path[PATH_MAX], text[32];
	uint64_t next;
	size_t rtlen;

	if (getenv("NOTIFY_SOCKET") == NULL) {
		log_debug("no service manager: persistent handles end with "
			  "sockd");
		return;
	}
	if (max != NULL && strcmp(max, "0") == 0) {
		log_notice("the service manager keeps no fds (FDSTORE=0): "
			   "persistent handles will not survive a restart");
		return;
	}
	if (rt == NULL || rt[0] != '/') {
		log_notice("RUNTIME_DIRECTORY is not set: persistent handles "
			   "will not survive a restart");
		return;
	}
	/* Several directories are separated by ':'; the first is ours. */
	rtlen = strcspn(rt, ":");
	if ((size_t)snprintf(path, sizeof path, "%.*s/handles", (int)rtlen,
			     rt) >= sizeof path) {
		log_err("RUNTIME_DIRECTORY is too long");
		return;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		log_err("cannot create %s: %s: persistent handles will not "
			"survive a restart",
			path, strerror(errno));
		return;
	}
	dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dir_fd < 0) {
		log_err("cannot open %s: %s: persistent handles will not "
			"survive a restart",
			path, strerror(errno));
		return;
	}
	enabled = true;
	if (store_read(STORE_NEXT_ID, text, sizeof text) > 0) {
		text[strcspn(text, "\n")] = '\0';
		if (store_parse_id(text, &next) == 0)
			handle_set_next_id(next);
		else
			log_warn("%s/%s is corrupt: ids are taken from the "
				 "metadata files instead",
				 path, STORE_NEXT_ID);
	}
	log_info("persistent handles go to the fd store, their metadata to "
		 "%s",
		 path);
}

bool
store_is_fdname(const char *fdname)
{
	return strncmp(fdname, STORE_FDNAME_PREFIX,
		       strlen(STORE_FDNAME_PREFIX)) == 0;
}

/* Ask the manager to forget a stored fd. */
static void
store_drop_fdname(const char *fdname)
{
	int r = sd_notifyf(0, "FDSTOREREMOVE=1\nFDNAME=%s", fdname);

	if (r < 0)
		log_warn("cannot remove %s from the fd store: %s", fdname,
			 strerror(-r));
}

/* The metadata of a stored handle, read back. */
struct store_meta {
	uid_t owner;
	int family, type, proto;
	const char *name; /* NULL, or points into the parsed object */
	double timeout;
};

/* The member key of obj, or NULL with *why set when it is missing or not
 * of the type asked for. */
static json_object *
store_member(json_object *obj, const char *key, json_type type, bool nullable,
	     const char **why)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v)) {
		*why = key;
		return NULL;
	}
	if (v == NULL ? !nullable : !json_object_is_type(v, type)) {
		*why = key;
		return NULL;
	}
	return v;
}

/* Read and check the metadata of id into m: 0, or -1 with the reason in
 * why. */
static int
store_meta_parse(uint64_t id, json_object **ret_obj, struct store_meta *m,
		 char *why, size_t size)
{
	char buf[STORE_META_MAX], file[32];
	const char *bad = NULL;
	json_object *obj, *v;
	int64_t n;
	ssize_t len;

	store_meta_name(id, file, sizeof file);
	len = store_read(file, buf, sizeof buf);
	if (len < 0) {
		snprintf(why, size, "metadata %s: %s", file,
			 len == -ENOENT ? "missing" : strerror((int)-len));
		return -1;
	}
	obj = json_tokener_parse(buf);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		snprintf(why, size, "metadata %s: not a JSON object", file);
		return -1;
	}
	*ret_obj = obj;
	if ((v = store_member(obj, "id", json_type_int, false, &bad)) &&
	    (uint64_t)json_object_get_int64(v) != id)
		bad = "id";
	if (!bad &&
	    (v = store_member(obj, "owner", json_type_int, false, &bad))) {
		n = json_object_get_int64(v);
		if (n < 0 || n >= (int64_t)UINT32_MAX)
			bad = "owner";
		m->owner = (uid_t)n;
	}
	if (!bad &&
	    (v = store_member(obj, "family", json_type_string, false, &bad)) &&
	    names_value(names_family, json_object_get_string(v), &m->family) <
		0)
		bad = "family";
	if (!bad &&
	    (v = store_member(obj, "type", json_type_string, false, &bad)) &&
	    names_value(names_socktype, json_object_get_string(v), &m->type) <
		0)
		bad = "type";
	if (!bad &&
	    (v = store_member(obj, "proto", json_type_int, false, &bad))) {
		n = json_object_get_int64(v);
		if (n < 0 || n > 65535)
			bad = "proto";
		m->proto = (int)n;
	}
	m->name = NULL;
	if (!bad && json_object_object_get_ex(obj, "name", &v) && v != NULL) {
		m->name = json_object_get_string(v);
		if (!vl_whole_string(v) || !handle_name_valid(m->name))
			bad = "name";
	}
	m->timeout = -1;
	if (!bad && json_object_object_get_ex(obj, "timeout", &v) &&
	    v != NULL) {
		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int))
			bad = "timeout";
		m->timeout = json_object_get_double(v);
		if (!isfinite(m->timeout) || m->timeout < 0)
			bad = "timeout";
	}
	if (bad != NULL) {
		snprintf(why, size, "metadata %s: bad or missing \"%s\"", file,
			 bad);
		return -1;
	}
	return 0;
}

/* Does the socket fd match what its metadata says? */
static int
store_check_socket(int fd, const struct store_meta *m, char *why, size_t size)
{
	int family, type, proto;
	socklen_t len = sizeof family;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0 ||
	    (len = sizeof type,
	     getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) ||
	    (len = sizeof proto,
	     getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)) {
		snprintf(why, size, "not a socket (%s)", strerror(errno));
		return -1;
	}
	/* proto 0 at Socket means the family's default, which the kernel
	 * then reports by its number. */
	if (family != m->family || type != m->type ||
	    (m->proto != 0 && proto != m->proto)) {
		snprintf(why, size,
			 "the socket is %s/%s/%d but its metadata says "
			 "%s/%s/%d",
			 names_name(names_family, family) ?: "?",
			 names_name(names_socktype, type) ?: "?", proto,
			 names_name(names_family, m->family),
			 names_name(names_socktype, m->type), m->proto);
		return -1;
	}
	return 0;
}

void
store_restore(int fd, const char *fdname)
{
	const char *idtext = fdname + strlen(STORE_FDNAME_PREFIX);
	json_object *obj = NULL;
	struct store_meta m;
	struct handle *h;
	char why[256], file[32];
	uint64_t id = 0;
	int r;

	if (store_parse_id(idtext, &id) < 0) {
		snprintf(why, sizeof why, "no handle id in the name");
		goto drop;
	}
	if (!enabled) {
		snprintf(why, sizeof why,
			 "no metadata directory "
			 "(RUNTIME_DIRECTORY is not set)");
		goto drop;
	}
	if (store_meta_parse(id, &obj, &m, why, sizeof why) < 0 ||
	    store_check_socket(fd, &m, why, sizeof why) < 0)
		goto drop;
	r = handle_restore(fd, id, m.owner, m.family, m.type, m.proto, m.name,
			   m.timeout, &h);
	if (r == -EEXIST) {
		/* Another stored socket has this id or name: keep the
		 * first, and leave the store alone, which still holds it. */
		log_err("stored fd %s: handle %" PRIu64 " or its name is "
			"already restored: closed",
			fdname, id);
		json_object_put(obj);
		guard_close(fd, true);
		return;
	}
	if (r < 0) {
		snprintf(why, sizeof why, "%s", strerror(-r));
		goto drop;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	log_notice("handle %" PRIu64 "%s%s%s of uid %u restored from the fd "
		   "store",
		   id, h->name ? " (" : "", h->name ? h->name : "",
		   h->name ? ")" : "", (unsigned)h->owner);
	json_object_put(obj);
	return;
drop:
	log_err("stored fd %s: %s: closed and dropped from the fd store",
		fdname, why);
	json_object_put(obj);
	guard_close(fd, true);
	store_drop_fdname(fdname);
	if (enabled && id != 0) {
		store_meta_name(id, file, sizeof file);
		unlinkat(dir_fd, file, 0);
	}
}

void
store_sweep(void)
{
	struct dirent *e;
	uint64_t id;
	DIR *d;
	int fd;

	if (!enabled)
		return;
	fd = dup(dir_fd);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		log_warn("cannot read the metadata directory: %s",
			 strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *dot = strrchr(e->d_name, '.');

		if (strncmp(e->d_name, ".tmp-", 5) == 0) {
			unlinkat(dir_fd, e->d_name, 0); /* a write cut short */
			continue;
		}
		if (dot == NULL || strcmp(dot, ".json") != 0)
			continue;
		*dot = '\0';
		if (store_parse_id(e->d_name, &id) < 0) {
			*dot = '.';
			continue;
		}
		*dot = '.';
		handle_set_next_id(id + 1);
		if (handle_find(id) != NULL)
			continue;
		log_warn("handle %" PRIu64 ": metadata without a stored socket "
			 "(the service manager did not keep it): removed",
			 id);
		unlinkat(dir_fd, e->d_name, 0);
	}
	closedir(d);
}

uint64_t
store_reserve_ids(uint64_t next)
{
	int r;

	if (!enabled)
		return UINT64_MAX;
	r = store_write_next_id(next + STORE_ID_BLOCK);
	if (r < 0)
		log_warn("cannot record the ids in use: %s: after a crash, ids "
			 "may be handed out again",
			 strerror(-r));
	return next + STORE_ID_BLOCK;
}

/* Write the metadata file of h. */
static int
store_write_meta(const struct handle *h)
{
	json_object *o = json_object_new_object();
	const char *text;
	char file[32];
	int r;

	if (o == NULL)
		return -ENOMEM;
	json_object_object_add(o, "id", json_object_new_int64((int64_t)h->id));
	json_object_object_add(o, "owner", json_object_new_int64(h->owner));
	json_object_object_add(
	    o, "name", h->name ? json_object_new_string(h->name) : NULL);
	json_object_object_add(
	    o, "family",
	    json_object_new_string(names_name(names_family, h->family)));
	json_object_object_add(
	    o, "type",
	    json_object_new_string(names_name(names_socktype, h->type)));
	json_object_object_add(o, "proto", json_object_new_int(h->proto));
	json_object_object_add(
	    o, "timeout", h->timeout < 0 ? NULL : vl_new_float(h->timeout));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	store_meta_name(h->id, file, sizeof file);
	r = text ? store_write(file, text, strlen(text)) : -ENOMEM;
	json_object_put(o);
	return r;
}

void
store_add(const struct handle *h)
{
	char file[32], msg[96];
	int r;

	if (!enabled)
		return;
	r = store_write_meta(h);
	if (r < 0) {
		log_warn("handle %" PRIu64
			 ": cannot write its metadata: %s: it "
			 "will not survive a restart",
			 h->id, strerror(-r));
		return;
	}
	/* FDPOLL=0: a socket not yet connected polls as hung up, and must
	 * not fall out of the store for that. */
	snprintf(msg, sizeof msg,
		 "FDSTORE=1\nFDPOLL=0\nFDNAME=" STORE_FDNAME_PREFIX "%" PRIu64,
		 h->id);
	r = sd_pid_notify_with_fds(0, 0, msg, &h->fd, 1);
	if (r <= 0) {
		log_warn("handle %" PRIu64 ": cannot put it in the fd store: "
			 "%s: it will not survive a restart",
			 h->id, r < 0 ? strerror(-r) : "no NOTIFY_SOCKET");
		store_meta_name(h->id, file, sizeof file);
		unlinkat(dir_fd, file, 0);
	}
}

void
store_update(const struct handle *h)
{
	int r;

	if (!enabled)
		return;
	r = store_write_meta(h);
	if (r < 0)
		log_warn("handle %" PRIu64 ": cannot update its metadata: %s",
			 h->id, strerror(-r));
}

void
store_remove(const struct handle *h)
{
	char name[64], file[32];

	if (!enabled)
		return;
	snprintf(name, sizeof name, STORE_FDNAME_PREFIX "%" PRIu64, h->id);
	store_drop_fdname(name);
	store_meta_name(h->id, file, sizeof file);
	unlinkat(dir_fd, file, 0);
}

void
store_shutdown(void)
{
	int r;

	if (!enabled)
		return;
	r = store_write_next_id(handle_next_id());
	if (r < 0)
		log_warn("cannot record the next handle id: %s", strerror(-r));
	close(dir_fd);
	dir_fd = -1;
	enabled = false;
}
