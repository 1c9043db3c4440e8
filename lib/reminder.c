/*
 * reminder — planning, claiming, sending and listing reminders; see reminder.h.
 *
 * Planning asks the database for the steps that may have fallen due (a coarse filter with
 * a day of margin) and decides here, with schedule_due in the configured time zone, which
 * really did: one definition of "due" for the scheduler and for `reglo reminders due`.
 * Lateness is judged when a row is claimed (first try only), so a step planned late, an
 * invoice paused for a week or a gateway down over a weekend all end the same way: skipped
 * and recorded, never a burst of stale reminders.
 */
#include "reminder.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "artisan.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "notify.h"
#include "reminder_mail.h"
#include "schedule.h"
#include "smtp.h"
#include "sqltext.h"

/* Rows created in one planning pass past which the table's statistics are refreshed. */
#define REMINDER_ANALYZE_AFTER 1000

static void epoch_text(char buf[24], gint64 t)
{
    g_snprintf(buf, 24, "%" G_GINT64_FORMAT, t);
}

/* ---- planning ------------------------------------------------------------------------ */

/* Column order of SQL_REMINDER_CANDIDATES. */
enum { K_INVOICE, K_SENT, K_DUE_DATE, K_FROM_DUE, K_STEP, K_NUMBER, K_ARTISAN };

static gint64 candidate_due(const reglo_conf *conf, const PGresult *res, int row)
{
    return schedule_due(conf->reminders_window, db_int(res, row, K_SENT),
                        db_str(res, row, K_DUE_DATE), db_bool(res, row, K_FROM_DUE),
                        (int) db_int(res, row, K_STEP));
}

/* Rows for the candidates that fell due; *created counts them. */
static gboolean plan_rows(PGconn *db, const reglo_conf *conf, gint64 now, int *created,
                          char **err)
{
    char horizon[24];
    epoch_text(horizon, now);
    PGresult *res = db_exec(db, SQL_REMINDER_CANDIDATES, 1, (const char *[]) { horizon }, err);
    if (!res)
        return FALSE;
    GString *ids = g_string_new("{"), *steps = g_string_new("{"), *dues = g_string_new("{");
    int n = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        gint64 due = candidate_due(conf, res, i);
        if (due > now)
            continue;
        const char *sep = n++ ? "," : "";
        g_string_append_printf(ids, "%s%s", sep, db_str(res, i, K_INVOICE));
        g_string_append_printf(steps, "%s%s", sep, db_str(res, i, K_STEP));
        g_string_append_printf(dues, "%s%" G_GINT64_FORMAT, sep, due);
    }
    PQclear(res);
    g_string_append_c(ids, '}');
    g_string_append_c(steps, '}');
    g_string_append_c(dues, '}');
    gboolean ok = TRUE;
    *created = 0;
    if (n > 0) {
        const char *params[] = { ids->str, steps->str, dues->str };
        PGresult *ins = db_exec(db, SQL_REMINDER_INSERT, 3, params, err);
        ok = ins != NULL;
        if (ins)
            *created = atoi(PQcmdTuples(ins));
        PQclear(ins);
    }
    g_string_free(ids, TRUE);
    g_string_free(steps, TRUE);
    g_string_free(dues, TRUE);
    return ok;
}

int reminder_plan(PGconn *db, const reglo_conf *conf, gint64 now, char **err)
{
    if (!db_begin(db, err))
        return -1;
    PGresult *lock = db_exec(db, SQL_REMINDER_PLAN_LOCK, 0, NULL, err);
    gboolean mine = lock && db_bool(lock, 0, 0);
    PQclear(lock);
    if (!mine) {
        db_rollback(db);
        return lock ? 0 : -1;
    }
    char at[24];
    epoch_text(at, now);
    int created = 0;
    if (!db_run(db, SQL_REMINDER_RELEASE_ORPHANS, 0, NULL, err) ||
        !plan_rows(db, conf, now, &created, err) ||
        !db_run(db, SQL_REMINDER_CANCEL_STALE, 1, (const char *[]) { at }, err) ||
        !db_commit(db, err)) {
        db_rollback(db);
        return -1;
    }
    if (created >= REMINDER_ANALYZE_AFTER) {
        char *ignored = NULL;      /* statistics only: nothing depends on it */
        db_run(db, SQL_REMINDER_ANALYZE, 0, NULL, &ignored);
        g_free(ignored);
    }
    return created;
}

