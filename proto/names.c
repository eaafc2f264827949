/*
 * Name tables for the constants the protocol speaks: families, types,
 * flags, errnos, resolver codes, option levels and options. Each name is
 * spelled once, through N(); where two names share a value the canonical
 * one comes first, so that names_name() returns it and names_value()
 * still accepts the alias. Constants glibc may lack are guarded.
 *
 * No option whose value holds a pointer (SO_ATTACH_FILTER,
 * TCP_ZEROCOPY_RECEIVE, ...) may appear here: the daemon passes option
 * bytes to the kernel as they come, and the kernel would follow the
 * pointer into the daemon's own memory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POLLRDHUP, EAI_NODATA, AI_IDN, MSG_FASTOPEN... */
#endif

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>

#include "names.h"
#include "varlink.h"

/* clang-format off */
#define N(x) { #x, x }
#define END  { NULL, 0 }
/* clang-format on */

const struct name names_family[] = {
    N(AF_UNSPEC),    N(AF_UNIX),   N(AF_INET),	  N(AF_INET6),
    N(AF_BLUETOOTH), N(AF_PACKET), N(AF_NETLINK), END,
};

const struct name names_socktype[] = {
    N(SOCK_STREAM),    N(SOCK_DGRAM), N(SOCK_RAW),
    N(SOCK_SEQPACKET), N(SOCK_RDM),   END,
};

const struct name names_msgflag[] = {
    N(MSG_OOB),
    N(MSG_PEEK),
    N(MSG_DONTROUTE),
#ifdef MSG_TRYHARD
    N(MSG_TRYHARD), /* alias of MSG_DONTROUTE */
#endif
    N(MSG_CTRUNC),
#ifdef MSG_PROXY
    N(MSG_PROXY),
#endif
    N(MSG_TRUNC),
    N(MSG_DONTWAIT),
    N(MSG_EOR),
    N(MSG_WAITALL),
#ifdef MSG_FIN
    N(MSG_FIN),
#endif
#ifdef MSG_SYN
    N(MSG_SYN),
#endif
#ifdef MSG_CONFIRM
    N(MSG_CONFIRM),
#endif
#ifdef MSG_RST
    N(MSG_RST),
#endif
#ifdef MSG_ERRQUEUE
    N(MSG_ERRQUEUE),
#endif
    N(MSG_NOSIGNAL),
#ifdef MSG_MORE
    N(MSG_MORE),
#endif
#ifdef MSG_WAITFORONE
    N(MSG_WAITFORONE),
#endif
#ifdef MSG_BATCH
    N(MSG_BATCH),
#endif
#ifdef MSG_ZEROCOPY
    N(MSG_ZEROCOPY),
#endif
#ifdef MSG_FASTOPEN
    N(MSG_FASTOPEN),
#endif
#ifdef MSG_CMSG_CLOEXEC
    N(MSG_CMSG_CLOEXEC),
#endif
    END,
};

const struct name names_shut[] = {
    N(SHUT_RD),
    N(SHUT_WR),
    N(SHUT_RDWR),
    END,
};

const struct name names_poll[] = {
    N(POLLIN),	  N(POLLPRI),	 N(POLLOUT),	N(POLLERR),    N(POLLHUP),
    N(POLLNVAL),  N(POLLRDNORM), N(POLLRDBAND), N(POLLWRNORM), N(POLLWRBAND),
#ifdef POLLRDHUP
    N(POLLRDHUP),
#endif
    END,
};

