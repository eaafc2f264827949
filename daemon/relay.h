/*
 * Attach: once a connection is upgraded, it is a raw byte pipe to one
 * handle's socket, both ways, with splice(2) through a pipe per direction
 * (zero copy) or, where the kernel cannot splice, a plain copy.
 */
#ifndef SOCKD_RELAY_H
#define SOCKD_RELAY_H

struct conn;
struct handle;
struct relay;

/* What a relay is counted as against its uid's memory: two pipes of the
 * size it asks for (or two copy buffers, which are smaller). */
#define RELAY_PIPE_SIZE (256 * 1024)
#define RELAY_COST	(2 * RELAY_PIPE_SIZE)

/*
 * Make conn a relay to h (both then point at it: the connection reads no
 * more calls, the handle takes no other calls but Close). 0 or -ENOMEM.
 */
int relay_new(struct conn *conn, struct handle *h);
/*
 * Start moving bytes, once the reply to Attach is out. Bytes the client
 * sent behind the upgrade call and that were already read go to the
 * socket first. When both directions have ended (each end's EOF passed on
 * as a shutdown of the other's writing), or the client hangs up, or a
 * write fails, the connection is closed, and so is the handle unless it
 * is persistent.
 */
void relay_start(struct relay *r);
/* Stop watching both ends (the connection is being killed). */
void relay_stop(struct relay *r);
/* Free what relay_start made. */
void relay_free(struct relay *r);
/* h is being closed elsewhere: stop using it and end the connection. */
void relay_handle_gone(struct relay *r);

#endif
