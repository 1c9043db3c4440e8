/*
 * reminder_mail — render, compose (mail.c), add the payment block (mime.c); see
 * reminder_mail.h.
 *
 * The payment block goes in with mime_inject_block, exactly as reglo-milter puts it into
 * the invoice: the client sees the same box, and the QR image is wired as the milter
 * wires it. The marker header tells reglo-milter that the block is already there.
 */
#include "reminder_mail.h"

#include <string.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "mail.h"
#include "mime.h"
#include "money.h"
#include "qr.h"
#include "rewrite.h"
#include "tmpl.h"
#include "usertmpl.h"

#define QR_MODULE_PX 5

/* "<kind>-<invoice id>-<n>@<artisan's domain>" (a negative n as m3). */
static char *kind_message_id(const char *kind, gint64 invoice_id, int n,
                             const char *artisan_email)
{
    const char *at = artisan_email ? strrchr(artisan_email, '@') : NULL;
    if (!at || !at[1])
        return NULL;
    char *domain = g_ascii_strdown(at + 1, -1);
    char *id = g_strdup_printf("%s-%" G_GINT64_FORMAT "-%s%d@%s", kind, invoice_id,
                               n < 0 ? "m" : "", ABS(n), domain);
    g_free(domain);
    return id;
}

char *reminder_message_id(gint64 invoice_id, int step, const char *artisan_email)
{
    return kind_message_id("reminder", invoice_id, step, artisan_email);
}

static const char *mail_kind(const reminder_invoice *inv)
{
    return inv->kind ? inv->kind : "reminder";
}

/* An address mail_compose would refuse (one needing quotes) is left out, not fatal. */
char **reminder_mail_to(const reminder_invoice *inv)
{
    GPtrArray *to = g_ptr_array_new();
    for (int i = 0; inv->recipients && inv->recipients[i]; i++) {
        const char *r = inv->recipients[i];
        gboolean dup = !mail_address_ok(r) || g_ascii_strcasecmp(r, inv->artisan_email) == 0;
        for (guint k = 0; k < to->len && !dup; k++)
            dup = g_ascii_strcasecmp(r, g_ptr_array_index(to, k)) == 0;
        if (!dup)
            g_ptr_array_add(to, g_strdup(r));
    }
    if (to->len == 0 && mail_address_ok(inv->client_email) &&
        g_ascii_strcasecmp(inv->client_email, inv->artisan_email) != 0)
        g_ptr_array_add(to, g_strdup(inv->client_email));
    g_ptr_array_add(to, NULL);
    return (char **) g_ptr_array_free(to, FALSE);
}

/* "Re: Re: Facture 12" -> "Facture 12": the template adds its own "Re: ". */
static const char *without_re(const char *subject)
{
    const char *s = subject;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (g_ascii_strncasecmp(s, "re", 2) != 0)
            return s;
        const char *p = s + 2;
        while (*p == ' ')
            p++;
        if (*p != ':')
            return s;
        s = p + 1;
    }
}

static void set_str(json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(obj, key, json_string(value));
}

static void set_date(json_t *obj, const char *key, const char *iso, const char *locale)
{
    char *text = clock_date_for_locale(iso, locale);
    set_str(obj, key, text);
    g_free(text);
}

json_t *reminder_mail_context(const reminder_invoice *inv, const char *link, const char *cid)
{
    json_t *obj = json_object();
    char *amount = money_format(inv->amount_due_minor, inv->currency, inv->locale);
    set_str(obj, "number", inv->number);
    set_str(obj, "amount", amount);
    set_str(obj, "currency", inv->currency);
    set_date(obj, "issue_date", inv->issue_date, inv->locale);
    set_date(obj, "due_date", inv->due_date, inv->locale);
    set_date(obj, "sent_date", inv->sent_date, inv->locale);
    if (inv->days_overdue > 0)
        json_object_set_new(obj, "days_overdue", json_integer(inv->days_overdue));
    json_object_set_new(obj, "step", json_integer(inv->step));
    set_str(obj, "link", link);
    set_str(obj, "qr_cid", cid);
    set_str(obj, "artisan_name", inv->artisan_name);
    set_str(obj, "artisan_email", inv->artisan_email);
    set_str(obj, "client_email", inv->client_email);
    set_str(obj, "original_subject", without_re(inv->subject ? inv->subject : ""));
    json_object_set_new(obj, "qr_only", json_false());
    g_free(amount);
    return obj;
}