const struct name names_errno[] = {
    N(EPERM),
    N(ENOENT),
    N(ESRCH),
    N(EINTR),
    N(EIO),
    N(ENXIO),
    N(E2BIG),
    N(ENOEXEC),
    N(EBADF),
    N(ECHILD),
    N(EAGAIN),
    N(EWOULDBLOCK), /* alias of EAGAIN */
    N(ENOMEM),
    N(EACCES),
    N(EFAULT),
    N(ENOTBLK),
    N(EBUSY),
    N(EEXIST),
    N(EXDEV),
    N(ENODEV),
    N(ENOTDIR),
    N(EISDIR),
    N(EINVAL),
    N(ENFILE),
    N(EMFILE),
    N(ENOTTY),
    N(ETXTBSY),
    N(EFBIG),
    N(ENOSPC),
    N(ESPIPE),
    N(EROFS),
    N(EMLINK),
    N(EPIPE),
    N(EDOM),
    N(ERANGE),
    N(EDEADLK),
    N(EDEADLOCK), /* alias of EDEADLK */
    N(ENAMETOOLONG),
    N(ENOLCK),
    N(ENOSYS),
    N(ENOTEMPTY),
    N(ELOOP),
    N(ENOMSG),
    N(EIDRM),
    N(ECHRNG),
    N(EL2NSYNC),
    N(EL3HLT),
    N(EL3RST),
    N(ELNRNG),
    N(EUNATCH),
    N(ENOCSI),
    N(EL2HLT),
    N(EBADE),
    N(EBADR),
    N(EXFULL),
    N(ENOANO),
    N(EBADRQC),
    N(EBADSLT),
    N(EBFONT),
    N(ENOSTR),
    N(ENODATA),
    N(ETIME),
    N(ENOSR),
    N(ENONET),
    N(ENOPKG),
    N(EREMOTE),
    N(ENOLINK),
    N(EADV),
    N(ESRMNT),
    N(ECOMM),
    N(EPROTO),
    N(EMULTIHOP),
    N(EDOTDOT),
    N(EBADMSG),
    N(EOVERFLOW),
    N(ENOTUNIQ),
    N(EBADFD),
    N(EREMCHG),
    N(ELIBACC),
    N(ELIBBAD),
    N(ELIBSCN),
    N(ELIBMAX),
    N(ELIBEXEC),
    N(EILSEQ),
    N(ERESTART),
    N(ESTRPIPE),
    N(EUSERS),
    N(ENOTSOCK),
    N(EDESTADDRREQ),
    N(EMSGSIZE),
    N(EPROTOTYPE),
    N(ENOPROTOOPT),
    N(EPROTONOSUPPORT),
    N(ESOCKTNOSUPPORT),
    N(EOPNOTSUPP),
    N(ENOTSUP), /* alias of EOPNOTSUPP */
    N(EPFNOSUPPORT),
    N(EAFNOSUPPORT),
    N(EADDRINUSE),
    N(EADDRNOTAVAIL),
    N(ENETDOWN),
    N(ENETUNREACH),
    N(ENETRESET),
    N(ECONNABORTED),
    N(ECONNRESET),
    N(ENOBUFS),
    N(EISCONN),
    N(ENOTCONN),
    N(ESHUTDOWN),
    N(ETOOMANYREFS),
    N(ETIMEDOUT),
    N(ECONNREFUSED),
    N(EHOSTDOWN),
    N(EHOSTUNREACH),
    N(EALREADY),
    N(EINPROGRESS),
    N(ESTALE),
    N(EUCLEAN),
    N(ENOTNAM),
    N(ENAVAIL),
    N(EISNAM),
    N(EREMOTEIO),
    N(EDQUOT),
    N(ENOMEDIUM),
    N(EMEDIUMTYPE),
    N(ECANCELED),
    N(ENOKEY),
    N(EKEYEXPIRED),
    N(EKEYREVOKED),
    N(EKEYREJECTED),
    N(EOWNERDEAD),
    N(ENOTRECOVERABLE),
#ifdef ERFKILL
    N(ERFKILL),
#endif
#ifdef EHWPOISON
    N(EHWPOISON),
#endif
    END,
};

const struct name names_eai[] = {
    N(EAI_BADFLAGS),
    N(EAI_NONAME),
    N(EAI_AGAIN),
    N(EAI_FAIL),
    N(EAI_FAMILY),
    N(EAI_SOCKTYPE),
    N(EAI_SERVICE),
    N(EAI_MEMORY),
    N(EAI_SYSTEM),
    N(EAI_OVERFLOW),
#ifdef EAI_NODATA
    N(EAI_NODATA),
#endif
#ifdef EAI_ADDRFAMILY
    N(EAI_ADDRFAMILY),
#endif
#ifdef EAI_INPROGRESS
    N(EAI_INPROGRESS),
#endif
#ifdef EAI_CANCELED
    N(EAI_CANCELED),
#endif
#ifdef EAI_NOTCANCELED
    N(EAI_NOTCANCELED),
#endif
#ifdef EAI_ALLDONE
    N(EAI_ALLDONE),
#endif
#ifdef EAI_INTR
    N(EAI_INTR),
#endif
#ifdef EAI_IDN_ENCODE
    N(EAI_IDN_ENCODE),
#endif
    END,
};

const struct name names_ai_flag[] = {
    N(AI_PASSIVE),
    N(AI_CANONNAME),
    N(AI_NUMERICHOST),
    N(AI_V4MAPPED),
    N(AI_ALL),
    N(AI_ADDRCONFIG),
    N(AI_NUMERICSERV),
#ifdef AI_IDN
    N(AI_IDN),
#endif
#ifdef AI_CANONIDN
    N(AI_CANONIDN),
#endif
    END,
};