/* ---- sending ------------------------------------------------------------------------- */

/* Column order of SQL_REMINDER_CLAIM. */
enum { C_ID, C_INVOICE, C_STEP, C_DUE_AT, C_ATTEMPTS, C_NUMBER, C_AMOUNT, C_CURRENCY, C_ISSUE,
       C_DUE_DATE, C_SENT_DATE, C_CLIENT, C_RCPTS, C_SUBJECT, C_MSGID, C_KEY_ID, C_ARTISAN_ID,
       C_ARTISAN, C_NAME, C_LOCALE, C_EARLIER, C_OWN_SUBJECT, C_OWN_TEXT, C_OWN_HTML,
       C_OWN_BLOCK_TEXT, C_OWN_BLOCK_HTML, C_CLAIM };

typedef struct claimed {
    const char *id;            /* the reminder row, as text for parameters */
    const char *claim;         /* our claim on it */
    gint64 artisan_id;
    gint64 due_at;
    int attempts;
    char **recipients;         /* the invoice's */
    char **to;                 /* the reminder's (reminder_mail_to) */
    char **earlier;
    reminder_invoice inv;      /* strings borrowed from the claim's result */
    reminder_templates own;    /* the artisan's own templates, NULL where none */
} claimed;

static const char *str_or_null(const PGresult *res, int row, int col)
{
    return db_null(res, row, col) ? NULL : db_str(res, row, col);
}

static void claimed_from_row(const reglo_conf *conf, const PGresult *res, int row, gint64 now,
                             claimed *c)
{
    c->id = db_str(res, row, C_ID);
    c->claim = db_str(res, row, C_CLAIM);
    c->artisan_id = db_int(res, row, C_ARTISAN_ID);
    c->due_at = db_int(res, row, C_DUE_AT);
    c->attempts = (int) db_int(res, row, C_ATTEMPTS);
    c->recipients = g_strsplit(db_str(res, row, C_RCPTS), " ", 101);
    c->earlier = g_strsplit(db_str(res, row, C_EARLIER), " ", 0);
    c->inv = (reminder_invoice) {
        .invoice_id = db_int(res, row, C_INVOICE), .step = (int) db_int(res, row, C_STEP),
        .number = db_str(res, row, C_NUMBER), .amount_due_minor = db_int(res, row, C_AMOUNT),
        .currency = db_str(res, row, C_CURRENCY), .issue_date = db_str(res, row, C_ISSUE),
        .due_date = db_str(res, row, C_DUE_DATE), .sent_date = db_str(res, row, C_SENT_DATE),
        .days_overdue = schedule_days_overdue(conf->reminders_window, now,
                                              db_str(res, row, C_DUE_DATE)),
        .client_email = db_str(res, row, C_CLIENT),
        .recipients = (const char *const *) c->recipients,
        .subject = db_str(res, row, C_SUBJECT), .message_id = db_str(res, row, C_MSGID),
        .earlier = (const char *const *) c->earlier, .key_id = db_str(res, row, C_KEY_ID),
        .artisan_email = db_str(res, row, C_ARTISAN), .artisan_name = db_str(res, row, C_NAME),
        .locale = db_str(res, row, C_LOCALE),
    };
    c->own = (reminder_templates) {
        .subject = str_or_null(res, row, C_OWN_SUBJECT),
        .text = str_or_null(res, row, C_OWN_TEXT),
        .html = str_or_null(res, row, C_OWN_HTML),
        .block_text = str_or_null(res, row, C_OWN_BLOCK_TEXT),
        .block_html = str_or_null(res, row, C_OWN_BLOCK_HTML),
    };
    c->to = reminder_mail_to(&c->inv);
}

