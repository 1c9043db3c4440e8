/*
 * portal/templates — Personnalisation: the artisan rewords the payment block and each
 * reminder step (subject, text, HTML) per language, sees the variables they may use and a
 * preview rendered with a sample invoice, saves (refused with the line and the reason when
 * the template does not parse, lacks the payment link or breaks a rule of usertmpl.h) or
 * goes back to the default. Saved versions are used from the next email on.
 *
 * The HTML preview is shown in a sandboxed frame (no scripts, no same origin): it is the
 * artisan's own markup, and the page around it stays under the strict policy.
 */
#include <stdlib.h>
#include <string.h>

#include "artisan.h"
#include "log.h"
#include "portal.h"
#include "tmpl.h"
#include "usertmpl.h"

#define PREVIEW_STEP 7     /* the sample invoice of a template for every step */

/* The preview frame's content is srcdoc: it needs inline styles (email HTML has them). */
#define EDITOR_CSP "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; " \
                   "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
                   "base-uri 'none'"

/* Which template a request is about: /portal/modeles/<name>?etape=N&langue=fr. */
typedef struct tmpl_target {
    const usertmpl_kind *kind;
    gboolean has_step;
    int step;
    const char *locale;
} tmpl_target;

static gboolean parse_step(const char *s, int *step)
{
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < -60 || v > 365)
        return FALSE;
    *step = (int) v;
    return TRUE;
}

/* FALSE with the 404 page in resp when the request names no editable template. */
static gboolean target_read(portal_req *p, const char *step_text, const char *locale,
                            tmpl_target *t)
{
    memset(t, 0, sizeof *t);
    t->kind = p->tail[0] == '/' ? usertmpl_kind_find(p->tail + 1) : NULL;
    t->locale = g_strcmp0(locale, "en") == 0 ? "en" : g_strcmp0(locale, "fr") == 0 ? "fr"
                                                                                 : p->lang;
    gboolean ok = t->kind != NULL;
    if (ok && step_text && *step_text) {
        t->has_step = TRUE;
        ok = t->kind->per_step && parse_step(step_text, &t->step);
    }
    if (!ok)
        portal_fail(p, 404, "err_no_template");
    return ok;
}

static char *target_url(const tmpl_target *t, const char *ok)
{
    GString *url = g_string_new("/portal/modeles/");
    g_string_append_printf(url, "%s?langue=%s", t->kind->name, t->locale);
    if (t->has_step)
        g_string_append_printf(url, "&etape=%d", t->step);
    if (ok)
        g_string_append_printf(url, "&ok=%s", ok);
    return g_string_free(url, FALSE);
}

/* ---- the list ----------------------------------------------------------------------------- */

/* Whether the artisan stored this one (in the list from usertmpl_list). */
static gboolean stored(json_t *list, const char *name, gboolean has_step, int step,
                       const char *locale)
{
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row) {
        json_t *s = json_object_get(row, "step");
        if (g_strcmp0(json_string_value(json_object_get(row, "name")), name) == 0 &&
            g_strcmp0(json_string_value(json_object_get(row, "locale")), locale) == 0 &&
            (has_step ? json_is_integer(s) && json_integer_value(s) == step : json_is_null(s)))
            return TRUE;
    }
    return FALSE;
}

static json_t *list_entry(const portal_req *p, json_t *list, const usertmpl_kind *kind,
                          gboolean has_step, int step, const char *locale)
{
    tmpl_target t = { kind, has_step, step, locale };
    char key[48];
    g_snprintf(key, sizeof key, "tpl_%s", kind->name);
    json_t *e = json_pack("{s:s, s:s, s:b}", "name", kind->name, "label", portal_word(p, key),
                          "custom", stored(list, kind->name, has_step, step, locale));
    char *url = target_url(&t, NULL);
    json_object_set_new(e, "url", json_string(url));
    g_free(url);
    return e;
}

