/*
 * libsockc names: sockc_getaddrinfo / sockc_freeaddrinfo,
 * sockc_getnameinfo, sockc_gethostbyaddr / sockc_freehostent, and the
 * error details they leave (sockc_gai_error after a GAIError,
 * sockc_herror after an HError). Every expected value is what this
 * process's own libc answers for the same question.
 */
#include "check.h"

/* One entry of a getaddrinfo list, for comparing. */
static int
ai_same(const struct addrinfo *a, const struct addrinfo *b)
{
	return a->ai_family == b->ai_family &&
	       a->ai_socktype == b->ai_socktype &&
	       a->ai_protocol == b->ai_protocol &&
	       t_addr_eq((const void *)a->ai_addr, a->ai_addrlen,
			 (const void *)b->ai_addr, b->ai_addrlen);
}

static size_t
ai_count(const struct addrinfo *a)
{
	size_t n = 0;

	for (; a != NULL; a = a->ai_next)
		n++;
	return n;
}

/* sockc_getaddrinfo answers as libc's getaddrinfo: the same code, the
 * same entries in the same order, the same canonical name. */
static void
same_as_libc(struct sockc *c, const char *node, const char *service,
	     const struct addrinfo *hints, const char *what)
{
	struct addrinfo *lres = NULL, *sres = NULL, *l, *s;
	int rl = getaddrinfo(node, service, hints, &lres);
	int rs = sockc_getaddrinfo(c, node, service, hints, &sres);
	size_t nl, ns;
	int same = 1;

	CHECK(rs == rl && (rs != 0 || (sres != NULL && lres != NULL)),
	      "getaddrinfo(%s) -> %d (%s), as libc", what, rs,
	      rs ? gai_strerror(rs) : "ok");
	if (rs != 0 || rl != 0 || sres == NULL || lres == NULL) {
		if (rs == 0)
			sockc_freeaddrinfo(sres);
		if (rl == 0)
			freeaddrinfo(lres);
		return;
	}
	nl = ai_count(lres);
	ns = ai_count(sres);
	for (l = lres, s = sres; l && s; l = l->ai_next, s = s->ai_next)
		same &= ai_same(l, s);
	CHECK(nl == ns && same,
	      "  ... %zu entries (libc %zu), the same ones, first %s/%d/%d", ns,
	      nl, t_addr_str((const void *)sres->ai_addr, sres->ai_addrlen),
	      sres->ai_socktype, sres->ai_protocol);
	if (hints && (hints->ai_flags & AI_CANONNAME))
		CHECK(sres->ai_canonname && lres->ai_canonname &&
			  strcmp(sres->ai_canonname, lres->ai_canonname) == 0,
		      "  ... canonical name \"%s\" (libc \"%s\")",
		      sres->ai_canonname ? sres->ai_canonname : "(null)",
		      lres->ai_canonname ? lres->ai_canonname : "(null)");
	sockc_freeaddrinfo(sres);
	freeaddrinfo(lres);
}