static void claimed_clear(claimed *c)
{
    g_strfreev(c->recipients);
    g_strfreev(c->to);
    g_strfreev(c->earlier);
}

static void log_outcome(const claimed *c, const char *what, const char *detail)
{
    char *to = c->to[0] ? g_strjoinv(",", c->to) : g_strdup("nobody");
    void (*say)(const char *, ...) = strcmp(what, "sent") == 0 ? log_info : log_warn;
    say("reminder: invoice %s (id %" G_GINT64_FORMAT ") of %s, step %d, to %s: %s%s%s",
        c->inv.number, c->inv.invoice_id, c->inv.artisan_email, c->inv.step, to, what,
        detail ? ": " : "", detail ? detail : "");
    g_free(to);
}

/* The claim on c was lost (our session was lost and the row released): statements on it
 * changed nothing; another sender takes it. */
static void claim_lost(const char *number, int step)
{
    log_warn("reminder: invoice %s step %d: claim lost (released after a lost database "
             "session); another sender takes it", number, step);
}

/* The end of a claimed reminder ("sent", "failed", "skipped"), kept until it goes to the
 * database with the check of the next reminder of the same batch (one claim; the SQL does
 * both): one round trip per reminder. It is written before anything else is (the batch's
 * end included), so a reminder is recorded as soon as before, just one statement later.
 * Strings borrowed from the claim's result but why and message_id. */
typedef struct ending {
    const char *id;            /* NULL: nothing to write */
    const char *claim;
    const char *number;
    int step;
    const char *status;
    char *why;
    char *message_id;
    gint64 at;
} ending;

static void ending_set(ending *e, const claimed *c, const char *status, const char *why,
                       const char *message_id, gint64 now)
{
    *e = (ending) { c->id, c->claim, c->inv.number, c->inv.step, status, g_strdup(why),
                    g_strdup(message_id), now };
}

static void ending_clear(ending *e)
{
    g_free(e->why);
    g_free(e->message_id);
    memset(e, 0, sizeof *e);
}

/* Writes *e (if any, then clears it) and checks next (if any; *go: whether it still goes,
 * see the SQL), in one statement. FALSE on a database error. */
static gboolean finish_and_check(PGconn *db, ending *e, const claimed *next, gboolean *go,
                                 char **err)
{
    char at[24];
    epoch_text(at, e->at);
    const char *params[] = { e->id, e->status, e->why, e->message_id, at,
                             e->id ? e->claim : next->claim, next ? next->id : NULL };
    PGresult *res = db_exec(db, SQL_REMINDER_FINISH, 7, params, err);
    if (res && e->id && !db_bool(res, 0, 0))
        claim_lost(e->number, e->step);
    if (res && next) {
        *go = !db_null(res, 0, 1) && db_bool(res, 0, 1);
        if (!*go)
            log_outcome(next, "not sent", db_null(res, 0, 1)
                        ? "claim lost"
                        : "paid, cancelled, undelivered or paused since it was claimed");
    }
    PQclear(res);
    ending_clear(e);
    return res != NULL;
}

/* The end of a claimed reminder, written now. */
static gboolean finish(PGconn *db, const claimed *c, const char *status, const char *why,
                       const char *message_id, gint64 now, char **err)
{
    ending e;
    ending_set(&e, c, status, why, message_id, now);
    return finish_and_check(db, &e, NULL, NULL, err);
}

/* The artisan hears of a reminder that will not go out. A notice that cannot be queued
 * (a template missing) is logged and does not undo the failure's record; a database
 * error does (FALSE). */
