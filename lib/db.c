/*
 * db — pool, statements, migrations; see db.h.
 */
#include "db.h"
#include "sqltext.h"

#include <stdlib.h>
#include <string.h>

struct db_pool {
    char *conninfo;
    int connect_timeout;
    int statement_timeout_ms;
    GMutex lock;
    GPtrArray *idle;          /* of PGconn*, ready for use */
    int size;
};

/* Server notices ("relation already exists, skipping") are not errors: keep them quiet. */
/* libpq messages span lines; a log line must not. */
static char *one_line(char *msg)
{
    g_strdelimit(msg, "\r\n\t", ' ');
    return g_strstrip(msg);
}

static void db_notice(void *arg, const char *message)
{
    (void) arg;
    (void) message;
}

PGconn *db_connect(const char *conninfo, int connect_timeout, int statement_timeout_ms, char **err)
{
    char timeout[16], options[96];
    g_snprintf(timeout, sizeof timeout, "%d", connect_timeout);
    /* No JIT: our statements are short, and compiling one costs more than running it
     * (PostgreSQL starts JIT on cost estimates that a few correlated subqueries inflate). */
    g_snprintf(options, sizeof options, "-c statement_timeout=%d -c jit=off",
               statement_timeout_ms);
    const char *keys[] = { "dbname", "connect_timeout", "options", "application_name", NULL };
    const char *vals[] = { conninfo, timeout, options, "reglo", NULL };
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        *err = one_line(g_strdup_printf("database connection failed: %s", PQerrorMessage(conn)));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, db_notice, NULL);
    return conn;
}

db_pool *db_pool_new(const char *conninfo, int size, int connect_timeout, int statement_timeout_ms)
{
    db_pool *pool = g_new0(db_pool, 1);
    pool->conninfo = g_strdup(conninfo);
    pool->connect_timeout = connect_timeout;
    pool->statement_timeout_ms = statement_timeout_ms;
    pool->size = size;
    pool->idle = g_ptr_array_new();
    g_mutex_init(&pool->lock);
    return pool;
}

void db_pool_free(db_pool *pool)
{
    if (!pool)
        return;
    for (guint i = 0; i < pool->idle->len; i++)
        db_close(g_ptr_array_index(pool->idle, i));
    g_ptr_array_free(pool->idle, TRUE);
    g_mutex_clear(&pool->lock);
    g_free(pool->conninfo);
    g_free(pool);
}

PGconn *db_acquire(db_pool *pool, char **err)
{
    PGconn *conn = NULL;
    g_mutex_lock(&pool->lock);
    if (pool->idle->len > 0)
        conn = g_ptr_array_steal_index_fast(pool->idle, pool->idle->len - 1);
    g_mutex_unlock(&pool->lock);
    if (conn && PQstatus(conn) == CONNECTION_OK)
        return conn;
    db_close(conn);
    /* Past the pool size we still connect: the pool bounds idle connections, not work. */
    return db_connect(pool->conninfo, pool->connect_timeout, pool->statement_timeout_ms, err);
}

void db_release(db_pool *pool, PGconn *conn, gboolean broken)
{
    if (!conn)
        return;
    if (!broken && PQstatus(conn) == CONNECTION_OK &&
        PQtransactionStatus(conn) == PQTRANS_IDLE) {
        g_mutex_lock(&pool->lock);
        if ((int) pool->idle->len < pool->size) {
            g_ptr_array_add(pool->idle, conn);
            conn = NULL;
        }
        g_mutex_unlock(&pool->lock);
    }
    db_close(conn);
}

/*
 * Every statement is prepared once per connection: planning costs PostgreSQL more than
 * running our small queries. The SQL texts are the compiled-in constants, so their address
 * is the key. A connection is used by one thread at a time; the table of connections is
 * shared, hence the lock.
 *
 * After its first executions PostgreSQL keeps a prepared statement's generic plan until
 * the tables' statistics change (ANALYZE). A plan made while a table was nearly empty (a
 * new installation, or statistics taken then) scans the whole table, and goes on doing so
 * as it grows, until autovacuum analyzes it again: so a statement is prepared anew after
 * DB_REPLAN_FIRST executions, then each time their number has grown DB_REPLAN_FACTOR times
 * (up to every DB_REPLAN_MAX): a few plannings in all, plans that follow the tables.
 */
#define DB_REPLAN_FIRST  16
#define DB_REPLAN_FACTOR 4
#define DB_REPLAN_MAX    65536

typedef struct prepared_stmt {
    char name[24];
    guint64 uses;
    guint64 replan_at;
} prepared_stmt;

