/*
 * outbox — queued mail and its SMTP submission with back-off; see outbox.h.
 *
 * The row stays locked (FOR UPDATE SKIP LOCKED) while it is submitted, so another process
 * cannot send it twice; if we die mid-way the lock goes and the row is tried again.
 */
#include "outbox.h"

#include <string.h>

#include "db.h"
#include "log.h"
#include "smtp.h"
#include "sqltext.h"

gint64 outbox_add(PGconn *db, const char *from, const char *const *rcpts, const char *msg,
                  size_t len, const char *purpose, gint64 invoice_id, char **err)
{
    char *rcpt_list = g_strjoinv(" ", (char **) rcpts);
    char invoice[24];
    g_snprintf(invoice, sizeof invoice, "%" G_GINT64_FORMAT, invoice_id);
    /* bytea in text form: the escape format needs no quoting for printable mail. */
    size_t esc_len = 0;
    unsigned char *esc = PQescapeByteaConn(db, (const unsigned char *) msg, len, &esc_len);
    if (!esc) {
        *err = g_strdup("cannot escape the message");
        g_free(rcpt_list);
        return 0;
    }
    const char *params[] = { from, rcpt_list, (const char *) esc, purpose,
                             invoice_id ? invoice : NULL };
    PGresult *res = db_exec(db, SQL_OUTBOX_ADD, 5, params, err);
    PQfreemem(esc);
    g_free(rcpt_list);
    if (!res)
        return 0;
    gint64 id = db_int(res, 0, 0);
    PQclear(res);
    return id;
}

static gboolean outbox_record(PGconn *db, const char *id, int rc, const char *smtp_err,
                              char **err)
{
    if (rc == SMTP_OK)
        return db_run(db, SQL_OUTBOX_SENT, 1, (const char *[]) { id }, err);
    const char *params[] = { id, smtp_err, rc == SMTP_PERMFAIL ? "t" : "f" };
    return db_run(db, SQL_OUTBOX_RETRY, 3, params, err);
}

int outbox_send_one(PGconn *db, const char *smtp_url, char **err)
{
    if (!db_begin(db, err))
        return -1;
    PGresult *res = db_exec(db, SQL_OUTBOX_CLAIM, 0, NULL, err);
    if (!res || PQntuples(res) == 0) {
        PQclear(res);
        db_rollback(db);
        return res ? 0 : -1;
    }
    size_t len = 0;
    unsigned char *msg = PQunescapeBytea((const unsigned char *) db_str(res, 0, 3), &len);
    char **rcpts = g_strsplit(db_str(res, 0, 2), " ", 0);
    char *smtp_err = NULL;
    int rc = msg ? smtp_submit(smtp_url, db_str(res, 0, 1), (const char *const *) rcpts,
                               (const char *) msg, len, &smtp_err)
                 : SMTP_PERMFAIL;
    if (rc != SMTP_OK)
        log_warn("outbox: message %s to %s: %s", db_str(res, 0, 0), db_str(res, 0, 2),
                 smtp_err ? smtp_err : "unreadable row");
    gboolean ok = outbox_record(db, db_str(res, 0, 0), rc, smtp_err, err) && db_commit(db, err);
    if (!ok)
        db_rollback(db);
    g_free(smtp_err);
    g_strfreev(rcpts);
    PQfreemem(msg);
    PQclear(res);
    return ok ? 1 : -1;
}

#define OUTBOX_IDLE_MS 2000

struct outbox_sender {
    outbox_db_get get;
    outbox_db_put put;
    void *arg;
    gint stop;
    GThread *thread;
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

/* Everything due now; FALSE on a database error (*err). */
static gboolean outbox_drain(outbox_sender *s, char **err)
{
    char *smtp_url = NULL;
    PGconn *db = s->get(s->arg, &smtp_url, err);
    int rc = 0;
    while (db && !g_atomic_int_get(&s->stop) && (rc = outbox_send_one(db, smtp_url, err)) > 0)
        ;
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

outbox_sender *outbox_sender_start(outbox_db_get get, outbox_db_put put, void *arg)
{
    outbox_sender *s = g_new0(outbox_sender, 1);
    s->get = get;
    s->put = put;
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
