/*
 * portal/invoices — Mes factures: the list (filter by status, search, pages of 50, totals),
 * its CSV export, one invoice (timeline, link, actions) and "paiement immédiat" (the link's
 * QR code full screen, for the client to scan on site).
 *
 * An invoice is always looked up with the session's artisan: another artisan's invoice
 * gets the same 404 as one that does not exist.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "csv.h"
#include "db.h"
#include "invoice_act.h"
#include "log.h"
#include "money.h"
#include "outbox.h"
#include "portal.h"
#include "record.h"
#include "reminder_mail.h"
#include "sqltext.h"
#include "usertmpl.h"

#define LIST_PAGE_SIZE 50
#define LIST_MAX_PAGE 100000
#define CSV_MAX_ROWS 100000
#define SEARCH_MAX 100

static const char *const display_statuses[] = {
    "sent", "viewed", "pending", "paid", "overdue", "reminded", "paused", "undelivered",
    "cancelled",
};

/* Columns of portal_invoice_page.sql. */
enum { C_ID, C_NUMBER, C_CLIENT, C_AMOUNT, C_CURRENCY, C_SENT, C_DUE, C_STATUS, C_REMINDED,
       C_PAID_ON, C_PAID_AMOUNT };

/* ---- small formatting -------------------------------------------------------------------- */

/* clock_date_for_locale, "" for no date: "15/03/2026" (fr), "2026-03-15" (en). */
static char *short_date(const char *ymd, const char *lang)
{
    char *d = clock_date_for_locale(ymd, lang);
    return d ? d : g_strdup("");
}

static void set_taken(json_t *obj, const char *key, char *value)
{
    json_object_set_new(obj, key, json_string(value));
    g_free(value);
}

static const char *status_word(const portal_req *p, const char *status)
{
    char key[32];
    g_snprintf(key, sizeof key, "st_%s", status);
    return portal_word(p, key);
}

/* ---- the filter ---------------------------------------------------------------------------- */

typedef struct list_filter {
    const char *status;       /* one of display_statuses, or "" */
    char *search;             /* "" for none */
    long page;                /* from 1 */
} list_filter;

static void list_filter_read(const portal_req *p, list_filter *f)
{
    const char *status = portal_arg(p, "statut");
    f->status = "";
    for (size_t i = 0; status && i < G_N_ELEMENTS(display_statuses); i++)
        if (strcmp(status, display_statuses[i]) == 0)
            f->status = display_statuses[i];
    const char *q = portal_arg(p, "q");
    f->search = g_utf8_make_valid(q ? q : "", -1);
    g_strstrip(f->search);
    if (g_utf8_strlen(f->search, -1) > SEARCH_MAX)
        *g_utf8_offset_to_pointer(f->search, SEARCH_MAX) = '\0';
    const char *page = portal_arg(p, "page");
    f->page = page ? strtol(page, NULL, 10) : 1;
    if (f->page < 1 || f->page > LIST_MAX_PAGE)
        f->page = 1;
}

/* "statut=paid&q=dupont&" for links that keep the filter. */
static char *list_filter_query(const list_filter *f)
{
    GString *q = g_string_new(NULL);
    if (*f->status)
        g_string_append_printf(q, "statut=%s&", f->status);
    if (*f->search) {
        char *e = g_uri_escape_string(f->search, NULL, FALSE);
        g_string_append_printf(q, "q=%s&", e);
        g_free(e);
    }
    return g_string_free(q, FALSE);
}

/* ---- the list --------------------------------------------------------------------------------- */

/* sql takes the first n of: artisan, status, search, limit, offset. */
static PGresult *list_query(portal_req *p, const char *sql, int n, const list_filter *f,
                            long limit, long offset, char **err)
{
    char id[24], lim[24], off[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, p->user->artisan_id);
    g_snprintf(lim, sizeof lim, "%ld", limit);
    g_snprintf(off, sizeof off, "%ld", offset);
    const char *params[] = { id, f->status, f->search, lim, off };
    return db_exec(p->db, sql, n, params, err);
}

