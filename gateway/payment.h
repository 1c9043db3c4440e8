/*
 * payment — the invoice's payments in the database: checkouts created at a PSP, and the
 * settlement of a verified, re-fetched PSP payment (DESIGN.md flow step 8). Status only
 * moves forward: sent -> viewed -> pending -> paid. On paid: paid_at and amount, one fee
 * row, pending reminders cancelled, timeline entry, the artisan's notification queued,
 * all in one transaction.
 */
#ifndef REGLO_PAYMENT_H
#define REGLO_PAYMENT_H

#include <libpq-fe.h>

#include "conf.h"
#include "psp/psp.h"
#include "record.h"
#include "tmpl.h"

/* A checkout still usable for this invoice at this PSP (created in the last 20 minutes and
 * still open), so a second click reuses it: its URL (g_malloc'ed), or NULL. */
char *payment_reusable_checkout(PGconn *db, gint64 invoice_id, const char *psp, char **err);

/* Record a checkout the PSP created; timeline entry "payment_started". */
gboolean payment_record_checkout(PGconn *db, const record *inv, const char *psp,
                                 const psp_checkout *checkout, char **err);

typedef enum {
    SETTLE_REPLAY,            /* this callback event was handled before: nothing done */
    SETTLE_UNKNOWN,           /* no payment of ours with that reference: ignore */
    SETTLE_NO_CHANGE,         /* nothing to move (replayed state, backwards move) */
    SETTLE_PENDING,           /* invoice now "pending" */
    SETTLE_FAILED,            /* payment failed/cancelled/expired: recorded, invoice unchanged */
    SETTLE_PAID,              /* invoice now "paid", fee recorded, artisan told */
    SETTLE_MISMATCH,          /* amount, currency or invoice reference differ: recorded, not paid */
    SETTLE_ERROR,             /* database error (*err) */
} settle_outcome;

/*
 * Apply what the PSP says about one of our payments (fetched from the PSP, never taken
 * from the callback body). event_id is the callback's idempotency key, stored in the same
 * transaction: a replay, or a retry after a failure, can neither double nor lose a payment.
 * The artisan's notice is rendered with templates (the snapshot's set).
 */
settle_outcome payment_settle(PGconn *db, const reglo_conf *conf, tmpl_set *templates,
                              const char *psp, const char *event_id, const psp_payment *p,
                              char **err);
const char *settle_outcome_name(settle_outcome o);

#endif
