/*
 * outbox_cmd — `reglo outbox list [--failed] [--json]` and `reglo outbox retry ID...|--failed`:
 * the mail reglo writes itself (the artisans' notices, sign-in links, answers from the
 * portal) that has not gone out, why, and a way to send it again once the cause is fixed
 * (a recipient the MTA refused for good, an MTA away for two days). The daemons' outbox
 * senders do the sending (lib/outbox.c): a row made due is sent at their next pass. The
 * two days of retries count from the row's creation: a row older than that made due again
 * gets one try, and is failed again if the MTA refuses it for now.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "sqltext.h"

enum { C_ID, C_PURPOSE, C_NUMBER, C_RCPTS, C_ATTEMPTS, C_FAILED, C_NEXT, C_ERROR, C_CREATED };

static const char *row_state(const PGresult *res, int row)
{
    if (db_bool(res, row, C_FAILED))
        return "failed";
    return db_int(res, row, C_ATTEMPTS) > 0 ? "retry" : "waiting";
}

static void print_json(const PGresult *res, int row)
{
    char *next = cli_iso_utc(db_int(res, row, C_NEXT));
    char *created = cli_iso_utc(db_int(res, row, C_CREATED));
    json_t *obj = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s}",
                            "id", (json_int_t) db_int(res, row, C_ID),
                            "state", row_state(res, row),
                            "purpose", db_str(res, row, C_PURPOSE),
                            "to", db_str(res, row, C_RCPTS),
                            "invoice", db_str(res, row, C_NUMBER),
                            "attempts", (int) db_int(res, row, C_ATTEMPTS),
                            "next_attempt", next, "created_at", created);
    if (*db_str(res, row, C_ERROR))
        json_object_set_new(obj, "last_error", json_string(db_str(res, row, C_ERROR)));
    cli_json_line(obj);
    g_free(next);
    g_free(created);
}

static void print_text(const PGresult *res, int row)
{
    char *next = db_bool(res, row, C_FAILED) ? g_strdup("-")
                                             : cli_iso_utc(db_int(res, row, C_NEXT));
    printf("%-7s %-8s %5d  %-20s %-14s %-16s %s\n", db_str(res, row, C_ID),
           row_state(res, row), (int) db_int(res, row, C_ATTEMPTS), next,
           db_str(res, row, C_PURPOSE), db_str(res, row, C_NUMBER), db_str(res, row, C_RCPTS));
    if (*db_str(res, row, C_ERROR))
        printf("        %s\n", db_str(res, row, C_ERROR));
    g_free(next);
}

static int outbox_list(cli_env *env, gboolean failed_only, gboolean json)
{
    char *err = NULL;
    const char *params[] = { failed_only ? "true" : "false" };
    PGresult *res = db_exec(cli_db(env), SQL_OUTBOX_LIST, 1, params, &err);
    if (!res) {
        fprintf(stderr, "reglo: %s\n", err);
        g_free(err);
        return EXIT_FAIL;
    }
    int n = PQntuples(res);
    if (!json && n == 0)
        printf("%s\n", failed_only ? "no failed mail" : "no mail waiting: everything was sent");
    else if (!json)
        printf("%-7s %-8s %5s  %-20s %-14s %-16s %s\n", "id", "state", "tries", "next try",
               "purpose", "invoice", "to");
    for (int i = 0; i < n; i++) {
        if (json)
            print_json(res, i);
        else
            print_text(res, i);
    }
    PQclear(res);
    return EXIT_OK;
}

/* The row ids as given ("1", "0020"...), read once into rows; FALSE when one is not a row id. */
static gboolean ids_read(char **ids, int n, gint64 *rows)
{
    for (int i = 0; i < n; i++) {
        guint64 id;
        if (!g_ascii_string_to_unsigned(ids[i], 10, 0, G_MAXINT64, &id, NULL)) {
            fprintf(stderr, "reglo: '%s' is not an outbox row id\n", ids[i]);
            return FALSE;
        }
        rows[i] = (gint64) id;
    }
    return TRUE;
}

/* "{1,2}" for the statement. */
static char *id_array(const gint64 *rows, int n)
{
    GString *s = g_string_new("{");
    for (int i = 0; i < n; i++)
        g_string_append_printf(s, "%s%" G_GINT64_FORMAT, i ? "," : "", rows[i]);
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

static int outbox_retry(cli_env *env, char **ids, int n, gboolean failed)
{
    gint64 *rows = g_new(gint64, (gsize) MAX(n, 1));
    if (!ids_read(ids, n, rows)) {
        g_free(rows);
        return EXIT_USAGE;
    }
    char *array = id_array(rows, n);
    char *err = NULL;
    const char *params[] = { array, failed ? "true" : "false" };
    PGresult *res = db_exec(cli_db(env), SQL_OUTBOX_REQUEUE, 2, params, &err);
    g_free(array);
    if (!res) {
        fprintf(stderr, "reglo: %s\n", err);
        g_free(err);
        g_free(rows);
        return EXIT_FAIL;
    }
    int due = PQntuples(res);
    if (due > 0)
        printf("%d message%s due now: the next outbox pass (every 2 s) sends %s\n", due,
               due == 1 ? "" : "s", due == 1 ? "it" : "them");
    else if (failed)
        printf("no failed mail\n");
    /* An id given that was not made due: unknown, or sent already. */
    int rc = EXIT_OK;
    for (int i = 0; i < n; i++) {
        gboolean found = FALSE;
        for (int r = 0; r < due && !found; r++)
            found = db_int(res, r, 0) == rows[i];
        if (!found) {
            fprintf(stderr, "reglo: no unsent outbox row %s\n", ids[i]);
            rc = EXIT_FAIL;
        }
    }
    PQclear(res);
    g_free(rows);
    return rc;
}

int cmd_outbox(cli_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "failed", no_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 }
    };
    gboolean json = FALSE, failed = FALSE;
    int opt;
    optind = 2;
    while (argc > 1 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j')
            json = TRUE;
        else if (opt == 'f')
            failed = TRUE;
        else
            return EXIT_USAGE;
    }
    const char *verb = argc > 1 ? argv[1] : "";
    int rest = argc - optind;
    if (!strcmp(verb, "list") && rest == 0)
        return outbox_list(env, failed, json);
    if (!strcmp(verb, "retry") && !json && (rest > 0) != failed)
        return outbox_retry(env, argv + optind, rest, failed);
    fprintf(stderr, "usage: reglo outbox list [--failed] [--json]\n"
                    "       reglo outbox retry ID...|--failed\n");
    return EXIT_USAGE;
}
