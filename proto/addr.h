/*
 * The address codec: socket addresses as JSON objects and back.
 *
 *   AF_INET / AF_INET6  {"family", "host", "port", "flowinfo", "scope_id"}
 *   AF_UNIX             {"family", "path"}   "@name" = abstract namespace,
 *                                            "" = unnamed
 *                       {"family", "path_base64"}  the same bytes, base64,
 *                                            for names that are not UTF-8
 *   AF_BLUETOOTH        {"family", "bdaddr", "channel"} (RFCOMM)
 *                       {"family", "bdaddr", "psm"}     (L2CAP)
 *
 * Replies always carry "family"; calls may leave it out and the socket's
 * family is used.
 */
#ifndef SOCKD_ADDR_H
#define SOCKD_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>
#include <json-c/json.h>

/* Bluetooth constants and addresses, spelled here so that the build needs
 * no Bluetooth headers. */
#ifndef AF_BLUETOOTH
#define AF_BLUETOOTH 31
#endif
#define SOCKD_BTPROTO_L2CAP  0
#define SOCKD_BTPROTO_RFCOMM 3

struct sockd_bdaddr {
	unsigned char b[6]; /* little-endian: "01:02:03:04:05:06" is 06..01 */
} __attribute__((packed));

struct sockd_sockaddr_rc {
	sa_family_t rc_family;
	struct sockd_bdaddr rc_bdaddr;
	unsigned char rc_channel;
};

struct sockd_sockaddr_l2 {
	sa_family_t l2_family;
	unsigned short l2_psm; /* little-endian */
	struct sockd_bdaddr l2_bdaddr;
	unsigned short l2_cid;
	unsigned char l2_bdaddr_type;
};

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	/* Set when "host" is not a numeric address and must be resolved
	 * before use: points into the JSON object given to addr_from_json. */
	const char *host_name;
	int port; /* the port for host_name */
};

/*
 * Parse obj into ret. family is the socket's family, used when the object
 * has no "family" (AF_UNSPEC: the object must say). Returns 0, or -EINVAL
 * with the offending field name in *ret_field (static text, or for a field
 * the family does not have its key inside obj), or -EAFNOSUPPORT (field
 * "family") for a family the codec does not know. When host is a name,
 * returns 0 with ret->host_name set and ret->ss.ss_family the family to
 * resolve in; the caller resolves and calls addr_set_port().
 */
int addr_from_json(json_object *obj, int family, struct addr *ret,
		   const char **ret_field);

/* The address as a new JSON object (NULL when out of memory). */
json_object *addr_to_json(const struct sockaddr *sa, socklen_t len);

/* Put port into an AF_INET/AF_INET6 address. */
void addr_set_port(struct sockaddr *sa, int port);
/* The port of an AF_INET/AF_INET6 address; -1 for other families. */
int addr_port(const struct sockaddr *sa);

/* Text form for logs and the CLI: "127.0.0.1:80", "[::1]:80", "/path",
 * "@abstract", "01:02:03:04:05:06/3". Writes at most size bytes. */
void addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
		 size_t size);

/* Parse "aa:bb:cc:dd:ee:ff": 0 or -EINVAL. */
int addr_parse_bdaddr(const char *text, struct sockd_bdaddr *ret);

#endif
