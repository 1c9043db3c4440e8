/*
 * outbox — mail reglo writes itself, stored in PostgreSQL and submitted by SMTP (smtp.c)
 * with retries: nothing is lost when the MTA is away. Several processes may drain one
 * outbox; each row is claimed with FOR UPDATE SKIP LOCKED and sent by one of them.
 */
#ifndef REGLO_OUTBOX_H
#define REGLO_OUTBOX_H

#include <glib.h>
#include <libpq-fe.h>

/* rcpts: NULL-terminated. Returns the row id, or 0 with *err. */
gint64 outbox_add(PGconn *db, const char *from, const char *const *rcpts, const char *msg,
                  size_t len, const char *purpose, gint64 invoice_id, char **err);

/*
 * Submit one due message to smtp_url. Returns 1 when a row was handled (sent, or put back
 * for a later try), 0 when nothing is due, -1 on a database error (*err).
 */
int outbox_send_one(PGconn *db, const char *smtp_url, char **err);

/*
 * A thread that submits what is due, then waits a little, until stopped. The daemons give
 * it their way to a database connection: get returns a connection and the SMTP URL to use
 * (g_malloc'ed, the caller's), put gives the connection back. A database outage is logged
 * once, and again when it is over.
 */
typedef PGconn *(*outbox_db_get)(void *arg, char **smtp_url, char **err);
typedef void (*outbox_db_put)(void *arg, PGconn *db, gboolean broken);
typedef struct outbox_sender outbox_sender;

outbox_sender *outbox_sender_start(outbox_db_get get, outbox_db_put put, void *arg);
/* Mail was just queued that someone waits for (a sign-in link): the senders of this
 * process look at the outbox now rather than at their next pass. */
void outbox_wake(void);

/* Stops and joins the thread, frees the sender. */
void outbox_sender_stop(outbox_sender *sender);

#endif
