/*
 * artisan_cmd — `reglo artisan add|set|disable|list`: enrolment and settings.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "artisan.h"
#include "cli.h"
#include "qr.h"

enum { OPT_EMAIL = 1, OPT_NAME, OPT_IBAN, OPT_BIC, OPT_REMINDERS, OPT_REMINDERS_FROM,
       OPT_PAYMENT, OPT_LINK_DEFAULT, OPT_LOCALE, OPT_PSP, OPT_PAUSE, OPT_JSON };

static const struct option artisan_opts[] = {
    { "email", required_argument, NULL, OPT_EMAIL },
    { "name", required_argument, NULL, OPT_NAME },
    { "iban", required_argument, NULL, OPT_IBAN },
    { "bic", required_argument, NULL, OPT_BIC },
    { "reminders", required_argument, NULL, OPT_REMINDERS },
    { "reminders-from", required_argument, NULL, OPT_REMINDERS_FROM },
    { "payment", required_argument, NULL, OPT_PAYMENT },
    { "link-default", required_argument, NULL, OPT_LINK_DEFAULT },
    { "locale", required_argument, NULL, OPT_LOCALE },
    { "psp", required_argument, NULL, OPT_PSP },
    { "pause-on-client-reply", required_argument, NULL, OPT_PAUSE },
    { "json", no_argument, NULL, OPT_JSON },
    { NULL, 0, NULL, 0 }
};

static int bad(const char *what, const char *value)
{
    fprintf(stderr, "reglo: invalid %s: '%s'\n", what, value);
    return EXIT_USAGE;
}

static void replace(char **field, char *value)
{
    g_free(*field);
    *field = value;
}

static int set_flag(gboolean *field, const char *what, const char *value)
{
    int v = cli_onoff(value);
    if (v < 0)
        return bad(what, value);
    *field = v;
    return EXIT_OK;
}

/* One option onto the record; EXIT_USAGE when its value is wrong. */
static int apply_option(artisan *a, int opt, const char *value)
{
    char *parsed;
    switch (opt) {
    case OPT_NAME:
        if (!*value)
            return bad("name", value);
        replace(&a->name, g_strdup(value));
        return EXIT_OK;
    case OPT_IBAN:
        if (!*value) {
            replace(&a->iban, NULL);
            return EXIT_OK;
        }
        parsed = qr_iban_normalise(value);
        if (!parsed || !qr_iban_valid(parsed)) {
            g_free(parsed);
            return bad("IBAN (check digits)", value);
        }
        replace(&a->iban, parsed);
        return EXIT_OK;
    case OPT_BIC:
        replace(&a->bic, *value ? g_ascii_strup(value, -1) : NULL);
        return EXIT_OK;
    case OPT_REMINDERS:
        if (!(parsed = artisan_parse_reminders(value)))
            return bad("reminders (comma-separated days, e.g. 7,15,30)", value);
        replace(&a->reminders, parsed);
        return EXIT_OK;
    case OPT_REMINDERS_FROM:
        if (strcmp(value, "sent") && strcmp(value, "due"))
            return bad("reminders-from (sent or due)", value);
        replace(&a->reminders_from, g_strdup(value));
        return EXIT_OK;
    case OPT_PAYMENT:
        return set_flag(&a->payment_enabled, "payment (on or off)", value);
    case OPT_LINK_DEFAULT:
        return set_flag(&a->link_default, "link-default (on or off)", value);
    case OPT_PAUSE:
        return set_flag(&a->pause_on_client_reply, "pause-on-client-reply", value);
    case OPT_LOCALE:
        if (strcmp(value, "fr") && strcmp(value, "en"))
            return bad("locale (fr or en)", value);
        replace(&a->locale, g_strdup(value));
        return EXIT_OK;
    case OPT_PSP:
        if (*value && strcmp(value, "stripe") && strcmp(value, "mollie"))
            return bad("psp (stripe or mollie)", value);
        replace(&a->psp, g_strdup(value));
        return EXIT_OK;
    }
    return EXIT_USAGE;
}

typedef struct { int opt; const char *value; } option_value;