static GMutex prepared_lock;
static GHashTable *prepared;      /* PGconn* -> GHashTable (const char *sql -> prepared_stmt) */
static guint prepared_serial;     /* atomic: statement names */

static prepared_stmt *prepared_lookup(PGconn *conn, const char *sql, GHashTable **names)
{
    g_mutex_lock(&prepared_lock);
    if (!prepared)
        prepared = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                         (GDestroyNotify) g_hash_table_unref);
    *names = g_hash_table_lookup(prepared, conn);
    if (!*names) {
        *names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        g_hash_table_insert(prepared, conn, *names);
    }
    prepared_stmt *ps = g_hash_table_lookup(*names, sql);
    g_mutex_unlock(&prepared_lock);
    return ps;
}

static PGresult *db_check(PGconn *conn, PGresult *res, char **err)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    *err = one_line(g_strdup_printf("database: %s",
                                    res ? PQresultErrorMessage(res) : PQerrorMessage(conn)));
    PQclear(res);
    return NULL;
}

/* PREPARE under a new name into name (sizeof prepared_stmt.name). */
static gboolean db_prepare_as(PGconn *conn, const char *sql, int n, char *name, char **err)
{
    g_snprintf(name, sizeof ((prepared_stmt *) NULL)->name, "reglo%u",
               (guint) g_atomic_int_add(&prepared_serial, 1));
    PGresult *res = db_check(conn, PQprepare(conn, name, sql, n, NULL), err);
    PQclear(res);
    return res != NULL;
}

static prepared_stmt *db_prepare(PGconn *conn, const char *sql, int n, char **err)
{
    GHashTable *names;
    prepared_stmt *ps = prepared_lookup(conn, sql, &names);
    if (ps)
        return ps;
    ps = g_new0(prepared_stmt, 1);
    ps->replan_at = DB_REPLAN_FIRST;
    if (!db_prepare_as(conn, sql, n, ps->name, err)) {
        g_free(ps);
        return NULL;
    }
    g_mutex_lock(&prepared_lock);
    g_hash_table_insert(names, (gpointer) sql, ps);
    g_mutex_unlock(&prepared_lock);
    return ps;
}

/* A new plan for the statement (see the top): the old one stays if this fails. */
static void db_replan(PGconn *conn, prepared_stmt *ps, const char *sql, int n)
{
    ps->replan_at = ps->replan_at < DB_REPLAN_MAX ? ps->replan_at * DB_REPLAN_FACTOR
                                                  : ps->replan_at + DB_REPLAN_MAX;
    char fresh[sizeof ps->name], *err = NULL;
    if (!db_prepare_as(conn, sql, n, fresh, &err)) {
        g_free(err);
        return;
    }
    char *drop = g_strdup_printf("DEALLOCATE %s", ps->name);
    PQclear(PQexec(conn, drop));       /* a failure leaves an unused statement: harmless */
    g_free(drop);
    memcpy(ps->name, fresh, sizeof ps->name);
}

void db_close(PGconn *conn)
{
    if (!conn)
        return;
    g_mutex_lock(&prepared_lock);
    if (prepared)
        g_hash_table_remove(prepared, conn);
    g_mutex_unlock(&prepared_lock);
    PQfinish(conn);
}

/* The statement's prepared name, prepared (again) as the top says; NULL with *err. */
static const char *db_ready(PGconn *conn, const char *sql, int n, char **err)
{
    prepared_stmt *ps = db_prepare(conn, sql, n, err);
    if (!ps)
        return NULL;
    if (++ps->uses == ps->replan_at)
        db_replan(conn, ps, sql, n);
    return ps->name;
}

PGresult *db_exec(PGconn *conn, const char *sql, int n, const char *const *params, char **err)
{
    const char *name = db_ready(conn, sql, n, err);
    return name ? db_check(conn, PQexecPrepared(conn, name, n, params, NULL, NULL, 0), err)
                : NULL;
}

typedef struct db_step {
    const char *sql;
    int n;
    const char *const *params;
} db_step;

/* One statement's result in pipeline mode: the result, then the NULL that ends it. */
static PGresult *db_pipeline_result(PGconn *conn)
{
    PGresult *res = PQgetResult(conn);
    if (res)
        PQclear(PQgetResult(conn));
    return res;
}

/* Sends the steps, then reads every answer up to the sync: all are read even after an
 * error (the connection must be left clean). The result of step `keep`, or NULL with *err
 * (the first error) when any step failed. */