static json_t *list_row(const portal_req *p, const PGresult *res, int i)
{
    const char *status = db_str(res, i, C_STATUS);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "id", db_str(res, i, C_ID),
                            "number", db_str(res, i, C_NUMBER), "client",
                            db_str(res, i, C_CLIENT), "status", status);
    set_taken(row, "amount", money_format(db_int(res, i, C_AMOUNT), db_str(res, i, C_CURRENCY),
                                          p->lang));
    set_taken(row, "sent_on", short_date(db_str(res, i, C_SENT), p->lang));
    set_taken(row, "due_on", short_date(db_str(res, i, C_DUE), p->lang));
    json_object_set_new(row, "status_label", json_string(status_word(p, status)));
    if (strcmp(status, "reminded") == 0)
        json_object_set_new(row, "reminded", json_integer(db_int(res, i, C_REMINDED)));
    return row;
}

static json_t *list_totals(const portal_req *p, const PGresult *totals)
{
    json_t *t = json_object();
    set_taken(t, "paid_month", money_format(db_int(totals, 0, 1), "EUR", p->lang));
    set_taken(t, "waiting", money_format(db_int(totals, 0, 2), "EUR", p->lang));
    set_taken(t, "overdue", money_format(db_int(totals, 0, 3), "EUR", p->lang));
    return t;
}

static json_t *list_status_options(const portal_req *p, const list_filter *f)
{
    json_t *options = json_array();
    for (size_t i = 0; i < G_N_ELEMENTS(display_statuses); i++)
        json_array_append_new(options, json_pack("{s:s, s:s, s:b}", "value", display_statuses[i],
                                                 "label", status_word(p, display_statuses[i]),
                                                 "selected",
                                                 strcmp(f->status, display_statuses[i]) == 0));
    return options;
}

static json_t *list_paging(const list_filter *f, gint64 matching)
{
    long pages = (long) ((matching + LIST_PAGE_SIZE - 1) / LIST_PAGE_SIZE);
    char *keep = list_filter_query(f);
    json_t *paging = json_pack("{s:i, s:i}", "page", (int) f->page, "pages",
                               (int) (pages > 0 ? pages : 1));
    if (f->page > 1)
        set_taken(paging, "prev", g_strdup_printf("/portal/factures?%spage=%ld", keep,
                                                  f->page - 1));
    if (f->page < pages)
        set_taken(paging, "next", g_strdup_printf("/portal/factures?%spage=%ld", keep,
                                                  f->page + 1));
    set_taken(paging, "csv", g_strdup_printf("/portal/factures.csv?%s", keep));
    g_free(keep);
    return paging;
}

void portal_invoices(portal_req *p)
{
    list_filter f;
    list_filter_read(p, &f);
    char *err = NULL;
    gboolean filtered = *f.status || *f.search;
    PGresult *rows = list_query(p, SQL_PORTAL_INVOICE_PAGE, 5, &f, LIST_PAGE_SIZE,
                                (f.page - 1) * LIST_PAGE_SIZE, &err);
    PGresult *totals = rows ? list_query(p, SQL_PORTAL_INVOICE_TOTALS, 1, &f, 0, 0, &err) : NULL;
    /* Without a filter the totals' count is the list's. */
    PGresult *count = totals && filtered ? list_query(p, SQL_PORTAL_INVOICE_COUNT, 3, &f, 0, 0,
                                                      &err) : NULL;
    if (!totals || (filtered && !count)) {
        PQclear(rows);
        PQclear(totals);
        g_free(f.search);
        portal_db_fail(p, "invoice list", err);
        return;
    }
    gint64 matching = db_int(count ? count : totals, 0, 0);
    PQclear(count);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(rows); i++)
        json_array_append_new(list, list_row(p, rows, i));
    json_t *ctx = json_object();
    json_object_set_new(ctx, "any_invoices", json_boolean(json_array_size(list) > 0));
    json_object_set_new(ctx, "invoices", list);
    json_object_set_new(ctx, "totals", list_totals(p, totals));
    json_object_set_new(ctx, "statuses", list_status_options(p, &f));
    json_object_set_new(ctx, "q", json_string(f.search));
    json_object_set_new(ctx, "filtered", json_boolean(filtered));
    json_object_set_new(ctx, "paging", list_paging(&f, matching));
    json_object_set_new(ctx, "matching", json_integer(matching));
    PQclear(rows);
    PQclear(totals);
    g_free(f.search);
    portal_render(p, 200, "invoices", ctx);
}