static void
test_getaddrinfo(struct sockc *c)
{
	struct addrinfo h = {0}, *res = NULL;
	int r, rl;

	h.ai_socktype = SOCK_STREAM;
	same_as_libc(c, "127.0.0.1", "80", &h, "127.0.0.1, 80, SOCK_STREAM");
	same_as_libc(c, "localhost", "80", NULL, "localhost, 80, no hints");
	same_as_libc(c, "::1", "8080", NULL, "::1, 8080, no hints");
	same_as_libc(c, "127.0.0.1", "http", &h, "127.0.0.1, http, STREAM");
	h.ai_socktype = SOCK_DGRAM;
	same_as_libc(c, "localhost", "http", &h, "localhost, http, DGRAM");
	h = (struct addrinfo){.ai_family = AF_INET6, .ai_socktype = SOCK_DGRAM};
	same_as_libc(c, "::1", "53", &h, "::1, 53, AF_INET6 DGRAM");
	h = (struct addrinfo){.ai_flags = AI_CANONNAME,
			      .ai_socktype = SOCK_STREAM};
	same_as_libc(c, "localhost", NULL, &h, "localhost, AI_CANONNAME");
	h = (struct addrinfo){.ai_flags = AI_PASSIVE,
			      .ai_family = AF_INET,
			      .ai_socktype = SOCK_STREAM};
	same_as_libc(c, NULL, "0", &h, "NULL, 0, AI_PASSIVE AF_INET");
	h = (struct addrinfo){.ai_family = AF_INET6,
			      .ai_socktype = SOCK_STREAM};
	same_as_libc(c, NULL, "5000", &h, "NULL, 5000, AF_INET6");
	h = (struct addrinfo){.ai_family = AF_INET6};
	same_as_libc(c, "127.0.0.1", "80", &h, "127.0.0.1 with AF_INET6");
	h = (struct addrinfo){.ai_family = AF_INET6,
			      .ai_flags = AI_V4MAPPED | AI_ALL,
			      .ai_socktype = SOCK_STREAM};
	same_as_libc(c, "localhost", "80", &h, "localhost, AI_V4MAPPED|AI_ALL");
	h = (struct addrinfo){.ai_protocol = IPPROTO_UDP};
	same_as_libc(c, "127.0.0.1", "53", &h, "127.0.0.1, 53, IPPROTO_UDP");
	h = (struct addrinfo){.ai_socktype = SOCK_STREAM};
	same_as_libc(c, "127.0.0.1", "no-such-service-sockd", &h,
		     "an unknown service");
	h = (struct addrinfo){.ai_flags = AI_NUMERICSERV};
	same_as_libc(c, "127.0.0.1", "http", &h, "http with AI_NUMERICSERV");

	/* A GAIError: the code and the details on the connection. */
	h = (struct addrinfo){.ai_flags = AI_NUMERICHOST};
	rl = getaddrinfo("localhost", "80", &h, &res);
	r = sockc_getaddrinfo(c, "localhost", "80", &h, &res);
	CHECK(r == rl && r == EAI_NONAME,
	      "getaddrinfo(localhost, AI_NUMERICHOST) -> EAI_NONAME (%d, "
	      "libc %d)",
	      r, rl);
	CHECK(sockc_gai_error(c) == EAI_NONAME,
	      "  ... sockc_gai_error -> EAI_NONAME (%d)", sockc_gai_error(c));
	CHECK(sockc_error_name(c) &&
		  strcmp(sockc_error_name(c), "io.sockd.GAIError") == 0,
	      "  ... sockc_error_name -> io.sockd.GAIError (%s)",
	      sockc_error_name(c) ? sockc_error_name(c) : "NULL");
	CHECK(strstr(sockc_error_message(c), gai_strerror(EAI_NONAME)) != NULL,
	      "  ... the message has \"%s\" (\"%s\")", gai_strerror(EAI_NONAME),
	      sockc_error_message(c));
	CHECK(sockc_herror(c) == 0, "  ... sockc_herror -> 0");
	r = sockc_getaddrinfo(c, "127.0.0.1", "1", NULL, &res);
	CHECK(r == 0 && sockc_gai_error(c) == 0 && sockc_error_name(c) == NULL,
	      "a later success clears them");
	if (r == 0)
		sockc_freeaddrinfo(res);
}

