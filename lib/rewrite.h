/*
 * rewrite — the decision and the rewrite for one message of an enrolled artisan
 * (DESIGN.md flow steps 2 to 6): marker, safety, subject tags, extraction, IBAN check,
 * record, link, payment block. Shared by reglo-milter and `reglo rewrite`, so the CLI shows
 * exactly what the milter delivers.
 *
 * The message is edited in place (headers and body); the caller owns it and compares it
 * with what it had. A rewrite_result owns its strings (rewrite_result_clear).
 */
#ifndef REGLO_REWRITE_H
#define REGLO_REWRITE_H

#include <gmime/gmime.h>
#include <libpq-fe.h>

#include "artisan.h"
#include "conf.h"
#include "invoice.h"
#include "token.h"

typedef struct rewrite_ctx {
    const reglo_conf *conf;
    const keyring *keys;
    PGconn *db;
    gboolean dry_run;              /* record in a transaction that is rolled back, send nothing */
    const artisan *sender;
    const char *queue_id;          /* for the log line */
    const char *const *rcpts;      /* envelope recipients, NULL-terminated (may be NULL) */
} rewrite_ctx;

typedef enum {
    REWRITE_PASS,                  /* deliver as received */
    REWRITE_CHANGED,               /* deliver the edited message */
    REWRITE_QUARANTINE,            /* edited, and hold it for the operator */
    REWRITE_ERROR,                 /* our failure: the caller applies milter.on_error */
} rewrite_action;

typedef struct rewrite_result {
    rewrite_action action;
    gboolean body_changed;
    char *decision;                /* short word for the log: "link", "not-invoice"... */
    invoice_data inv;
    gint64 invoice_id;
    char *link;
    char *error;                   /* with REWRITE_ERROR */
} rewrite_result;

/* Name of the marker header that proves reglo already processed a message. */
#define REWRITE_MARKER_HEADER "X-Reglo"

void rewrite_message(const rewrite_ctx *ctx, GMimeMessage *msg, rewrite_result *res);
void rewrite_result_clear(rewrite_result *res);
const char *rewrite_action_name(rewrite_action action);

#endif