/* ---- CSV ---------------------------------------------------------------------------------------- */

static void csv_invoice_row(GString *doc, const portal_req *p, const PGresult *res, int i)
{
    const char *status = db_str(res, i, C_STATUS);
    char *amount = csv_amount(db_int(res, i, C_AMOUNT));
    char *sent = short_date(db_str(res, i, C_SENT), "fr");
    char *due = short_date(db_str(res, i, C_DUE), "fr");
    char *paid_on = short_date(db_str(res, i, C_PAID_ON), "fr");
    gboolean paid = strcmp(status, "paid") == 0;
    char *paid_amount = paid ? csv_amount(db_int(res, i, C_PAID_AMOUNT)) : g_strdup("");
    char reminded[16];
    g_snprintf(reminded, sizeof reminded, "%" G_GINT64_FORMAT, db_int(res, i, C_REMINDED));
    const char *fields[] = {
        db_str(res, i, C_NUMBER), db_str(res, i, C_CLIENT), amount, db_str(res, i, C_CURRENCY),
        sent, due, status_word(p, status), reminded, paid_on, paid_amount,
    };
    csv_row(doc, fields, G_N_ELEMENTS(fields));
    g_free(amount);
    g_free(sent);
    g_free(due);
    g_free(paid_on);
    g_free(paid_amount);
}

void portal_invoices_csv(portal_req *p)
{
    list_filter f;
    list_filter_read(p, &f);
    char *err = NULL;
    PGresult *rows = list_query(p, SQL_PORTAL_INVOICE_PAGE, 5, &f, CSV_MAX_ROWS, 0, &err);
    g_free(f.search);
    if (!rows) {
        portal_db_fail(p, "invoice export", err);
        return;
    }
    GString *doc = csv_new();
    json_t *headers = json_object_get(json_object_get(p->req->snap->words, p->lang),
                                      "csv_headers");
    const char *names[16] = { 0 };
    size_t n = 0;
    for (; n < json_array_size(headers) && n < G_N_ELEMENTS(names); n++)
        names[n] = json_string_value(json_array_get(headers, n));
    csv_row(doc, names, n);
    for (int i = 0; i < PQntuples(rows); i++)
        csv_invoice_row(doc, p, rows, i);
    PQclear(rows);
    GDateTime *now = g_date_time_new_now_local();
    char *day = g_date_time_format(now, "%Y-%m-%d");
    char *disposition = g_strdup_printf("attachment; filename=\"factures-%s.csv\"", day);
    g_date_time_unref(now);
    g_free(day);
    size_t len = doc->len;
    gw_response_set_body(p->resp, 200, "text/csv; charset=utf-8", g_string_free(doc, FALSE),
                         len);
    gw_response_add_header(p->resp, "Content-Disposition", disposition);
    g_free(disposition);
}

/* ---- one invoice -------------------------------------------------------------------------------- */

/* Columns of portal_invoice_one.sql. */
enum { O_ID, O_NUMBER, O_CLIENT, O_AMOUNT, O_CURRENCY, O_SENT, O_ISSUE, O_DUE, O_STATUS,
       O_REMINDED, O_PAID_ON, O_PAID_AMOUNT, O_RAW_STATUS, O_PAUSED, O_HAS_LINK, O_KEY_ID,
       O_SUBJECT, O_RECIPIENTS, O_RECIPIENT_LIST, O_MESSAGE_ID, O_EARLIER, O_RESENT,
       O_DAYS_LATE };

