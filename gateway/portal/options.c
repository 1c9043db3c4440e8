/*
 * portal/options — Profil › Options: payment link on or off, in every invoice or only with
 * [lien], reminder steps (D+7, D+15, D+30 and the artisan's own, from the sending or the due
 * date), pause on a client's reply, language, IBAN and BIC.
 *
 * A new IBAN (or BIC) is not saved by the form: it waits in a link mailed to the artisan's
 * address, and becomes the one the milter checks invoices against only when that link is
 * used. Someone who got hold of a session cannot redirect payments without the mailbox.
 */
#include <stdlib.h>
#include <string.h>

#include "artisan.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "portal.h"
#include "qr.h"

#define OFFSETS_TEXT_MAX 100
#define STANDARD_STEPS { 7, 15, 30 }

/* "FR76 •••• •••• •••• •••• 0189": enough to recognise it, not to copy it. */
static char *iban_masked(const char *iban)
{
    size_t n = iban ? strlen(iban) : 0;
    if (n < 8)
        return g_strdup("");
    GString *out = g_string_new(NULL);
    g_string_append_len(out, iban, 4);
    for (size_t i = 4; i + 4 < n; i += 4)
        g_string_append(out, " ••••");
    g_string_append_printf(out, " %s", iban + n - 4);
    return g_string_free(out, FALSE);
}

static gboolean offsets_has(char **steps, int step)
{
    for (char **s = steps; s && *s; s++)
        if (atoi(*s) == step && **s)
            return TRUE;
    return FALSE;
}

/* The artisan's offsets but 7, 15 and 30: "-3, 45". */
static char *offsets_other(char **steps)
{
    static const int standard[] = STANDARD_STEPS;
    GString *out = g_string_new(NULL);
    for (char **s = steps; s && *s; s++) {
        if (!**s)
            continue;
        int v = atoi(*s);
        gboolean is_standard = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(standard); i++)
            is_standard |= v == standard[i];
        if (!is_standard)
            g_string_append_printf(out, "%s%d", out->len ? ", " : "", v);
    }
    return g_string_free(out, FALSE);
}

static json_t *options_context(const artisan *a)
{
    char **steps = g_strsplit(a->reminders ? a->reminders : "", ",", -1);
    json_t *ctx = json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s?}",
                            "payment", a->payment_enabled, "link_all", a->link_default,
                            "link_tag", !a->link_default,
                            "r7", offsets_has(steps, 7), "r15", offsets_has(steps, 15),
                            "r30", offsets_has(steps, 30),
                            "from_due", g_strcmp0(a->reminders_from, "due") == 0,
                            "pause_reply", a->pause_on_client_reply,
                            "locale_en", g_strcmp0(a->locale, "en") == 0, "bic", a->bic);
    char *other = offsets_other(steps);
    json_object_set_new(ctx, "other_steps", json_string(other));
    g_free(other);
    g_strfreev(steps);
    char *masked = iban_masked(a->iban);
    json_object_set_new(ctx, "iban_masked", json_string(masked));
    g_free(masked);
    return ctx;
}

/* The artisan behind the session, or NULL with the error page in resp. */
static artisan *options_artisan(portal_req *p)
{
    artisan *a = NULL;
    char *err = NULL;
    artisan_lookup_result r = artisan_lookup(p->db, p->user->email, &a, &err);
    if (r == ARTISAN_FOUND)
        return a;
    if (r == ARTISAN_DB_ERROR)
        portal_db_fail(p, "options", err);
    else
        portal_fail(p, 404, "err_signed_out");
    return NULL;
}

void portal_options(portal_req *p)
{
    artisan *a = options_artisan(p);
    if (a)
        portal_render(p, 200, "options", options_context(a));
    artisan_free(a);
}

static gboolean field_on(const portal_req *p, const char *name)
{
    char *v = portal_field(p, name);
    gboolean on = v && (strcmp(v, "on") == 0 || strcmp(v, "1") == 0);
    g_free(v);
    return on;
}

static int step_compare(gconstpointer a, gconstpointer b)
{
    int x = *(const int *) a, y = *(const int *) b;
    return (x > y) - (x < y);
}

