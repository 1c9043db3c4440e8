/*
 * page — the payment page, its QR images and the error pages; see page.h.
 *
 * Everything the client reads is in the templates (templates/<locale>/page.html,
 * error.html and their partials); this file only decides which view and fills the context.
 * The views: open (pay button, EPC QR), pending (a payment is being confirmed), paid
 * (receipt), cancelled. Unknown and malformed tokens get the same 404 page. The page of an
 * invoice already viewed is kept in the snapshot's page cache (pagecache.h) until the
 * invoice changes.
 */
#include "page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "money.h"
#include "pagecache.h"
#include "qr.h"
#include "record.h"
#include "sqltext.h"
#include "tmpl.h"

#define QR_LINK_MODULE_PX 16      /* large: shown on a phone to a client on site */
#define QR_EPC_MODULE_PX 6

/* ---- locale ------------------------------------------------------------------------------ */

/* q-value of an Accept-Language item's parameters, in thousandths; -1 when malformed. */
static int accept_q(const char *params)
{
    const char *q = strstr(params, "q=");
    if (!q)
        return 1000;
    q += 2;
    if (q[0] == '1')
        return 1000;
    if (q[0] != '0')
        return -1;
    int value = 0, scale = 100;
    if (q[1] == '.')
        for (const char *d = q + 2; g_ascii_isdigit(*d) && scale > 0; d++, scale /= 10)
            value += (*d - '0') * scale;
    return value;
}

const char *page_accept_language(const char *header)
{
    if (!header)
        return NULL;
    const char *best = NULL;
    int best_q = 0;
    char **items = g_strsplit(header, ",", 64);
    for (char **it = items; *it; it++) {
        char *item = g_strstrip(*it);
        char *semi = strchr(item, ';');
        int q = semi ? accept_q(semi + 1) : 1000;
        size_t tag = strcspn(item, "-;");
        const char *lang = NULL;
        if (tag == 2 && g_ascii_strncasecmp(item, "fr", 2) == 0)
            lang = "fr";
        else if (tag == 2 && g_ascii_strncasecmp(item, "en", 2) == 0)
            lang = "en";
        if (lang && q > best_q) {
            best = lang;
            best_q = q;
        }
    }
    g_strfreev(items);
    return best;
}

static const char *known_locale(const char *s)
{
    if (g_strcmp0(s, "fr") == 0)
        return "fr";
    if (g_strcmp0(s, "en") == 0)
        return "en";
    return NULL;
}

/* The locale the request asks for (?lang=, else Accept-Language), or NULL. */
static const char *page_request_locale(const gw_request *req)
{
    const char *lang = known_locale(gw_request_arg(req, "lang"));
    return lang ? lang : page_accept_language(gw_request_header(req, "Accept-Language"));
}

const char *page_locale(const gw_request *req, const char *fallback)
{
    const char *lang = page_request_locale(req);
    if (!lang)
        lang = known_locale(fallback);
    return lang ? lang : "fr";
}

char *page_token(const char *path, const char *suffix)
{
    if (!g_str_has_prefix(path, "/p/") || !g_str_has_suffix(path, suffix) ||
        strlen(path) < 3 + strlen(suffix))
        return NULL;
    size_t len = strlen(path) - 3 - strlen(suffix);
    const char *token = path + 3;
    if (len == 0 || memchr(token, '/', len))
        return NULL;
    return g_strndup(token, len);
}

/* ---- rendering ---------------------------------------------------------------------------- */

void page_render(const gw_snapshot *snap, gw_response *resp, unsigned status,
                 const char *locale, const char *name, json_t *ctx)
{
    char *err = NULL;
    char *out = tmpl_set_render(snap->templates, locale, name, ctx, TRUE, &err);
    if (out) {
        gw_response_set_body(resp, status, NULL, out, strlen(out));
    } else {
        log_error("template %s/%s/%s: %s", snap->conf->templates_dir, locale, name,
                  err ? err : "missing");
        char *plain = g_strdup_printf("%u\n", status >= 400 ? status : 500);
        gw_response_set_body(resp, status >= 400 ? status : 500, "text/plain; charset=utf-8",
                             plain, strlen(plain));
    }
    g_free(err);
}