/* The id in "/42" or "/42/qr" (suffix "" or "/qr"); 0 when the tail has another shape. */
static gint64 invoice_id_of(const char *tail, const char *suffix)
{
    if (tail[0] != '/' || !g_str_has_suffix(tail, suffix))
        return 0;
    size_t digits = strlen(tail) - 1 - strlen(suffix);
    if (digits == 0 || digits > 18 || strspn(tail + 1, "0123456789") != digits)
        return 0;
    return g_ascii_strtoll(tail + 1, NULL, 10);
}

/* The invoice's row (the caller PQclear's), or NULL: then the 404 or the 503 is in resp. */
static PGresult *invoice_find(portal_req *p, gint64 invoice_id)
{
    char *err = NULL, id[24], artisan[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, invoice_id);
    g_snprintf(artisan, sizeof artisan, "%" G_GINT64_FORMAT, p->user->artisan_id);
    const char *params[] = { id, artisan };
    PGresult *res = invoice_id > 0 ? db_exec(p->db, SQL_PORTAL_INVOICE_ONE, 2, params, &err)
                                   : NULL;
    if (res && PQntuples(res) == 1)
        return res;
    PQclear(res);
    if (err)
        portal_db_fail(p, "invoice", err);
    else
        portal_fail(p, 404, "err_no_invoice");
    return NULL;
}

static gboolean invoice_open(const PGresult *inv)
{
    const char *s = db_str(inv, 0, O_RAW_STATUS);
    return strcmp(s, "paid") != 0 && strcmp(s, "cancelled") != 0;
}

/* The payment link (base: public_url, or "" for a path of ours), rebuilt from the link
 * key; NULL when the key is gone (rotated out). */
static char *invoice_link(const portal_req *p, const PGresult *inv, const char *base,
                          const char *suffix)
{
    char *token = token_derive(p->req->snap->keys, db_str(inv, 0, O_KEY_ID),
                               db_int(inv, 0, O_ID));
    char *link = token ? g_strdup_printf("%s/p/%s%s", base, token, suffix) : NULL;
    g_free(token);
    return link;
}

/* A line of the timeline: when, what, and a detail worth reading. */
static json_t *timeline_entry(const portal_req *p, const char *at, const char *kind,
                              const char *detail_text)
{
    char key[48];
    g_snprintf(key, sizeof key, "ev_%s", kind);
    const char *label = portal_word(p, key);
    json_t *entry = json_pack("{s:s, s:s}", "label", *label ? label : kind, "kind", kind);
    const char *time = strchr(at, ' ');      /* "YYYY-MM-DD HH:MI" */
    char *ymd = g_strndup(at, time ? (gsize) (time - at) : strlen(at));
    char *day = short_date(ymd, p->lang);
    g_free(ymd);
    set_taken(entry, "at", g_strdup_printf("%s%s", day, time ? time : ""));
    g_free(day);
    json_t *detail = json_loads(detail_text, 0, NULL);
    GString *note = g_string_new(NULL);
    json_t *step = json_object_get(detail, "step");
    if (json_is_integer(step))
        g_string_append_printf(note, "%s%+" JSON_INTEGER_FORMAT, portal_word(p, "day_prefix"),
                               json_integer_value(step));
    json_t *amount = json_object_get(detail, "amount_minor");
    const char *currency = json_string_value(json_object_get(detail, "currency"));
    if (json_is_integer(amount)) {
        char *m = money_format(json_integer_value(amount), currency ? currency : "EUR", p->lang);
        g_string_append_printf(note, "%s%s", note->len ? " · " : "", m);
        g_free(m);
    }
    static const char *const texts[] = { "recipient", "from", "error", "lang" };
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        const char *s = json_string_value(json_object_get(detail, texts[i]));
        if (s && strcmp(texts[i], "lang") != 0)
            g_string_append_printf(note, "%s%s", note->len ? " · " : "", s);
    }
    if (json_is_true(json_object_get(detail, "ignored")))
        g_string_append_printf(note, "%s%s", note->len ? " · " : "",
                               portal_word(p, "ev_ignored"));
    set_taken(entry, "note", g_string_free(note, FALSE));
    json_decref(detail);
    return entry;
}

