/*
 * payment — checkouts and settlement; see payment.h.
 */
#include "payment.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "artisan.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "notify.h"
#include "outbox.h"
#include "record.h"
#include "sqltext.h"

char *payment_reusable_checkout(PGconn *db, gint64 invoice_id, const char *psp, char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, invoice_id);
    const char *params[] = { id, psp };
    PGresult *res = db_exec(db, SQL_PAYMENT_REUSABLE, 2, params, err);
    char *url = res && PQntuples(res) == 1 ? g_strdup(db_str(res, 0, 0)) : NULL;
    PQclear(res);
    return url;
}

gboolean payment_record_checkout(PGconn *db, const record *inv, const char *psp,
                                 const psp_checkout *checkout, char **err)
{
    char id[24], amount[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, inv->id);
    g_snprintf(amount, sizeof amount, "%" G_GINT64_FORMAT, inv->amount_due_minor);
    const char *params[] = { id, psp, checkout->ref, checkout->url, amount, inv->currency };
    return db_run(db, SQL_PAYMENT_INSERT, 6, params, err) &&
           record_event_take(db, inv->id, "payment_started",
                             json_pack("{s:s, s:s}", "psp", psp, "ref", checkout->ref), err);
}

/* The locked payment row and its invoice, with what the "paid" notice says (column order
 * of SQL_PAYMENT_LOCK, after its "fresh" column; the strings point into res). */
typedef struct locked {
    PGresult *res;
    const char *payment_id;
    gint64 invoice_id;
    const char *payment_state;
    const char *invoice_status;
    gint64 amount_due;
    char currency[4];
    gint64 artisan_id;
    const char *number, *client_email, *message_id;
    const char *artisan_email, *artisan_name, *artisan_locale;
    const char *now;            /* the transaction's time, as the notice shows paid_at */
} locked;

/*
 * The transaction begun, the payment and invoice locked and the event's idempotency key
 * stored: one statement, sent with the BEGIN. *fresh: the event is new (else a replay:
 * nothing to do); *found: the payment is ours (then *out holds it, and out->res is the
 * caller's).
 */
static gboolean lock_payment(PGconn *db, const char *psp, const char *ref, const char *event_id,
                             locked *out, gboolean *fresh, gboolean *found, char **err)
{
    const char *params[] = { psp, ref, event_id };
    PGresult *res = db_begin_exec(db, SQL_PAYMENT_LOCK, 3, params, err);
    if (!res)
        return FALSE;
    *fresh = db_bool(res, 0, 0);
    *found = !db_null(res, 0, 1);
    if (!*found) {
        PQclear(res);
        return TRUE;
    }
    *out = (locked) {
        .res = res, .payment_id = db_str(res, 0, 1), .invoice_id = db_int(res, 0, 2),
        .payment_state = db_str(res, 0, 3), .invoice_status = db_str(res, 0, 4),
        .amount_due = db_int(res, 0, 5), .artisan_id = db_int(res, 0, 7),
        .number = db_str(res, 0, 8), .client_email = db_str(res, 0, 9),
        .message_id = db_str(res, 0, 10), .artisan_email = db_str(res, 0, 11),
        .artisan_name = db_str(res, 0, 12), .artisan_locale = db_str(res, 0, 13),
        .now = db_str(res, 0, 14),
    };
    g_strlcpy(out->currency, db_str(res, 0, 6), sizeof out->currency);
    return TRUE;
}

static gboolean set_payment_state(PGconn *db, const locked *l, const char *state,
                                  const psp_payment *p, char **err)
{
    char paid[24];
    g_snprintf(paid, sizeof paid, "%" G_GINT64_FORMAT, p->amount_minor);
    const char *params[] = { l->payment_id, state, paid, p->currency,
                             p->payer_name ? p->payer_name : "" };
    return db_run(db, SQL_PAYMENT_SET_STATE, 5, params, err);
}

/* The artisan learns of the payment by email, in the invoice's thread: the notice,
 * composed (g_free), or NULL with *err. */
static char *paid_notice(const reglo_conf *conf, tmpl_set *templates, const locked *l,
                         const psp_payment *p, size_t *len, char **err)
{
    artisan to = { .email = (char *) l->artisan_email, .name = (char *) l->artisan_name,
                   .locale = (char *) l->artisan_locale };
    char *amount = money_format(p->amount_minor, p->currency, l->artisan_locale);
    char *link = g_strdup_printf("%s/factures/%" G_GINT64_FORMAT, conf->public_url,
                                 l->invoice_id);
    const char *payer = p->payer_name && *p->payer_name ? p->payer_name : l->client_email;
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "artisan_name", l->artisan_name,
                            "number", l->number, "amount", amount, "paid_at", l->now,
                            "payer", payer, "invoice_link", link);
    char *msg = notify_compose_with(templates, conf, &to, "paid", ctx,
                                    *l->message_id ? l->message_id : NULL, len, err);
    json_decref(ctx);
    g_free(link);
    g_free(amount);
    return msg;
}

