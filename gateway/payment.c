/*
 * payment — checkouts and settlement; see payment.h.
 */
#include "payment.h"

#include <string.h>

#include <jansson.h>

#include "artisan.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "notify.h"
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

static gboolean add_event(PGconn *db, gint64 invoice_id, const char *kind, json_t *detail,
                          char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, invoice_id);
    char *text = json_dumps(detail, JSON_COMPACT);
    const char *params[] = { id, kind, text };
    gboolean ok = db_run(db, SQL_INVOICE_EVENT_ADD, 3, params, err);
    free(text);
    json_decref(detail);
    return ok;
}

gboolean payment_record_checkout(PGconn *db, const record *inv, const char *psp,
                                 const psp_checkout *checkout, char **err)
{
    char id[24], amount[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, inv->id);
    g_snprintf(amount, sizeof amount, "%" G_GINT64_FORMAT, inv->amount_due_minor);
    const char *params[] = { id, psp, checkout->ref, checkout->url, amount, inv->currency };
    return db_run(db, SQL_PAYMENT_INSERT, 6, params, err) &&
           add_event(db, inv->id, "payment_started",
                     json_pack("{s:s, s:s}", "psp", psp, "ref", checkout->ref), err);
}

/* The locked payment row and its invoice (column order of SQL_PAYMENT_LOCK). */
typedef struct locked {
    char payment_id[24];
    gint64 invoice_id;
    char *payment_state;
    char *invoice_status;
    gint64 amount_due;
    char currency[4];
    gint64 artisan_id;
} locked;

static gboolean lock_payment(PGconn *db, const char *psp, const char *ref, locked *out,
                             gboolean *found, char **err)
{
    const char *params[] = { psp, ref };
    PGresult *res = db_exec(db, SQL_PAYMENT_LOCK, 2, params, err);
    if (!res)
        return FALSE;
    *found = PQntuples(res) == 1;
    if (*found) {
        g_strlcpy(out->payment_id, db_str(res, 0, 0), sizeof out->payment_id);
        out->invoice_id = db_int(res, 0, 1);
        out->payment_state = g_strdup(db_str(res, 0, 2));
        out->invoice_status = g_strdup(db_str(res, 0, 3));
        out->amount_due = db_int(res, 0, 4);
        g_strlcpy(out->currency, db_str(res, 0, 5), sizeof out->currency);
        out->artisan_id = db_int(res, 0, 6);
    }
    PQclear(res);
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

/* The artisan learns of the payment by email, in the invoice's thread. */
static gboolean tell_paid(PGconn *db, const reglo_conf *conf, const locked *l,
                          const psp_payment *p, const char *paid_at, char **err)
{
    record *inv = NULL;
    if (record_by_id(db, l->invoice_id, &inv, err) != RECORD_FOUND)
        return *err == NULL;    /* vanished: nothing to say, not an error */
    artisan to = { .email = inv->artisan_email, .name = inv->artisan_name,
                   .locale = inv->artisan_locale };
    char *amount = money_format(p->amount_minor, p->currency, inv->artisan_locale);
    char *link = g_strdup_printf("%s/factures/%" G_GINT64_FORMAT, conf->public_url, inv->id);
    const char *payer = p->payer_name && *p->payer_name ? p->payer_name : inv->client_email;
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "artisan_name", inv->artisan_name,
                            "number", inv->number, "amount", amount, "paid_at", paid_at,
                            "payer", payer, "invoice_link", link);
    gboolean ok = notify_artisan(db, conf, &to, "paid", ctx,
                                 *inv->message_id ? inv->message_id : NULL, inv->id, err);
    json_decref(ctx);
    g_free(link);
    g_free(amount);
    record_free(inv);
    return ok;
}