/* One group: the block, the reminders for every step, or one step's. */
static json_t *list_group(const portal_req *p, json_t *list, gboolean reminder,
                          gboolean has_step, int step, const char *locale)
{
    size_t n;
    const usertmpl_kind *kinds = usertmpl_kinds(&n);
    json_t *entries = json_array();
    for (size_t i = 0; i < n; i++)
        if ((kinds[i].per_step != FALSE) == reminder)
            json_array_append_new(entries, list_entry(p, list, &kinds[i], has_step, step,
                                                      locale));
    json_t *g = json_pack("{s:o}", "entries", entries);
    if (!reminder)
        json_object_set_new(g, "title", json_string(portal_word(p, "tpl_group_block")));
    else if (!has_step)
        json_object_set_new(g, "title", json_string(portal_word(p, "tpl_group_all")));
    else {
        char *title = g_strdup_printf("%s %s%+d", portal_word(p, "tpl_group_step"),
                                      portal_word(p, "day_prefix"), step);
        json_object_set_new(g, "title", json_string(title));
        g_free(title);
    }
    return g;
}

void portal_templates(portal_req *p)
{
    const char *arg = portal_arg(p, "langue");
    const char *locale = g_strcmp0(arg, "en") == 0 ? "en" : g_strcmp0(arg, "fr") == 0 ? "fr"
                                                                                   : p->lang;
    char *err = NULL;
    artisan *a = NULL;
    json_t *list = usertmpl_list(p->db, p->user->artisan_id, &err);
    if (!list || artisan_lookup(p->db, p->user->email, &a, &err) != ARTISAN_FOUND) {
        json_decref(list);
        portal_db_fail(p, "templates", err ? err : g_strdup("artisan gone"));
        return;
    }
    json_t *groups = json_array();
    json_array_append_new(groups, list_group(p, list, FALSE, FALSE, 0, locale));
    json_array_append_new(groups, list_group(p, list, TRUE, FALSE, 0, locale));
    char **steps = g_strsplit(a->reminders ? a->reminders : "", ",", -1);
    for (char **s = steps; *s; s++) {
        int step;
        if (parse_step(*s, &step))
            json_array_append_new(groups, list_group(p, list, TRUE, TRUE, step, locale));
    }
    g_strfreev(steps);
    artisan_free(a);
    json_decref(list);
    json_t *ctx = json_pack("{s:o, s:s, s:b}", "groups", groups, "locale", locale,
                            "locale_en", strcmp(locale, "en") == 0);
    portal_render(p, 200, "templates", ctx);
}

/* ---- the editor -------------------------------------------------------------------------- */

/* The text shown in the editor: the artisan's version, else the default file. */
static char *editor_source(portal_req *p, const tmpl_target *t, gboolean *custom, char **err)
{
    char *own = usertmpl_get(p->db, p->user->artisan_id, t->kind->name, t->has_step, t->step,
                             t->locale, err);
    *custom = own != NULL;
    if (own || *err)
        return own;
    char *file = tmpl_load(p->req->snap->conf->templates_dir, t->locale, t->kind->name);
    return file ? file : g_strdup("");
}

static void editor_preview(portal_req *p, const tmpl_target *t, const char *src, json_t *ctx)
{
    json_t *sample = usertmpl_sample(t->locale, p->user->name, p->user->email,
                                     p->req->snap->conf->public_url,
                                     t->has_step ? t->step : PREVIEW_STEP);
    char *err = NULL, *out = usertmpl_render(t->kind, src, sample, &err);
    json_decref(sample);
    if (out)
        json_object_set_new(ctx, t->kind->html ? "preview_html" : "preview_text",
                            json_string(out));
    g_free(out);
    g_free(err);      /* the validation message says it better */
}

