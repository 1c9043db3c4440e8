/*
 * rewrite — one artisan message, from decision to rewritten MIME; see rewrite.h.
 *
 * Order matters: nothing is recorded unless the block really went into the message, and the
 * record, the link and the block commit together.
 */
#include "rewrite.h"

#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "mime.h"
#include "money.h"
#include "notify.h"
#include "qr.h"
#include "record.h"
#include "sqltext.h"
#include "tags.h"
#include "tmpl.h"
#include "usertmpl.h"


static void decide(rewrite_result *res, rewrite_action action, const char *decision)
{
    res->action = action;
    g_free(res->decision);
    res->decision = g_strdup(decision);
}

static void fail(rewrite_result *res, char *error)
{
    decide(res, REWRITE_ERROR, "error");
    g_free(res->error);
    res->error = error;
}

/* Headers changed but no link: still deliver the edited headers (tags, X-Invoice-*). */
static rewrite_action headers_only(gboolean headers_changed)
{
    return headers_changed ? REWRITE_CHANGED : REWRITE_PASS;
}

static void json_set_str(json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(obj, key, json_string(value));
}

static json_t *invoice_context(const rewrite_ctx *ctx, const invoice_data *inv, const char *link)
{
    const char *locale = ctx->sender->locale;
    json_t *obj = json_object();
    char *amount = inv->amount_due_minor >= 0
                   ? money_format(inv->amount_due_minor, inv->currency, locale) : NULL;
    char *due = clock_date_for_locale(inv->due_date, locale);
    char *issued = clock_date_for_locale(inv->issue_date, locale);
    json_set_str(obj, "artisan_name", ctx->sender->name);
    json_set_str(obj, "artisan_email", ctx->sender->email);
    json_set_str(obj, "number", inv->number);
    json_set_str(obj, "amount", amount);
    json_set_str(obj, "currency", inv->currency);
    json_set_str(obj, "due_date", due);
    json_set_str(obj, "issue_date", issued);
    json_set_str(obj, "seller_name", inv->seller_name);
    json_set_str(obj, "seller_iban", inv->seller_iban);
    json_set_str(obj, "registered_iban", ctx->sender->iban);
    json_set_str(obj, "reason", inv->reason);
    json_set_str(obj, "link", link);
    g_free(amount);
    g_free(due);
    g_free(issued);
    return obj;
}

/* Tell the artisan; a failure to queue is logged here and does not change the decision. */
static void tell_artisan(const rewrite_ctx *ctx, const char *kind, const invoice_data *inv,
                         const char *subject, const char *message_id)
{
    if (ctx->dry_run || !ctx->db)
        return;
    json_t *obj = invoice_context(ctx, inv, NULL);
    json_set_str(obj, "subject", subject);
    char *err = NULL;
    if (!notify_artisan(ctx->db, ctx->conf, ctx->sender, kind, obj, message_id, 0, &err)) {
        log_error("%s: cannot queue %s notice to %s: %s", ctx->queue_id, kind,
                  ctx->sender->email, err);
        g_free(err);
    }
    json_decref(obj);
}

static gboolean remove_invoice_headers(GMimeMessage *msg)
{
    static const char *const names[] = {
        "X-Invoice-Number", "X-Invoice-Amount", "X-Invoice-Currency", "X-Invoice-Due", NULL
    };
    gboolean removed = FALSE;
    for (int i = 0; names[i]; i++)
        while (g_mime_object_remove_header(GMIME_OBJECT(msg), names[i]))
            removed = TRUE;
    return removed;
}

/* The client: the invoice's buyer address, else the first recipient who is not the sender. */
static const char *client_address(const rewrite_ctx *ctx, const invoice_data *inv)
{
    if (inv->buyer_email)
        return inv->buyer_email;
    for (int i = 0; ctx->rcpts && ctx->rcpts[i]; i++)
        if (g_ascii_strcasecmp(ctx->rcpts[i], ctx->sender->email) != 0)
            return ctx->rcpts[i];
    return ctx->rcpts && ctx->rcpts[0] ? ctx->rcpts[0] : NULL;
}

/* With [montant ...] the artisan states the amount due; we still need a number to record. */
static void apply_amount_tag(const subject_tags *tags, invoice_data *inv, const char *message_id)
{
    inv->amount_due_minor = tags->amount_minor;
    if (!inv->currency[0])
        strcpy(inv->currency, "EUR");
    if (!inv->number) {
        guint h = g_str_hash(message_id ? message_id : "");
        inv->number = g_strdup_printf("M-%08X", h);
    }
    if (inv->source == INVOICE_SRC_NONE)
        inv->source = INVOICE_SRC_SUBJECT;
    inv->invoice = TRUE;
    invoice_finish(inv);
}

