/*
 * invoice_act — what an artisan does to one of their invoices, from a reply in its thread
 * (#payée, #stop, #reprendre: reglo-milter) or from the portal: mark it paid by other
 * means (no payment, no fee), pause or resume its reminders, cancel it. Each action writes
 * its timeline event; marking paid and cancelling also cancel the reminders still pending.
 *
 * Runs in the caller's transaction, if any. The detail object is borrowed.
 */
#ifndef REGLO_INVOICE_ACT_H
#define REGLO_INVOICE_ACT_H

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>

typedef enum {
    INVOICE_ACT_PAID,        /* paid by other means: cash, cheque, transfer */
    INVOICE_ACT_PAUSE,
    INVOICE_ACT_RESUME,
    INVOICE_ACT_CANCEL,
} invoice_act;

/* "paid", "pause", "resume", "cancel" (the portal's form values) into *act. */
gboolean invoice_act_parse(const char *name, invoice_act *act);

/*
 * Apply act; *changed (may be NULL) says whether the invoice changed: an invoice already
 * paid or cancelled stays as it is, and its event then carries "ignored": true. detail
 * says who acted ({"by": "artisan", "message_id": ...}). FALSE with *err on a database error.
 */
gboolean invoice_act_apply(PGconn *db, gint64 invoice_id, invoice_act act, json_t *detail,
                           gboolean *changed, char **err);

#endif
