/*
 * invoice_cmd — `reglo invoice list|show`: what was recorded, and the timeline.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "db.h"
#include "money.h"
#include "sqltext.h"

/* Column order of SQL_INVOICE_LIST. */
enum { C_ID, C_NUMBER, C_STATUS, C_AMOUNT, C_CURRENCY, C_CLIENT, C_SENT, C_ISSUE, C_DUE,
       C_SOURCE, C_ARTISAN, C_MSGID, C_SENT_COUNT, C_SUBJECT };

static json_t *str_or_null(const char *s)
{
    return *s ? json_string(s) : json_null();
}

static json_t *invoice_json(const PGresult *res, int row)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_integer(db_int(res, row, C_ID)));
    json_object_set_new(obj, "number", json_string(db_str(res, row, C_NUMBER)));
    json_object_set_new(obj, "status", json_string(db_str(res, row, C_STATUS)));
    json_object_set_new(obj, "amount_due_minor", json_integer(db_int(res, row, C_AMOUNT)));
    json_object_set_new(obj, "currency", json_string(db_str(res, row, C_CURRENCY)));
    json_object_set_new(obj, "client_email", str_or_null(db_str(res, row, C_CLIENT)));
    json_object_set_new(obj, "sent_at", json_string(db_str(res, row, C_SENT)));
    json_object_set_new(obj, "issue_date", str_or_null(db_str(res, row, C_ISSUE)));
    json_object_set_new(obj, "due_date", str_or_null(db_str(res, row, C_DUE)));
    json_object_set_new(obj, "source", json_string(db_str(res, row, C_SOURCE)));
    json_object_set_new(obj, "artisan", json_string(db_str(res, row, C_ARTISAN)));
    json_object_set_new(obj, "message_id", str_or_null(db_str(res, row, C_MSGID)));
    json_object_set_new(obj, "sent_count", json_integer(db_int(res, row, C_SENT_COUNT)));
    json_object_set_new(obj, "subject", str_or_null(db_str(res, row, C_SUBJECT)));
    return obj;
}

static void print_row(const PGresult *res, int row)
{
    char *amount = money_format(db_int(res, row, C_AMOUNT), db_str(res, row, C_CURRENCY), "fr");
    printf("%-6s %-16s %-11s %14s  %-28s %s\n", db_str(res, row, C_ID),
           db_str(res, row, C_NUMBER), db_str(res, row, C_STATUS), amount,
           db_str(res, row, C_CLIENT), db_str(res, row, C_SENT));
    g_free(amount);
}

static PGresult *query(cli_env *env, const char *artisan, const char *status, const char *id)
{
    const char *params[] = { artisan, status, id };
    char *err = NULL;
    PGresult *res = db_exec(cli_db(env), SQL_INVOICE_LIST, 3, params, &err);
    if (!res)
        fprintf(stderr, "reglo: %s\n", err);
    g_free(err);
    return res;
}

static json_t *timeline(cli_env *env, const char *invoice_id)
{
    char *err = NULL;
    const char *params[] = { invoice_id };
    PGresult *res = db_exec(cli_db(env), SQL_INVOICE_EVENTS, 1, params, &err);
    json_t *list = json_array();
    for (int i = 0; res && i < PQntuples(res); i++) {
        json_t *detail = json_loads(db_str(res, i, 2), 0, NULL);
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "at", db_str(res, i, 0),
                                              "kind", db_str(res, i, 1),
                                              "detail", detail ? detail : json_object()));
    }
    if (!res)
        fprintf(stderr, "reglo: %s\n", err);
    g_free(err);
    PQclear(res);
    return list;
}

static int invoice_show(cli_env *env, const char *which, gboolean json)
{
    PGresult *res = query(env, "", "", which);
    if (!res)
        return EXIT_FAIL;
    int rc = EXIT_OK;
    if (PQntuples(res) == 0) {
        fprintf(stderr, "reglo: no invoice '%s'\n", which);
        rc = EXIT_FAIL;
    }
    for (int i = 0; i < PQntuples(res); i++) {   /* a number may exist for several artisans */
        json_t *obj = invoice_json(res, i);
        json_t *events = timeline(env, db_str(res, i, C_ID));
        if (json) {
            json_object_set(obj, "timeline", events);
            cli_json_line(json_incref(obj));
        } else {
            print_row(res, i);
            for (size_t e = 0; e < json_array_size(events); e++) {
                json_t *ev = json_array_get(events, e);
                char *detail = json_dumps(json_object_get(ev, "detail"), JSON_COMPACT);
                printf("    %s  %-12s %s\n", json_string_value(json_object_get(ev, "at")),
                       json_string_value(json_object_get(ev, "kind")), detail);
                free(detail);
            }
        }
        json_decref(events);
        json_decref(obj);
    }
    PQclear(res);
    return rc;
}

static int invoice_list(cli_env *env, const char *artisan, const char *status, gboolean json)
{
    PGresult *res = query(env, artisan, status, "");
    if (!res)
        return EXIT_FAIL;
    for (int i = 0; i < PQntuples(res); i++) {
        if (json)
            cli_json_line(invoice_json(res, i));
        else
            print_row(res, i);
    }
    PQclear(res);
    return EXIT_OK;
}

int cmd_invoice(cli_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "artisan", required_argument, NULL, 'a' }, { "status", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 }
    };
    const char *verb = argc > 1 ? argv[1] : "", *artisan = "", *status = "";
    gboolean json = FALSE;
    int opt;
    optind = 2;
    while (argc > 1 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'a')
            artisan = optarg;
        else if (opt == 's')
            status = optarg;
        else if (opt == 'j')
            json = TRUE;
        else
            return EXIT_USAGE;
    }
    if (!strcmp(verb, "list") && optind == argc)
        return invoice_list(env, artisan, status, json);
    if (!strcmp(verb, "show") && optind == argc - 1)
        return invoice_show(env, argv[optind], json);
    fprintf(stderr, "usage: reglo invoice list [--artisan E] [--status S] [--json]\n"
                    "       reglo invoice show ID|NUMBER [--json]\n");
    return EXIT_USAGE;
}