const struct name names_ni_flag[] = {
    N(NI_NUMERICHOST),
    N(NI_NUMERICSERV),
    N(NI_NOFQDN),
    N(NI_NAMEREQD),
    N(NI_DGRAM),
#ifdef NI_IDN
    N(NI_IDN),
#endif
    END,
};

const struct name names_level[] = {
    N(SOL_SOCKET),  N(IPPROTO_IP),  N(IPPROTO_IPV6),
    N(IPPROTO_TCP), N(IPPROTO_UDP), END,
};

static const struct name names_opt_socket[] = {
    N(SO_DEBUG),
    N(SO_REUSEADDR),
    N(SO_TYPE),
    N(SO_ERROR),
    N(SO_DONTROUTE),
    N(SO_BROADCAST),
    N(SO_SNDBUF),
    N(SO_RCVBUF),
    N(SO_KEEPALIVE),
    N(SO_OOBINLINE),
    N(SO_PRIORITY),
    N(SO_LINGER),
#ifdef SO_REUSEPORT
    N(SO_REUSEPORT),
#endif
    N(SO_PASSCRED),
    N(SO_PEERCRED),
    N(SO_RCVLOWAT),
    N(SO_SNDLOWAT),
    N(SO_RCVTIMEO),
    N(SO_SNDTIMEO),
    N(SO_BINDTODEVICE),
    N(SO_ACCEPTCONN),
#ifdef SO_PEERSEC
    N(SO_PEERSEC),
#endif
#ifdef SO_PASSSEC
    N(SO_PASSSEC),
#endif
#ifdef SO_MARK
    N(SO_MARK),
#endif
#ifdef SO_PROTOCOL
    N(SO_PROTOCOL),
#endif
#ifdef SO_DOMAIN
    N(SO_DOMAIN),
#endif
#ifdef SO_INCOMING_CPU
    N(SO_INCOMING_CPU),
#endif
#ifdef SO_BINDTOIFINDEX
    N(SO_BINDTOIFINDEX),
#endif
    END,
};

static const struct name names_opt_ip[] = {
    N(IP_TOS),
    N(IP_TTL),
    N(IP_HDRINCL),
    N(IP_OPTIONS),
    N(IP_RECVOPTS),
    N(IP_RETOPTS),
    N(IP_RECVRETOPTS), /* alias of IP_RETOPTS on Linux */
    N(IP_PKTINFO),
    N(IP_MTU_DISCOVER),
    N(IP_RECVERR),
    N(IP_RECVTOS),
    N(IP_MTU),
    N(IP_FREEBIND),
#ifdef IP_TRANSPARENT
    N(IP_TRANSPARENT),
#endif
#ifdef IP_BIND_ADDRESS_NO_PORT
    N(IP_BIND_ADDRESS_NO_PORT),
#endif
    N(IP_MULTICAST_IF),
    N(IP_MULTICAST_TTL),
    N(IP_MULTICAST_LOOP),
    N(IP_ADD_MEMBERSHIP),
    N(IP_DROP_MEMBERSHIP),
#ifdef IP_UNBLOCK_SOURCE
    N(IP_UNBLOCK_SOURCE),
#endif
#ifdef IP_BLOCK_SOURCE
    N(IP_BLOCK_SOURCE),
#endif
#ifdef IP_ADD_SOURCE_MEMBERSHIP
    N(IP_ADD_SOURCE_MEMBERSHIP),
#endif
#ifdef IP_DROP_SOURCE_MEMBERSHIP
    N(IP_DROP_SOURCE_MEMBERSHIP),
#endif
    END,
};

static const struct name names_opt_ipv6[] = {
    N(IPV6_CHECKSUM),	  N(IPV6_NEXTHOP),	  N(IPV6_UNICAST_HOPS),
    N(IPV6_MULTICAST_IF), N(IPV6_MULTICAST_HOPS), N(IPV6_MULTICAST_LOOP),
    N(IPV6_JOIN_GROUP),	  N(IPV6_LEAVE_GROUP),	  N(IPV6_MTU_DISCOVER),
    N(IPV6_MTU),	  N(IPV6_RECVERR),	  N(IPV6_V6ONLY),
    N(IPV6_RECVPKTINFO),  N(IPV6_PKTINFO),	  N(IPV6_RECVHOPLIMIT),
    N(IPV6_HOPLIMIT),	  N(IPV6_RECVHOPOPTS),	  N(IPV6_HOPOPTS),
    N(IPV6_RTHDRDSTOPTS), N(IPV6_RECVRTHDR),	  N(IPV6_RTHDR),
    N(IPV6_RECVDSTOPTS),  N(IPV6_DSTOPTS),
#ifdef IPV6_RECVPATHMTU
    N(IPV6_RECVPATHMTU),
#endif
#ifdef IPV6_PATHMTU
    N(IPV6_PATHMTU),
#endif
#ifdef IPV6_DONTFRAG
    N(IPV6_DONTFRAG),
#endif
    N(IPV6_RECVTCLASS),	  N(IPV6_TCLASS),	  END,
};