static json_t *invoice_timeline(portal_req *p, gint64 invoice_id, char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, invoice_id);
    const char *params[] = { id };
    PGresult *res = db_exec(p->db, SQL_PORTAL_INVOICE_TIMELINE, 1, params, err);
    if (!res)
        return NULL;
    json_t *events = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(events, timeline_entry(p, db_str(res, i, 0), db_str(res, i, 1),
                                                      db_str(res, i, 2)));
    PQclear(res);
    return events;
}

/* The actions the invoice's state allows (the same rules as the SQL of each), as buttons. */
static json_t *invoice_actions(const portal_req *p, const PGresult *inv)
{
    const char *s = db_str(inv, 0, O_RAW_STATUS);
    gboolean open = invoice_open(inv), link = db_bool(inv, 0, O_HAS_LINK);
    gboolean paused = db_bool(inv, 0, O_PAUSED);
    const struct { const char *action, *word, *style; gboolean allowed; } all[] = {
        { "resend", "act_resend", "secondary", open && link },
        { "paid", "act_paid", "secondary", open },
        { "pause", "act_pause", "secondary", open && link && !paused },
        { "resume", "act_resume", "secondary", open && link && paused },
        { "cancel", "act_cancel", "danger", open && strcmp(s, "pending") != 0 },
    };
    json_t *actions = json_array();
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        if (all[i].allowed)
            json_array_append_new(actions, json_pack("{s:s, s:s, s:s}", "action", all[i].action,
                                                     "label", portal_word(p, all[i].word),
                                                     "style", all[i].style));
    return actions;
}

static json_t *invoice_context(portal_req *p, const PGresult *inv)
{
    const char *status = db_str(inv, 0, O_STATUS);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                            "id", db_str(inv, 0, O_ID), "number", db_str(inv, 0, O_NUMBER),
                            "client", db_str(inv, 0, O_CLIENT), "status", status,
                            "subject", db_str(inv, 0, O_SUBJECT),
                            "recipients", db_str(inv, 0, O_RECIPIENTS));
    json_object_set_new(ctx, "status_label", json_string(status_word(p, status)));
    if (strcmp(status, "reminded") == 0)
        json_object_set_new(ctx, "reminded", json_integer(db_int(inv, 0, O_REMINDED)));
    const char *currency = db_str(inv, 0, O_CURRENCY);
    set_taken(ctx, "amount", money_format(db_int(inv, 0, O_AMOUNT), currency, p->lang));
    set_taken(ctx, "sent_on", short_date(db_str(inv, 0, O_SENT), p->lang));
    set_taken(ctx, "issued_on", short_date(db_str(inv, 0, O_ISSUE), p->lang));
    set_taken(ctx, "due_on", short_date(db_str(inv, 0, O_DUE), p->lang));
    if (strcmp(db_str(inv, 0, O_RAW_STATUS), "paid") == 0) {
        set_taken(ctx, "paid_on", short_date(db_str(inv, 0, O_PAID_ON), p->lang));
        set_taken(ctx, "paid_amount", money_format(db_int(inv, 0, O_PAID_AMOUNT), currency,
                                                   p->lang));
    }
    if (db_bool(inv, 0, O_HAS_LINK) && invoice_open(inv)) {
        char *link = invoice_link(p, inv, p->req->snap->conf->public_url, "");
        if (link)
            set_taken(ctx, "link", link);
    }
    json_object_set_new(ctx, "actions", invoice_actions(p, inv));
    return ctx;
}

