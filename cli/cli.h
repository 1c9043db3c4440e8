/*
 * cli — what the `reglo` command groups share: the configuration and database opened on
 * demand (a command that needs neither, like inspect, runs without them), and exit codes.
 */
#ifndef REGLO_CLI_H
#define REGLO_CLI_H

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "conf.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef struct cli_env {
    const char *conf_path;
    reglo_conf *conf;
    PGconn *db;
} cli_env;

/* These print the error and exit (2 for configuration, 1 for the database). */
const reglo_conf *cli_conf(cli_env *env);
PGconn *cli_db(cli_env *env);

int cmd_db(cli_env *env, int argc, char **argv);
int cmd_artisan(cli_env *env, int argc, char **argv);
int cmd_invoice(cli_env *env, int argc, char **argv);
int cmd_inspect(cli_env *env, int argc, char **argv);
int cmd_rewrite(cli_env *env, int argc, char **argv);
int cmd_reminders(cli_env *env, int argc, char **argv);
int cmd_fees(cli_env *env, int argc, char **argv);
int cmd_outbox(cli_env *env, int argc, char **argv);

/* "on"/"off"/"yes"/"no"/"true"/"false"; -1 when neither. */
int cli_onoff(const char *s);

/* obj as one line of JSON on stdout (the --json output: one object per line); obj is
 * released. */
void cli_json_line(json_t *obj);

/* "2026-03-09T08:00:00Z" for a Unix time (g_free). */
char *cli_iso_utc(gint64 t);

#endif