/* Reasons that mean "we could not read it", as opposed to "there is nothing to pay". */
static gboolean reason_is_unsure(const char *reason)
{
    return reason && (strstr(reason, "not found") || strstr(reason, "ambiguous") ||
                      strstr(reason, "several"));
}

typedef struct recorded {
    gint64 id;
    char *key_id;
    char *status;
} recorded;

static gboolean record_invoice(const rewrite_ctx *ctx, GMimeMessage *msg, const invoice_data *inv,
                               const char *message_id, gboolean qr_only, recorded *out, char **err)
{
    char artisan_id[24], amount[24];
    g_snprintf(artisan_id, sizeof artisan_id, "%" G_GINT64_FORMAT, ctx->sender->id);
    g_snprintf(amount, sizeof amount, "%" G_GINT64_FORMAT, inv->amount_due_minor);
    char *rcpts = ctx->rcpts ? g_strjoinv(" ", (char **) ctx->rcpts) : g_strdup("");
    const char *params[] = {
        artisan_id, inv->number, amount, inv->currency,
        inv->issue_date[0] ? inv->issue_date : NULL, inv->due_date[0] ? inv->due_date : NULL,
        client_address(ctx, inv), rcpts, g_mime_message_get_subject(msg), message_id,
        invoice_source_name(inv->source), keyring_current_id(ctx->keys), qr_only ? "t" : "f",
    };
    PGresult *res = db_exec(ctx->db, SQL_INVOICE_UPSERT, 13, params, err);
    g_free(rcpts);
    if (!res)
        return FALSE;
    out->id = db_int(res, 0, 0);
    out->key_id = g_strdup(db_str(res, 0, 1));
    out->status = g_strdup(db_str(res, 0, 2));
    PQclear(res);
    return TRUE;
}

static gboolean record_links(const rewrite_ctx *ctx, const recorded *rec, const char *token,
                             const char *message_id, const invoice_data *inv, char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, rec->id);
    char *hash = token_hash(token);
    const char *tok[] = { id, hash };
    gboolean ok = db_run(ctx->db, SQL_INVOICE_SET_TOKEN, 2, tok, err);
    g_free(hash);
    if (ok && message_id) {
        const char *thread[] = { message_id, id, "invoice" };
        ok = db_run(ctx->db, SQL_THREAD_MESSAGE_ADD, 3, thread, err);
    }
    if (ok) {
        ok = record_event_take(ctx->db, rec->id, "sent",
                               json_pack("{s:s, s:s?, s:s?, s:I}", "source",
                                         invoice_source_name(inv->source), "message_id",
                                         message_id, "queue_id", ctx->queue_id,
                                         "amount_due_minor", (json_int_t) inv->amount_due_minor),
                               err);
    }
    return ok;
}

/* The artisan's own payment block (usertmpl.h), read before the record's transaction so
 * that a failed read cannot abort it: a database error costs the own block, not the mail. */
typedef struct own_block {
    char *text, *html;
} own_block;

static void own_block_load(const rewrite_ctx *ctx, own_block *own)
{
    char *err = NULL;
    if (ctx->db && !usertmpl_get_block(ctx->db, ctx->sender->id, ctx->sender->locale,
                                       &own->text, &own->html, &err)) {
        log_warn("%s: %s: cannot read the artisan's own payment block (%s); using the default",
                 ctx->queue_id, ctx->sender->email, err);
        g_free(err);
    }
}

static void own_block_clear(own_block *own)
{
    g_free(own->text);
    g_free(own->html);
}

/* The artisan's version when it passes the checks and renders, else NULL (logged). */
static char *render_own(const rewrite_ctx *ctx, const char *name, const char *src, json_t *obj)
{
    const usertmpl_kind *kind = usertmpl_kind_find(name);
    char *why = usertmpl_validate(kind, src, "en"), *out = NULL;
    if (!why)
        out = usertmpl_render(kind, src, obj, &why);
    if (!out)
        log_warn("%s: %s's own %s is not usable (%s); using the default", ctx->queue_id,
                 ctx->sender->email, name, why);
    g_free(why);
    return out;
}

static char *render_block(const rewrite_ctx *ctx, const char *name, const char *own,
                          json_t *obj, gboolean html, char **err)
{
    char *out = own ? render_own(ctx, name, own, obj) : NULL;
    if (out)
        return out;
    char *src = tmpl_load(ctx->conf->templates_dir, ctx->sender->locale, name);
    if (!src) {
        *err = g_strdup_printf("template %s/%s/%s missing", ctx->conf->templates_dir,
                               ctx->sender->locale, name);
        return NULL;
    }
    char *terr = NULL;
    out = tmpl_render(src, obj, NULL, NULL, html, &terr);
    g_free(src);
    if (!out) {
        *err = g_strdup_printf("template %s: %s", name, terr);
        g_free(terr);
    }
    return out;
}