static PGresult *db_pipeline_run(PGconn *conn, const db_step *steps, int count, int keep,
                                 char **err)
{
    const char *names[4];
    g_assert(count <= (int) G_N_ELEMENTS(names));
    for (int i = 0; i < count; i++)
        if (!(names[i] = db_ready(conn, steps[i].sql, steps[i].n, err)))
            return NULL;
    gboolean sent = PQenterPipelineMode(conn);
    for (int i = 0; i < count && sent; i++)
        sent = PQsendQueryPrepared(conn, names[i], steps[i].n, steps[i].params, NULL, NULL, 0);
    sent = sent && PQpipelineSync(conn);
    PGresult *kept = NULL;
    gboolean failed = !sent;
    for (int i = 0; i < count && sent; i++) {
        PGresult *res = db_pipeline_result(conn);
        if (failed)
            PQclear(res);           /* PGRES_PIPELINE_ABORTED: skipped after the error */
        else if (!(res = db_check(conn, res, err)))
            failed = TRUE;
        else if (i == keep)
            kept = res;
        else
            PQclear(res);
    }
    if (sent)
        PQclear(PQgetResult(conn));     /* the sync's PGRES_PIPELINE_SYNC */
    if (!sent)
        *err = one_line(g_strdup_printf("database: %s", PQerrorMessage(conn)));
    if (!PQexitPipelineMode(conn) && !failed) {
        failed = TRUE;
        *err = one_line(g_strdup_printf("database: %s", PQerrorMessage(conn)));
    }
    if (failed) {
        PQclear(kept);
        return NULL;
    }
    return kept;
}

PGresult *db_begin_exec(PGconn *conn, const char *sql, int n, const char *const *params,
                        char **err)
{
    const db_step steps[] = { { "BEGIN", 0, NULL }, { sql, n, params } };
    return db_pipeline_run(conn, steps, 2, 1, err);
}

PGresult *db_exec_commit(PGconn *conn, const char *sql, int n, const char *const *params,
                         char **err)
{
    const db_step steps[] = { { sql, n, params }, { "COMMIT", 0, NULL } };
    return db_pipeline_run(conn, steps, 2, 0, err);
}

gboolean db_run(PGconn *conn, const char *sql, int n, const char *const *params, char **err)
{
    PGresult *res = db_exec(conn, sql, n, params, err);
    PQclear(res);
    return res != NULL;
}

gboolean db_begin(PGconn *conn, char **err)
{
    return db_run(conn, "BEGIN", 0, NULL, err);
}

gboolean db_commit(PGconn *conn, char **err)
{
    return db_run(conn, "COMMIT", 0, NULL, err);
}

void db_rollback(PGconn *conn)
{
    PQclear(PQexec(conn, "ROLLBACK"));
}

const char *db_str(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

gint64 db_int(const PGresult *res, int row, int col)
{
    return g_ascii_strtoll(db_str(res, row, col), NULL, 10);
}

gboolean db_bool(const PGresult *res, int row, int col)
{
    return strcmp(db_str(res, row, col), "t") == 0;
}

gboolean db_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col);
}

static gboolean migration_is_applied(const PGresult *applied, const char *name)
{
    for (int i = 0; i < PQntuples(applied); i++)
        if (strcmp(PQgetvalue(applied, i, 0), name) == 0)
            return TRUE;
    return FALSE;
}

/* All pending migrations commit together with their records: a failure leaves no half. */
static int migrate_locked(PGconn *conn, char **err)
{
    int count = 0;
    PGresult *applied = db_exec(conn, SQL_MIGRATION_APPLIED, 0, NULL, err);
    if (!applied)
        return -1;
    for (const sql_migration *m = sql_migrations; m->name; m++) {
        if (migration_is_applied(applied, m->name))
            continue;
        PGresult *res = PQexec(conn, m->text);   /* several statements: simple protocol */
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
            *err = one_line(g_strdup_printf("migration %s: %s", m->name,
                                            PQresultErrorMessage(res)));
            PQclear(res);
            PQclear(applied);
            return -1;
        }
        PQclear(res);
        const char *params[] = { m->name };
        if (!db_run(conn, SQL_MIGRATION_RECORD, 1, params, err)) {
            PQclear(applied);
            return -1;
        }
        count++;
    }
    PQclear(applied);
    return count;
}

int db_migrate(PGconn *conn, char **err)
{
    if (!db_run(conn, SQL_MIGRATION_TABLE, 0, NULL, err) || !db_begin(conn, err))
        return -1;
    int count = -1;
    if (db_run(conn, SQL_MIGRATION_LOCK, 0, NULL, err))
        count = migrate_locked(conn, err);
    if (count < 0 || !db_commit(conn, err)) {
        db_rollback(conn);
        return -1;
    }
    return count;
}
