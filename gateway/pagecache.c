/*
 * pagecache — rendered payment pages kept until their invoice changes; see pagecache.h.
 *
 * One lock guards every cache's table and the listener's state: a hit holds it for one
 * hash lookup. The listener reads its socket and applies what it read under that lock, and
 * a lookup first polls that socket: so a notification is either still in the socket (the
 * lookup misses), or being applied (the lookup waits), or applied (the page is gone).
 * `generation` counts invalidations; a page read from the database before one is not kept.
 */
#include "pagecache.h"

#include <poll.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "gateway.h"
#include "log.h"

#define LISTEN_CHANNEL      "reglo_page"
#define LISTEN_TICK_MS      250             /* how often the listener looks at its stop flag */
#define LISTEN_RETRY_S      5               /* after a failed connection */
#define LISTEN_PING_S       10              /* an idle connection is checked this often */
#define LISTEN_PING_WAIT_S  5               /* ... and taken as broken without an answer */
#define SWEEP_S             10              /* expired pages are freed this often */

typedef struct page {
    GBytes *body;             /* NULL: not kept */
    const char *locale;       /* "fr" or "en" */
    gint64 expires;           /* real time, µs */
} page;

typedef struct group {        /* the pages of one token hash */
    page v[PAGECACHE_VARIANTS];
} group;

struct pagecache {
    GHashTable *groups;       /* token hash (g_free'd) -> group (freed by group_free) */
    gsize bytes;              /* of the bodies kept */
};

static GMutex lock;
static GPtrArray *caches;     /* the live caches */
static gint listening;        /* atomic, changed under lock: pages may be used and kept */
static gint listen_fd = -1;   /* atomic: the listener's socket, -1 when none */
static guint generation;      /* atomic, bumped under lock by every invalidation */

/* ---- pages ------------------------------------------------------------------------------ */

static void page_drop(pagecache *cache, page *p)
{
    if (!p->body)
        return;
    cache->bytes -= g_bytes_get_size(p->body);
    g_bytes_unref(p->body);
    p->body = NULL;
}

static void group_free(pagecache *cache, group *g)
{
    for (guint i = 0; i < PAGECACHE_VARIANTS; i++)
        page_drop(cache, &g->v[i]);
    g_free(g);
}

/* Drop the expired pages; TRUE when the group is left empty. */
static gboolean group_sweep(pagecache *cache, group *g, gint64 now)
{
    gboolean empty = TRUE;
    for (guint i = 0; i < PAGECACHE_VARIANTS; i++) {
        if (g->v[i].body && g->v[i].expires <= now)
            page_drop(cache, &g->v[i]);
        empty = empty && !g->v[i].body;
    }
    return empty;
}

static void cache_sweep(pagecache *cache, gint64 now)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, cache->groups);
    while (g_hash_table_iter_next(&it, &key, &value))
        if (group_sweep(cache, value, now)) {
            g_hash_table_iter_steal(&it);
            g_free(key);
            g_free(value);
        }
}

static void cache_clear(pagecache *cache)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, cache->groups);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        g_hash_table_iter_steal(&it);
        g_free(key);
        group_free(cache, value);
    }
}

/* Under lock. */
static void forget_locked(const char *token_hash)
{
    g_atomic_int_inc(&generation);
    for (guint i = 0; caches && i < caches->len; i++) {
        pagecache *cache = g_ptr_array_index(caches, i);
        if (strcmp(token_hash, "*") == 0) {
            cache_clear(cache);
            continue;
        }
        gpointer key, value;
        if (g_hash_table_steal_extended(cache->groups, token_hash, &key, &value)) {
            g_free(key);
            group_free(cache, value);
        }
    }
}

/* Pages kept today stop at local midnight: "overdue" and the dates shown depend on it. */
static gint64 page_expiry(gint64 now)
{
    gint64 span = (gint64) PAGECACHE_TTL_S * G_USEC_PER_SEC;
    gint64 ttl = now + span - g_random_int_range(0, (gint32) (span / 10));
    time_t t = (time_t) (now / G_USEC_PER_SEC);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return ttl;
    tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
    tm.tm_mday++;
    tm.tm_isdst = -1;
    time_t midnight = mktime(&tm);
    return midnight > t ? MIN(ttl, (gint64) midnight * G_USEC_PER_SEC) : ttl;
}

pagecache *pagecache_new(void)
{
    pagecache *cache = g_new0(pagecache, 1);
    cache->groups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
    g_mutex_lock(&lock);
    if (!caches)
        caches = g_ptr_array_new();
    g_ptr_array_add(caches, cache);
    g_mutex_unlock(&lock);
    return cache;
}

void pagecache_free(pagecache *cache)
{
    if (!cache)
        return;
    g_mutex_lock(&lock);
    g_ptr_array_remove_fast(caches, cache);
    cache_clear(cache);
    g_mutex_unlock(&lock);
    g_hash_table_destroy(cache->groups);
    g_free(cache);
}

