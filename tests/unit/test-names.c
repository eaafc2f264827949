/*
 * Unit tests for proto/names.c: lookups both ways, aliases, unknown names,
 * no name twice, the errno table against the C library's own list, and
 * the option tables per level.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>

#include "names.h"
#include "unit.h"

/* An expected entry, spelled in the test so that it checks the table. */
struct want {
	const char *name;
	int value;
};

/* clang-format off */
#define W(x) { #x, x }
/* clang-format on */

/* Number of entries before the { NULL, 0 } end. */
static size_t
table_len(const struct name *t)
{
	size_t n = 0;

	while (t[n].name != NULL)
		n++;
	return n;
}

/* No name appears twice in a table. */
static void
check_unique(const struct name *t)
{
	for (size_t i = 0; t[i].name != NULL; i++)
		for (size_t j = i + 1; t[j].name != NULL; j++)
			CHECK(strcmp(t[i].name, t[j].name) != 0);
}

/* Every name of the table starts with prefix. */
static void
check_prefix(const struct name *t, const char *prefix)
{
	for (size_t i = 0; t[i].name != NULL; i++)
		CHECK(strncmp(t[i].name, prefix, strlen(prefix)) == 0);
}

/* Every wanted name is in the table with the C library's value. */
static void
check_has(const struct name *t, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = -12345;

		CHECK(names_value(t, w[i].name, &v) == 0);
		if (v != w[i].value)
			fprintf(stderr, "%s: %d, want %d\n", w[i].name, v,
				w[i].value);
		CHECK(v == w[i].value);
	}
}

#define HAS(t, w) check_has((t), (w), sizeof(w) / sizeof((w)[0]))

/* Each value is one bit, and no two canonical names share one. */
static void
check_bits(const struct name *t)
{
	int seen = 0;

	for (size_t i = 0; t[i].name != NULL; i++) {
		int v = t[i].value;

		CHECK(v > 0 && (v & (v - 1)) == 0);
		if (names_name(t, v) == t[i].name) {
			CHECK((seen & v) == 0);
			seen |= v;
		}
	}
}

/* Unknown text, wrong case and NULL are -ENOENT and leave *ret alone. */
static void
check_unknown(const struct name *t, const char *name)
{
	int v = 4242;

	CHECK(names_value(t, name, &v) == -ENOENT);
	CHECK(v == 4242);
}

static void
test_family(void)
{
	static const struct want w[] = {
	    W(AF_UNSPEC),    W(AF_UNIX),   W(AF_INET),	  W(AF_INET6),
	    W(AF_BLUETOOTH), W(AF_PACKET), W(AF_NETLINK),
	};

	HAS(names_family, w);
	CHECK(table_len(names_family) == sizeof w / sizeof w[0]);
	CHECK_STR(names_name(names_family, 10), "AF_INET6");
	CHECK_STR(names_name(names_family, 1), "AF_UNIX");
	CHECK_STR(names_name(names_family, 31), "AF_BLUETOOTH");
	CHECK(names_name(names_family, 9999) == NULL);
	check_unknown(names_family, "AF_LOCAL");
	check_unknown(names_family, "af_inet");
	check_unknown(names_family, "AF_INET ");
	check_unknown(names_family, "");
	check_unknown(names_family, NULL);
	check_unique(names_family);
	check_prefix(names_family, "AF_");
}

static void
test_socktype_shut(void)
{
	static const struct want types[] = {
	    W(SOCK_STREAM),    W(SOCK_DGRAM), W(SOCK_RAW),
	    W(SOCK_SEQPACKET), W(SOCK_RDM),
	};
	static const struct want shut[] = {
	    W(SHUT_RD),
	    W(SHUT_WR),
	    W(SHUT_RDWR),
	};
	int v = -1;

	HAS(names_socktype, types);
	CHECK(table_len(names_socktype) == 5);
	CHECK(names_value(names_socktype, "SOCK_DGRAM", &v) == 0 && v == 2);
	CHECK_STR(names_name(names_socktype, 5), "SOCK_SEQPACKET");
	check_unknown(names_socktype, "SOCK_NONBLOCK");
	check_unique(names_socktype);
	check_prefix(names_socktype, "SOCK_");

	HAS(names_shut, shut);
	CHECK(table_len(names_shut) == 3);
	CHECK_STR(names_name(names_shut, 0), "SHUT_RD");
	CHECK_STR(names_name(names_shut, 1), "SHUT_WR");
	CHECK_STR(names_name(names_shut, 2), "SHUT_RDWR");
	check_unknown(names_shut, "SHUT_BOTH");
	check_unique(names_shut);
}