/* Render and insert the block; returns the number of body parts changed, -1 on error. */
static int inject_block(const rewrite_ctx *ctx, GMimeMessage *msg, const invoice_data *inv,
                        const char *link, gboolean qr_only, const own_block *own, char **err)
{
    json_t *obj = invoice_context(ctx, inv, link);
    char *cid = qr_content_id(inv->number);
    json_object_set_new(obj, "qr_cid", json_string(cid));
    json_object_set_new(obj, "qr_only", json_boolean(qr_only));
    char *text = render_block(ctx, "block.txt", own->text, obj, FALSE, err);
    char *html = text ? render_block(ctx, "block.html", own->html, obj, TRUE, err) : NULL;
    size_t png_len = 0;
    guint8 *png = html ? qr_png(link, qr_only ? 12 : 5, &png_len) : NULL;
    int changed = -1;
    if (html && !png)
        *err = g_strdup("QR code generation failed");
    if (png) {
        mime_block block = { text, html, png, png_len, cid, "paiement-qr.png" };
        changed = mime_inject_block(msg, &block);
    }
    g_free(png);
    g_free(html);
    g_free(text);
    g_free(cid);
    json_decref(obj);
    return changed;
}

static void add_marker(const rewrite_ctx *ctx, GMimeMessage *msg, gint64 invoice_id,
                       const char *message_id)
{
    char *marker = token_marker(ctx->keys, "processed", invoice_id, message_id);
    g_mime_object_set_header(GMIME_OBJECT(msg), REWRITE_MARKER_HEADER, marker, NULL);
    g_free(marker);
}

/*
 * A linked invoice needs a Message-ID we know, so its thread can be tracked. One is made up
 * when the message has none; it goes into the message only with the link (*fresh set).
 */
static const char *message_id_of(GMimeMessage *msg, char **fresh)
{
    const char *id = g_mime_message_get_message_id(msg);
    *fresh = NULL;
    if (id && *id)
        return id;
    char *made = g_mime_utils_generate_message_id("reglo.invalid");
    *fresh = g_strdup(made);
    g_free(made);
    return *fresh;
}

/* Record, link and block in one transaction; the caller has decided this invoice gets a link. */
static void link_invoice(const rewrite_ctx *ctx, GMimeMessage *msg, const subject_tags *tags,
                         gboolean headers_changed, rewrite_result *res)
{
    char *err = NULL, *fresh_id = NULL;
    const char *message_id = message_id_of(msg, &fresh_id);
    recorded rec = { 0 };
    own_block own = { 0 };
    own_block_load(ctx, &own);
    if (!db_begin(ctx->db, &err)) {
        fail(res, err);
        goto out;
    }
    if (!record_invoice(ctx, msg, &res->inv, message_id, tags->qr, &rec, &err)) {
        db_rollback(ctx->db);
        fail(res, err);
        goto out;
    }
    res->invoice_id = rec.id;
    if (strcmp(rec.status, "paid") == 0 || strcmp(rec.status, "cancelled") == 0) {
        db_rollback(ctx->db);
        decide(res, headers_only(headers_changed), "already-settled");
        goto out;
    }
    char *token = token_derive(ctx->keys, rec.key_id, rec.id);
    if (!token) {
        db_rollback(ctx->db);
        fail(res, g_strdup_printf("link key '%s' of invoice %" G_GINT64_FORMAT " is gone",
                                  rec.key_id, rec.id));
        goto out;
    }
    res->link = g_strdup_printf("%s/p/%s", ctx->conf->public_url, token);
    int changed = inject_block(ctx, msg, &res->inv, res->link, tags->qr, &own, &err);
    gboolean ok = changed > 0 && record_links(ctx, &rec, token, message_id, &res->inv, &err);
    g_free(token);
    if (changed < 0 || (changed > 0 && !ok)) {
        db_rollback(ctx->db);
        fail(res, err);
        goto out;
    }
    if (changed == 0) {
        db_rollback(ctx->db);
        decide(res, headers_only(headers_changed), "no-body-part");
        goto out;
    }
    if (fresh_id)
        g_mime_message_set_message_id(msg, fresh_id);
    add_marker(ctx, msg, rec.id, message_id);
    if (ctx->dry_run)
        db_rollback(ctx->db);
    else if (!db_commit(ctx->db, &err)) {
        fail(res, err);
        goto out;
    }
    res->body_changed = TRUE;
    decide(res, REWRITE_CHANGED, "link");
out:
    own_block_clear(&own);
    g_free(fresh_id);
    g_free(rec.key_id);
    g_free(rec.status);
}

static void remove_marker(GMimeMessage *msg)
{
    while (g_mime_object_remove_header(GMIME_OBJECT(msg), REWRITE_MARKER_HEADER))
        ;
}