/* Parse argv: the email, the JSON flag, and the other options kept in order for later. */
static int parse_options(int argc, char **argv, const char **email, gboolean *json,
                         GArray *values)
{
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", artisan_opts, NULL)) != -1) {
        if (opt == '?')
            return EXIT_USAGE;
        if (opt == OPT_EMAIL)
            *email = optarg;
        else if (opt == OPT_JSON)
            *json = TRUE;
        else {
            option_value v = { opt, optarg };
            g_array_append_val(values, v);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "reglo: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static json_t *artisan_json(const artisan *a)
{
    return json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s, s:b, s:b, s:s, s:s, s:b, s:s?, s:b}",
                     "id", (json_int_t) a->id, "email", a->email, "name", a->name,
                     "iban", a->iban, "bic", a->bic, "locale", a->locale,
                     "payment", a->payment_enabled, "link_default", a->link_default,
                     "reminders", a->reminders, "reminders_from", a->reminders_from,
                     "pause_on_client_reply", a->pause_on_client_reply,
                     "psp", *a->psp ? a->psp : NULL, "disabled", a->disabled);
}

static int artisan_print_list(cli_env *env, gboolean json)
{
    char *err = NULL;
    GPtrArray *list = artisan_list(cli_db(env), &err);
    if (!list) {
        fprintf(stderr, "reglo: %s\n", err);
        return EXIT_FAIL;
    }
    for (guint i = 0; i < list->len; i++) {
        const artisan *a = g_ptr_array_index(list, i);
        if (json)
            cli_json_line(artisan_json(a));
        else
            printf("%-32s %-24s payment=%s link=%s reminders=%s%s\n", a->email, a->name,
                   a->payment_enabled ? "on" : "off", a->link_default ? "always" : "[lien]",
                   *a->reminders ? a->reminders : "none", a->disabled ? " DISABLED" : "");
    }
    g_ptr_array_unref(list);
    return EXIT_OK;
}

/* add: a new record; set/disable: the existing one. Options apply in command-line order. */
static int artisan_change(cli_env *env, const char *verb, const char *email, GArray *values)
{
    char *err = NULL;
    artisan *a = NULL;
    PGconn *db = cli_db(env);
    artisan_lookup_result found = artisan_lookup(db, email, &a, &err);
    if (found == ARTISAN_DB_ERROR) {
        fprintf(stderr, "reglo: %s\n", err);
        return EXIT_FAIL;
    }
    gboolean adding = !strcmp(verb, "add");
    if (adding && found == ARTISAN_FOUND) {
        fprintf(stderr, "reglo: %s is already enrolled (use artisan set)\n", email);
        artisan_free(a);
        return EXIT_FAIL;
    }
    if (!adding && found == ARTISAN_UNKNOWN) {
        fprintf(stderr, "reglo: %s is not enrolled\n", email);
        return EXIT_FAIL;
    }
    if (adding)
        a = artisan_new_defaults(email, "");
    a->disabled = a->disabled || !strcmp(verb, "disable");
    int rc = EXIT_OK;
    for (guint i = 0; i < values->len && rc == EXIT_OK; i++) {
        option_value *v = &g_array_index(values, option_value, i);
        rc = apply_option(a, v->opt, v->value);
    }
    if (rc == EXIT_OK && !*a->name)
        rc = bad("name (--name is required)", "");
    if (rc == EXIT_OK && !artisan_save(db, a, &err)) {
        fprintf(stderr, "reglo: %s\n", err);
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK)
        printf("%s %s (id %" G_GINT64_FORMAT ")\n", adding ? "enrolled" : "updated", a->email,
               a->id);
    artisan_free(a);
    return rc;
}

int cmd_artisan(cli_env *env, int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "";
    const char *email = NULL;
    gboolean json = FALSE;
    GArray *values = g_array_new(FALSE, FALSE, sizeof(option_value));
    int rc = parse_options(argc - 1, argv + 1, &email, &json, values);
    if (rc == EXIT_OK && !strcmp(verb, "list"))
        rc = artisan_print_list(env, json);
    else if (rc == EXIT_OK && (!strcmp(verb, "add") || !strcmp(verb, "set") ||
                               !strcmp(verb, "disable"))) {
        if (!email || !strchr(email, '@'))
            rc = bad("--email", email ? email : "(missing)");
        else
            rc = artisan_change(env, verb, email, values);
    } else if (rc == EXIT_OK) {
        fprintf(stderr, "usage: reglo artisan add|set|disable|list ...\n");
        rc = EXIT_USAGE;
    }
    g_array_free(values, TRUE);
    return rc;
}