static const struct name names_opt_tcp[] = {
    N(TCP_NODELAY),
    N(TCP_MAXSEG),
    N(TCP_CORK),
    N(TCP_KEEPIDLE),
    N(TCP_KEEPINTVL),
    N(TCP_KEEPCNT),
    N(TCP_SYNCNT),
    N(TCP_LINGER2),
    N(TCP_DEFER_ACCEPT),
    N(TCP_WINDOW_CLAMP),
    N(TCP_INFO),
    N(TCP_QUICKACK),
#ifdef TCP_CONGESTION
    N(TCP_CONGESTION),
#endif
#ifdef TCP_USER_TIMEOUT
    N(TCP_USER_TIMEOUT),
#endif
#ifdef TCP_FASTOPEN
    N(TCP_FASTOPEN),
#endif
#ifdef TCP_NOTSENT_LOWAT
    N(TCP_NOTSENT_LOWAT),
#endif
    END,
};

static const struct name names_opt_udp[] = {
#ifdef UDP_CORK
    N(UDP_CORK),
#endif
#ifdef UDP_SEGMENT
    N(UDP_SEGMENT),
#endif
#ifdef UDP_GRO
    N(UDP_GRO),
#endif
    END,
};

/* Look a name up; the protocol's names are case-sensitive, as in C. */
int
names_value(const struct name *table, const char *name, int *ret_value)
{
	if (table == NULL || name == NULL)
		return -ENOENT;
	for (; table->name != NULL; table++) {
		if (strcmp(table->name, name) == 0) {
			*ret_value = table->value;
			return 0;
		}
	}
	return -ENOENT;
}

/* The canonical name of a value: the first entry that has it. */
const char *
names_name(const struct name *table, int value)
{
	if (table == NULL)
		return NULL;
	for (; table->name != NULL; table++)
		if (table->value == value)
			return table->name;
	return NULL;
}

/* Which option table a setsockopt() level uses. */
const struct name *
names_options(int level)
{
	switch (level) {
	case SOL_SOCKET:
		return names_opt_socket;
	case IPPROTO_IP:
		return names_opt_ip;
	case IPPROTO_IPV6:
		return names_opt_ipv6;
	case IPPROTO_TCP:
		return names_opt_tcp;
	case IPPROTO_UDP:
		return names_opt_udp;
	default:
		return NULL;
	}
}

/* The errno name for OSError replies. */
const char *
names_errno_name(int err)
{
	return names_name(names_errno, err);
}

/* Flag bits as a JSON array of their names, each value by its first
 * name; NULL (errno EINVAL) when a set bit has no name. */
json_object *
names_bits_json(const struct name *table, int bits)
{
	json_object *a = json_object_new_array();

	if (a == NULL)
		return NULL;
	for (const struct name *n = table; n->name != NULL; n++)
		if (n->value != 0 && (bits & n->value) == n->value &&
		    names_name(table, n->value) == n->name) {
			json_object_array_add(a,
					      json_object_new_string(n->name));
			bits &= ~n->value;
		}
	if (bits != 0) {
		json_object_put(a);
		errno = EINVAL;
		return NULL;
	}
	return a;
}

/* The OR of the names in a JSON array of strings (NULL: none). A list
 * longer than the table (each name once) is refused: it can only be a
 * client making sockd read and keep more than any flag set needs. */
int
names_json_bits(json_object *array, const struct name *table, int *ret)
{
	size_t size = 0;
	int bits = 0, v;

	if (array != NULL && !json_object_is_type(array, json_type_array))
		return -EINVAL;
	while (table[size].name != NULL)
		size++;
	if (array != NULL && json_object_array_length(array) > size)
		return -EINVAL;
	for (size_t i = 0; array != NULL && i < json_object_array_length(array);
	     i++) {
		json_object *e = json_object_array_get_idx(array, i);

		if (!vl_whole_string(e))
			return -EINVAL;
		if (names_value(table, json_object_get_string(e), &v) < 0)
			return -ENOENT;
		bits |= v;
	}
	*ret = bits;
	return 0;
}