/* Something is waiting in the listener's socket (or it is gone): not applied yet. */
static gboolean notices_pending(void)
{
    struct pollfd pfd = { .fd = g_atomic_int_get(&listen_fd), .events = POLLIN };
    return pfd.fd < 0 || poll(&pfd, 1, 0) != 0;
}

GBytes *pagecache_get(pagecache *cache, const char *token_hash, guint variant,
                      const char **locale)
{
    if (!cache || variant >= PAGECACHE_VARIANTS || !g_atomic_int_get(&listening) ||
        notices_pending())
        return NULL;
    gint64 now = g_get_real_time();
    GBytes *body = NULL;
    g_mutex_lock(&lock);
    group *g = g_atomic_int_get(&listening) ? g_hash_table_lookup(cache->groups, token_hash)
                                            : NULL;
    page *p = g ? &g->v[variant] : NULL;
    if (p && p->body && p->expires > now) {
        body = g_bytes_ref(p->body);
        *locale = p->locale;
    } else if (p)
        page_drop(cache, p);
    g_mutex_unlock(&lock);
    return body;
}

guint pagecache_stamp(void)
{
    return (guint) g_atomic_int_get(&generation);
}

void pagecache_put(pagecache *cache, guint stamp, const char *token_hash, guint variant,
                   const char *locale, const char *body, gsize len)
{
    if (!cache || variant >= PAGECACHE_VARIANTS || len > PAGECACHE_MAX_BYTES / 16 ||
        !g_atomic_int_get(&listening))
        return;
    gint64 now = g_get_real_time();
    page fresh = { g_bytes_new(body, len), strcmp(locale, "en") == 0 ? "en" : "fr",
                   page_expiry(now) };
    g_mutex_lock(&lock);
    if (g_atomic_int_get(&listening) && stamp == (guint) g_atomic_int_get(&generation)) {
        if (cache->bytes + len > PAGECACHE_MAX_BYTES)
            cache_sweep(cache, now);
        if (cache->bytes + len > PAGECACHE_MAX_BYTES)
            cache_clear(cache);         /* full of live pages: start again */
        group *g = g_hash_table_lookup(cache->groups, token_hash);
        if (!g) {
            g = g_new0(group, 1);
            g_hash_table_insert(cache->groups, g_strdup(token_hash), g);
        }
        page_drop(cache, &g->v[variant]);
        g->v[variant] = fresh;
        cache->bytes += len;
        fresh.body = NULL;
    }
    g_mutex_unlock(&lock);
    if (fresh.body)
        g_bytes_unref(fresh.body);
}

void pagecache_forget(const char *token_hash)
{
    g_mutex_lock(&lock);
    forget_locked(token_hash);
    g_mutex_unlock(&lock);
}

static void sweep_all(void)
{
    gint64 now = g_get_real_time();
    g_mutex_lock(&lock);
    for (guint i = 0; caches && i < caches->len; i++)
        cache_sweep(g_ptr_array_index(caches, i), now);
    g_mutex_unlock(&lock);
}

/* ---- the listener --------------------------------------------------------------------- */

typedef struct listener {
    GThread *thread;
    gint stop;                /* atomic */
    PGconn *conn;
    char *conninfo;           /* what conn was opened with */
    gint64 ping_sent;         /* monotonic µs, 0: no check outstanding */
    gint64 last_heard;        /* monotonic µs */
    gboolean said_off;        /* the "cache off" reason was logged */
} listener;

static listener *the_listener;

/* Pages are used from now on (on) or no longer (off); either way the caches start empty. */
static void set_listening(listener *l, gboolean on)
{
    g_mutex_lock(&lock);
    g_atomic_int_set(&listening, on);
    g_atomic_int_set(&listen_fd, on ? PQsocket(l->conn) : -1);
    forget_locked("*");
    g_mutex_unlock(&lock);
}

static void listen_close(listener *l)
{
    if (l->conn && g_atomic_int_get(&listening))
        set_listening(l, FALSE);
    db_close(l->conn);
    l->conn = NULL;
    g_free(l->conninfo);
    l->conninfo = NULL;
    l->ping_sent = 0;
}

static gboolean listen_exec(PGconn *conn, const char *sql, PGresult **out, char **err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return TRUE;
    }
    *err = g_strdup(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    g_strstrip(g_strdelimit(*err, "\r\n", ' '));
    PQclear(res);
    return FALSE;
}