void page_error(const gw_request *req, gw_response *resp, unsigned status, const char *kind,
                const char *back_url)
{
    const char *locale = page_locale(req, NULL);
    json_t *ctx = json_pack("{s:s, s:i, s:b}", "lang", locale, "status", (int) status,
                            kind, 1);
    if (back_url)
        json_object_set_new(ctx, "back_url", json_string(back_url));
    page_render(req->snap, resp, status, locale, "error.html", ctx);
    json_decref(ctx);
}

/* ---- dates -------------------------------------------------------------------------------- */

/* "2026-03-15" as "15 mars 2026" / "15 March 2026"; "" when not a date. */
static char *page_date(const char *ymd, const char *locale)
{
    static const char *const fr[] = { "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre" };
    static const char *const en[] = { "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December" };
    unsigned y, m, d;
    char tail;
    if (!ymd || sscanf(ymd, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
        !g_date_valid_dmy((GDateDay) d, (GDateMonth) m, (GDateYear) y))
        return g_strdup("");
    if (strcmp(locale, "en") == 0)
        return g_strdup_printf("%u %s %u", d, en[m - 1], y);
    return g_strdup_printf(d == 1 ? "%uer %s %u" : "%u %s %u", d, fr[m - 1], y);
}

/* Day of an ISO 8601 UTC instant in the server's time zone, as "YYYY-MM-DD". */
static char *page_local_day(const char *iso)
{
    GDateTime *utc = *iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;
    if (!utc)
        return g_strdup("");
    GDateTime *local = g_date_time_to_local(utc);
    char *day = g_date_time_format(local, "%Y-%m-%d");
    g_date_time_unref(local);
    g_date_time_unref(utc);
    return day;
}

/* localtime_r, not GDateTime: g_date_time_new_now_local looks the zone up on every call. */
static gboolean page_overdue(const char *due_ymd)
{
    time_t now = time(NULL);
    struct tm tm;
    char today[16];
    if (!*due_ymd || !localtime_r(&now, &tm) || !strftime(today, sizeof today, "%Y-%m-%d", &tm))
        return FALSE;
    return strcmp(due_ymd, today) < 0;
}

/* ---- the invoice's views -------------------------------------------------------------------- */

static gboolean status_is(const record *rec, const char *status)
{
    return strcmp(rec->status, status) == 0;
}

/* Still to be paid: sent, viewed, undelivered. */
static gboolean page_open(const record *rec)
{
    return !status_is(rec, "paid") && !status_is(rec, "cancelled") && !status_is(rec, "pending");
}

/* The EPC (SEPA credit transfer) payload, when the artisan has an IBAN, the invoice is in
 * euros and still open. The RF creditor reference is unique per invoice and digits only:
 * clients type it into their banking app, where O and 0 look alike. */
static char *page_epc_payload(const record *rec, char **rf_out)
{
    if (!*rec->artisan_iban || strcmp(rec->currency, "EUR") != 0 || !page_open(rec))
        return NULL;
    char ref[32];
    g_snprintf(ref, sizeof ref, "%08" G_GINT64_FORMAT, rec->id);
    char *rf = qr_rf_reference(ref);
    char *payload = rf ? qr_epc_payload(rec->artisan_bic, rec->artisan_name, rec->artisan_iban,
                                        rec->amount_due_minor, rf, NULL) : NULL;
    if (payload && rf_out)
        *rf_out = rf;
    else
        g_free(rf);
    return payload;
}

/* "FR76 3000 6000 ..." — groups of four, as printed on a RIB. */
static char *page_group4(const char *s)
{
    GString *out = g_string_new(NULL);
    for (size_t i = 0; s[i]; i++) {
        if (i > 0 && i % 4 == 0)
            g_string_append_c(out, ' ');
        g_string_append_c(out, s[i]);
    }
    return g_string_free(out, FALSE);
}

static void ctx_set_str(json_t *ctx, const char *key, char *value)   /* takes value */
{
    json_object_set_new(ctx, key, json_string(value));
    g_free(value);
}

static void page_ctx_epc(json_t *ctx, const record *rec)
{
    char *rf = NULL, *payload = page_epc_payload(rec, &rf);
    if (!payload)
        return;
    json_t *epc = json_object();
    ctx_set_str(epc, "iban", page_group4(rec->artisan_iban));
    json_object_set_new(epc, "bic", json_string(rec->artisan_bic));
    json_object_set_new(epc, "reference", json_string(rf));
    json_object_set_new(ctx, "epc", epc);
    g_free(rf);
    g_free(payload);
}

/* Back from the PSP's checkout (?back=1): the page says a payment may be confirming. */
static gboolean page_back(const gw_request *req)
{
    return g_strcmp0(gw_request_arg(req, "back"), "1") == 0;
}

static json_t *page_ctx(const gw_request *req, const record *rec, const char *token,
                        const char *locale)
{
    json_t *ctx = json_object();
    json_object_set_new(ctx, "lang", json_string(locale));
    json_object_set_new(ctx, "token", json_string(token));
    json_object_set_new(ctx, "seller", json_pack("{s:s, s:s}", "name", rec->artisan_name,
                                                 "email", rec->artisan_email));
    json_object_set_new(ctx, "number", json_string(rec->number));
    ctx_set_str(ctx, "issue_date", page_date(rec->issue_date, locale));
    ctx_set_str(ctx, "due_date", page_date(rec->due_date, locale));
    ctx_set_str(ctx, "amount", money_format(rec->amount_due_minor, rec->currency, locale));
    gboolean open = page_open(rec);
    json_object_set_new(ctx, "open", json_boolean(open));
    json_object_set_new(ctx, "overdue", json_boolean(open && page_overdue(rec->due_date)));
    json_object_set_new(ctx, "pending", json_boolean(status_is(rec, "pending")));
    json_object_set_new(ctx, "paid", json_boolean(status_is(rec, "paid")));
    json_object_set_new(ctx, "cancelled", json_boolean(status_is(rec, "cancelled")));
    if (status_is(rec, "paid")) {
        char *day = page_local_day(rec->paid_at);
        ctx_set_str(ctx, "paid_on", page_date(day, locale));
        g_free(day);
        ctx_set_str(ctx, "paid_amount",
                    money_format(rec->paid_minor > 0 ? rec->paid_minor : rec->amount_due_minor,
                                 rec->currency, locale));
    }
    json_object_set_new(ctx, "back", json_boolean(page_back(req)));
    if (open)
        page_ctx_epc(ctx, rec);
    return ctx;
}

/* First view: viewed_at, sent -> viewed, one "viewed" event, at most once (see the SQL). */
static void page_record_view(PGconn *db, const record *rec, const char *locale)
{
    char id[24], *err = NULL;
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, rec->id);
    char *detail = g_strdup_printf("{\"lang\":\"%s\"}", locale);
    const char *params[] = { id, detail };
    PGresult *res = db_exec(db, SQL_INVOICE_MARK_VIEWED, 2, params, &err);
    if (!res) {
        log_warn("page: invoice %s: cannot record the first view: %s", id, err);
        g_free(err);
        gw_db_check();
    } else {
        if (PQntuples(res) > 0)
            log_info("page: invoice %s viewed for the first time", id);
        PQclear(res);
    }
    g_free(detail);
}

