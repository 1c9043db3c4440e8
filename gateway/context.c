/*
 * context — reglo-gateway's shared state: the configuration + link keys snapshot that
 * SIGHUP replaces, and one PostgreSQL connection per worker thread; see gateway.h.
 *
 * The snapshot is reference counted: the current one holds a reference of its own, each
 * request holds one more; the last gw_snapshot_put frees it. A worker's connection lives in
 * a GPrivate whose destructor closes it when the thread ends (MHD_stop_daemon joins them).
 */
#include <string.h>

#include "context.h"
#include "db.h"
#include "gateway.h"
#include "log.h"
#include "pagecache.h"
#include "server.h"

/* Every statement the gateway runs is short; a stuck one must not hold a worker. */
#define GW_STATEMENT_TIMEOUT_MS 5000

static GMutex snap_lock;
static gw_snapshot *snap_current;

gw_snapshot *gw_snapshot_get(void)
{
    g_mutex_lock(&snap_lock);
    gw_snapshot *snap = snap_current;
    if (snap)
        g_atomic_int_inc(&snap->refs);
    g_mutex_unlock(&snap_lock);
    return snap;
}

void gw_snapshot_put(gw_snapshot *snap)
{
    if (!snap || !g_atomic_int_dec_and_test(&snap->refs))
        return;
    tmpl_set_free(snap->templates);
    pagecache_free(snap->pages);
    g_free(snap->csp);
    json_decref(snap->words);
    conf_free(snap->conf);
    keyring_free(snap->keys);
    g_free(snap);
}

/* templates/<locale>/portal.json for every language, or NULL with *err. */
static json_t *words_load(const char *templates_dir, char **err)
{
    static const char *const locales[] = { "fr", "en" };
    json_t *words = json_object();
    for (size_t i = 0; i < G_N_ELEMENTS(locales); i++) {
        char *path = g_build_filename(templates_dir, locales[i], "portal.json", NULL);
        json_error_t jerr;
        json_t *one = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(one)) {
            *err = one ? g_strdup_printf("%s: not a JSON object", path)
                       : g_strdup_printf("%s:%d: %s", path, jerr.line, jerr.text);
            json_decref(one);
            json_decref(words);
            g_free(path);
            return NULL;
        }
        json_object_set_new(words, locales[i], one);
        g_free(path);
    }
    return words;
}

gboolean gw_snapshot_reload(const char *conf_path, char **err)
{
    reglo_conf *conf = conf_load(conf_path, err);
    if (!conf)
        return FALSE;
    keyring *keys = keyring_load(conf->link_key_file, err);
    json_t *words = keys ? words_load(conf->templates_dir, err) : NULL;
    if (!words) {
        keyring_free(keys);
        conf_free(conf);
        return FALSE;
    }
    gw_snapshot *snap = g_new0(gw_snapshot, 1);
    snap->conf = conf;
    snap->keys = keys;
    snap->templates = tmpl_set_new(conf->templates_dir);
    snap->words = words;
    snap->csp = server_csp(conf);
    snap->pages = pagecache_new();
    snap->refs = 1;             /* the reference of "current" */
    g_mutex_lock(&snap_lock);
    gw_snapshot *old = snap_current;
    snap_current = snap;
    g_mutex_unlock(&snap_lock);
    gw_snapshot_put(old);
    return TRUE;
}

/* ---- one connection per worker thread ------------------------------------------------ */

typedef struct gw_conn {
    PGconn *pg;
    char *conninfo;            /* what it was opened with: a reload may change it */
} gw_conn;

static void gw_conn_free(gpointer p)
{
    gw_conn *c = p;
    if (!c)
        return;
    if (c->pg)
        db_close(c->pg);
    g_free(c->conninfo);
    g_free(c);
}

static GPrivate gw_conn_key = G_PRIVATE_INIT(gw_conn_free);

static gw_conn *gw_conn_self(void)
{
    gw_conn *c = g_private_get(&gw_conn_key);
    if (!c) {
        c = g_new0(gw_conn, 1);
        g_private_set(&gw_conn_key, c);
    }
    return c;
}

static void gw_conn_close(gw_conn *c)
{
    if (c->pg)
        db_close(c->pg);
    c->pg = NULL;
    g_free(c->conninfo);
    c->conninfo = NULL;
}

PGconn *gw_db(const reglo_conf *conf, char **err)
{
    gw_conn *c = gw_conn_self();
    if (c->pg && (PQstatus(c->pg) != CONNECTION_OK ||
                  g_strcmp0(c->conninfo, conf->db_conninfo) != 0))
        gw_conn_close(c);
    if (!c->pg) {
        c->pg = db_connect(conf->db_conninfo, conf->db_connect_timeout,
                           GW_STATEMENT_TIMEOUT_MS, err);
        if (!c->pg)
            return NULL;
        c->conninfo = g_strdup(conf->db_conninfo);
    }
    return c->pg;
}

/* Also run after every request: a handler that left a transaction open (an error path
 * that forgot db_rollback) must not hand it to the next request on this worker. */
void gw_db_check(void)
{
    gw_conn *c = g_private_get(&gw_conn_key);
    if (!c || !c->pg)
        return;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_warn("database connection lost; reconnecting on next use");
        gw_conn_close(c);
        return;
    }
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        db_rollback(c->pg);
        if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            gw_conn_close(c);
    } else if (ts != PQTRANS_IDLE)
        gw_conn_close(c);       /* ACTIVE or UNKNOWN: not reusable */
}

void gw_snapshot_shutdown(void)
{
    g_mutex_lock(&snap_lock);
    gw_snapshot *old = snap_current;
    snap_current = NULL;
    g_mutex_unlock(&snap_lock);
    gw_snapshot_put(old);
}
