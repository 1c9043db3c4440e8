/*
 * record — an invoice as recorded, with its artisan's public details: what the payment
 * page, the PSP drivers and the callbacks need, looked up by link token hash or by id; and
 * the events of its timeline.
 * A record owns its strings (record_free).
 */
#ifndef REGLO_RECORD_H
#define REGLO_RECORD_H

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>

typedef struct record {
    gint64 id;
    char *number;
    char *status;             /* sent, viewed, pending, paid, cancelled, undelivered */
    gint64 amount_due_minor;
    char currency[4];
    char *issue_date;         /* YYYY-MM-DD or "" */
    char *due_date;
    char *client_email;       /* "" when unknown */
    char *message_id;         /* without <>, "" when unknown */
    char *key_id;             /* link key that made its token */
    char *paid_at;            /* ISO 8601 UTC or "" */
    gint64 paid_minor;
    char *subject;
    gboolean viewed;
    gint64 artisan_id;
    char *artisan_email;
    char *artisan_name;
    char *artisan_iban;       /* "" when none */
    char *artisan_bic;
    char *artisan_locale;
    char *artisan_psp;        /* "" for the configured default */
} record;

typedef enum { RECORD_FOUND, RECORD_UNKNOWN, RECORD_DB_ERROR } record_lookup_result;

record_lookup_result record_by_token(PGconn *db, const char *token, record **out, char **err);
record_lookup_result record_by_id(PGconn *db, gint64 id, record **out, char **err);
void record_free(record *r);

/* Put one event on an invoice's timeline: kind ("paid", "reminders_paused"...) and a JSON
 * object of details (borrowed; NULL for none). FALSE with *err on a database error. */
gboolean record_event(PGconn *db, gint64 invoice_id, const char *kind, json_t *detail,
                      char **err);
/* The same with the details taken (a json_pack() written in the call). */
gboolean record_event_take(PGconn *db, gint64 invoice_id, const char *kind, json_t *detail,
                           char **err);

#endif
