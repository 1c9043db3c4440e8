/*
 * test_db — a transaction's first and last statements sent with BEGIN and COMMIT
 * (db_begin_exec, db_exec_commit: libpq's pipeline mode) on a real PostgreSQL: the result
 * when all goes well, and what is left when the statement fails, when COMMIT fails (a
 * deferred constraint), and across the re-preparing of statements; each time the
 * connection stays usable. A second connection tells what was committed.
 *
 * Needs PostgreSQL: the tests run only when $REGLO_TEST_CONNINFO names a database
 * (tests/integration/db.sh sets it); without it a notice says they are left out and none is
 * counted.
 */
#include <check.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "testutil.h"

static PGconn *db, *other;

static PGconn *connect_or_die(void)
{
    char *err = NULL;
    PGconn *c = db_connect(getenv("REGLO_TEST_CONNINFO"), 5, 30000, &err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static void plain(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    PQclear(res);
}

static void setup(void)
{
    db = connect_or_die();
    other = connect_or_die();
    plain(db, "DROP TABLE IF EXISTS pipeline_test");
    plain(db, "CREATE TABLE pipeline_test (id integer PRIMARY KEY, ref integer "
              "REFERENCES pipeline_test (id) DEFERRABLE INITIALLY DEFERRED)");
}

static void teardown(void)
{
    plain(db, "DROP TABLE IF EXISTS pipeline_test");
    db_close(db);
    db_close(other);
}

/* Rows of the table as the other connection sees them (what was committed). */
static int committed_rows(void)
{
    PGresult *res = PQexec(other, "SELECT count(*) FROM pipeline_test");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    int n = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

/* The connection answers a plain statement: nothing was left half-read. */
static void usable(void)
{
    char *err = NULL;
    PGresult *res = db_exec(db, "SELECT 'still here'", 0, NULL, &err);
    ck_assert_msg(res != NULL, "%s", err);
    ck_assert_str_eq(db_str(res, 0, 0), "still here");
    PQclear(res);
}

START_TEST(test_both_succeed)
{
    char *err = NULL;
    PGresult *res = db_begin_exec(db, "INSERT INTO pipeline_test VALUES (1, NULL) RETURNING id",
                                  0, NULL, &err);
    ck_assert_msg(res != NULL, "%s", err);
    ck_assert_str_eq(db_str(res, 0, 0), "1");
    PQclear(res);
    ck_assert_int_eq(PQtransactionStatus(db), PQTRANS_INTRANS);
    ck_assert_int_eq(committed_rows(), 0);
    const char *params[] = { "2", "1" };
    res = db_exec_commit(db, "INSERT INTO pipeline_test VALUES ($1::integer, $2::integer) "
                             "RETURNING id", 2, params, &err);
    ck_assert_msg(res != NULL, "%s", err);
    ck_assert_str_eq(db_str(res, 0, 0), "2");
    PQclear(res);
    ck_assert_int_eq(PQtransactionStatus(db), PQTRANS_IDLE);
    ck_assert_int_eq(committed_rows(), 2);
    usable();
}
END_TEST

START_TEST(test_first_statement_fails)
{
    char *err = NULL;
    PGresult *res = db_begin_exec(db, "SELECT 1 / 0", 0, NULL, &err);
    ck_assert_ptr_null(res);
    ck_assert_ptr_nonnull(strstr(err, "division by zero"));
    g_free(err);
    db_rollback(db);
    ck_assert_int_eq(PQtransactionStatus(db), PQTRANS_IDLE);
    usable();
}
END_TEST

START_TEST(test_last_statement_fails)
{
    char *err = NULL;
    PGresult *res = db_begin_exec(db, "INSERT INTO pipeline_test VALUES (1, NULL)", 0, NULL,
                                  &err);
    ck_assert_msg(res != NULL, "%s", err);
    PQclear(res);
    /* the same key again: the statement fails, COMMIT is not run */
    res = db_exec_commit(db, "INSERT INTO pipeline_test VALUES (1, NULL)", 0, NULL, &err);
    ck_assert_ptr_null(res);
    ck_assert_ptr_nonnull(strstr(err, "duplicate key"));
    g_free(err);
    ck_assert_int_eq(PQtransactionStatus(db), PQTRANS_INERROR);
    db_rollback(db);
    ck_assert_int_eq(committed_rows(), 0);
    usable();
}
END_TEST

START_TEST(test_commit_fails)
{
    char *err = NULL;
    PGresult *res = db_begin_exec(db, "INSERT INTO pipeline_test VALUES (1, NULL)", 0, NULL,
                                  &err);
    ck_assert_msg(res != NULL, "%s", err);
    PQclear(res);
    /* the statement succeeds; its deferred foreign key fails at COMMIT */
    res = db_exec_commit(db, "INSERT INTO pipeline_test VALUES (2, 99)", 0, NULL, &err);
    ck_assert_ptr_null(res);
    ck_assert_ptr_nonnull(strstr(err, "foreign key"));
    g_free(err);
    ck_assert_int_eq(committed_rows(), 0);
    db_rollback(db);          /* what callers do after any failure: harmless here */
    ck_assert_int_eq(PQtransactionStatus(db), PQTRANS_IDLE);
    usable();
}
END_TEST

/* Past the executions after which a statement is prepared again (lib/db.c), inside the
 * pipeline as outside it. */
START_TEST(test_prepared_again)
{
    for (int i = 0; i < 80; i++) {
        char *err = NULL;
        char id[16];
        g_snprintf(id, sizeof id, "%d", i);
        PGresult *res = db_begin_exec(db, "SELECT $1::integer + 1", 1,
                                      (const char *[]) { id }, &err);
        ck_assert_msg(res != NULL, "%s", err);
        ck_assert_int_eq(db_int(res, 0, 0), i + 1);
        PQclear(res);
        res = db_exec_commit(db, "INSERT INTO pipeline_test VALUES ($1::integer, NULL)", 1,
                             (const char *[]) { id }, &err);
        ck_assert_msg(res != NULL, "%s", err);
        PQclear(res);
    }
    ck_assert_int_eq(committed_rows(), 80);
    usable();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db");
    const char *conninfo = getenv("REGLO_TEST_CONNINFO");
    if (conninfo && *conninfo) {
        TCase *tc = tcase_create("pipeline");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_both_succeed);
        tcase_add_test(tc, test_first_statement_fails);
        tcase_add_test(tc, test_last_statement_fails);
        tcase_add_test(tc, test_commit_fails);
        tcase_add_test(tc, test_prepared_again);
        suite_add_tcase(s, tc);
    } else
        fprintf(stderr, "NOTICE: test_db: left out (REGLO_TEST_CONNINFO unset; "
                        "tests/integration/db.sh runs them on PostgreSQL)\n");
    int failed = testutil_run(s);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
