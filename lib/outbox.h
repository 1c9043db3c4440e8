/*
 * outbox — mail reglo writes itself, stored in PostgreSQL and submitted by SMTP (smtp.c)
 * with retries: nothing is lost when the MTA is away. Several processes may drain one
 * outbox; each row is claimed with FOR UPDATE SKIP LOCKED and sent by one of them.
 */
#ifndef REGLO_OUTBOX_H
#define REGLO_OUTBOX_H

#include <glib.h>
#include <libpq-fe.h>

#include "smtp.h"

/*
 * An outbox row's recipients and message as the text parameters of a statement, for a
 * statement that queues a message itself (in the same statement as the change the message
 * tells of; outbox_add is the plain case): rcpts separated by spaces, message in bytea's
 * escape text form. Both g_malloc'ed or PQ-allocated: outbox_text_clear frees them.
 */
typedef struct {
    char *rcpts;
    char *message;
} outbox_text;
gboolean outbox_text_init(PGconn *db, const char *const *rcpts, const char *msg, size_t len,
                          outbox_text *out, char **err);
void outbox_text_clear(outbox_text *t);

/* rcpts: NULL-terminated. Returns the row id, or 0 with *err. */
gint64 outbox_add(PGconn *db, const char *from, const char *const *rcpts, const char *msg,
                  size_t len, const char *purpose, gint64 invoice_id, char **err);

/*
 * Submit up to max due messages to smtp_url over smtp (one connection, see smtp.h), in one
 * transaction: each row is marked sent only once the MTA accepted it, a refused one is put
 * back for a later try (backoff) or given up; a temporary failure ends the batch
 * (*deferred). Returns the rows handled, 0 when nothing is due, -1 on a database error
 * (*err: nothing of the batch is recorded, its rows are tried again).
 */
int outbox_send_batch(PGconn *db, smtp_session *smtp, const char *smtp_url, int max,
                      gboolean *deferred, char **err);

/*
 * A thread that submits what is due, then waits a little, until stopped; once an hour it
 * also deletes the rows sent over 30 days ago. The daemons give
 * it their way to a database connection: get returns a connection and the SMTP URL to use
 * (g_malloc'ed, the caller's), put gives the connection back. A database outage is logged
 * once, and again when it is over.
 */
typedef PGconn *(*outbox_db_get)(void *arg, char **smtp_url, char **err);
typedef void (*outbox_db_put)(void *arg, PGconn *db, gboolean broken);
/* Work that queues mail, done with the pass's connection before it sends (the gateway's
 * sign-in requests); FALSE with *err on a database error. */
typedef gboolean (*outbox_db_fill)(void *arg, PGconn *db, char **err);
typedef struct outbox_sender outbox_sender;

/* fill may be NULL. */
outbox_sender *outbox_sender_start(outbox_db_get get, outbox_db_put put, outbox_db_fill fill,
                                   void *arg);
/* Mail was just queued that someone waits for (a sign-in link): the senders of this
 * process look at the outbox now rather than at their next pass. */
void outbox_wake(void);

/* Stops and joins the thread, frees the sender. */
void outbox_sender_stop(outbox_sender *sender);

#endif