/*
 * Our "processed" marker means already done (it stays, so copies are not processed again);
 * our "reminder" marker means reglo-gateway wrote the message with its block: done too, and
 * the marker goes before delivery. A forged or foreign marker is removed and ignored.
 */
static gboolean already_processed(const rewrite_ctx *ctx, GMimeMessage *msg,
                                  const char *message_id, gboolean *headers_changed)
{
    const char *marker = g_mime_object_get_header(GMIME_OBJECT(msg), REWRITE_MARKER_HEADER);
    char kind[16];
    gint64 id;
    if (!marker)
        return FALSE;
    if (message_id && token_marker_verify(ctx->keys, marker, message_id, kind, &id)) {
        if (strcmp(kind, "reminder") == 0) {
            remove_marker(msg);
            *headers_changed = TRUE;
        }
        return TRUE;
    }
    log_warn("%s: %s: ignoring a marker header we did not sign", ctx->queue_id,
             ctx->sender->email);
    remove_marker(msg);
    *headers_changed = TRUE;
    return FALSE;
}

static gboolean iban_mismatch(const rewrite_ctx *ctx, const invoice_data *inv)
{
    if (!inv->seller_iban || !ctx->sender->iban)
        return FALSE;
    char *registered = qr_iban_normalise(ctx->sender->iban);
    gboolean differ = !registered || strcmp(registered, inv->seller_iban) != 0;
    g_free(registered);
    return differ;
}

/* The message is an invoice-to-be: read it and decide whether it gets a link. */
static void decide_invoice(const rewrite_ctx *ctx, GMimeMessage *msg, const subject_tags *tags,
                           const char *subject, gboolean headers_changed, rewrite_result *res)
{
    const char *message_id = g_mime_message_get_message_id(msg);
    invoice_extract_message(msg, &res->inv);
    if (tags->has_amount)
        apply_amount_tag(tags, &res->inv, message_id);
    if (tags->bad_amount) {
        invoice_set_reason(&res->inv, "amount tag unreadable");
        res->inv.payable = FALSE;
    }
    if (!res->inv.invoice) {
        decide(res, headers_only(headers_changed), "not-invoice");
        return;
    }
    if (!res->inv.payable) {
        if (reason_is_unsure(res->inv.reason) || tags->bad_amount || tags->link || tags->qr)
            tell_artisan(ctx, "unreadable", &res->inv, subject, message_id);
        decide(res, headers_only(headers_changed), "not-payable");
        return;
    }
    if (iban_mismatch(ctx, &res->inv)) {
        tell_artisan(ctx, "iban-alert", &res->inv, subject, message_id);
        decide(res, ctx->conf->quarantine_iban_mismatch ? REWRITE_QUARANTINE
                                                       : headers_only(headers_changed),
               "iban-mismatch");
        return;
    }
    link_invoice(ctx, msg, tags, headers_changed, res);
}

void rewrite_message(const rewrite_ctx *ctx, GMimeMessage *msg, rewrite_result *res)
{
    memset(res, 0, sizeof *res);
    invoice_data_init(&res->inv);
    gboolean headers_changed = FALSE;

    if (already_processed(ctx, msg, g_mime_message_get_message_id(msg), &headers_changed)) {
        decide(res, headers_only(headers_changed), "already-processed");
        return;
    }
    mime_safety safety = mime_safety_check(msg);
    if (safety != MIME_TOUCHABLE) {
        decide(res, headers_only(headers_changed), mime_safety_name(safety));
        return;
    }
    char *subject = g_strdup(g_mime_message_get_subject(msg));
    subject_tags tags;
    tags_parse(subject, &tags);
    if (tags.found) {
        g_mime_message_set_subject(msg, tags.clean_subject, "utf-8");
        headers_changed = TRUE;
    }
    /* Extraction reads the X-Invoice-* headers, so they go only once it has run. */
    if (tags.no_link)
        decide(res, headers_only(headers_changed), "no-link-tag");
    else if (!ctx->sender->link_default && !tags.link && !tags.qr)
        decide(res, headers_only(headers_changed), "link-off");
    else
        decide_invoice(ctx, msg, &tags, subject, headers_changed, res);
    if (remove_invoice_headers(msg) && res->action == REWRITE_PASS)
        res->action = REWRITE_CHANGED;
    tags_clear(&tags);
    g_free(subject);
}

void rewrite_result_clear(rewrite_result *res)
{
    invoice_data_clear(&res->inv);
    g_free(res->decision);
    g_free(res->link);
    g_free(res->error);
    memset(res, 0, sizeof *res);
}

const char *rewrite_action_name(rewrite_action action)
{
    switch (action) {
    case REWRITE_PASS:       return "pass";
    case REWRITE_CHANGED:    return "rewrite";
    case REWRITE_QUARANTINE: return "quarantine";
    case REWRITE_ERROR:      return "error";
    }
    return "?";
}