static gboolean tell_failure(PGconn *db, const reglo_conf *conf, const claimed *c,
                             const char *why, char **err)
{
    artisan to = { .id = c->artisan_id, .email = (char *) c->inv.artisan_email,
                   .name = (char *) c->inv.artisan_name, .locale = (char *) c->inv.locale };
    char *amount = money_format(c->inv.amount_due_minor, c->inv.currency, c->inv.locale);
    char *rcpts = c->to[0] ? g_strjoinv(", ", c->to) : g_strdup("-");
    char *label = g_strdup_printf("%+d", c->inv.step);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "artisan_name",
                            c->inv.artisan_name, "number", c->inv.number, "amount", amount,
                            "step", c->inv.step, "step_label", label, "recipients", rcpts,
                            "error", why);
    char *nerr = ctx ? NULL : g_strdup("a field is not UTF-8");
    gboolean ok = ctx && notify_artisan(db, conf, &to, "reminder-failed", ctx,
                                        *c->inv.message_id ? c->inv.message_id : NULL,
                                        c->inv.invoice_id, &nerr);
    if (!ok && PQtransactionStatus(db) == PQTRANS_INERROR) {
        *err = nerr;
        nerr = NULL;
    } else if (!ok) {
        log_error("reminder: cannot queue the failure notice to %s: %s", to.email, nerr);
        ok = TRUE;
    }
    g_free(nerr);
    json_decref(ctx);
    g_free(label);
    g_free(rcpts);
    g_free(amount);
    return ok;
}

/* The failure and the artisan's notice, together. */
static gboolean give_up(PGconn *db, const reglo_conf *conf, const claimed *c, const char *why,
                        const char *message_id, gint64 now, char **err)
{
    log_outcome(c, "failed", why);
    if (!db_begin(db, err))
        return FALSE;
    if (finish(db, c, "failed", why, message_id, now, err) &&
        tell_failure(db, conf, c, why, err) && db_commit(db, err))
        return TRUE;
    db_rollback(db);
    return FALSE;
}

static gboolean retry_later(PGconn *db, const claimed *c, const char *why,
                            const char *message_id, gint64 now, char **err)
{
    gint64 delay = schedule_retry_delay(c->attempts + 1);
    char next[24];
    epoch_text(next, now + delay);
    char *detail = g_strdup_printf("%s; try %d, again in %" G_GINT64_FORMAT " s", why,
                                   c->attempts + 1, delay);
    log_outcome(c, "deferred", detail);
    g_free(detail);
    const char *params[] = { c->id, why, next, message_id, c->claim };
    PGresult *res = db_exec(db, SQL_REMINDER_RETRY, 5, params, err);
    if (res && atoi(PQcmdTuples(res)) == 0)
        claim_lost(c->inv.number, c->inv.step);
    PQclear(res);
    return res != NULL;
}

/* Submits m; a sent reminder's end is left in *e for the next statement. */
static gboolean submit(PGconn *db, const reminder_sender *s, const claimed *c,
                       const reminder_mail *m, ending *e, gint64 now, char **err)
{
    const reglo_conf *conf = s->writer.conf;
    char *smtp_err = NULL;
    int rc = smtp_session_submit(s->smtp, conf->smtp_url, c->inv.artisan_email,
                                 (const char *const *) m->envelope, m->data, m->len, &smtp_err);
    gboolean ok;
    if (rc == SMTP_OK) {
        log_outcome(c, "sent", m->message_id);
        ending_set(e, c, "sent", NULL, m->message_id, now);
        ok = TRUE;
    } else if (rc == SMTP_TEMPFAIL &&
               now - schedule_window_open(conf->reminders_window, c->due_at) < SCHEDULE_RETRY_FOR)
        ok = retry_later(db, c, smtp_err, m->message_id, now, err);
    else {
        char *why = rc == SMTP_TEMPFAIL
                    ? g_strdup_printf("still failing after %d tries: %s", c->attempts + 1, smtp_err)
                    : g_strdup(smtp_err);
        ok = give_up(db, conf, c, why, m->message_id, now, err);
        g_free(why);
    }
    g_free(smtp_err);
    return ok;
}

