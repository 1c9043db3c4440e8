/*
 * pay — POST /p/{token}/pay: send the client to the PSP's pay-by-bank checkout
 * (DESIGN.md flow step 7). A checkout created in the last minutes is reused; else one is
 * created at the PSP chosen for the artisan and recorded before the client is redirected,
 * so every checkout a client can pay is one we know (payment.c). When the PSP or the
 * database fails the client gets a page saying to try again, and nothing is recorded.
 */
#include <string.h>

#include "db.h"
#include "log.h"
#include "page.h"
#include "payment.h"
#include "psp/psp.h"
#include "record.h"

/* Only an absolute http(s) URL without control characters goes into a Location header. */
static gboolean pay_url_safe(const char *url)
{
    if (!url || (!g_str_has_prefix(url, "https://") && !g_str_has_prefix(url, "http://")))
        return FALSE;
    for (const char *p = url; *p; p++)
        if ((unsigned char) *p < 0x21 || *p == 0x7f)
            return FALSE;
    return TRUE;
}

/* The locale the client saw the page in (the form's hidden field), for the PSP's page. */
static char *pay_locale(const gw_request *req, const record *rec)
{
    char *lang = gw_form_field(req, "lang");
    if (g_strcmp0(lang, "fr") != 0 && g_strcmp0(lang, "en") != 0) {
        g_free(lang);
        lang = g_strdup(page_locale(req, rec->artisan_locale));
    }
    return lang;
}

static void pay_fail(const gw_request *req, gw_response *resp, unsigned status,
                     const char *kind, const char *token)
{
    char *back = g_strdup_printf("/p/%s", token);
    page_error(req, resp, status, kind, back);
    if (status == 503)
        gw_response_add_header(resp, "Retry-After", "30");
    g_free(back);
}

/* The payment row and its timeline entry together, or neither. */
static gboolean pay_record(PGconn *db, const record *rec, const char *psp_name,
                           const psp_checkout *co, char **err)
{
    if (!db_begin(db, err))
        return FALSE;
    if (payment_record_checkout(db, rec, psp_name, co, err) && db_commit(db, err))
        return TRUE;
    db_rollback(db);
    return FALSE;
}

/* Create a checkout at the PSP and record it; its URL, or NULL after answering resp. */
static char *pay_create(const gw_request *req, gw_response *resp, PGconn *db, const record *rec,
                        const char *token, const char *psp_name)
{
    const reglo_conf *conf = req->snap->conf;
    const psp_driver *driver = psp_driver_find(psp_name);
    const psp_conf *pconf = conf_psp(conf, psp_name);
    if (!driver || !pconf) {
        log_error("pay: invoice %" G_GINT64_FORMAT ": payment provider '%s' is not %s",
                  rec->id, psp_name, driver ? "configured" : "known");
        pay_fail(req, resp, 503, "psp", token);
        return NULL;
    }
    char *locale = pay_locale(req, rec);
    char *description = g_strdup_printf(strcmp(locale, "en") == 0 ? "Invoice %s — %s"
                                                                  : "Facture %s — %s",
                                        rec->number, rec->artisan_name);
    char *page_url = g_strdup_printf("%s/p/%s", conf->public_url, token);
    char *redirect_url = g_strdup_printf("%s?back=1", page_url);
    char *webhook_url = g_strdup_printf("%s/webhooks/%s", conf->public_url, psp_name);
    psp_checkout_req creq = {
        .invoice_id = rec->id, .invoice_number = rec->number,
        .amount_minor = rec->amount_due_minor, .currency = rec->currency,
        .description = description,
        .customer_email = *rec->client_email ? rec->client_email : NULL,
        .locale = locale, .redirect_url = redirect_url, .cancel_url = page_url,
        .webhook_url = webhook_url,
    };
    psp_checkout co = { 0 };
    char *err = NULL, *url = NULL;
    psp_result rc = driver->create_checkout(pconf, &creq, &co, &err);
    if (rc == PSP_OK && !pay_url_safe(co.url)) {
        rc = PSP_ERR_PSP;
        err = g_strdup("the checkout URL is not an http(s) URL");
    }
    if (rc != PSP_OK) {
        log_warn("pay: invoice %" G_GINT64_FORMAT ": %s %s: %s", rec->id, psp_name,
                 rc == PSP_ERR_NETWORK ? "unreachable" : "error", err ? err : "?");
        pay_fail(req, resp, rc == PSP_ERR_NETWORK ? 503 : 502, "psp", token);
    } else if (!pay_record(db, rec, psp_name, &co, &err)) {
        /* The PSP's checkout stays unknown to us and expires there unpaid: never send the
         * client to a payment that no callback could settle. */
        log_error("pay: invoice %" G_GINT64_FORMAT ": cannot record the %s checkout: %s",
                  rec->id, psp_name, err);
        gw_db_check();
        pay_fail(req, resp, 503, "unavailable", token);
    } else {
        log_info("pay: invoice %" G_GINT64_FORMAT ": %s checkout %s created", rec->id,
                 psp_name, co.ref);
        url = g_strdup(co.url);
    }
    psp_checkout_clear(&co);
    g_free(err);
    g_free(webhook_url);
    g_free(redirect_url);
    g_free(page_url);
    g_free(description);
    g_free(locale);
    return url;
}

static void pay_invoice(const gw_request *req, gw_response *resp, PGconn *db, const record *rec,
                        const char *token)
{
    /* Paid, cancelled or being confirmed: the page says so; no second payment. */
    if (strcmp(rec->status, "paid") == 0 || strcmp(rec->status, "cancelled") == 0 ||
        strcmp(rec->status, "pending") == 0) {
        char *page = g_strdup_printf("/p/%s", token);
        gw_response_redirect(resp, 303, page);
        g_free(page);
        return;
    }
    const char *psp_name = *rec->artisan_psp ? rec->artisan_psp : req->snap->conf->default_psp;
    char *err = NULL;
    char *url = payment_reusable_checkout(db, rec->id, psp_name, &err);
    if (!url && err) {
        log_error("pay: invoice %" G_GINT64_FORMAT ": %s", rec->id, err);
        g_free(err);
        gw_db_check();
        pay_fail(req, resp, 503, "unavailable", token);
        return;
    }
    if (url && !pay_url_safe(url)) {
        g_free(url);
        url = NULL;
    }
    if (!url)
        url = pay_create(req, resp, db, rec, token, psp_name);
    else
        log_info("pay: invoice %" G_GINT64_FORMAT ": reusing the open %s checkout", rec->id,
                 psp_name);
    if (url)
        gw_response_redirect(resp, 303, url);
    g_free(url);
}

void pay_handle(const gw_request *req, gw_response *resp)
{
    if (strcmp(req->method, "POST") != 0) {
        page_error(req, resp, 405, "method", NULL);
        gw_response_add_header(resp, "Allow", "POST");
        return;
    }
    char *token = page_token(req->path, "/pay");
    PGconn *db = NULL;
    record *rec = NULL;
    if (page_find(req, resp, token, &db, &rec))
        pay_invoice(req, resp, db, rec, token);
    record_free(rec);
    g_free(token);
}
