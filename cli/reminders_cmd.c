/*
 * reminders_cmd — `reglo reminders due [--json]`: every reminder still to go out, soonest
 * first, with when it goes out (business hours applied, in the configured time zone) and
 * its state: scheduled (not due yet), due (goes out at the next business-hours instant),
 * retry (after a temporary SMTP failure, with the error), skip (too late: will be skipped
 * and recorded). "Now" is the reminder clock (REGLO_CLOCK_FILE, see lib/clock.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "clock.h"
#include "reminder.h"

/* "2026-03-09 09:00 CET", in the zone of the business hours. */
static char *local_time(const reglo_conf *conf, gint64 t)
{
    GTimeZone *tz = g_time_zone_new_identifier(conf->reminders_timezone);
    GDateTime *utc = g_date_time_new_from_unix_utc(t);
    GDateTime *local = utc && tz ? g_date_time_to_timezone(utc, tz) : NULL;
    char *s = local ? g_date_time_format(local, "%Y-%m-%d %H:%M %Z") : cli_iso_utc(t);
    if (local)
        g_date_time_unref(local);
    if (utc)
        g_date_time_unref(utc);
    if (tz)
        g_time_zone_unref(tz);
    return s;
}

static void print_json(const reminder_next *n)
{
    char *due = cli_iso_utc(n->due_at), *send = cli_iso_utc(n->send_at);
    json_t *obj = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:i}", "invoice_id",
                            (json_int_t) n->invoice_id, "number", n->number, "artisan",
                            n->artisan, "step", n->step, "due_at", due, "send_at", send,
                            "state", reminder_state_name(n->state), "attempts", n->attempts);
    if (*n->last_error)
        json_object_set_new(obj, "last_error", json_string(n->last_error));
    cli_json_line(obj);
    g_free(due);
    g_free(send);
}

static void print_text(const reglo_conf *conf, const reminder_next *n)
{
    char *send = local_time(conf, n->send_at);
    printf("%-22s %-9s D%+-4d %-6" G_GINT64_FORMAT " %-16s %s", send,
           reminder_state_name(n->state), n->step, n->invoice_id, n->number, n->artisan);
    if (n->attempts)
        printf("  (%d tries: %s)", n->attempts, n->last_error);
    putchar('\n');
    g_free(send);
}

static int reminders_due(cli_env *env, gboolean json)
{
    const reglo_conf *conf = cli_conf(env);
    char *err = NULL;
    GPtrArray *list = reminder_upcoming(cli_db(env), conf, clock_now(), &err);
    if (!list) {
        fprintf(stderr, "reglo: %s\n", err);
        g_free(err);
        return EXIT_FAIL;
    }
    if (!json && list->len == 0)
        printf("no reminder to send\n");
    else if (!json)
        printf("%-22s %-9s %-5s %-6s %-16s %s\n", "goes out", "state", "step", "id", "invoice",
               "artisan");
    for (guint i = 0; i < list->len; i++) {
        if (json)
            print_json(g_ptr_array_index(list, i));
        else
            print_text(conf, g_ptr_array_index(list, i));
    }
    g_ptr_array_unref(list);
    return EXIT_OK;
}

int cmd_reminders(cli_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 }
    };
    gboolean json = FALSE;
    int opt;
    optind = 2;
    while (argc > 1 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'j')
            return EXIT_USAGE;
        json = TRUE;
    }
    if (argc > 1 && !strcmp(argv[1], "due") && optind == argc)
        return reminders_due(env, json);
    fprintf(stderr, "usage: reglo reminders due [--json]\n");
    return EXIT_USAGE;
}