/* What the artisan typed ("-3, 45" or "-3 45") as artisan_parse_reminders reads it. */
static char *options_typed_steps(const portal_req *p)
{
    char *typed = portal_field(p, "other_steps");
    if (!typed || strlen(typed) > OFFSETS_TEXT_MAX) {
        g_free(typed);
        return typed ? NULL : g_strdup("");
    }
    char **words = g_strsplit_set(typed, " ,;\t", -1);
    GString *joined = g_string_new(NULL);
    for (char **w = words; *w; w++)
        if (**w)
            g_string_append_printf(joined, "%s%s", joined->len ? "," : "", *w);
    g_strfreev(words);
    g_free(typed);
    char *clean = artisan_parse_reminders(joined->str);
    g_string_free(joined, TRUE);
    return clean;
}

/* The checked steps and the typed ones, sorted, once each: "7,15,45"; NULL when the typed
 * ones are not a list of days. */
static char *options_steps(const portal_req *p)
{
    char *typed = options_typed_steps(p);
    if (!typed)
        return NULL;
    GArray *steps = g_array_new(FALSE, FALSE, sizeof(int));
    static const int standard[] = STANDARD_STEPS;
    static const char *const names[] = { "r7", "r15", "r30" };
    for (size_t i = 0; i < G_N_ELEMENTS(standard); i++)
        if (field_on(p, names[i]))
            g_array_append_val(steps, standard[i]);
    char **parts = g_strsplit(typed, ",", -1);
    for (char **s = parts; *s; s++)
        if (**s) {
            int v = atoi(*s);
            g_array_append_val(steps, v);
        }
    g_strfreev(parts);
    g_free(typed);
    g_array_sort(steps, step_compare);
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < steps->len; i++) {
        int v = g_array_index(steps, int, i);
        if (i == 0 || v != g_array_index(steps, int, i - 1))
            g_string_append_printf(out, "%s%d", out->len ? "," : "", v);
    }
    g_array_free(steps, TRUE);
    return g_string_free(out, FALSE);
}

/* "AGRIFRPP" or "AGRIFRPPXXX" from what was typed; "" when empty, NULL when not a BIC. */
static char *options_bic(const char *typed)
{
    char *bic = g_ascii_strup(typed ? typed : "", -1);
    g_strdelimit(bic, " ", '\0');
    size_t n = strlen(bic);
    gboolean ok = n == 0 || n == 8 || n == 11;
    for (size_t i = 0; ok && i < n; i++)
        ok = g_ascii_isalnum(bic[i]) && (i >= 4 || g_ascii_isalpha(bic[i]));
    if (!ok) {
        g_free(bic);
        return NULL;
    }
    return bic;
}

typedef struct options_form {
    char *steps;
    char *iban;               /* a new IBAN to confirm, or NULL */
    char *bic;                /* as typed, normalised */
    gboolean bank_change;     /* IBAN or BIC differ: a confirmation link goes out */
} options_form;

static void options_form_clear(options_form *f)
{
    g_free(f->steps);
    g_free(f->iban);
    g_free(f->bic);
}

/* Read and check the form against the artisan; the word naming the first problem, or NULL. */
static const char *options_form_read(const portal_req *p, const artisan *a, options_form *f)
{
    memset(f, 0, sizeof *f);
    if (!(f->steps = options_steps(p)))
        return "err_steps";
    char *typed_iban = portal_field(p, "iban"), *typed_bic = portal_field(p, "bic");
    const char *problem = NULL;
    if (typed_iban && *g_strstrip(typed_iban)) {
        f->iban = qr_iban_normalise(typed_iban);
        if (!f->iban || !qr_iban_valid(f->iban))
            problem = "err_iban";
    }
    if (!problem && !(f->bic = options_bic(typed_bic)))
        problem = "err_bic";
    g_free(typed_iban);
    g_free(typed_bic);
    if (problem)
        return problem;
    if (f->iban && g_strcmp0(f->iban, a->iban) == 0)
        g_clear_pointer(&f->iban, g_free);
    gboolean bic_changed = g_strcmp0(f->bic, a->bic ? a->bic : "") != 0;
    if (!f->iban && bic_changed && !a->iban)
        return "err_bic_alone";
    f->bank_change = f->iban || bic_changed;
    return NULL;
}

static void options_apply(const portal_req *p, artisan *a, const options_form *f)
{
    char *mode = portal_field(p, "link_mode"), *locale = portal_field(p, "locale");
    a->payment_enabled = field_on(p, "payment");
    a->link_default = g_strcmp0(mode, "tag") != 0;
    a->pause_on_client_reply = field_on(p, "pause_reply");
    g_free(a->reminders);
    a->reminders = g_strdup(f->steps);
    g_free(a->reminders_from);
    a->reminders_from = g_strdup(field_on(p, "from_due") ? "due" : "sent");
    if (g_strcmp0(locale, "fr") == 0 || g_strcmp0(locale, "en") == 0) {
        g_free(a->locale);
        a->locale = g_strdup(locale);
    }
    g_free(mode);
    g_free(locale);
}