static char *render_file(const reminder_writer *w, const char *locale, const char *name,
                         json_t *ctx, gboolean html, char **err)
{
    char *terr = NULL;
    char *out = tmpl_set_render(w->files, locale, name, ctx, html, &terr);
    if (!out)
        *err = g_strdup_printf("template %s: %s", name, terr);
    g_free(terr);
    return out;
}

/* The artisan's version when it passes the checks (it comes from the database: checked
 * where it is used, whoever wrote it) and renders, else the file's. */
static char *render(const reminder_writer *w, const reminder_invoice *inv, const char *own,
                    const char *name, json_t *ctx, gboolean html, char **err)
{
    if (own) {
        const usertmpl_kind *kind = usertmpl_kind_find(name);
        char *why = usertmpl_validate(kind, own, "en"), *out = NULL;
        if (!why)
            out = usertmpl_render(kind, own, ctx, &why);
        if (out)
            return out;
        log_warn("reminder: %s's own %s is not usable (%s); using the default",
                 inv->artisan_email, name, why);
        g_free(why);
    }
    return render_file(w, inv->locale, name, ctx, html, err);
}

typedef struct rendered {
    char *subject, *text, *html, *block_text, *block_html;
} rendered;

static void rendered_clear(rendered *r)
{
    g_free(r->subject);
    g_free(r->text);
    g_free(r->html);
    g_free(r->block_text);
    g_free(r->block_html);
}

static gboolean render_all(const reminder_writer *w, const reminder_invoice *inv,
                           const reminder_templates *own, json_t *ctx, rendered *r, char **err)
{
    const reminder_templates none = { 0 };
    own = own ? own : &none;
    char *names[3];
    for (int i = 0; i < 3; i++)
        names[i] = g_strdup_printf("%s.%s", mail_kind(inv),
                                   (const char *[]) { "subject", "txt", "html" }[i]);
    r->subject = render(w, inv, own->subject, names[0], ctx, FALSE, err);
    r->text = r->subject ? render(w, inv, own->text, names[1], ctx, FALSE, err) : NULL;
    r->html = r->text ? render(w, inv, own->html, names[2], ctx, TRUE, err) : NULL;
    for (int i = 0; i < 3; i++)
        g_free(names[i]);
    r->block_text = r->html ? render(w, inv, own->block_text, "block.txt", ctx, FALSE, err)
                            : NULL;
    r->block_html = r->block_text ? render(w, inv, own->block_html, "block.html", ctx, TRUE, err)
                                  : NULL;
    if (r->subject)
        g_strstrip(r->subject);
    return r->block_html != NULL;
}

/* The invoice's Message-ID when it can be written back in a header (the client's mail
 * program chose it: it may be anything), else NULL: the reminder then starts a thread. */
static const char *invoice_message_id(const reminder_invoice *inv)
{
    return inv->message_id && mail_message_id_ok(inv->message_id) ? inv->message_id : NULL;
}

/* References: the invoice, then the reminders already sent (at most the last 20). */
static const char **reminder_references(const reminder_invoice *inv)
{
    GPtrArray *refs = g_ptr_array_new();
    if (invoice_message_id(inv))
        g_ptr_array_add(refs, (gpointer) inv->message_id);
    guint n = inv->earlier ? g_strv_length((char **) inv->earlier) : 0;
    for (guint i = n > 20 ? n - 20 : 0; i < n; i++)
        if (mail_message_id_ok(inv->earlier[i]))
            g_ptr_array_add(refs, (gpointer) inv->earlier[i]);
    g_ptr_array_add(refs, NULL);
    return (const char **) g_ptr_array_free(refs, FALSE);
}