/* sockc_getnameinfo answers as libc's getnameinfo. */
static void
nameinfo_as_libc(struct sockc *c, int family, int port, int flags,
		 socklen_t hostlen, socklen_t servlen, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t sl = t_loop(&ss, family, port);
	char lh[NI_MAXHOST] = "", ls[NI_MAXSERV] = "";
	char sh[NI_MAXHOST] = "", sv[NI_MAXSERV] = "";
	int rl = getnameinfo((struct sockaddr *)&ss, sl, hostlen ? lh : NULL,
			     hostlen, servlen ? ls : NULL, servlen, flags);
	int rs = sockc_getnameinfo(c, (struct sockaddr *)&ss, sl,
				   hostlen ? sh : NULL, hostlen,
				   servlen ? sv : NULL, servlen, flags);

	CHECK(rs == rl && strcmp(sh, lh) == 0 && strcmp(sv, ls) == 0,
	      "getnameinfo(%s) -> %d \"%s\" \"%s\" (libc %d \"%s\" \"%s\")",
	      what, rs, sh, sv, rl, lh, ls);
	if (rs != 0 && rs != EAI_SYSTEM && rs != EAI_OVERFLOW)
		CHECK(sockc_gai_error(c) == rs,
		      "  ... sockc_gai_error -> %d (%d)", rs,
		      sockc_gai_error(c));
}

static void
test_getnameinfo(struct sockc *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = t_loop(&ss, AF_INET, 80);
	char host[NI_MAXHOST] = "", serv[NI_MAXSERV] = "";
	int r;

	r = sockc_getnameinfo(c, (struct sockaddr *)&ss, sl, host, sizeof host,
			      serv, sizeof serv,
			      NI_NUMERICHOST | NI_NUMERICSERV);
	CHECK(r == 0 && strcmp(host, "127.0.0.1") == 0 &&
		  strcmp(serv, "80") == 0,
	      "getnameinfo(127.0.0.1:80, NUMERICHOST|NUMERICSERV) -> \"%s\" "
	      "\"%s\"",
	      host, serv);
	nameinfo_as_libc(c, AF_INET, 80, NI_NUMERICHOST | NI_NUMERICSERV,
			 NI_MAXHOST, NI_MAXSERV, "127.0.0.1:80 numeric");
	nameinfo_as_libc(c, AF_INET, 80, 0, NI_MAXHOST, NI_MAXSERV,
			 "127.0.0.1:80");
	nameinfo_as_libc(c, AF_INET, 53, NI_DGRAM, NI_MAXHOST, NI_MAXSERV,
			 "127.0.0.1:53 NI_DGRAM");
	nameinfo_as_libc(c, AF_INET6, 443, NI_NUMERICHOST, NI_MAXHOST,
			 NI_MAXSERV, "[::1]:443 NI_NUMERICHOST");
	nameinfo_as_libc(c, AF_INET6, 443, NI_NAMEREQD, NI_MAXHOST, NI_MAXSERV,
			 "[::1]:443 NI_NAMEREQD");
	nameinfo_as_libc(c, AF_INET, 80, NI_NUMERICSERV, 0, NI_MAXSERV,
			 "127.0.0.1:80, no host buffer");
	nameinfo_as_libc(c, AF_INET, 80, NI_NUMERICHOST, 4, NI_MAXSERV,
			 "127.0.0.1:80, a 4-byte host buffer");
}

/* Copy a hostent out of libc's static storage. */
struct host_copy {
	char name[256];
	char aliases[8][256];
	int naliases;
	int addrtype, length, naddrs;
	unsigned char addrs[8][16];
};

static int
host_copy(const struct hostent *he, struct host_copy *hc)
{
	memset(hc, 0, sizeof *hc);
	if (he == NULL)
		return 0;
	snprintf(hc->name, sizeof hc->name, "%s", he->h_name);
	for (int i = 0; i < 8 && he->h_aliases[i]; i++, hc->naliases++)
		snprintf(hc->aliases[i], 256, "%s", he->h_aliases[i]);
	hc->addrtype = he->h_addrtype;
	hc->length = he->h_length;
	for (int i = 0; i < 8 && he->h_addr_list[i]; i++, hc->naddrs++)
		memcpy(hc->addrs[i], he->h_addr_list[i], (size_t)he->h_length);
	return 1;
}

static int
alias_in(const struct host_copy *hc, const char *a)
{
	for (int i = 0; i < hc->naliases; i++)
		if (strcmp(hc->aliases[i], a) == 0)
			return 1;
	return 0;
}

