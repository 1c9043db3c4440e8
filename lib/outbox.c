/*
 * outbox — queued mail and its SMTP submission with back-off; see outbox.h.
 *
 * The rows stay locked (FOR UPDATE SKIP LOCKED) while they are submitted, so another process
 * cannot send them twice; if we die mid-way the locks go and the rows are tried again. A
 * pass claims up to OUTBOX_BATCH rows per transaction and submits them over one SMTP
 * session (smtp_session): one connection, greeting and EHLO for many notices. Sent rows
 * are deleted after 30 days (sql/query/outbox_purge.sql) by the senders, each at most once
 * an hour: the outbox would otherwise keep every message reglo ever sent.
 */
#include "outbox.h"

#include <string.h>

#include "db.h"
#include "log.h"
#include "smtp.h"
#include "sqltext.h"

gboolean outbox_text_init(PGconn *db, const char *const *rcpts, const char *msg, size_t len,
                          outbox_text *out, char **err)
{
    /* bytea in text form: the escape format needs no quoting for printable mail. */
    size_t esc_len = 0;
    unsigned char *esc = PQescapeByteaConn(db, (const unsigned char *) msg, len, &esc_len);
    if (!esc) {
        *err = g_strdup("cannot escape the message");
        return FALSE;
    }
    out->rcpts = g_strjoinv(" ", (char **) rcpts);
    out->message = (char *) esc;
    return TRUE;
}

void outbox_text_clear(outbox_text *t)
{
    g_free(t->rcpts);
    PQfreemem(t->message);
    memset(t, 0, sizeof *t);
}

gint64 outbox_add(PGconn *db, const char *from, const char *const *rcpts, const char *msg,
                  size_t len, const char *purpose, gint64 invoice_id, char **err)
{
    outbox_text text;
    if (!outbox_text_init(db, rcpts, msg, len, &text, err))
        return 0;
    char invoice[24];
    g_snprintf(invoice, sizeof invoice, "%" G_GINT64_FORMAT, invoice_id);
    const char *params[] = { from, text.rcpts, text.message, purpose,
                             invoice_id ? invoice : NULL };
    PGresult *res = db_exec(db, SQL_OUTBOX_ADD, 5, params, err);
    outbox_text_clear(&text);
    if (!res)
        return 0;
    gint64 id = db_int(res, 0, 0);
    PQclear(res);
    return id;
}

/* One claimed row's message, submitted over the batch's session; log what failed. */
static int outbox_submit_row(const PGresult *res, int row, smtp_session *smtp,
                             const char *smtp_url, char **smtp_err)
{
    size_t len = 0;
    unsigned char *msg = PQunescapeBytea((const unsigned char *) db_str(res, row, 3), &len);
    char **rcpts = g_strsplit(db_str(res, row, 2), " ", 0);
    int rc = msg ? smtp_session_submit(smtp, smtp_url, db_str(res, row, 1),
                                       (const char *const *) rcpts, (const char *) msg, len,
                                       smtp_err)
                 : SMTP_PERMFAIL;
    if (rc != SMTP_OK)
        log_warn("outbox: message %s to %s: %s", db_str(res, row, 0), db_str(res, row, 2),
                 *smtp_err ? *smtp_err : "unreadable row");
    g_strfreev(rcpts);
    PQfreemem(msg);
    return rc;
}

/* A refused row is tried again later (backoff), or given up when the refusal is final. */
static gboolean outbox_retry(PGconn *db, const char *id, int rc, const char *smtp_err,
                             char **err)
{
    const char *params[] = { id, smtp_err, rc == SMTP_PERMFAIL ? "t" : "f" };
    return db_run(db, SQL_OUTBOX_RETRY, 3, params, err);
}

/*
 * The claimed rows, in order, over one SMTP session. A row is marked sent (one statement
 * for the batch, ids in sent) only once the MTA accepted it; a refused row gets its
 * retry now. A temporary failure ends the batch (*deferred): the MTA may be away, and the
 * rows not tried stay due, untouched, for the next pass, as they would be with one row per
 * pass. Returns the rows handled, or -1 on a database error.
 */
static int outbox_submit_rows(PGconn *db, const PGresult *res, smtp_session *smtp,
                              const char *smtp_url, GString *sent, gboolean *deferred,
                              char **err)
{
    int n = PQntuples(res), handled = 0;
    for (int row = 0; row < n; row++) {
        char *smtp_err = NULL;
        int rc = outbox_submit_row(res, row, smtp, smtp_url, &smtp_err);
        gboolean ok = rc == SMTP_OK || outbox_retry(db, db_str(res, row, 0), rc, smtp_err, err);
        g_free(smtp_err);
        if (!ok)
            return -1;
        if (rc == SMTP_OK)
            g_string_append_printf(sent, "%s%s", sent->len > 1 ? "," : "", db_str(res, row, 0));
        handled++;
        if ((*deferred = rc == SMTP_TEMPFAIL))
            break;
    }
    g_string_append_c(sent, '}');
    return handled;
}

