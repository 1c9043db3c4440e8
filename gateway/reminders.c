/*
 * reminders — the scheduler threads; see reminders.h.
 *
 * The threads sleep on one condition: the planner wakes them when it created rows, stop
 * wakes everyone. A database outage is logged once per thread, and again when it is over.
 */
#include "reminders.h"

#include "clock.h"
#include "gateway.h"
#include "log.h"
#include "reminder.h"

struct reminders {
    GMutex lock;
    GCond wake;
    guint generation;          /* bumped by every wake-up */
    gint stop;                 /* atomic: also read by reminder_send between reminders */
    GPtrArray *threads;
};

typedef struct worker {
    reminders *r;
    guint index;               /* 0 plans */
    smtp_session *smtp;        /* one connection to the MTA, reused from batch to batch */
} worker;

static gboolean stopping(reminders *r)
{
    return g_atomic_int_get(&r->stop);
}

static void wake_all(reminders *r, gboolean stop)
{
    g_mutex_lock(&r->lock);
    r->generation++;
    if (stop)
        g_atomic_int_set(&r->stop, 1);
    g_cond_broadcast(&r->wake);
    g_mutex_unlock(&r->lock);
}

/* Until the next pass: `seconds`, a wake-up or stop. */
static void pause_for(reminders *r, int seconds)
{
    g_mutex_lock(&r->lock);
    guint seen = r->generation;
    gint64 until = g_get_monotonic_time() + (gint64) seconds * G_TIME_SPAN_SECOND;
    while (!stopping(r) && r->generation == seen && g_cond_wait_until(&r->wake, &r->lock, until))
        ;
    g_mutex_unlock(&r->lock);
}

/* A batch with the current snapshot: how many were handled, 0 nothing due, -1 database
 * error. */
static int send_batch(worker *w, char **err)
{
    gw_snapshot *snap = gw_snapshot_get();
    int rc = 0;
    if (snap->conf->reminders_enabled) {
        PGconn *db = gw_db(snap->conf, err);
        reminder_sender sender = { { snap->conf, snap->keys, snap->templates }, w->smtp,
                                   &w->r->stop };
        rc = db ? reminder_send(db, &sender, clock_now(), err) : -1;
    }
    gw_snapshot_put(snap);
    return rc;
}

/* The planner's part of a pass; FALSE on a database error. */
static gboolean plan(reminders *r, char **err)
{
    gw_snapshot *snap = gw_snapshot_get();
    int created = 0;
    if (snap->conf->reminders_enabled) {
        PGconn *db = gw_db(snap->conf, err);
        created = db ? reminder_plan(db, snap->conf, clock_now(), err) : -1;
    }
    gw_snapshot_put(snap);
    if (created > 0) {
        log_info("reminders: %d fell due", created);
        wake_all(r, FALSE);
    }
    return created >= 0;
}

/* One pass: plan (thread 0), then send until nothing is due; FALSE on a database error. */
static gboolean pass(worker *w, char **err)
{
    if (w->index == 0 && !plan(w->r, err))
        return FALSE;
    int rc = 0;
    while (!stopping(w->r) && (rc = send_batch(w, err)) > 0)
        ;
    return rc >= 0;
}

static int interval(void)
{
    gw_snapshot *snap = gw_snapshot_get();
    int seconds = snap->conf->reminders_interval;
    gw_snapshot_put(snap);
    return seconds;
}

static gpointer worker_main(gpointer arg)
{
    worker *w = arg;
    gboolean failing = FALSE;
    while (!stopping(w->r)) {
        char *err = NULL;
        gboolean ok = pass(w, &err);
        if (!ok) {
            gw_db_check();
            if (!failing)
                log_warn("reminders: %s", err ? err : "database error");
        } else if (failing)
            log_info("reminders: database reachable again");
        failing = !ok;
        g_free(err);
        pause_for(w->r, interval());
    }
    smtp_session_free(w->smtp);
    g_free(w);
    return NULL;
}

reminders *reminders_start(void)
{
    reminders *r = g_new0(reminders, 1);
    g_mutex_init(&r->lock);
    g_cond_init(&r->wake);
    r->threads = g_ptr_array_new();
    gw_snapshot *snap = gw_snapshot_get();
    guint n = (guint) snap->conf->reminders_workers;
    if (snap->conf->reminders_enabled)
        log_info("reminders: %u sender(s), business hours in %s", n,
                 snap->conf->reminders_timezone);
    gw_snapshot_put(snap);
    for (guint i = 0; i < n; i++) {
        worker *w = g_new0(worker, 1);
        w->r = r;
        w->index = i;
        w->smtp = smtp_session_new();
        g_ptr_array_add(r->threads, g_thread_new("reminders", worker_main, w));
    }
    return r;
}

void reminders_stop(reminders *r)
{
    wake_all(r, TRUE);
    for (guint i = 0; i < r->threads->len; i++)
        g_thread_join(g_ptr_array_index(r->threads, i));
    g_ptr_array_free(r->threads, TRUE);
    g_cond_clear(&r->wake);
    g_mutex_clear(&r->lock);
    g_free(r);
}
