/*
 * mollie — the Mollie driver; see mollie.h.
 *
 * Amounts travel as {"currency":"EUR","value":"1234.56"}: converted both ways exactly,
 * with the currency's own number of decimals (lib/money), never through floating point.
 */
#include "mollie.h"

#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "http.h"
#include "money.h"

#define MOLLIE "mollie"
#define MOLLIE_ID_MAX           64      /* characters after "tr_" */
#define MOLLIE_CALLBACK_MAX     1024    /* bytes of a callback body we look at */
#define MOLLIE_DESCRIPTION_MAX  255     /* characters Mollie keeps */

char *mollie_amount_value(gint64 minor, const char *currency)
{
    int digits = money_minor_digits(currency);
    guint64 magnitude = minor < 0 ? (guint64)0 - (guint64)minor : (guint64)minor;
    guint64 scale = 1;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    if (digits == 0)
        return g_strdup_printf("%s%" G_GUINT64_FORMAT, minor < 0 ? "-" : "", magnitude);
    return g_strdup_printf("%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT, minor < 0 ? "-" : "",
                           magnitude / scale, digits, magnitude % scale);
}

static char *mollie_error_text(json_t *body)
{
    const char *title = psp_json_str(body, "title"), *detail = psp_json_str(body, "detail");
    const char *field = psp_json_str(body, "field");
    if (!title && !detail)
        return NULL;
    return g_strdup_printf("%s%s%s%s%s%s", title ? title : "", title && detail ? ": " : "",
                           detail ? detail : "", field ? " (field " : "", field ? field : "",
                           field ? ")" : "");
}

static psp_result mollie_call(const psp_conf *conf, const char *what, const char *method,
                              const char *path, json_t *body, long ok_status, json_t **out,
                              char **err)
{
    if (!conf->api_key || !*conf->api_key) {
        *err = g_strdup_printf("mollie: %s: api_key is not configured", what);
        return PSP_ERR_PSP;
    }
    char *url = psp_url(conf, MOLLIE, path, err);
    if (!url)
        return PSP_ERR_PSP;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text)
        g_error("mollie: out of memory");
    static const char *const headers[] = { "Accept: application/hal+json", NULL };
    http_req req = {
        .method = method, .url = url, .auth = HTTP_AUTH_BEARER, .auth_secret = conf->api_key,
        .content_type = text ? "application/json" : NULL,
        .body = text, .body_len = text ? strlen(text) : 0, .headers = headers,
    };
    psp_result rc = psp_call(MOLLIE, what, &req, ok_status, mollie_error_text, out, err);
    free(text);    /* jansson's allocator */
    g_free(url);
    return rc;
}

/* ---- create_checkout ---- */

static const char *mollie_locale(const char *locale)
{
    if (locale && strcmp(locale, "en") == 0)
        return "en_GB";
    return "fr_FR";
}

/* Mollie truncates long descriptions itself; we cut on a character boundary first. */
static char *mollie_description(const psp_checkout_req *req)
{
    char *full = psp_description(req);
    char *valid = g_utf8_make_valid(full, -1);
    char *cut = g_utf8_substring(valid, 0, MIN(g_utf8_strlen(valid, -1),
                                               MOLLIE_DESCRIPTION_MAX));
    g_free(full);
    g_free(valid);
    return cut;
}

static json_t *mollie_payment_body(const psp_checkout_req *req)
{
    char currency[4], id[24];
    psp_currency_copy(currency, req->currency);
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, req->invoice_id);
    char *value = mollie_amount_value(req->amount_minor, currency);
    char *description = mollie_description(req);
    json_t *metadata = json_pack("{s:s}", "invoice_id", id);
    if (req->invoice_number && *req->invoice_number && g_utf8_validate(req->invoice_number, -1, NULL))
        json_object_set_new(metadata, "invoice_number", json_string(req->invoice_number));
    /* NULL only when a string is not UTF-8 (psp_checkout_req_valid has checked them) */
    json_t *body = json_pack("{s:{s:s,s:s}, s:s, s:s, s:s, s:s, s:s, s:o}",
                             "amount", "currency", currency, "value", value,
                             "description", description,
                             "redirectUrl", req->redirect_url,
                             "cancelUrl", req->cancel_url ? req->cancel_url : req->redirect_url,
                             "webhookUrl", req->webhook_url,
                             "locale", mollie_locale(req->locale),
                             "metadata", metadata);
    g_free(value);
    g_free(description);
    return body;
}

static psp_result mollie_create_checkout(const psp_conf *conf, const psp_checkout_req *req,
                                         psp_checkout *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (!psp_checkout_req_valid(req, MOLLIE, err))
        return PSP_ERR_PSP;
    if (!req->webhook_url) {
        *err = g_strdup("mollie: create payment: no webhook URL");
        return PSP_ERR_PSP;
    }
    json_t *body = mollie_payment_body(req);
    if (!body) {
        *err = g_strdup("mollie: create payment: cannot encode the request");
        return PSP_ERR_PSP;
    }
    json_t *payment = NULL;
    psp_result rc = mollie_call(conf, "create payment", "POST", "/v2/payments", body, 201,
                                &payment, err);
    json_decref(body);
    if (rc != PSP_OK)
        return rc;
    const char *id = psp_json_str(payment, "id");
    json_t *checkout = json_object_get(json_object_get(payment, "_links"), "checkout");
    const char *url = psp_json_str(checkout, "href");
    if (!psp_id_valid(id, "tr_", MOLLIE_ID_MAX, FALSE)) {
        *err = g_strdup("mollie: create payment: no valid payment id in the answer");
        rc = PSP_ERR_PSP;
    } else if (!psp_web_url_valid(url)) {
        *err = g_strdup("mollie: create payment: no checkout URL in the answer");
        rc = PSP_ERR_PSP;
    } else {
        out->ref = g_strdup(id);
        out->url = g_strdup(url);
    }
    json_decref(payment);
    return rc;
}