/* One claimed reminder: skipped, sent, deferred or failed. *e: the end of the reminder
 * before, written with this one's check; this one's end when it is skipped or sent. FALSE on
 * a database error. */
static gboolean handle(PGconn *db, const reminder_sender *s, const claimed *c, ending *e,
                       gint64 now, char **err)
{
    const reglo_conf *conf = s->writer.conf;
    if (c->attempts == 0 &&
        schedule_too_late(conf->reminders_window, c->due_at, now, conf->reminders_max_late_days)) {
        gint64 late = (now - schedule_window_open(conf->reminders_window, c->due_at)) /
                      SCHEDULE_DAY;
        char *why = g_strdup_printf("%" G_GINT64_FORMAT " days late (more than %d)", late,
                                    conf->reminders_max_late_days);
        log_outcome(c, "skipped", why);
        gboolean ok = !e->id || finish_and_check(db, e, NULL, NULL, err);
        if (ok)
            ending_set(e, c, "skipped", why, NULL, now);
        g_free(why);
        return ok;
    }
    gboolean go = FALSE;
    if (!finish_and_check(db, e, c, &go, err))
        return FALSE;
    if (!go)
        return TRUE;
    reminder_mail m;
    char *why = NULL;
    gboolean ok = reminder_mail_build(&s->writer, &c->inv, &c->own, &m, &why)
                  ? submit(db, s, c, &m, e, now, err)
                  : give_up(db, conf, c, why, NULL, now, err);
    reminder_mail_clear(&m);
    g_free(why);
    return ok;
}

int reminder_send(PGconn *db, const reminder_sender *s, gint64 now, char **err)
{
    const reglo_conf *conf = s->writer.conf;
    if (!schedule_in_window(conf->reminders_window, now))
        return 0;
    char at[24], limit[24];
    epoch_text(at, now);
    epoch_text(limit, MAX(conf->reminders_batch, 1));
    PGresult *res = db_exec(db, SQL_REMINDER_CLAIM, 2, (const char *[]) { at, limit }, err);
    if (!res)
        return -1;
    int n = PQntuples(res), done = 0;
    gboolean ok = TRUE;
    ending e = { 0 };
    for (; ok && done < n && !(s->stop && g_atomic_int_get(s->stop)); done++) {
        claimed c;
        claimed_from_row(conf, res, done, now, &c);
        ok = handle(db, s, &c, &e, now, err);
        claimed_clear(&c);
    }
    if (ok && e.id)
        ok = finish_and_check(db, &e, NULL, NULL, err);
    ending_clear(&e);
    /* Claims we leave (stopping, or a database error): back to pending now rather than
     * when our session ends. A broken connection cannot; the next planning pass will. */
    if (done < n || !ok) {
        char *ignored = NULL;
        db_run(db, SQL_REMINDER_RELEASE, 1, (const char *[]) { db_str(res, 0, C_CLAIM) },
               &ignored);
        g_free(ignored);
    }
    PQclear(res);
    return ok ? done : -1;
}

/* ---- what goes out next -------------------------------------------------------------- */

static void next_free(gpointer p)
{
    reminder_next *n = p;
    g_free(n->number);
    g_free(n->artisan);
    g_free(n->last_error);
    g_free(n);
}

static reminder_next *next_new(const PGresult *res, int row, int c_invoice, int c_number,
                               int c_artisan, int c_step)
{
    reminder_next *n = g_new0(reminder_next, 1);
    n->invoice_id = db_int(res, row, c_invoice);
    n->number = g_strdup(db_str(res, row, c_number));
    n->artisan = g_strdup(db_str(res, row, c_artisan));
    n->step = (int) db_int(res, row, c_step);
    n->last_error = g_strdup("");
    return n;
}