/* "Paiement immédiat": the QR of the link, as large as the screen allows. */
static void invoice_qr_page(portal_req *p, const PGresult *inv)
{
    char *qr = db_bool(inv, 0, O_HAS_LINK) && invoice_open(inv) ? invoice_link(p, inv, "", "/qr.png")
                                                                : NULL;
    if (!qr) {
        portal_fail(p, 404, "err_no_link");
        return;
    }
    json_t *ctx = json_pack("{s:s, s:s}", "id", db_str(inv, 0, O_ID), "number",
                            db_str(inv, 0, O_NUMBER));
    set_taken(ctx, "qr", qr);
    set_taken(ctx, "amount", money_format(db_int(inv, 0, O_AMOUNT), db_str(inv, 0, O_CURRENCY),
                                          p->lang));
    portal_render(p, 200, "qr", ctx);
}

void portal_invoice(portal_req *p)
{
    gboolean qr = g_str_has_suffix(p->tail, "/qr");
    PGresult *inv = invoice_find(p, invoice_id_of(p->tail, qr ? "/qr" : ""));
    if (!inv)
        return;
    if (qr) {
        invoice_qr_page(p, inv);
        PQclear(inv);
        return;
    }
    char *err = NULL;
    json_t *timeline = invoice_timeline(p, db_int(inv, 0, O_ID), &err);
    if (!timeline) {
        PQclear(inv);
        portal_db_fail(p, "invoice timeline", err);
        return;
    }
    json_t *ctx = invoice_context(p, inv);
    json_object_set_new(ctx, "timeline", timeline);
    PQclear(inv);
    portal_render(p, 200, "invoice", ctx);
}

/* ---- sending the link again ------------------------------------------------------------- */

/* A space-separated list as a NULL-terminated vector without empty items. */
static char **words_of(const char *list)
{
    char **all = g_strsplit(list, " ", -1);
    GPtrArray *kept = g_ptr_array_new();
    for (char **w = all; *w; w++)
        if (**w)
            g_ptr_array_add(kept, g_strdup(*w));
    g_ptr_array_add(kept, NULL);
    g_strfreev(all);
    return (char **) g_ptr_array_free(kept, FALSE);
}

/* The email, written as the reminders are (reminder_mail.c, kind "link"): from the artisan,
 * in the invoice's thread, the artisan in Cc, the payment block and its QR code. */
static gboolean resend_compose(portal_req *p, const PGresult *inv, reminder_mail *m, char **err)
{
    char **recipients = words_of(db_str(inv, 0, O_RECIPIENT_LIST));
    char **earlier = words_of(db_str(inv, 0, O_EARLIER));
    char *own_text = NULL, *own_html = NULL;
    gboolean ok = usertmpl_get_block(p->db, p->user->artisan_id, p->user->locale, &own_text,
                                     &own_html, err);
    if (ok) {
        reminder_invoice ri = {
            .kind = "link", .invoice_id = db_int(inv, 0, O_ID),
            .step = (int) db_int(inv, 0, O_RESENT) + 1, .number = db_str(inv, 0, O_NUMBER),
            .amount_due_minor = db_int(inv, 0, O_AMOUNT), .currency = db_str(inv, 0, O_CURRENCY),
            .issue_date = db_str(inv, 0, O_ISSUE), .due_date = db_str(inv, 0, O_DUE),
            .sent_date = db_str(inv, 0, O_SENT), .days_overdue = (int) db_int(inv, 0, O_DAYS_LATE),
            .client_email = db_str(inv, 0, O_CLIENT), .recipients = (const char *const *) recipients,
            .subject = db_str(inv, 0, O_SUBJECT), .message_id = db_str(inv, 0, O_MESSAGE_ID),
            .earlier = (const char *const *) earlier, .key_id = db_str(inv, 0, O_KEY_ID),
            .artisan_email = p->user->email, .artisan_name = p->user->name,
            .locale = p->user->locale,
        };
        reminder_templates own = { .block_text = own_text, .block_html = own_html };
        reminder_writer w = { p->req->snap->conf, p->req->snap->keys, p->req->snap->templates };
        ok = reminder_mail_build(&w, &ri, &own, m, err);
    }
    g_free(own_text);
    g_free(own_html);
    g_strfreev(recipients);
    g_strfreev(earlier);
    return ok;
}