/* LISTEN on a new connection, once the triggers that notify are known to be there. */
static gboolean listen_open(listener *l, char **err)
{
    gw_snapshot *snap = gw_snapshot_get();
    l->conninfo = g_strdup(snap->conf->db_conninfo);
    l->conn = db_connect(snap->conf->db_conninfo, snap->conf->db_connect_timeout, 5000, err);
    gw_snapshot_put(snap);
    PGresult *res = NULL;
    if (!l->conn || !listen_exec(l->conn, "LISTEN " LISTEN_CHANNEL, NULL, err) ||
        !listen_exec(l->conn, "SELECT count(*) FROM pg_trigger WHERE tgname IN "
                     "('invoice_page_changed', 'artisan_page_changed')", &res, err))
        return FALSE;
    gboolean triggers = strcmp(PQgetvalue(res, 0, 0), "2") == 0;
    PQclear(res);
    if (!triggers) {
        *err = g_strdup("the database has no reglo_page triggers (reglo db migrate)");
        return FALSE;
    }
    if (PQsetnonblocking(l->conn, 1) != 0) {
        *err = g_strdup("cannot make the connection non-blocking");
        return FALSE;
    }
    l->last_heard = g_get_monotonic_time();
    set_listening(l, TRUE);
    log_info("page cache on (listening for invoice changes)");
    l->said_off = FALSE;
    return TRUE;
}

/* Read what arrived and apply it, under the lock (see the top of the file). FALSE when the
 * connection is broken. */
static gboolean listen_read(listener *l)
{
    g_mutex_lock(&lock);
    gboolean ok = PQconsumeInput(l->conn) == 1;
    PGnotify *n;
    while ((n = PQnotifies(l->conn))) {
        if (strcmp(n->relname, LISTEN_CHANNEL) == 0)
            forget_locked(n->extra);
        PQfreemem(n);
    }
    g_mutex_unlock(&lock);
    while (ok && !PQisBusy(l->conn)) {         /* the answer to a check */
        PGresult *res = PQgetResult(l->conn);
        if (!res) {
            l->ping_sent = 0;
            break;
        }
        PQclear(res);
    }
    l->last_heard = g_get_monotonic_time();
    return ok && PQstatus(l->conn) == CONNECTION_OK;
}

/* An idle connection may be dead without a word (a network gone): ask it something. */
static gboolean listen_check(listener *l)
{
    gint64 now = g_get_monotonic_time();
    if (l->ping_sent)
        return now - l->ping_sent < LISTEN_PING_WAIT_S * G_USEC_PER_SEC;
    if (now - l->last_heard < LISTEN_PING_S * G_USEC_PER_SEC)
        return TRUE;
    gw_snapshot *snap = gw_snapshot_get();
    gboolean same = g_strcmp0(snap->conf->db_conninfo, l->conninfo) == 0;
    gw_snapshot_put(snap);
    if (!same)
        return FALSE;           /* a reload moved the database */
    if (!PQsendQuery(l->conn, "SELECT 1"))
        return FALSE;
    l->ping_sent = now;
    return PQflush(l->conn) >= 0;
}

static void listen_failed(listener *l, const char *what, char *err)
{
    if (!l->said_off)
        log_warn("page cache off: %s: %s", what, err && *err ? err : "no answer");
    l->said_off = TRUE;
    g_free(err);
    listen_close(l);
}

static gpointer listen_main(gpointer arg)
{
    listener *l = arg;
    gint64 retry_at = 0, sweep_at = g_get_monotonic_time() + SWEEP_S * G_USEC_PER_SEC;
    while (!g_atomic_int_get(&l->stop)) {
        gint64 now = g_get_monotonic_time();
        if (now >= sweep_at) {
            sweep_all();
            sweep_at = now + SWEEP_S * G_USEC_PER_SEC;
        }
        if (!l->conn && now >= retry_at) {
            char *err = NULL;
            if (!listen_open(l, &err)) {
                listen_failed(l, "cannot listen for invoice changes", err);
                retry_at = now + LISTEN_RETRY_S * G_USEC_PER_SEC;
            }
        }
        if (!l->conn) {
            g_usleep(LISTEN_TICK_MS * 1000);
            continue;
        }
        struct pollfd pfd = { .fd = PQsocket(l->conn), .events = POLLIN };
        int rc = poll(&pfd, 1, LISTEN_TICK_MS);
        if ((rc > 0 && !listen_read(l)) || !listen_check(l)) {
            char *err = g_strdup(PQerrorMessage(l->conn));
            listen_failed(l, "the listening connection is lost",
                          g_strstrip(g_strdelimit(err, "\r\n", ' ')));
        }
    }
    listen_close(l);
    return NULL;
}

void pagecache_listen_start(void)
{
    if (the_listener)
        return;
    the_listener = g_new0(listener, 1);
    the_listener->thread = g_thread_new("pagecache", listen_main, the_listener);
}

void pagecache_listen_stop(void)
{
    listener *l = the_listener;
    if (!l)
        return;
    g_atomic_int_set(&l->stop, 1);
    g_thread_join(l->thread);
    g_free(l);
    the_listener = NULL;
}
