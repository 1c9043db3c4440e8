/*
 * db — PostgreSQL access (libpq): a small connection pool shared by threads, parameterised
 * statements only, transactions, and migrations (the sql/ files compiled in).
 *
 * A PGresult returned to the caller is the caller's (PQclear). Error strings are
 * g_malloc'ed and returned, never logged here: the caller decides and logs once.
 */
#ifndef REGLO_DB_H
#define REGLO_DB_H

#include <glib.h>
#include <libpq-fe.h>

typedef struct db_pool db_pool;

/* Connections are opened lazily; statement_timeout bounds every statement (ms). */
db_pool *db_pool_new(const char *conninfo, int size, int connect_timeout, int statement_timeout_ms);
void db_pool_free(db_pool *pool);

/* A working connection, or NULL with *err. Give it back with db_release. */
PGconn *db_acquire(db_pool *pool, char **err);
/* broken: the connection failed mid-use; it is closed instead of reused. */
void db_release(db_pool *pool, PGconn *conn, gboolean broken);

/* One connection outside any pool (the CLI). NULL with *err. */
PGconn *db_connect(const char *conninfo, int connect_timeout, int statement_timeout_ms, char **err);
/* Close a connection from db_connect (forgets its prepared statements). NULL is fine. */
void db_close(PGconn *conn);

/*
 * Run sql with n text parameters (NULL = SQL NULL). Returns the result when it is
 * COMMAND_OK or TUPLES_OK, else NULL with *err. sql must be a constant (the compiled-in
 * queries, a literal): it is prepared once per connection and known by its address.
 * (Behind a transaction-pooling proxy such as pgbouncer, use session pooling.)
 */
PGresult *db_exec(PGconn *conn, const char *sql, int n, const char *const *params, char **err);
/* The same, for statements whose result is not needed. */
gboolean db_run(PGconn *conn, const char *sql, int n, const char *const *params, char **err);

gboolean db_begin(PGconn *conn, char **err);
gboolean db_commit(PGconn *conn, char **err);
void db_rollback(PGconn *conn);

/*
 * A transaction's first and last statements sent with its BEGIN and its COMMIT, one round
 * trip each instead of two (libpq's pipeline mode). db_begin_exec: BEGIN, then sql; NULL with
 * *err when either fails (the transaction may be open: db_rollback). db_exec_commit: sql,
 * then COMMIT; the result only when both succeeded, else NULL with *err: the transaction was
 * not committed (it is rolled back, or failed and open: db_rollback either way).
 */
PGresult *db_begin_exec(PGconn *conn, const char *sql, int n, const char *const *params,
                        char **err);
PGresult *db_exec_commit(PGconn *conn, const char *sql, int n, const char *const *params,
                         char **err);

/* Value helpers on a result row: NULL-safe, "" for SQL NULL. */
const char *db_str(const PGresult *res, int row, int col);
gint64 db_int(const PGresult *res, int row, int col);
gboolean db_bool(const PGresult *res, int row, int col);
gboolean db_null(const PGresult *res, int row, int col);

/* Apply the migrations not yet recorded; returns how many, or -1 with *err. */
int db_migrate(PGconn *conn, char **err);

#endif