int outbox_send_batch(PGconn *db, smtp_session *smtp, const char *smtp_url, int max,
                      gboolean *deferred, char **err)
{
    *deferred = FALSE;
    char limit[16];
    g_snprintf(limit, sizeof limit, "%d", MAX(max, 1));
    if (!db_begin(db, err))
        return -1;
    PGresult *res = db_exec(db, SQL_OUTBOX_CLAIM, 1, (const char *[]) { limit }, err);
    if (!res || PQntuples(res) == 0) {
        PQclear(res);
        db_rollback(db);
        return res ? 0 : -1;
    }
    GString *sent = g_string_new("{");
    int handled = outbox_submit_rows(db, res, smtp, smtp_url, sent, deferred, err);
    gboolean ok = handled > 0
                  && (sent->len <= 2 ||
                      db_run(db, SQL_OUTBOX_SENT, 1, (const char *[]) { sent->str }, err))
                  && db_commit(db, err);
    if (!ok)
        db_rollback(db);
    g_string_free(sent, TRUE);
    PQclear(res);
    return ok ? handled : -1;
}

#define OUTBOX_IDLE_MS 2000
/* Rows per transaction: fewer statements per notice, and few resent should the database
 * fail between the MTA's acceptance and the commit. */
#define OUTBOX_BATCH 16
#define OUTBOX_PURGE_EVERY (3600 * G_TIME_SPAN_SECOND)

struct outbox_sender {
    outbox_db_get get;
    outbox_db_put put;
    outbox_db_fill fill;
    void *arg;
    gint stop;
    GThread *thread;
    gint64 purged_at;           /* monotonic; 0: not yet */
};

/* The senders of this process sleep here between passes; outbox_wake ends the sleep. */
static GMutex idle_lock;
static GCond idle_cond;
static guint idle_generation;

void outbox_wake(void)
{
    g_mutex_lock(&idle_lock);
    idle_generation++;
    g_cond_broadcast(&idle_cond);
    g_mutex_unlock(&idle_lock);
}

/* Until OUTBOX_IDLE_MS have passed, outbox_wake is called, or the sender stops. */
static void outbox_idle(outbox_sender *s)
{
    gint64 until = g_get_monotonic_time() + OUTBOX_IDLE_MS * G_TIME_SPAN_MILLISECOND;
    g_mutex_lock(&idle_lock);
    guint seen = idle_generation;
    while (!g_atomic_int_get(&s->stop) && idle_generation == seen &&
           g_cond_wait_until(&idle_cond, &idle_lock, until))
        ;
    g_mutex_unlock(&idle_lock);
}

/* The old sent rows deleted, if this sender has not done it for an hour. */
static gboolean outbox_purge(outbox_sender *s, PGconn *db, char **err)
{
    gint64 now = g_get_monotonic_time();
    if (s->purged_at && now - s->purged_at < OUTBOX_PURGE_EVERY)
        return TRUE;
    PGresult *res = db_exec(db, SQL_OUTBOX_PURGE, 0, NULL, err);
    if (!res)
        return FALSE;
    const char *n = PQcmdTuples(res);
    if (*n && strcmp(n, "0") != 0)
        log_info("outbox: messages sent over 30 days ago, deleted: %s", n);
    PQclear(res);
    s->purged_at = now;
    return TRUE;
}

/* The daemon's fill first, then everything due now, in batches over one SMTP connection,
 * closed at the end of the pass (no connection is kept open to the MTA while idle), then
 * the hourly purge. A temporary failure ends the sending: with the MTA away, a pass costs
 * one attempt, not one per due row. FALSE on a database error (*err). */
static gboolean outbox_drain(outbox_sender *s, char **err)
{
    char *smtp_url = NULL;
    PGconn *db = s->get(s->arg, &smtp_url, err);
    smtp_session *smtp = smtp_session_new();
    gboolean filled = !db || !s->fill || s->fill(s->arg, db, err);
    int rc = filled ? 0 : -1;
    gboolean deferred = FALSE;
    while (db && filled && !deferred && !g_atomic_int_get(&s->stop) &&
           (rc = outbox_send_batch(db, smtp, smtp_url, OUTBOX_BATCH, &deferred, err)) > 0)
        ;
    if (db && rc >= 0 && !outbox_purge(s, db, err))
        rc = -1;
    smtp_session_free(smtp);
    if (db)
        s->put(s->arg, db, rc < 0);
    g_free(smtp_url);
    return db && rc >= 0;
}

static gpointer outbox_sender_main(gpointer arg)
{
    outbox_sender *s = arg;
    gboolean failing = FALSE;
    while (!g_atomic_int_get(&s->stop)) {
        char *err = NULL;
        gboolean ok = outbox_drain(s, &err);
        if (!ok && !failing)
            log_warn("outbox: %s", err ? err : "database error");
        else if (ok && failing)
            log_info("outbox: database reachable again");
        failing = !ok;
        g_free(err);
        outbox_idle(s);
    }
    return NULL;
}

outbox_sender *outbox_sender_start(outbox_db_get get, outbox_db_put put, outbox_db_fill fill,
                                   void *arg)
{
    outbox_sender *s = g_new0(outbox_sender, 1);
    s->get = get;
    s->put = put;
    s->fill = fill;
    s->arg = arg;
    s->thread = g_thread_new("outbox", outbox_sender_main, s);
    return s;
}

void outbox_sender_stop(outbox_sender *sender)
{
    g_atomic_int_set(&sender->stop, 1);
    outbox_wake();
    g_thread_join(sender->thread);
    g_free(sender);
}