/* A JSON object as text for a statement's parameter (g_free). */
static char *detail_text(json_t *detail)
{
    char *text = json_dumps(detail, JSON_COMPACT);
    char *copy = g_strdup(text ? text : "{}");
    free(text);
    json_decref(detail);
    return copy;
}

/* The payment paid, the invoice Payée with its fee, reminders, timeline entry, the event's
 * outcome and, when the invoice moved, the artisan's notice queued, in one statement
 * (SQL_PAYMENT_SETTLE_PAID: a round trip each cost more than the work), sent with the
 * COMMIT: nothing else of the transaction comes after it. The notice is composed first: it
 * is queued in the same transaction or not at all. *outcome_done: the event's outcome is
 * recorded. */
static settle_outcome settle_paid(PGconn *db, const reglo_conf *conf, tmpl_set *templates,
                                  const char *psp, const char *event_id, const locked *l,
                                  const psp_payment *p, gboolean *outcome_done, char **err)
{
    size_t len = 0;
    char *msg = paid_notice(conf, templates, l, p, &len, err);
    const char *rcpts[] = { l->artisan_email, NULL };
    outbox_text notice;
    gboolean queued = msg && outbox_text_init(db, rcpts, msg, len, &notice, err);
    g_free(msg);
    if (!queued)
        return SETTLE_ERROR;
    char invoice[24], paid[24];
    g_snprintf(invoice, sizeof invoice, "%" G_GINT64_FORMAT, l->invoice_id);
    g_snprintf(paid, sizeof paid, "%" G_GINT64_FORMAT, p->amount_minor);
    char *paid_detail = detail_text(json_pack("{s:s, s:s, s:I, s:s}", "psp", psp, "ref", p->ref,
                                              "amount_minor", (json_int_t) p->amount_minor,
                                              "currency", p->currency));
    /* already paid (a second payment) or cancelled: recorded, not billed */
    char *extra_detail = detail_text(json_pack("{s:s, s:s, s:I}", "psp", psp, "ref", p->ref,
                                               "amount_minor", (json_int_t) p->amount_minor));
    const char *params[] = { l->payment_id, paid, p->currency, p->payer_name ? p->payer_name : "",
                             invoice, paid_detail, extra_detail, psp, event_id,
                             settle_outcome_name(SETTLE_PAID),
                             settle_outcome_name(SETTLE_NO_CHANGE), conf->notify_from,
                             notice.rcpts, notice.message, "paid" };
    PGresult *res = db_exec_commit(db, SQL_PAYMENT_SETTLE_PAID, G_N_ELEMENTS(params), params,
                                   err);
    g_free(paid_detail);
    g_free(extra_detail);
    outbox_text_clear(&notice);
    if (!res)
        return SETTLE_ERROR;
    gboolean moved = db_bool(res, 0, 0);
    PQclear(res);
    *outcome_done = TRUE;
    return moved ? SETTLE_PAID : SETTLE_NO_CHANGE;
}

/* Over- or under-payment, another currency, another invoice: shown, never "Payée". */
static settle_outcome settle_mismatch(PGconn *db, const char *psp, const locked *l,
                                      const psp_payment *p, const char *why, char **err)
{
    log_warn("payment %s/%s for invoice %" G_GINT64_FORMAT ": %s (paid %" G_GINT64_FORMAT
             " %s, due %" G_GINT64_FORMAT " %s)", psp, p->ref, l->invoice_id, why,
             p->amount_minor, p->currency, l->amount_due, l->currency);
    json_t *detail = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:s}", "psp", psp, "ref", p->ref,
                               "why", why, "paid_minor", (json_int_t) p->amount_minor,
                               "paid_currency", p->currency, "due_minor",
                               (json_int_t) l->amount_due, "due_currency", l->currency);
    return set_payment_state(db, l, "mismatch", p, err) &&
           record_event_take(db, l->invoice_id, "payment_mismatch", detail, err)
           ? SETTLE_MISMATCH : SETTLE_ERROR;
}

/* Authorised, money not yet settled (pay-by-bank, SEPA): "En cours de paiement". */
static settle_outcome settle_pending(PGconn *db, const locked *l, const psp_payment *p, char **err)
{
    if (strcmp(l->payment_state, "open") != 0)
        return SETTLE_NO_CHANGE;
    char invoice[24];
    g_snprintf(invoice, sizeof invoice, "%" G_GINT64_FORMAT, l->invoice_id);
    return set_payment_state(db, l, "pending", p, err) &&
           db_run(db, SQL_INVOICE_MARK_PENDING, 1, (const char *[]) { invoice }, err)
           ? SETTLE_PENDING : SETTLE_ERROR;
}