/* ---- parse_callback ---- */

/* The single "id" field of an application/x-www-form-urlencoded body, decoded, or NULL. */
static char *mollie_form_id(const char *body, size_t len)
{
    char *text = g_strndup(body, len);     /* stops at a NUL: what follows is ignored */
    char **pairs = g_strsplit(text, "&", 0);
    char *id = NULL;
    gboolean twice = FALSE;
    for (int i = 0; pairs[i]; i++) {
        if (!g_str_has_prefix(pairs[i], "id="))
            continue;
        twice = twice || id != NULL;
        g_free(id);
        id = g_uri_unescape_string(pairs[i] + 3, NULL);
    }
    g_strfreev(pairs);
    g_free(text);
    if (twice) {
        g_free(id);
        return NULL;
    }
    return id;
}

static psp_result mollie_parse_callback(const psp_conf *conf, const char *signature,
                                        const char *body, size_t len, time_t now,
                                        psp_callback *out, char **err)
{
    (void)conf;
    (void)signature;
    (void)now;
    memset(out, 0, sizeof *out);
    if (!body || len == 0 || len > MOLLIE_CALLBACK_MAX) {
        *err = g_strdup("mollie: callback: empty or oversized body");
        return PSP_ERR_REJECTED;
    }
    char *id = mollie_form_id(body, len);
    if (!psp_id_valid(id, "tr_", MOLLIE_ID_MAX, FALSE)) {
        *err = g_strdup("mollie: callback: no valid payment id");
        g_free(id);
        return PSP_ERR_REJECTED;
    }
    out->ref = id;
    out->event_id = g_strdup(id);
    return PSP_OK;
}

/* ---- fetch ---- */

static gboolean mollie_state(const char *status, psp_state *state)
{
    static const struct { const char *name; psp_state state; } map[] = {
        { "open", PSP_STATE_OPEN },         { "pending", PSP_STATE_PENDING },
        { "authorized", PSP_STATE_PENDING }, { "paid", PSP_STATE_PAID },
        { "failed", PSP_STATE_FAILED },     { "canceled", PSP_STATE_CANCELED },
        { "expired", PSP_STATE_EXPIRED },
    };
    for (size_t i = 0; status && i < G_N_ELEMENTS(map); i++) {
        if (strcmp(status, map[i].name) == 0) {
            *state = map[i].state;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean mollie_amount_read(json_t *amount, gint64 *minor, char currency[4])
{
    const char *value = psp_json_str(amount, "value");
    return psp_currency_copy(currency, psp_json_str(amount, "currency")) && value
           && money_parse_decimal(value, money_minor_digits(currency), minor) && *minor >= 0;
}

static gboolean mollie_payment_read(json_t *p, const char *ref, psp_payment *out,
                                    const char **why)
{
    const char *id = psp_json_str(p, "id");
    if (!id || strcmp(id, ref) != 0)
        *why = "the answer is about another payment";
    else if (!mollie_state(psp_json_str(p, "status"), &out->state))
        *why = "unknown status";
    else if (!mollie_amount_read(json_object_get(p, "amount"), &out->amount_minor,
                                 out->currency))
        *why = "no valid amount";
    else {
        out->ref = g_strdup(ref);
        if (!psp_invoice_id_read(json_object_get(json_object_get(p, "metadata"), "invoice_id"),
                                 &out->invoice_id))
            out->invoice_id = 0;
        out->payer_name = psp_clean_text(psp_json_str(json_object_get(p, "details"),
                                                      "consumerName"));
        return TRUE;
    }
    return FALSE;
}

static psp_result mollie_fetch(const psp_conf *conf, const char *ref, psp_payment *out,
                               char **err)
{
    memset(out, 0, sizeof *out);
    if (!psp_id_valid(ref, "tr_", MOLLIE_ID_MAX, FALSE)) {
        *err = g_strdup("mollie: fetch payment: invalid payment id");
        return PSP_ERR_PSP;
    }
    char *path = g_strdup_printf("/v2/payments/%s", ref);
    json_t *payment = NULL;
    psp_result rc = mollie_call(conf, "fetch payment", "GET", path, NULL, 200, &payment, err);
    g_free(path);
    if (rc != PSP_OK)
        return rc;
    const char *why = NULL;
    if (!mollie_payment_read(payment, ref, out, &why)) {
        *err = g_strdup_printf("mollie: fetch payment %s: %s", ref, why);
        psp_payment_clear(out);
        rc = PSP_ERR_PSP;
    }
    json_decref(payment);
    return rc;
}

const psp_driver mollie_driver = {
    .name = "mollie",
    .signature_header = NULL,
    .create_checkout = mollie_create_checkout,
    .parse_callback = mollie_parse_callback,
    .fetch = mollie_fetch,
};