static void
test_flags(void)
{
	static const struct want msg[] = {
	    W(MSG_OOB),		 W(MSG_PEEK),	  W(MSG_DONTROUTE),
	    W(MSG_WAITALL),	 W(MSG_TRUNC),	  W(MSG_CTRUNC),
	    W(MSG_EOR),		 W(MSG_DONTWAIT), W(MSG_NOSIGNAL),
	    W(MSG_MORE),	 W(MSG_CONFIRM),  W(MSG_ERRQUEUE),
	    W(MSG_CMSG_CLOEXEC), W(MSG_FASTOPEN), W(MSG_ZEROCOPY),
	    W(MSG_WAITFORONE),
	};
	static const struct want poll_[] = {
	    W(POLLIN),	   W(POLLPRI),	  W(POLLOUT),	 W(POLLERR),
	    W(POLLHUP),	   W(POLLNVAL),	  W(POLLRDNORM), W(POLLRDBAND),
	    W(POLLWRNORM), W(POLLWRBAND), W(POLLRDHUP),
	};
	static const struct want ai[] = {
	    W(AI_PASSIVE),     W(AI_CANONNAME), W(AI_NUMERICHOST),
	    W(AI_V4MAPPED),    W(AI_ALL),	W(AI_ADDRCONFIG),
	    W(AI_NUMERICSERV), W(AI_IDN),	W(AI_CANONIDN),
	};
	static const struct want ni[] = {
	    W(NI_NUMERICHOST), W(NI_NUMERICSERV), W(NI_NOFQDN),
	    W(NI_NAMEREQD),    W(NI_DGRAM),	  W(NI_IDN),
	};
	int v = 0;

	HAS(names_msgflag, msg);
	CHECK(names_value(names_msgflag, "MSG_PEEK", &v) == 0 && v == 0x2);
	CHECK(names_value(names_msgflag, "MSG_NOSIGNAL", &v) == 0 &&
	      v == 0x4000);
	/* MSG_TRYHARD is another name for MSG_DONTROUTE. */
	CHECK_STR(names_name(names_msgflag, 0x4), "MSG_DONTROUTE");
	CHECK(names_value(names_msgflag, "MSG_TRYHARD", &v) == 0 && v == 0x4);
	check_bits(names_msgflag);
	check_unique(names_msgflag);
	check_prefix(names_msgflag, "MSG_");

	HAS(names_poll, poll_);
	CHECK(table_len(names_poll) == sizeof poll_ / sizeof poll_[0]);
	CHECK(names_value(names_poll, "POLLIN", &v) == 0 && v == 0x1);
	CHECK(names_value(names_poll, "POLLRDHUP", &v) == 0 && v == 0x2000);
	CHECK_STR(names_name(names_poll, 0x4), "POLLOUT");
	check_bits(names_poll);
	check_unique(names_poll);
	check_prefix(names_poll, "POLL");

	HAS(names_ai_flag, ai);
	CHECK(table_len(names_ai_flag) == sizeof ai / sizeof ai[0]);
	check_bits(names_ai_flag);
	check_unique(names_ai_flag);
	check_prefix(names_ai_flag, "AI_");

	HAS(names_ni_flag, ni);
	CHECK(table_len(names_ni_flag) == sizeof ni / sizeof ni[0]);
	check_bits(names_ni_flag);
	check_unique(names_ni_flag);
	check_prefix(names_ni_flag, "NI_");
	check_unknown(names_ni_flag, "NI_MAXHOST"); /* a size, not a flag */
}

