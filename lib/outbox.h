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

#endif
