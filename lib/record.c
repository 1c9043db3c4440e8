/*
 * record — invoice records for the gateway; see record.h.
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sqltext.h"
#include "token.h"

/* Column order of SQL_RECORD_BY_TOKEN_HASH and SQL_RECORD_BY_ID. */
static record *record_from_row(const PGresult *res)
{
    record *r = g_new0(record, 1);
    r->id = db_int(res, 0, 0);
    r->number = g_strdup(db_str(res, 0, 1));
    r->status = g_strdup(db_str(res, 0, 2));
    r->amount_due_minor = db_int(res, 0, 3);
    g_strlcpy(r->currency, db_str(res, 0, 4), sizeof r->currency);
    r->issue_date = g_strdup(db_str(res, 0, 5));
    r->due_date = g_strdup(db_str(res, 0, 6));
    r->client_email = g_strdup(db_str(res, 0, 7));
    r->message_id = g_strdup(db_str(res, 0, 8));
    r->key_id = g_strdup(db_str(res, 0, 9));
    r->paid_at = g_strdup(db_str(res, 0, 10));
    r->paid_minor = db_int(res, 0, 11);
    r->subject = g_strdup(db_str(res, 0, 12));
    r->artisan_id = db_int(res, 0, 13);
    r->artisan_email = g_strdup(db_str(res, 0, 14));
    r->artisan_name = g_strdup(db_str(res, 0, 15));
    r->artisan_iban = g_strdup(db_str(res, 0, 16));
    r->artisan_bic = g_strdup(db_str(res, 0, 17));
    r->artisan_locale = g_strdup(db_str(res, 0, 18));
    r->artisan_psp = g_strdup(db_str(res, 0, 19));
    r->viewed = db_bool(res, 0, 20);
    return r;
}

static record_lookup_result record_query(PGconn *db, const char *sql, const char *param,
                                         record **out, char **err)
{
    const char *params[] = { param };
    PGresult *res = db_exec(db, sql, 1, params, err);
    *out = NULL;
    if (!res)
        return RECORD_DB_ERROR;
    if (PQntuples(res) == 1)
        *out = record_from_row(res);
    PQclear(res);
    return *out ? RECORD_FOUND : RECORD_UNKNOWN;
}

/* Only the hash is stored: a malformed token is unknown without asking the database. */
record_lookup_result record_by_token(PGconn *db, const char *token, record **out, char **err)
{
    *out = NULL;
    if (!token_well_formed(token))
        return RECORD_UNKNOWN;
    char *hash = token_hash(token);
    record_lookup_result found = record_query(db, SQL_RECORD_BY_TOKEN_HASH, hash, out, err);
    g_free(hash);
    return found;
}

record_lookup_result record_by_id(PGconn *db, gint64 id, record **out, char **err)
{
    char text[24];
    g_snprintf(text, sizeof text, "%" G_GINT64_FORMAT, id);
    return record_query(db, SQL_RECORD_BY_ID, text, out, err);
}

void record_free(record *r)
{
    if (!r)
        return;
    g_free(r->number);
    g_free(r->status);
    g_free(r->issue_date);
    g_free(r->due_date);
    g_free(r->client_email);
    g_free(r->message_id);
    g_free(r->key_id);
    g_free(r->paid_at);
    g_free(r->subject);
    g_free(r->artisan_email);
    g_free(r->artisan_name);
    g_free(r->artisan_iban);
    g_free(r->artisan_bic);
    g_free(r->artisan_locale);
    g_free(r->artisan_psp);
    g_free(r);
}

gboolean record_event(PGconn *db, gint64 invoice_id, const char *kind, json_t *detail,
                      char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, invoice_id);
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    const char *params[] = { id, kind, text ? text : "{}" };
    gboolean ok = db_run(db, SQL_INVOICE_EVENT_ADD, 3, params, err);
    free(text);
    return ok;
}

gboolean record_event_take(PGconn *db, gint64 invoice_id, const char *kind, json_t *detail,
                           char **err)
{
    gboolean ok = record_event(db, invoice_id, kind, detail, err);
    json_decref(detail);
    return ok;
}