static void
test_errno(void)
{
	static const struct want aliases[] = {
	    W(EWOULDBLOCK),
	    W(EDEADLOCK),
	    W(ENOTSUP),
	};
	size_t known = 0;
	int v = 0;

	/* Every errno the C library has a message for has a name, and
	 * only those. */
	for (int e = 1; e <= 133; e++) {
		char unknown[32];
		const char *msg = strerror(e);

		snprintf(unknown, sizeof unknown, "Unknown error %d", e);
		if (strcmp(msg, unknown) == 0) {
			CHECK(names_errno_name(e) == NULL);
			continue;
		}
		known++;
		if (names_errno_name(e) == NULL)
			fprintf(stderr, "errno %d (%s) has no name\n", e, msg);
		CHECK(names_errno_name(e) != NULL);
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
		/* glibc's own name for it; the canonical one of aliases. */
		CHECK(names_errno_name(e) != NULL &&
		      strcmp(names_errno_name(e), strerrorname_np(e)) == 0);
#endif
		CHECK(names_value(names_errno, names_errno_name(e), &v) == 0 &&
		      v == e);
	}
	CHECK(known == 131); /* 1..133 without 41 and 58 */
	CHECK(table_len(names_errno) == known + 3);
	CHECK(names_errno_name(0) == NULL);
	CHECK(names_errno_name(41) == NULL);
	CHECK(names_errno_name(58) == NULL);
	CHECK(names_errno_name(134) == NULL);
	CHECK(names_errno_name(-1) == NULL);

	/* Spot checks by number, not by macro. */
	CHECK_STR(names_errno_name(1), "EPERM");
	CHECK_STR(names_errno_name(11), "EAGAIN");
	CHECK_STR(names_errno_name(35), "EDEADLK");
	CHECK_STR(names_errno_name(95), "EOPNOTSUPP");
	CHECK_STR(names_errno_name(111), "ECONNREFUSED");
	CHECK_STR(names_errno_name(133), "EHWPOISON");

	/* Aliases are accepted by name, never returned for a value. */
	HAS(names_errno, aliases);
	CHECK(names_value(names_errno, "EWOULDBLOCK", &v) == 0 && v == 11);
	CHECK(names_value(names_errno, "ENOTSUP", &v) == 0 && v == 95);
	CHECK(names_value(names_errno, "EDEADLOCK", &v) == 0 && v == 35);
	check_unknown(names_errno, "EUNKNOWN");
	check_unknown(names_errno, "econnrefused");
	check_unique(names_errno);
	check_prefix(names_errno, "E");
	for (size_t i = 0; names_errno[i].name != NULL; i++)
		CHECK(names_errno[i].value >= 1 && names_errno[i].value <= 133);
}

static void
test_eai(void)
{
	static const struct want w[] = {
	    W(EAI_BADFLAGS),   W(EAI_NONAME),	W(EAI_AGAIN),
	    W(EAI_FAIL),       W(EAI_FAMILY),	W(EAI_SOCKTYPE),
	    W(EAI_SERVICE),    W(EAI_MEMORY),	W(EAI_SYSTEM),
	    W(EAI_OVERFLOW),   W(EAI_NODATA),	W(EAI_ADDRFAMILY),
	    W(EAI_INPROGRESS), W(EAI_CANCELED), W(EAI_NOTCANCELED),
	    W(EAI_ALLDONE),    W(EAI_INTR),	W(EAI_IDN_ENCODE),
	};
	const char *unknown = gai_strerror(-9999);

	HAS(names_eai, w);
	CHECK(table_len(names_eai) == sizeof w / sizeof w[0]);
	CHECK_STR(names_name(names_eai, -2), "EAI_NONAME");
	CHECK_STR(names_name(names_eai, -11), "EAI_SYSTEM");
	/* Each code is one the resolver has a message for (but glibc's
	 * gai_strerror() has none for EAI_OVERFLOW, -12). */
	for (size_t i = 0; names_eai[i].name != NULL; i++) {
		CHECK(names_eai[i].value < 0);
		CHECK(names_eai[i].value == -12 ||
		      strcmp(gai_strerror(names_eai[i].value), unknown) != 0);
		CHECK(names_name(names_eai, names_eai[i].value) ==
		      names_eai[i].name);
	}
	check_unique(names_eai);
	check_prefix(names_eai, "EAI_");
}