static void page_png(gw_response *resp, guint8 *png, size_t len)
{
    gw_response_set_body(resp, 200, "image/png", (char *) png, len);
}

/* Returns the locale the page was rendered in. */
static const char *page_view(const gw_request *req, gw_response *resp, PGconn *db,
                             const record *rec, const char *token)
{
    const char *locale = page_locale(req, rec->artisan_locale);
    if (!rec->viewed && strcmp(req->method, "GET") == 0)
        page_record_view(db, rec, locale);
    json_t *ctx = page_ctx(req, rec, token, locale);
    page_render(req->snap, resp, 200, locale, "page.html", ctx);
    json_decref(ctx);
    gw_response_add_header(resp, "Content-Language", locale);
    gw_response_add_header(resp, "Vary", "Accept-Language");
    return locale;
}

typedef enum { PAGE_HTML, PAGE_QR_LINK, PAGE_QR_EPC } page_kind;

/* The two QR images. */
static void page_serve(const gw_request *req, gw_response *resp, page_kind kind,
                       const record *rec, const char *token)
{
    guint8 *png = NULL;
    size_t len = 0;
    if (kind == PAGE_QR_LINK) {
        char *link = g_strdup_printf("%s/p/%s", req->snap->conf->public_url, token);
        png = qr_png(link, QR_LINK_MODULE_PX, &len);
        g_free(link);
    } else {
        char *payload = page_epc_payload(rec, NULL);
        png = payload ? qr_png(payload, QR_EPC_MODULE_PX, &len) : NULL;
        g_free(payload);
    }
    if (png)
        page_png(resp, png, len);
    else
        page_error(req, resp, 404, "notfound", NULL);
}