static settle_outcome settle_paid(PGconn *db, const reglo_conf *conf, const char *psp,
                                  const locked *l, const psp_payment *p, char **err)
{
    char invoice[24], paid[24], artisan_id[24];
    g_snprintf(invoice, sizeof invoice, "%" G_GINT64_FORMAT, l->invoice_id);
    g_snprintf(paid, sizeof paid, "%" G_GINT64_FORMAT, p->amount_minor);
    g_snprintf(artisan_id, sizeof artisan_id, "%" G_GINT64_FORMAT, l->artisan_id);
    if (!set_payment_state(db, l, "paid", p, err))
        return SETTLE_ERROR;
    PGresult *res = db_exec(db, SQL_INVOICE_MARK_PAID, 2, (const char *[]) { invoice, paid }, err);
    if (!res)
        return SETTLE_ERROR;
    char *paid_at = PQntuples(res) == 1 ? g_strdup(db_str(res, 0, 0)) : NULL;
    PQclear(res);
    if (!paid_at)     /* already paid (a second payment) or cancelled: recorded, not billed */
        return add_event(db, l->invoice_id, "payment_extra",
                         json_pack("{s:s, s:s, s:I}", "psp", psp, "ref", p->ref,
                                   "amount_minor", (json_int_t) p->amount_minor), err)
               ? SETTLE_NO_CHANGE : SETTLE_ERROR;
    gboolean ok =
        db_run(db, SQL_FEE_ADD, 3, (const char *[]) { artisan_id, invoice, l->payment_id }, err) &&
        db_run(db, SQL_REMINDER_CANCEL_PENDING, 1, (const char *[]) { invoice }, err) &&
        add_event(db, l->invoice_id, "paid",
                  json_pack("{s:s, s:s, s:I, s:s}", "psp", psp, "ref", p->ref, "amount_minor",
                            (json_int_t) p->amount_minor, "currency", p->currency), err) &&
        tell_paid(db, conf, l, p, paid_at, err);
    g_free(paid_at);
    return ok ? SETTLE_PAID : SETTLE_ERROR;
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
           add_event(db, l->invoice_id, "payment_mismatch", detail, err)
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
           add_event(db, l->invoice_id, "payment_failed",
                     json_pack("{s:s, s:s, s:s}", "psp", psp, "ref", p->ref, "state", state), err)
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

static settle_outcome settle_locked(PGconn *db, const reglo_conf *conf, const char *psp,
                                    const locked *l, const psp_payment *p, char **err)
{
    const char *why;
    switch (p->state) {
    case PSP_STATE_PAID:
        if (strcmp(l->payment_state, "paid") == 0 || strcmp(l->payment_state, "mismatch") == 0)
            return SETTLE_NO_CHANGE;
        why = mismatch_reason(l, p);
        return why ? settle_mismatch(db, psp, l, p, why, err)
                   : settle_paid(db, conf, psp, l, p, err);
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

/* The event's idempotency key, in the settling transaction: FALSE when seen before. */
static gboolean claim_event(PGconn *db, const char *psp, const char *event_id, const char *ref,
                            gboolean *fresh, char **err)
{
    PGresult *res = db_exec(db, SQL_PSP_EVENT_ADD, 3, (const char *[]) { psp, event_id, ref }, err);
    if (!res)
        return FALSE;
    *fresh = PQntuples(res) == 1;
    PQclear(res);
    return TRUE;
}

static settle_outcome settle_in_transaction(PGconn *db, const reglo_conf *conf, const char *psp,
                                            const char *event_id, const psp_payment *p,
                                            char **err)
{
    gboolean fresh = FALSE, found = FALSE;
    locked l = { 0 };
    settle_outcome out = SETTLE_ERROR;
    if (!claim_event(db, psp, event_id, p->ref, &fresh, err))
        return SETTLE_ERROR;
    if (!fresh)
        return SETTLE_REPLAY;
    if (lock_payment(db, psp, p->ref, &l, &found, err))
        out = found ? settle_locked(db, conf, psp, &l, p, err) : SETTLE_UNKNOWN;
    if (out != SETTLE_ERROR &&
        !db_run(db, SQL_PSP_EVENT_OUTCOME, 3,
                (const char *[]) { psp, event_id, settle_outcome_name(out) }, err))
        out = SETTLE_ERROR;
    g_free(l.payment_state);
    g_free(l.invoice_status);
    return out;
}

settle_outcome payment_settle(PGconn *db, const reglo_conf *conf, const char *psp,
                              const char *event_id, const psp_payment *p, char **err)
{
    if (!db_begin(db, err))
        return SETTLE_ERROR;
    settle_outcome out = settle_in_transaction(db, conf, psp, event_id, p, err);
    if (out == SETTLE_ERROR || out == SETTLE_REPLAY)
        db_rollback(db);
    else if (!db_commit(db, err))
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