/* Column order of SQL_REMINDER_PENDING. */
enum { P_INVOICE, P_NUMBER, P_ARTISAN, P_STEP, P_DUE_AT, P_NEXT, P_ATTEMPTS, P_ERROR,
       P_SENDING };

/* Rows that fell due and wait (business hours, a retry) or are being sent. */
static gboolean upcoming_rows(PGconn *db, const reglo_conf *conf, gint64 now, GPtrArray *out,
                              char **err)
{
    PGresult *res = db_exec(db, SQL_REMINDER_PENDING, 0, NULL, err);
    for (int i = 0; res && i < PQntuples(res); i++) {
        reminder_next *n = next_new(res, i, P_INVOICE, P_NUMBER, P_ARTISAN, P_STEP);
        n->due_at = db_int(res, i, P_DUE_AT);
        n->attempts = (int) db_int(res, i, P_ATTEMPTS);
        g_free(n->last_error);
        n->last_error = g_strdup(db_str(res, i, P_ERROR));
        gint64 next = db_int(res, i, P_NEXT) ? db_int(res, i, P_NEXT) : n->due_at;
        n->send_at = schedule_window_open(conf->reminders_window, MAX(now, next));
        n->state = db_bool(res, i, P_SENDING) ? REMINDER_SENDING
                   : n->attempts > 0 ? REMINDER_RETRY
                   : schedule_too_late(conf->reminders_window, n->due_at, n->send_at,
                                       conf->reminders_max_late_days)
                   ? REMINDER_TOO_LATE : REMINDER_DUE;
        g_ptr_array_add(out, n);
    }
    PQclear(res);
    return res != NULL;
}

/* Steps of the schedules that have no row yet. */
static gboolean upcoming_steps(PGconn *db, const reglo_conf *conf, gint64 now, GPtrArray *out,
                               char **err)
{
    PGresult *res = db_exec(db, SQL_REMINDER_CANDIDATES, 1, (const char *[]) { "infinity" }, err);
    for (int i = 0; res && i < PQntuples(res); i++) {
        reminder_next *n = next_new(res, i, K_INVOICE, K_NUMBER, K_ARTISAN, K_STEP);
        n->due_at = candidate_due(conf, res, i);
        n->send_at = schedule_window_open(conf->reminders_window, MAX(now, n->due_at));
        n->state = n->due_at > now ? REMINDER_SCHEDULED
                   : schedule_too_late(conf->reminders_window, n->due_at, n->send_at,
                                       conf->reminders_max_late_days)
                   ? REMINDER_TOO_LATE : REMINDER_DUE;
        g_ptr_array_add(out, n);
    }
    PQclear(res);
    return res != NULL;
}

static gint next_order(gconstpointer a, gconstpointer b)
{
    const reminder_next *x = *(reminder_next *const *) a, *y = *(reminder_next *const *) b;
    if (x->send_at != y->send_at)
        return x->send_at < y->send_at ? -1 : 1;
    if (x->invoice_id != y->invoice_id)
        return x->invoice_id < y->invoice_id ? -1 : 1;
    return (x->step > y->step) - (x->step < y->step);
}

GPtrArray *reminder_upcoming(PGconn *db, const reglo_conf *conf, gint64 now, char **err)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(next_free);
    if (!upcoming_rows(db, conf, now, out, err) || !upcoming_steps(db, conf, now, out, err)) {
        g_ptr_array_unref(out);
        return NULL;
    }
    g_ptr_array_sort(out, next_order);
    return out;
}

const char *reminder_state_name(reminder_state state)
{
    switch (state) {
    case REMINDER_SCHEDULED: return "scheduled";
    case REMINDER_DUE:       return "due";
    case REMINDER_RETRY:     return "retry";
    case REMINDER_TOO_LATE:  return "skip";
    case REMINDER_SENDING:   return "sending";
    }
    return "?";
}