static void
test_levels(void)
{
	static const struct want w[] = {
	    W(SOL_SOCKET),  W(IPPROTO_IP),  W(IPPROTO_IPV6),
	    W(IPPROTO_TCP), W(IPPROTO_UDP),
	};
	static const struct want so[] = {
	    W(SO_DEBUG),	 W(SO_ACCEPTCONN), W(SO_REUSEADDR),
	    W(SO_KEEPALIVE),	 W(SO_DONTROUTE),  W(SO_BROADCAST),
	    W(SO_LINGER),	 W(SO_OOBINLINE),  W(SO_REUSEPORT),
	    W(SO_SNDBUF),	 W(SO_RCVBUF),	   W(SO_SNDLOWAT),
	    W(SO_RCVLOWAT),	 W(SO_SNDTIMEO),   W(SO_RCVTIMEO),
	    W(SO_ERROR),	 W(SO_TYPE),	   W(SO_PASSCRED),
	    W(SO_PEERCRED),	 W(SO_PASSSEC),	   W(SO_PEERSEC),
	    W(SO_BINDTODEVICE),	 W(SO_PRIORITY),   W(SO_MARK),
	    W(SO_DOMAIN),	 W(SO_PROTOCOL),   W(SO_INCOMING_CPU),
#ifdef SO_BINDTOIFINDEX
	    W(SO_BINDTOIFINDEX),
#endif
	};
	static const struct want tcp[] = {
	    W(TCP_NODELAY),	  W(TCP_MAXSEG),     W(TCP_CORK),
	    W(TCP_KEEPIDLE),	  W(TCP_KEEPINTVL),  W(TCP_KEEPCNT),
	    W(TCP_SYNCNT),	  W(TCP_LINGER2),    W(TCP_DEFER_ACCEPT),
	    W(TCP_WINDOW_CLAMP),  W(TCP_INFO),	     W(TCP_QUICKACK),
	    W(TCP_FASTOPEN),	  W(TCP_CONGESTION), W(TCP_USER_TIMEOUT),
	    W(TCP_NOTSENT_LOWAT),
	};
	static const struct want ip[] = {
	    W(IP_OPTIONS),
	    W(IP_HDRINCL),
	    W(IP_TOS),
	    W(IP_TTL),
	    W(IP_RECVOPTS),
	    W(IP_RECVRETOPTS),
	    W(IP_RETOPTS),
	    W(IP_MULTICAST_IF),
	    W(IP_MULTICAST_TTL),
	    W(IP_MULTICAST_LOOP),
	    W(IP_ADD_MEMBERSHIP),
	    W(IP_DROP_MEMBERSHIP),
	    W(IP_TRANSPARENT),
	    W(IP_BIND_ADDRESS_NO_PORT),
	    W(IP_RECVTOS),
	    W(IP_PKTINFO),
	    W(IP_RECVERR),
	    W(IP_MTU_DISCOVER),
	    W(IP_MTU),
	    W(IP_FREEBIND),
	    W(IP_ADD_SOURCE_MEMBERSHIP),
	    W(IP_DROP_SOURCE_MEMBERSHIP),
	    W(IP_BLOCK_SOURCE),
	    W(IP_UNBLOCK_SOURCE),
	};
	static const struct want ipv6[] = {
	    W(IPV6_JOIN_GROUP),	    W(IPV6_LEAVE_GROUP),
	    W(IPV6_MULTICAST_HOPS), W(IPV6_MULTICAST_IF),
	    W(IPV6_MULTICAST_LOOP), W(IPV6_UNICAST_HOPS),
	    W(IPV6_V6ONLY),	    W(IPV6_CHECKSUM),
	    W(IPV6_DONTFRAG),	    W(IPV6_DSTOPTS),
	    W(IPV6_HOPLIMIT),	    W(IPV6_HOPOPTS),
	    W(IPV6_NEXTHOP),	    W(IPV6_PATHMTU),
	    W(IPV6_PKTINFO),	    W(IPV6_RECVDSTOPTS),
	    W(IPV6_RECVHOPLIMIT),   W(IPV6_RECVHOPOPTS),
	    W(IPV6_RECVPKTINFO),    W(IPV6_RECVRTHDR),
	    W(IPV6_RECVTCLASS),	    W(IPV6_RTHDR),
	    W(IPV6_RTHDRDSTOPTS),   W(IPV6_RECVPATHMTU),
	    W(IPV6_TCLASS),	    W(IPV6_MTU),
	    W(IPV6_MTU_DISCOVER),   W(IPV6_RECVERR),
	};
	static const struct want udp[] = {
	    W(UDP_CORK),
	    W(UDP_SEGMENT),
	    W(UDP_GRO),
	};
	static const struct {
		int level;
		const char *prefix;
	} per_level[] = {
	    {SOL_SOCKET, "SO_"},     {IPPROTO_IP, "IP_"},
	    {IPPROTO_IPV6, "IPV6_"}, {IPPROTO_TCP, "TCP_"},
	    {IPPROTO_UDP, "UDP_"},
	};
	const struct name *t;
	int v = 0;

	HAS(names_level, w);
	CHECK(table_len(names_level) == sizeof w / sizeof w[0]);
	CHECK(names_value(names_level, "SOL_SOCKET", &v) == 0 && v == 1);
	CHECK(names_value(names_level, "IPPROTO_TCP", &v) == 0 && v == 6);
	CHECK_STR(names_name(names_level, 17), "IPPROTO_UDP");
	CHECK_STR(names_name(names_level, 41), "IPPROTO_IPV6");
	check_unique(names_level);

	HAS(names_options(SOL_SOCKET), so);
	HAS(names_options(IPPROTO_TCP), tcp);
	HAS(names_options(IPPROTO_IP), ip);
	HAS(names_options(IPPROTO_IPV6), ipv6);
	HAS(names_options(IPPROTO_UDP), udp);

	for (size_t i = 0; i < sizeof per_level / sizeof per_level[0]; i++) {
		t = names_options(per_level[i].level);
		CHECK(t != NULL);
		if (t == NULL)
			continue;
		check_unique(t);
		check_prefix(t, per_level[i].prefix);
		for (size_t j = 0; t[j].name != NULL; j++)
			CHECK(t[j].value > 0);
	}
	/* Each level's names are only in that level's table. */
	CHECK(names_value(names_options(IPPROTO_IP), "TCP_NODELAY", &v) ==
	      -ENOENT);
	CHECK(names_value(names_options(IPPROTO_TCP), "SO_REUSEADDR", &v) ==
	      -ENOENT);
	CHECK(names_value(names_options(IPPROTO_TCP), "TCP_KEEPALIVE", &v) ==
	      -ENOENT);
	/* Neither pointer-carrying options nor constants that are not
	 * options at all. */
	CHECK(names_value(names_options(SOL_SOCKET), "SO_ATTACH_FILTER", &v) ==
	      -ENOENT);
	CHECK(names_value(names_options(IPPROTO_IP), "IP_MAX_MEMBERSHIPS",
			  &v) == -ENOENT);
	/* IP_RECVRETOPTS is another name for IP_RETOPTS on Linux. */
	CHECK_STR(names_name(names_options(IPPROTO_IP), IP_RETOPTS),
		  "IP_RETOPTS");
	CHECK_STR(names_name(names_options(IPPROTO_TCP), 1), "TCP_NODELAY");
	CHECK_STR(names_name(names_options(SOL_SOCKET), 2), "SO_REUSEADDR");
	CHECK_STR(names_name(names_options(IPPROTO_IPV6), 26), "IPV6_V6ONLY");

	CHECK(names_options(255) == NULL); /* SOL_RAW */
	CHECK(names_options(-1) == NULL);
	CHECK(names_options(9999) == NULL);
	CHECK(names_value(NULL, "SO_DEBUG", &v) == -ENOENT);
	CHECK(names_name(NULL, 1) == NULL);
}