/* Mail the link that confirms the new IBAN / BIC. */
static gboolean options_mail_bank_link(const portal_req *p, const artisan *a,
                                       const options_form *f, char **err)
{
    const char *iban = f->iban ? f->iban : a->iban;
    char *token = session_link_new(p->db, a->id, LINK_IBAN, iban, f->bic, err);
    if (!token)
        return FALSE;
    char *link = g_strdup_printf("%s/portal/iban?t=%s", p->req->snap->conf->public_url, token);
    char *masked = iban_masked(iban);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", a->name, "link", link,
                            "iban", masked, "bic", f->bic, "hours", SESSION_IBAN_TTL_S / 3600);
    gboolean ok = notify_artisan(p->db, p->req->snap->conf, a, "iban-confirm", ctx, NULL, 0, err);
    json_decref(ctx);
    g_free(masked);
    g_free(link);
    g_free(token);
    return ok;
}

void portal_options_save(portal_req *p)
{
    artisan *a = options_artisan(p);
    if (!a)
        return;
    options_form f;
    const char *problem = options_form_read(p, a, &f);
    char *err = NULL;
    if (problem) {
        json_t *ctx = options_context(a);
        json_object_set_new(ctx, "error", json_string(portal_word(p, problem)));
        portal_render(p, 400, "options", ctx);
    } else {
        options_apply(p, a, &f);
        gboolean ok = db_begin(p->db, &err) && artisan_save(p->db, a, &err) &&
                      (!f.bank_change || options_mail_bank_link(p, a, &f, &err)) &&
                      db_commit(p->db, &err);
        if (!ok) {
            db_rollback(p->db);
            portal_db_fail(p, "options", err);
        } else {
            log_info("portal: %s: options saved%s", a->email,
                     f.bank_change ? ", new bank details waiting for confirmation" : "");
            if (f.bank_change)
                outbox_wake();
            portal_redirect(p, f.bank_change ? "/portal/options?ok=iban_sent"
                                             : "/portal/options?ok=saved");
        }
    }
    options_form_clear(&f);
    artisan_free(a);
}

/* ---- the link that confirms new bank details -------------------------------------------- */

void portal_iban_form(portal_req *p)
{
    const char *token = portal_arg(p, "t");
    char *err = NULL;
    link_use use;
    link_result r = session_link_take(p->db, token, LINK_IBAN, TRUE, &use, &err);
    if (r == LINK_DB_ERROR)
        portal_db_fail(p, "IBAN link", err);
    else if (r == LINK_INVALID)
        portal_fail(p, 410, "err_link");
    else {
        char *masked = iban_masked(use.iban);
        portal_render(p, 200, "iban", json_pack("{s:s, s:s, s:s, s:s}", "token", token,
                                                "iban", masked, "bic", use.bic,
                                                "email", use.email));
        g_free(masked);
    }
    link_use_clear(&use);
}

void portal_iban_confirm(portal_req *p)
{
    char *token = portal_field(p, "t"), *err = NULL;
    link_use use = { 0 };
    artisan *a = NULL;
    link_result r = db_begin(p->db, &err)
                    ? session_link_take(p->db, token, LINK_IBAN, FALSE, &use, &err)
                    : LINK_DB_ERROR;
    gboolean ok = r == LINK_OK && artisan_lookup(p->db, use.email, &a, &err) == ARTISAN_FOUND;
    if (ok) {
        g_free(a->iban);
        a->iban = g_strdup(use.iban);
        g_free(a->bic);
        a->bic = *use.bic ? g_strdup(use.bic) : NULL;
        ok = artisan_save(p->db, a, &err) && db_commit(p->db, &err);
    }
    if (!ok) {
        db_rollback(p->db);
        if (!err && r == LINK_OK)
            err = g_strdup("the artisan is no longer enrolled");
    }
    if (r == LINK_INVALID)
        portal_fail(p, 410, "err_link");
    else if (!ok)
        portal_db_fail(p, "IBAN confirmation", err);
    else {
        log_info("portal: %s: new IBAN confirmed", a->email);
        json_t *ctx = json_pack("{s:s, s:i}", "message", portal_word(p, "ok_iban_confirmed"),
                                "status", 200);
        portal_render(p, 200, "notice", ctx);
    }
    link_use_clear(&use);
    artisan_free(a);
    g_free(token);
}
