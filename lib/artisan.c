/*
 * artisan — enrolled senders in PostgreSQL; see artisan.h.
 */
#include "artisan.h"
#include "db.h"
#include "sqltext.h"

#include <stdlib.h>
#include <string.h>

static char *nullable(const PGresult *res, int row, int col)
{
    return db_null(res, row, col) ? NULL : g_strdup(db_str(res, row, col));
}

/* Column order of SQL_ARTISAN_BY_EMAIL and SQL_ARTISAN_LIST. */
static artisan *artisan_from_row(const PGresult *res, int row)
{
    artisan *a = g_new0(artisan, 1);
    a->id = db_int(res, row, 0);
    a->email = g_strdup(db_str(res, row, 1));
    a->name = g_strdup(db_str(res, row, 2));
    a->iban = nullable(res, row, 3);
    a->bic = nullable(res, row, 4);
    a->locale = g_strdup(db_str(res, row, 5));
    a->payment_enabled = db_bool(res, row, 6);
    a->link_default = db_bool(res, row, 7);
    a->reminders = g_strdup(db_str(res, row, 8));
    a->reminders_from = g_strdup(db_str(res, row, 9));
    a->pause_on_client_reply = db_bool(res, row, 10);
    a->psp = g_strdup(db_str(res, row, 11));
    a->disabled = db_bool(res, row, 12);
    return a;
}

artisan_lookup_result artisan_lookup(PGconn *db, const char *email, artisan **out, char **err)
{
    const char *params[] = { email };
    PGresult *res = db_exec(db, SQL_ARTISAN_BY_EMAIL, 1, params, err);
    *out = NULL;
    if (!res)
        return ARTISAN_DB_ERROR;
    if (PQntuples(res) == 1)
        *out = artisan_from_row(res, 0);
    PQclear(res);
    return *out ? ARTISAN_FOUND : ARTISAN_UNKNOWN;
}

artisan_lookup_result artisan_domain_lookup(PGconn *db, const char *domain, char **err)
{
    const char *params[] = { domain };
    PGresult *res = db_exec(db, SQL_ARTISAN_DOMAIN_KNOWN, 1, params, err);
    if (!res)
        return ARTISAN_DB_ERROR;
    artisan_lookup_result found = PQntuples(res) > 0 ? ARTISAN_FOUND : ARTISAN_UNKNOWN;
    PQclear(res);
    return found;
}

GPtrArray *artisan_list(PGconn *db, char **err)
{
    PGresult *res = db_exec(db, SQL_ARTISAN_LIST, 0, NULL, err);
    if (!res)
        return NULL;
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) artisan_free);
    for (int i = 0; i < PQntuples(res); i++)
        g_ptr_array_add(list, artisan_from_row(res, i));
    PQclear(res);
    return list;
}

gboolean artisan_save(PGconn *db, artisan *a, char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, a->id);
    const char *fields[] = {
        a->id ? id : a->email, a->name, a->iban, a->bic, a->locale,
        a->payment_enabled ? "t" : "f", a->link_default ? "t" : "f", a->reminders,
        a->reminders_from, a->pause_on_client_reply ? "t" : "f", a->psp,
        a->disabled ? "t" : "f",
    };
    if (a->id)
        return db_run(db, SQL_ARTISAN_UPDATE, 12, fields, err);
    PGresult *res = db_exec(db, SQL_ARTISAN_INSERT, 12, fields, err);
    if (!res)
        return FALSE;
    a->id = db_int(res, 0, 0);
    PQclear(res);
    return TRUE;
}

artisan *artisan_new_defaults(const char *email, const char *name)
{
    artisan *a = g_new0(artisan, 1);
    a->email = g_ascii_strdown(email, -1);
    a->name = g_strdup(name);
    a->locale = g_strdup("fr");
    a->payment_enabled = TRUE;
    a->link_default = TRUE;
    a->reminders = g_strdup("7,15,30");
    a->reminders_from = g_strdup("sent");
    a->pause_on_client_reply = TRUE;
    a->psp = g_strdup("");
    return a;
}

artisan *artisan_dup(const artisan *a)
{
    artisan *d = g_new(artisan, 1);
    *d = *a;
    d->email = g_strdup(a->email);
    d->name = g_strdup(a->name);
    d->iban = g_strdup(a->iban);
    d->bic = g_strdup(a->bic);
    d->locale = g_strdup(a->locale);
    d->reminders = g_strdup(a->reminders);
    d->reminders_from = g_strdup(a->reminders_from);
    d->psp = g_strdup(a->psp);
    return d;
}

void artisan_free(artisan *a)
{
    if (!a)
        return;
    g_free(a->email);
    g_free(a->name);
    g_free(a->iban);
    g_free(a->bic);
    g_free(a->locale);
    g_free(a->reminders);
    g_free(a->reminders_from);
    g_free(a->psp);
    g_free(a);
}

char *artisan_parse_reminders(const char *text)
{
    GString *out = g_string_new(NULL);
    char **parts = g_strsplit(text, ",", 16);
    gboolean ok = TRUE;
    for (int i = 0; parts[i] && ok; i++) {
        char *p = g_strstrip(parts[i]), *end;
        if (*p == '\0' && parts[1] == NULL)
            break;              /* "" = no reminders */
        long v = strtol(p, &end, 10);
        ok = *p != '\0' && *end == '\0' && v >= -60 && v <= 365;
        if (ok)
            g_string_append_printf(out, "%s%ld", out->len ? "," : "", v);
    }
    g_strfreev(parts);
    if (!ok) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}
