/*
 * reglo — the operator's tool: dispatch to a command group; see cli.h.
 *
 *   reglo [-c FILE] db|artisan|invoice|reminders|fees|outbox|inspect|rewrite ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "cli.h"
#include "db.h"
#include "log.h"

static void usage(void)
{
    fprintf(stderr,
        "usage: reglo [-c FILE] COMMAND ...\n"
        "  db migrate                         apply the schema migrations\n"
        "  artisan add --email E --name N [--iban I] [--bic B] [--reminders 7,15,30]\n"
        "              [--reminders-from sent|due] [--payment on|off] [--link-default on|off]\n"
        "              [--locale fr|en] [--psp P]\n"
        "  artisan set --email E [same options]\n"
        "  artisan disable --email E\n"
        "  artisan list [--json]\n"
        "  invoice list [--artisan E] [--status S] [--json]\n"
        "  invoice show ID|NUMBER [--json]\n"
        "  reminders due [--json]             the reminders still to go out, and when\n"
        "  fees --month YYYY-MM [--csv]       what to bill each artisan for the month\n"
        "  outbox list [--failed] [--json]    reglo's own mail not sent yet, and why\n"
        "  outbox retry ID...|--failed        send it again now (after fixing the cause)\n"
        "  inspect FILE...                    read invoices from .eml, PDF or XML files\n"
        "  rewrite [--dry-run] [--rcpt ADDR]... < in.eml > out.eml\n");
    exit(EXIT_USAGE);
}

const reglo_conf *cli_conf(cli_env *env)
{
    if (!env->conf) {
        char *err = NULL;
        env->conf = conf_load(env->conf_path, &err);
        if (!env->conf) {
            fprintf(stderr, "reglo: %s\n", err);
            exit(EXIT_USAGE);
        }
    }
    return env->conf;
}

PGconn *cli_db(cli_env *env)
{
    if (!env->db) {
        const reglo_conf *conf = cli_conf(env);
        char *err = NULL;
        env->db = db_connect(conf->db_conninfo, conf->db_connect_timeout, 30000, &err);
        if (!env->db) {
            fprintf(stderr, "reglo: %s\n", err);
            exit(EXIT_FAIL);
        }
    }
    return env->db;
}

int cli_onoff(const char *s)
{
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1"))
        return 1;
    if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0"))
        return 0;
    return -1;
}

void cli_json_line(json_t *obj)
{
    char *line = json_dumps(obj, JSON_COMPACT);
    puts(line);
    free(line);
    json_decref(obj);
}

char *cli_iso_utc(gint64 t)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(t);
    char *s = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
    if (dt)
        g_date_time_unref(dt);
    return s;
}

int main(int argc, char **argv)
{
    cli_env env = { .conf_path = REGLO_CONF_DEFAULT };
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc)
            env.conf_path = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            log_set_verbose(1);
        else
            usage();
    }
    if (i >= argc)
        usage();
    log_open("reglo", 1);
    g_mime_init();
    xmlInitParser();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const struct { const char *name; int (*fn)(cli_env *, int, char **); } cmds[] = {
        { "db", cmd_db }, { "artisan", cmd_artisan }, { "invoice", cmd_invoice },
        { "reminders", cmd_reminders }, { "fees", cmd_fees }, { "outbox", cmd_outbox },
        { "inspect", cmd_inspect }, { "rewrite", cmd_rewrite },
    };
    int rc = -1;
    for (size_t c = 0; c < G_N_ELEMENTS(cmds); c++)
        if (!strcmp(argv[i], cmds[c].name))
            rc = cmds[c].fn(&env, argc - i, argv + i);
    if (rc < 0)
        usage();
    if (env.db)
        db_close(env.db);
    conf_free(env.conf);
    g_mime_shutdown();
    return rc;
}
