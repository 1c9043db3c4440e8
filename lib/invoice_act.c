/*
 * invoice_act — an artisan's actions on an invoice; see invoice_act.h.
 */
#include "invoice_act.h"

#include <string.h>

#include "db.h"
#include "record.h"
#include "sqltext.h"

typedef struct act_spec {
    const char *name;
    const char *event;        /* timeline kind */
    const char *sql;          /* returns a row when the invoice changed */
    const char *arg;          /* second parameter, or NULL */
    gboolean cancels_reminders;
} act_spec;

static const act_spec *act_spec_of(invoice_act act)
{
    static const act_spec specs[] = {
        [INVOICE_ACT_PAID] = { "paid", "marked_paid", SQL_INVOICE_MARK_PAID_BY_ARTISAN, NULL,
                               TRUE },
        [INVOICE_ACT_PAUSE] = { "pause", "reminders_paused", SQL_INVOICE_SET_REMINDERS_PAUSED,
                                "t", FALSE },
        [INVOICE_ACT_RESUME] = { "resume", "reminders_resumed",
                                 SQL_INVOICE_SET_REMINDERS_PAUSED, "f", FALSE },
        [INVOICE_ACT_CANCEL] = { "cancel", "cancelled", SQL_INVOICE_CANCEL, NULL, TRUE },
    };
    return &specs[act];
}

gboolean invoice_act_parse(const char *name, invoice_act *act)
{
    for (int a = INVOICE_ACT_PAID; a <= INVOICE_ACT_CANCEL; a++)
        if (g_strcmp0(name, act_spec_of((invoice_act) a)->name) == 0) {
            *act = (invoice_act) a;
            return TRUE;
        }
    return FALSE;
}

/* Run a statement on one invoice; *changed when it returned a row. */
static gboolean act_update(PGconn *db, const char *sql, const char *id, const char *arg,
                           gboolean *changed, char **err)
{
    const char *params[] = { id, arg };
    PGresult *res = db_exec(db, sql, arg ? 2 : 1, params, err);
    if (!res)
        return FALSE;
    if (changed)
        *changed = PQntuples(res) > 0;
    PQclear(res);
    return TRUE;
}

static gboolean act_event(PGconn *db, gint64 invoice_id, const char *kind, json_t *detail,
                          gboolean ignored, char **err)
{
    json_t *copy = detail ? json_deep_copy(detail) : json_object();
    if (ignored)
        json_object_set_new(copy, "ignored", json_true());
    gboolean ok = record_event(db, invoice_id, kind, copy, err);
    json_decref(copy);
    return ok;
}

gboolean invoice_act_apply(PGconn *db, gint64 invoice_id, invoice_act act, json_t *detail,
                           gboolean *changed, char **err)
{
    const act_spec *spec = act_spec_of(act);
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, invoice_id);
    gboolean did = FALSE;
    gboolean ok = act_update(db, spec->sql, id, spec->arg, &did, err) &&
                  (!did || !spec->cancels_reminders ||
                   act_update(db, SQL_REMINDER_CANCEL_PENDING, id, NULL, NULL, err)) &&
                  act_event(db, invoice_id, spec->event, detail, !did, err);
    if (changed)
        *changed = did;
    return ok;
}