/* Flag bits to a JSON array of names and back. */
static void
test_bits_json(void)
{
	json_object *a = names_bits_json(names_poll, POLLIN | POLLOUT), *bad;
	int bits = -1;

	CHECK(a != NULL && json_object_array_length(a) == 2);
	CHECK(a != NULL &&
	      strcmp(json_object_get_string(json_object_array_get_idx(a, 0)),
		     "POLLIN") == 0);
	CHECK(names_json_bits(a, names_poll, &bits) == 0 &&
	      bits == (POLLIN | POLLOUT));
	json_object_put(a);

	/* An alias never appears; its canonical name does. */
	a = names_bits_json(names_msgflag, MSG_DONTWAIT);
	CHECK(a != NULL && json_object_array_length(a) == 1);
	json_object_put(a);

	/* A bit without a name. */
	CHECK(names_bits_json(names_shut, 0x4000) == NULL);

	CHECK(names_json_bits(NULL, names_poll, &bits) == 0 && bits == 0);
	bad = json_tokener_parse("[\"POLLIN\", \"POLLNOPE\"]");
	CHECK(names_json_bits(bad, names_poll, &bits) == -ENOENT);
	json_object_put(bad);
	bad = json_tokener_parse("[1]");
	CHECK(names_json_bits(bad, names_poll, &bits) == -EINVAL);
	json_object_put(bad);
	bad = json_tokener_parse("\"POLLIN\"");
	CHECK(names_json_bits(bad, names_poll, &bits) == -EINVAL);
	json_object_put(bad);
}

int
main(void)
{
	test_bits_json();
	test_family();
	test_socktype_shut();
	test_flags();
	test_errno();
	test_eai();
	test_levels();
	return UNIT_DONE();
}