static void
test_gethostbyaddr(struct sockc *c)
{
	struct in_addr lo4 = {htonl(INADDR_LOOPBACK)};
	struct host_copy want, got;
	struct hostent *he;
	int herr, same;

	/* libc's gethostbyaddr is what sockc_gethostbyaddr must match. */
	/* cppcheck-suppress gethostbyaddrCalled */
	REQUIRE(host_copy(gethostbyaddr(&lo4, sizeof lo4, AF_INET), &want),
		"libc's gethostbyaddr(127.0.0.1) has a name (\"%s\")",
		want.name);
	he = sockc_gethostbyaddr(c, "127.0.0.1");
	REQUIRE(he != NULL, "sockc_gethostbyaddr(127.0.0.1) (%s, %s)",
		t_errname(errno), sockc_error_message(c));
	host_copy(he, &got);
	CHECK(strcmp(got.name, want.name) == 0,
	      "  ... h_name \"%s\" (libc \"%s\")", got.name, want.name);
	same = got.naliases == want.naliases;
	for (int i = 0; i < got.naliases; i++)
		same &= alias_in(&want, got.aliases[i]);
	CHECK(same, "  ... %d aliases, the same as libc's %d", got.naliases,
	      want.naliases);
	CHECK(got.addrtype == AF_INET && got.length == 4 &&
		  got.addrtype == want.addrtype && got.length == want.length,
	      "  ... h_addrtype AF_INET, h_length 4 (%d, %d)", got.addrtype,
	      got.length);
	same = got.naddrs == want.naddrs && got.naddrs > 0;
	for (int i = 0; same && i < got.naddrs; i++)
		same &= memcmp(got.addrs[i], want.addrs[i], 4) == 0;
	CHECK(same && memcmp(got.addrs[0], &lo4, 4) == 0,
	      "  ... h_addr_list as libc's (%d addresses)", got.naddrs);
	sockc_freehostent(he);
	sockc_freehostent(NULL);
	CHECK(1, "sockc_freehostent(NULL) returns");

	/* ::1: whatever libc says, a name or an h_errno. */
	errno = 0;
	/* cppcheck-suppress gethostbyaddrCalled */
	if (host_copy(gethostbyaddr(&in6addr_loopback, 16, AF_INET6), &want)) {
		he = sockc_gethostbyaddr(c, "::1");
		host_copy(he, &got);
		CHECK(he != NULL && strcmp(got.name, want.name) == 0 &&
			  got.addrtype == AF_INET6 && got.length == 16,
		      "sockc_gethostbyaddr(::1) -> \"%s\" as libc", got.name);
		sockc_freehostent(he);
	} else {
		herr = h_errno;
		he = sockc_gethostbyaddr(c, "::1");
		CHECK(he == NULL && sockc_herror(c) == herr,
		      "sockc_gethostbyaddr(::1) -> NULL, sockc_herror %d as "
		      "libc's h_errno %d",
		      sockc_herror(c), herr);
		CHECK(sockc_error_name(c) &&
			  strcmp(sockc_error_name(c), "io.sockd.HError") == 0 &&
			  sockc_error_message(c)[0] != '\0',
		      "  ... io.sockd.HError with a message (\"%s\")",
		      sockc_error_message(c));
		CHECK(sockc_gai_error(c) == 0, "  ... sockc_gai_error 0");
		sockc_freehostent(he);
	}
	he = sockc_gethostbyaddr(c, "127.0.0.1");
	CHECK(he != NULL && sockc_herror(c) == 0 && sockc_error_name(c) == NULL,
	      "a later success clears sockc_herror");
	sockc_freehostent(he);
}

int
main(int argc, char **argv)
{
	const char *path = t_setup(argc, argv);
	struct sockc *c = t_open(path);

	test_getaddrinfo(c);
	test_getnameinfo(c);
	test_gethostbyaddr(c);
	sockc_free(c);
	return t_done();
}
