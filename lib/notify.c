/*
 * notify — notices to artisans, rendered, composed and queued; see notify.h.
 */
#include "notify.h"

#include <string.h>

#include "mail.h"
#include "outbox.h"
#include "tmpl.h"

/* With a set, the parsed templates it keeps; else the file, read and parsed now. */
static char *render(const reglo_conf *conf, tmpl_set *templates, const char *locale,
                    const char *kind, const char *suffix, json_t *ctx, char **err)
{
    char *name = g_strdup_printf("%s.%s", kind, suffix);
    char *src = templates ? NULL : tmpl_load(conf->templates_dir, locale, name);
    char *out = NULL, *terr = NULL;
    if (!templates && !src)
        *err = g_strdup_printf("template %s missing in %s", name, conf->templates_dir);
    else if (!(out = templates ? tmpl_set_render(templates, locale, name, ctx, FALSE, &terr)
                               : tmpl_render(src, ctx, NULL, NULL, FALSE, &terr))) {
        *err = g_strdup_printf("template %s: %s", name, terr);
        g_free(terr);
    }
    g_free(src);
    g_free(name);
    return out;
}

gboolean notify_artisan(PGconn *db, const reglo_conf *conf, const artisan *to, const char *kind,
                        json_t *ctx, const char *in_reply_to, gint64 invoice_id, char **err)
{
    return notify_artisan_with(NULL, db, conf, to, kind, ctx, in_reply_to, invoice_id, err);
}

char *notify_compose_with(tmpl_set *templates, const reglo_conf *conf, const artisan *to,
                          const char *kind, json_t *ctx, const char *in_reply_to, size_t *len,
                          char **err)
{
    char *subject = render(conf, templates, to->locale, kind, "subject", ctx, err);
    char *text = subject ? render(conf, templates, to->locale, kind, "txt", ctx, err) : NULL;
    char *msg = NULL;
    if (text) {
        g_strstrip(subject);
        const char *rcpts[] = { to->email, NULL };
        const char *refs[] = { in_reply_to, NULL };
        mail_spec spec = {
            .from = conf->notify_from, .from_name = "reglo", .to = rcpts,
            .subject = subject, .text = text, .in_reply_to = in_reply_to,
            .references = in_reply_to ? refs : NULL,
        };
        if (!(msg = mail_compose(&spec, len)))
            *err = g_strdup("cannot compose the notice");
    }
    g_free(subject);
    g_free(text);
    return msg;
}

gboolean notify_artisan_with(tmpl_set *templates, PGconn *db, const reglo_conf *conf,
                             const artisan *to, const char *kind, json_t *ctx,
                             const char *in_reply_to, gint64 invoice_id, char **err)
{
    size_t len = 0;
    char *msg = notify_compose_with(templates, conf, to, kind, ctx, in_reply_to, &len, err);
    const char *rcpts[] = { to->email, NULL };
    gboolean ok = msg && outbox_add(db, conf->notify_from, rcpts, msg, len, kind, invoice_id,
                                    err) > 0;
    g_free(msg);
    return ok;
}