gboolean page_find(const gw_request *req, gw_response *resp, const char *token, PGconn **db,
                   record **rec)
{
    char *err = NULL;
    record_lookup_result found = RECORD_UNKNOWN;
    *rec = NULL;
    *db = NULL;
    if (token && token_well_formed(token)) {
        *db = gw_db(req->snap->conf, &err);
        found = *db ? record_by_token(*db, token, rec, &err) : RECORD_DB_ERROR;
    }
    if (found == RECORD_UNKNOWN)
        page_error(req, resp, 404, "notfound", NULL);
    else if (found == RECORD_DB_ERROR) {
        log_error("%s %s: %s", req->method, req->path, err);
        gw_db_check();
        page_error(req, resp, 503, "unavailable", NULL);
        gw_response_add_header(resp, "Retry-After", "30");
    }
    g_free(err);
    return found == RECORD_FOUND;
}

/* ---- the page cache (pagecache.h) ----------------------------------------------------------- */

/* What in the request changes the page besides its invoice: the locale asked for (none:
 * the artisan's) and ?back=1. */
static guint page_variant(const gw_request *req)
{
    const char *lang = page_request_locale(req);
    guint locale = !lang ? 0 : strcmp(lang, "fr") == 0 ? 1 : 2;
    return locale * 2 + (page_back(req) ? 1 : 0);
}

static gboolean page_cached(const gw_request *req, gw_response *resp, const char *hash,
                            guint variant)
{
    const char *locale = NULL;
    GBytes *body = pagecache_get(req->snap->pages, hash, variant, &locale);
    if (!body)
        return FALSE;
    gsize len = 0;
    const void *data = g_bytes_get_data(body, &len);
    gw_response_set_body(resp, 200, NULL, g_memdup2(data, len), len);
    g_bytes_unref(body);
    gw_response_add_header(resp, "Content-Language", locale);
    gw_response_add_header(resp, "Vary", "Accept-Language");
    return TRUE;
}

/* The HTML page, from the cache or the database. Kept only once the invoice was viewed: a
 * first view writes, and must reach the database (as must a HEAD before it). */
static void page_html(const gw_request *req, gw_response *resp, const char *token)
{
    char *hash = req->snap->pages && token_well_formed(token) ? token_hash(token) : NULL;
    guint variant = hash ? page_variant(req) : 0;
    if (hash && page_cached(req, resp, hash, variant)) {
        g_free(hash);
        return;
    }
    guint stamp = pagecache_stamp();
    PGconn *db = NULL;
    record *rec = NULL;
    if (page_find(req, resp, token, &db, &rec)) {
        const char *locale = page_view(req, resp, db, rec, token);
        if (hash && rec->viewed && resp->status == 200 && resp->body)
            pagecache_put(req->snap->pages, stamp, hash, variant, locale, resp->body,
                          resp->body_len);
    }
    record_free(rec);
    g_free(hash);
}

void page_handle(const gw_request *req, gw_response *resp)
{
    static const struct { const char *suffix; page_kind kind; } shapes[] = {
        { "/qr.png", PAGE_QR_LINK }, { "/epc.png", PAGE_QR_EPC }, { "", PAGE_HTML },
    };
    char *token = NULL;
    page_kind kind = PAGE_HTML;
    for (size_t i = 0; i < G_N_ELEMENTS(shapes) && !token; i++) {
        token = page_token(req->path, shapes[i].suffix);
        kind = shapes[i].kind;
    }
    PGconn *db = NULL;
    record *rec = NULL;
    if (kind == PAGE_HTML)
        page_html(req, resp, token);
    else if (page_find(req, resp, token, &db, &rec))
        page_serve(req, resp, kind, rec, token);
    record_free(rec);
    g_free(token);
}