/* custom: the artisan's saved version is shown; draft: the text as typed, not saved. */
static void editor_render(portal_req *p, const tmpl_target *t, unsigned status, const char *src,
                          gboolean custom, gboolean draft, const char *error)
{
    char key[48];
    g_snprintf(key, sizeof key, "tpl_%s", t->kind->name);
    json_t *vars = json_array();
    for (const char *const *v = t->kind->variables; *v; v++) {
        char *tag = g_strdup_printf("{{%s}}", *v);
        json_array_append_new(vars, json_string(tag));
        g_free(tag);
    }
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:b, s:s?}",
                            "name", t->kind->name, "label", portal_word(p, key),
                            "locale", t->locale, "source", src, "variables", vars,
                            "custom", custom, "draft", draft, "needs_link", t->kind->needs_link,
                            "error", error);
    if (t->has_step) {
        char *step = g_strdup_printf("%d", t->step);
        char *title = g_strdup_printf("%s%+d", portal_word(p, "day_prefix"), t->step);
        json_object_set_new(ctx, "step", json_string(step));
        json_object_set_new(ctx, "step_label", json_string(title));
        g_free(step);
        g_free(title);
    }
    char *url = target_url(t, NULL);
    json_object_set_new(ctx, "action", json_string(url));
    g_free(url);
    if (!error)
        editor_preview(p, t, src, ctx);
    portal_render(p, status, "template", ctx);
    gw_response_add_header(p->resp, "Content-Security-Policy", EDITOR_CSP);
}

void portal_template(portal_req *p)
{
    tmpl_target t;
    if (!target_read(p, portal_arg(p, "etape"), portal_arg(p, "langue"), &t))
        return;
    gboolean custom = FALSE;
    char *err = NULL, *src = editor_source(p, &t, &custom, &err);
    if (!src)
        portal_db_fail(p, "template", err);
    else
        editor_render(p, &t, 200, src, custom, FALSE, NULL);
    g_free(src);
}

/* Browsers send a textarea's lines with CRLF; templates are kept with LF. */
static void unix_lines(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++)
        if (!(r[0] == '\r' && r[1] == '\n'))
            *w++ = *r;
    *w = '\0';
}

/* Save, or say why not (nothing changed then). */
static void template_save(portal_req *p, const tmpl_target *t, const char *body)
{
    char *problem = usertmpl_validate(t->kind, body, p->lang), *err = NULL;
    if (problem) {
        log_info("portal: %s: %s/%s refused: %s", p->user->email, t->locale, t->kind->name,
                 problem);
        editor_render(p, t, 400, body, FALSE, TRUE, problem);
        g_free(problem);
    } else if (!usertmpl_save(p->db, p->user->artisan_id, t->kind->name, t->has_step, t->step,
                              t->locale, body, &err))
        portal_db_fail(p, "template save", err);
    else {
        log_info("portal: %s: own %s/%s saved", p->user->email, t->locale, t->kind->name);
        char *url = target_url(t, "template_saved");
        portal_redirect(p, url);
        g_free(url);
    }
}

void portal_template_post(portal_req *p)
{
    char *step = portal_field(p, "etape"), *locale = portal_field(p, "langue");
    char *action = portal_field(p, "action"), *body = portal_field(p, "body"), *err = NULL;
    tmpl_target t;
    if (body)
        unix_lines(body);
    if (target_read(p, step, locale, &t)) {
        if (g_strcmp0(action, "reset") == 0) {
            if (!usertmpl_reset(p->db, p->user->artisan_id, t.kind->name, t.has_step, t.step,
                                t.locale, &err))
                portal_db_fail(p, "template reset", err);
            else {
                char *url = target_url(&t, "template_reset");
                portal_redirect(p, url);
                g_free(url);
            }
        } else if (!body)
            portal_fail(p, 400, "err_action");
        else if (g_strcmp0(action, "save") == 0)
            template_save(p, &t, body);
        else {
            char *problem = usertmpl_validate(t.kind, body, p->lang);
            editor_render(p, &t, problem ? 400 : 200, body, FALSE, TRUE, problem);
            g_free(problem);
        }
    }
    g_free(step);
    g_free(locale);
    g_free(action);
    g_free(body);
}