/* Queue it, in the invoice's thread and on its timeline, in one transaction. */
static gboolean resend_queue(portal_req *p, gint64 invoice_id, const reminder_mail *m,
                             char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, invoice_id);
    char *to = g_strjoinv(", ", m->to);
    json_t *detail = json_pack("{s:s, s:s, s:s}", "by", "portal", "message_id", m->message_id,
                               "recipient", to);
    const char *thread[] = { m->message_id, id, "link" };
    gboolean ok = db_begin(p->db, err) &&
                  outbox_add(p->db, p->user->email, (const char *const *) m->envelope, m->data,
                             m->len, "link", invoice_id, err) > 0 &&
                  db_run(p->db, SQL_THREAD_MESSAGE_ADD, 3, thread, err) &&
                  record_event(p->db, invoice_id, "link_resent", detail, err) &&
                  db_commit(p->db, err);
    if (!ok)
        db_rollback(p->db);
    json_decref(detail);
    g_free(to);
    return ok;
}

static void invoice_resend(portal_req *p, const PGresult *inv)
{
    gint64 invoice_id = db_int(inv, 0, O_ID);
    reminder_mail m;
    char *err = NULL;
    if (!db_bool(inv, 0, O_HAS_LINK) || !invoice_open(inv)) {
        portal_fail(p, 409, "err_no_link");
        return;
    }
    if (!resend_compose(p, inv, &m, &err)) {
        log_warn("portal: %s: invoice %" G_GINT64_FORMAT ": cannot write the link email: %s",
                 p->user->email, invoice_id, err);
        g_free(err);
        portal_fail(p, 422, "err_resend");
        return;
    }
    if (!resend_queue(p, invoice_id, &m, &err))
        portal_db_fail(p, "link resend", err);
    else {
        log_info("portal: %s: invoice %" G_GINT64_FORMAT ": link sent again (%s)",
                 p->user->email, invoice_id, m.message_id);
        outbox_wake();
        char *back = g_strdup_printf("/portal/factures/%" G_GINT64_FORMAT "?ok=resend",
                                     invoice_id);
        portal_redirect(p, back);
        g_free(back);
    }
    reminder_mail_clear(&m);
}

/* ---- actions ---------------------------------------------------------------------------------- */

static gboolean invoice_act_run(portal_req *p, gint64 invoice_id, invoice_act act,
                                gboolean *changed, char **err)
{
    json_t *detail = json_pack("{s:s, s:s}", "by", "portal", "artisan", p->user->email);
    gboolean ok = db_begin(p->db, err) &&
                  invoice_act_apply(p->db, invoice_id, act, detail, changed, err);
    json_decref(detail);
    if (ok && db_commit(p->db, err))
        return TRUE;
    db_rollback(p->db);
    return FALSE;
}

static void invoice_change(portal_req *p, gint64 invoice_id, const char *action)
{
    char *err = NULL;
    invoice_act act;
    gboolean changed = FALSE;
    if (!invoice_act_parse(action, &act))
        portal_fail(p, 400, "err_action");
    else if (!invoice_act_run(p, invoice_id, act, &changed, &err))
        portal_db_fail(p, "invoice action", err);
    else {
        log_info("portal: %s: invoice %" G_GINT64_FORMAT " %s%s", p->user->email, invoice_id,
                 action, changed ? "" : " (nothing to change)");
        char *back = g_strdup_printf("/portal/factures/%" G_GINT64_FORMAT "?ok=%s", invoice_id,
                                     changed ? action : "unchanged");
        portal_redirect(p, back);
        g_free(back);
    }
}

void portal_invoice_act(portal_req *p)
{
    PGresult *inv = invoice_find(p, invoice_id_of(p->tail, ""));
    if (!inv)
        return;
    char *action = portal_field(p, "action");
    if (g_strcmp0(action, "resend") == 0)
        invoice_resend(p, inv);
    else
        invoice_change(p, db_int(inv, 0, O_ID), action);
    g_free(action);
    PQclear(inv);
}