/* The composed message written out with the payment block and the QR injected. */
static char *with_block(GMimeMessage *msg, const rendered *r, const char *link, const char *cid,
                        size_t *out_len, char **err)
{
    size_t png_len = 0;
    guint8 *png = qr_png(link, QR_MODULE_PX, &png_len);
    char *out = NULL;
    mime_block block = { r->block_text, r->block_html, png, png_len, cid, "paiement-qr.png" };
    if (png && mime_inject_block(msg, &block) > 0)
        out = mail_to_string(msg, out_len);
    else
        *err = g_strdup(png ? "cannot add the payment block" : "QR code generation failed");
    g_free(png);
    return out;
}

static GMimeMessage *compose(const reminder_invoice *inv, const rendered *r,
                             const reminder_mail *m, const char *marker)
{
    const char *cc[] = { inv->artisan_email, NULL };
    const char **refs = reminder_references(inv);
    const mail_header headers[] = { { REWRITE_MARKER_HEADER, marker }, { NULL, NULL } };
    mail_spec spec = {
        .from = inv->artisan_email, .from_name = inv->artisan_name,
        .to = (const char *const *) m->to, .cc = cc, .subject = r->subject,
        .text = r->text, .html = r->html,
        .in_reply_to = invoice_message_id(inv),
        .references = refs[0] ? refs : NULL, .headers = headers, .message_id = m->message_id,
    };
    GMimeMessage *msg = mail_compose_message(&spec);
    g_free(refs);
    return msg;
}

/* The link, its QR's Content-ID, the Message-ID and the recipients; FALSE with *err. */
static gboolean reminder_identity(const reminder_writer *w, const reminder_invoice *inv,
                                  reminder_mail *m, char **link, char **cid, char **err)
{
    m->to = reminder_mail_to(inv);
    if (!m->to[0]) {
        *err = g_strdup("the invoice has no recipient");
        return FALSE;
    }
    if (!(m->message_id = kind_message_id(mail_kind(inv), inv->invoice_id, inv->step,
                                          inv->artisan_email))) {
        *err = g_strdup("the artisan's address has no domain");
        return FALSE;
    }
    char *token = token_derive(w->keys, inv->key_id, inv->invoice_id);
    if (!token) {
        *err = g_strdup_printf("link key '%s' is gone", inv->key_id);
        return FALSE;
    }
    *link = g_strdup_printf("%s/p/%s", w->conf->public_url, token);
    g_free(token);
    *cid = qr_content_id(inv->number);
    guint n = g_strv_length(m->to);
    m->envelope = g_new0(char *, n + 2);
    for (guint i = 0; i < n; i++)
        m->envelope[i] = g_strdup(m->to[i]);
    m->envelope[n] = g_strdup(inv->artisan_email);
    return TRUE;
}

gboolean reminder_mail_build(const reminder_writer *w, const reminder_invoice *inv,
                             const reminder_templates *own, reminder_mail *out, char **err)
{
    memset(out, 0, sizeof *out);
    char *link = NULL, *cid = NULL;
    rendered r = { 0 };
    gboolean ok = FALSE;
    if (reminder_identity(w, inv, out, &link, &cid, err)) {
        json_t *ctx = reminder_mail_context(inv, link, cid);
        if (render_all(w, inv, own, ctx, &r, err)) {
            char *marker = token_marker(w->keys, "reminder", inv->invoice_id, out->message_id);
            GMimeMessage *composed = compose(inv, &r, out, marker);
            if (!composed)
                *err = g_strdup("cannot compose the reminder (an address or a field is unusable)");
            else
                out->data = with_block(composed, &r, link, cid, &out->len, err);
            ok = out->data != NULL;
            if (composed)
                g_object_unref(composed);
            g_free(marker);
        }
        json_decref(ctx);
    }
    rendered_clear(&r);
    g_free(link);
    g_free(cid);
    if (!ok)
        reminder_mail_clear(out);
    return ok;
}

void reminder_mail_clear(reminder_mail *m)
{
    g_free(m->data);
    g_free(m->message_id);
    g_strfreev(m->to);
    g_strfreev(m->envelope);
    memset(m, 0, sizeof *m);
}