/* A failed attempt is recorded on the timeline; a "pending" invoice becomes payable again. */
static settle_outcome settle_failed(PGconn *db, const char *psp, const locked *l,
                                    const psp_payment *p, char **err)
{
    static const char *const names[] = {
        [PSP_STATE_FAILED] = "failed", [PSP_STATE_CANCELED] = "canceled",
        [PSP_STATE_EXPIRED] = "expired",
    };
    if (strcmp(l->payment_state, "open") != 0 && strcmp(l->payment_state, "pending") != 0)
        return SETTLE_NO_CHANGE;
    const char *state = names[p->state];
    char invoice[24];
    g_snprintf(invoice, sizeof invoice, "%" G_GINT64_FORMAT, l->invoice_id);
    return set_payment_state(db, l, state, p, err) &&
           db_run(db, SQL_INVOICE_UNPEND, 1, (const char *[]) { invoice }, err) &&
           record_event_take(db, l->invoice_id, "payment_failed",
                             json_pack("{s:s, s:s, s:s}", "psp", psp, "ref", p->ref, "state",
                                       state), err)
           ? SETTLE_FAILED : SETTLE_ERROR;
}

static const char *mismatch_reason(const locked *l, const psp_payment *p)
{
    if (p->invoice_id != l->invoice_id)
        return "invoice reference differs";
    if (strcmp(p->currency, l->currency) != 0)
        return "currency differs";
    if (p->amount_minor != l->amount_due)
        return p->amount_minor > l->amount_due ? "overpaid" : "underpaid";
    return NULL;
}

static settle_outcome settle_locked(PGconn *db, const reglo_conf *conf, tmpl_set *templates,
                                    const char *psp, const char *event_id, const locked *l,
                                    const psp_payment *p, gboolean *outcome_done, char **err)
{
    const char *why;
    switch (p->state) {
    case PSP_STATE_PAID:
        if (strcmp(l->payment_state, "paid") == 0 || strcmp(l->payment_state, "mismatch") == 0)
            return SETTLE_NO_CHANGE;
        why = mismatch_reason(l, p);
        return why ? settle_mismatch(db, psp, l, p, why, err)
                   : settle_paid(db, conf, templates, psp, event_id, l, p, outcome_done, err);
    case PSP_STATE_PENDING:
        return settle_pending(db, l, p, err);
    case PSP_STATE_FAILED:
    case PSP_STATE_CANCELED:
    case PSP_STATE_EXPIRED:
        return settle_failed(db, psp, l, p, err);
    case PSP_STATE_OPEN:
        break;
    }
    return SETTLE_NO_CHANGE;
}

static settle_outcome settle_in_transaction(PGconn *db, const reglo_conf *conf,
                                            tmpl_set *templates, const char *psp,
                                            const char *event_id, const psp_payment *p,
                                            char **err)
{
    gboolean fresh = FALSE, found = FALSE, outcome_done = FALSE;
    locked l = { 0 };
    if (!lock_payment(db, psp, p->ref, event_id, &l, &fresh, &found, err))
        return SETTLE_ERROR;
    settle_outcome out = SETTLE_REPLAY;
    if (fresh)
        out = found ? settle_locked(db, conf, templates, psp, event_id, &l, p, &outcome_done,
                                    err)
                    : SETTLE_UNKNOWN;
    if (out != SETTLE_ERROR && out != SETTLE_REPLAY && !outcome_done &&
        !db_run(db, SQL_PSP_EVENT_OUTCOME, 3,
                (const char *[]) { psp, event_id, settle_outcome_name(out) }, err))
        out = SETTLE_ERROR;
    PQclear(l.res);
    return out;
}

/* The transaction begins with the lock; a paid settlement commits with its statement,
 * the other outcomes here. */
settle_outcome payment_settle(PGconn *db, const reglo_conf *conf, tmpl_set *templates,
                              const char *psp, const char *event_id, const psp_payment *p,
                              char **err)
{
    settle_outcome out = settle_in_transaction(db, conf, templates, psp, event_id, p, err);
    if (out == SETTLE_ERROR || out == SETTLE_REPLAY)
        db_rollback(db);
    else if (PQtransactionStatus(db) == PQTRANS_INTRANS && !db_commit(db, err))
        out = SETTLE_ERROR;
    return out;
}

const char *settle_outcome_name(settle_outcome o)
{
    switch (o) {
    case SETTLE_REPLAY:    return "replay";
    case SETTLE_UNKNOWN:   return "unknown-payment";
    case SETTLE_NO_CHANGE: return "no-change";
    case SETTLE_PENDING:   return "pending";
    case SETTLE_FAILED:    return "failed";
    case SETTLE_PAID:      return "paid";
    case SETTLE_MISMATCH:  return "mismatch";
    case SETTLE_ERROR:     return "error";
    }
    return "?";
}
