/*
 * Fuzz target: one client connection to the daemon (daemon/conn.c,
 * method.c, call.c), the input being all the bytes the client sends
 * before it shuts down its writing. The connection is a real socket pair
 * served from the daemon's event loop, made with the credentials of a
 * uid that no policy names (nobody, when run as root; else the caller),
 * so that nothing past the dispatcher's checks runs but introspection:
 * no sockets, no name lookups.
 *
 * Properties: the daemon answers within a bounded number of loop turns
 * and closes the connection; its output is whole messages, each a
 * well-formed reply; there is exactly one reply per call that is not
 * oneway, in order, each the one the dispatcher's order of checks gives
 * (unknown interface or method, missing upgrade, invalid parameter,
 * policy refusal); a frame that is not a call, or over the size limit,
 * gets a ProtocolError, which is the last reply; and no file descriptor
 * is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "conn.h"
#include "fuzz.h"
#include "method.h"
#include "sockd.h"
#include "varlink.h"

FUZZ_TARGET("conn");

#define FUZZ_UID   65534 /* nobody: no policy rule names it */
#define FUZZ_TURNS 10000 /* loop turns before the daemon is hung */

/* A connected pair, sv[0] the daemon's end (non-blocking, as accepted);
 * its peer credentials are nobody's when we are root. */
static void
fuzz_socketpair(int sv[2])
{
	bool root = geteuid() == 0;

	if (root)
		FUZZ_CHECK(setegid(FUZZ_UID) == 0 && seteuid(FUZZ_UID) == 0);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	if (root)
		FUZZ_CHECK(seteuid(0) == 0 && setegid(0) == 0);
	FUZZ_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	(void)signal(SIGPIPE, SIG_IGN); /* as main() does */
	sockd_base = event_base_new();
	FUZZ_CHECK(sockd_base != NULL);
	/* Small limits, so that inputs reach them: the output limit below
	 * what one flush writes (regress/conn/stall-after-flush). */
	cfg.max_message = SOCKD_MIN_MESSAGE;
	cfg.max_output = SOCKD_MIN_MESSAGE;
	return 0;
}

/* The error a call should get from a uid with no rule; "" for none (a
 * success), NULL for a reply this target does not predict. */
static const char *
fuzz_expect(const struct vl_call *vc)
{
	const struct method *m;
	const char *field;
	int err;

	m = method_find(vc->method, &err);
	if (m == NULL)
		return err == -ENOENT ? "org.varlink.service.InterfaceNotFound"
				      : "org.varlink.service.MethodNotFound";
	if ((m->flags & M_UPGRADE) && !(vc->flags & VL_UPGRADE))
		return "org.varlink.service.ExpectedUpgrade";
	if (vl_params_check(vc->params, m->params, &field) < 0)
		return "org.varlink.service.InvalidParameter";
	if (!(m->flags & M_OPEN))
		return "io.sockd.OSError";
	return NULL; /* introspection: a description or an error */
}

/* Run the loop until the connection is gone, writing the input and
 * reading the output meanwhile. Returns the output, its length in
 * *ret_len. */
static char *
fuzz_serve(int peer, const uint8_t *data, size_t size, size_t *ret_len)
{
	size_t sent = 0, len = 0, cap = 65536;
	bool eof = false, shut = false;
	char *out = malloc(cap);
	int turns;

	FUZZ_CHECK(out != NULL);
	for (turns = 0; turns < FUZZ_TURNS && !(eof && conn_count == 0);
	     turns++) {
		ssize_t n;

		if (sent < size) {
			n = send(peer, data + sent, size - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno == EPIPE)
				sent = size; /* the daemon closed first */
		}
		if (sent == size && !shut) {
			shutdown(peer, SHUT_WR);
			shut = true;
		}
		event_base_loop(sockd_base, EVLOOP_NONBLOCK);
		for (;;) {
			if (cap - len < 4096) {
				char *grown = realloc(out, cap * 2);

				FUZZ_CHECK(grown != NULL);
				out = grown;
				cap *= 2;
			}
			n = recv(peer, out + len, cap - len, MSG_DONTWAIT);
			if (n <= 0) {
				eof = eof || n == 0;
				break;
			}
			len += (size_t)n;
		}
	}
	/* The daemon answers and closes, however the client behaved. */
	FUZZ_CHECK(turns < FUZZ_TURNS);
	*ret_len = len;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *p, *end;
	bool protocol_error = false;
	int sv[2], nreplies = 0;
	size_t len, off = 0;
	char *out;

	FUZZ_CHECK(conn_count == 0);
	fuzz_socketpair(sv);
	FUZZ_CHECK(conn_new(sv[0]) == 0);
	FUZZ_CHECK(conn_count == 1);
	FUZZ_CHECK(TAILQ_FIRST(&conns)->uid != 0);
	out = fuzz_serve(sv[1], data, size, &len);
	/* The daemon closed its end (and nothing took the number since). */
	FUZZ_CHECK(fcntl(sv[0], F_GETFD) < 0 && errno == EBADF);
	close(sv[1]);

	/* Whole messages only. */
	FUZZ_CHECK(len == 0 || out[len - 1] == '\0');

	/* Walk the input's frames and the replies side by side. */
	p = in;
	end = in + size;
	while (!protocol_error) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *expect = NULL, *error, *why;
		size_t mlen = nul ? (size_t)(nul - p) : (size_t)(end - p);
		json_object *root, *params;
		struct vl_call vc;
		bool cont, reply;

		/* In this order: a frame over the limit is refused before
		 * it ends. NOLINTNEXTLINE(bugprone-branch-clone) */
		if (mlen > cfg.max_message) {
			expect = "io.sockd.ProtocolError";
			reply = true;
		} else if (nul == NULL) {
			break; /* an unfinished last frame is dropped */
		} else if (vl_call_parse(p, mlen, &vc, &why) < 0) {
			expect = "io.sockd.ProtocolError";
			reply = true;
		} else {
			expect = fuzz_expect(&vc);
			reply = !(vc.flags & VL_ONEWAY);
			json_object_put(vc.root);
		}
		protocol_error = expect != NULL &&
				 strcmp(expect, "io.sockd.ProtocolError") == 0;
		p = nul ? nul + 1 : end;
		if (!reply)
			continue;
		/* The next reply answers this frame. */
		FUZZ_CHECK(off < len);
		FUZZ_CHECK(vl_reply_parse(out + off, strlen(out + off), &root,
					  &error, &params, &cont) == 0);
		FUZZ_CHECK(!cont);
		if (expect != NULL)
			FUZZ_CHECK(error != NULL && strcmp(error, expect) == 0);
		json_object_put(root);
		off += strlen(out + off) + 1;
		nreplies++;
	}
	/* Nothing after the last answer. */
	FUZZ_CHECK(off == len);
	free(out);
	FUZZ_CHECK(conn_count == 0);
	(void)nreplies;
	return 0;
}
