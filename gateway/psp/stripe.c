/*
 * stripe — the Stripe driver; see stripe.h for the state mapping and the callbacks kept.
 *
 * Requests are form-encoded with Stripe's bracket keys (line_items[0][price_data][...]);
 * answers are JSON. The signature check runs before anything of the body is parsed.
 */
#include "stripe.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "driver.h"
#include "http.h"

#define STRIPE "stripe"
#define STRIPE_SIG_HEADER_MAX 4096    /* bytes of Stripe-Signature we read */
#define STRIPE_SIG_ITEMS_MAX  32      /* comma-separated items in it */
#define STRIPE_TS_DIGITS_MAX  12      /* a Unix time in seconds, for centuries to come */
#define STRIPE_ID_MAX         255

/* ---- signature ---- */

typedef struct {
    const char *t;                    /* timestamp as sent: it is what Stripe signed */
    const char *v1[STRIPE_SIG_ITEMS_MAX];
    int nv1;
} stripe_sig;

/* Splits the header items (in place in `items`); FALSE with the reason in *why. */
static gboolean stripe_sig_parse(char **items, stripe_sig *sig, const char **why)
{
    memset(sig, 0, sizeof *sig);
    for (int i = 0; items[i]; i++) {
        if (i >= STRIPE_SIG_ITEMS_MAX) {
            *why = "too many items";
            return FALSE;
        }
        char *item = g_strstrip(items[i]);
        char *eq = strchr(item, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (strcmp(item, "t") == 0) {
            if (sig->t) {
                *why = "two timestamps";
                return FALSE;
            }
            sig->t = eq + 1;
        } else if (strcmp(item, "v1") == 0) {
            sig->v1[sig->nv1++] = eq + 1;
        }
    }
    size_t tlen = sig->t ? strlen(sig->t) : 0;
    if (tlen == 0 || tlen > STRIPE_TS_DIGITS_MAX || strspn(sig->t, "0123456789") != tlen)
        *why = "no valid timestamp";
    else if (sig->nv1 == 0)
        *why = "no v1 signature";
    else
        return TRUE;
    return FALSE;
}

static const char *stripe_sig_age_problem(const char *t, time_t now, int tolerance_s)
{
    gint64 ts = g_ascii_strtoll(t, NULL, 10);
    gint64 tol = MAX(tolerance_s, 0);
    if ((gint64)now - ts > tol)
        return "timestamp outside the tolerance (too old)";
    if (ts - (gint64)now > tol)
        return "timestamp in the future";
    return NULL;
}

static gboolean stripe_hex32(const char *hex, unsigned char out[32])
{
    if (strlen(hex) != 64)
        return FALSE;
    for (int i = 0; i < 32; i++) {
        int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return FALSE;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return TRUE;
}

/* TRUE when any v1 matches; every candidate is compared, each in constant time. */
static gboolean stripe_sig_match(const stripe_sig *sig, const char *body, size_t len,
                                 const char *secret)
{
    GString *signed_payload = g_string_sized_new(len + 16);
    g_string_append(signed_payload, sig->t);
    g_string_append_c(signed_payload, '.');
    g_string_append_len(signed_payload, body, (gssize)len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)signed_payload->str,
         signed_payload->len, mac, &maclen);
    g_string_free(signed_payload, TRUE);

    gboolean match = FALSE;
    for (int i = 0; i < sig->nv1; i++) {
        unsigned char cand[32];
        if (maclen == 32 && stripe_hex32(sig->v1[i], cand) && CRYPTO_memcmp(cand, mac, 32) == 0)
            match = TRUE;
    }
    OPENSSL_cleanse(mac, sizeof mac);
    return match;
}

gboolean stripe_signature_verify(const char *header, const char *body, size_t len,
                                 const char *secret, time_t now, int tolerance_s, char **err)
{
    const char *why = NULL;
    if (!secret || !*secret)
        why = "no webhook_secret configured";
    else if (!header || !*header)
        why = "no Stripe-Signature header";
    else if (strlen(header) > STRIPE_SIG_HEADER_MAX)
        why = "Stripe-Signature header too long";
    else if (!body && len > 0)
        why = "no body";
    if (why) {
        *err = g_strdup_printf("stripe: signature: %s", why);
        return FALSE;
    }
    char **items = g_strsplit(header, ",", STRIPE_SIG_ITEMS_MAX + 2);
    stripe_sig sig;
    if (stripe_sig_parse(items, &sig, &why)
        && !(why = stripe_sig_age_problem(sig.t, now, tolerance_s))
        && !stripe_sig_match(&sig, body ? body : "", len, secret))
        why = "no v1 signature matches";
    g_strfreev(items);
    if (why)
        *err = g_strdup_printf("stripe: signature: %s", why);
    return why == NULL;
}

/* ---- API calls ---- */

static char *stripe_error_text(json_t *body)
{
    json_t *e = json_object_get(body, "error");
    const char *msg = psp_json_str(e, "message"), *code = psp_json_str(e, "code");
    const char *type = psp_json_str(e, "type"), *param = psp_json_str(e, "param");
    if (!msg && !code && !type)
        return NULL;
    return g_strdup_printf("%s%s%s%s%s%s", code ? code : type ? type : "error",
                           msg ? ": " : "", msg ? msg : "", param ? " (param " : "",
                           param ? param : "", param ? ")" : "");
}

static psp_result stripe_call(const psp_conf *conf, const char *what, const char *method,
                              const char *path, const GString *form, json_t **out, char **err)
{
    if (!conf->secret_key || !*conf->secret_key) {
        *err = g_strdup_printf("stripe: %s: secret_key is not configured", what);
        return PSP_ERR_PSP;
    }
    char *url = psp_url(conf, STRIPE, path, err);
    if (!url)
        return PSP_ERR_PSP;
    static const char *const headers[] = { "Accept: application/json", NULL };
    http_req req = {
        .method = method, .url = url, .auth = HTTP_AUTH_BEARER, .auth_secret = conf->secret_key,
        .content_type = form ? "application/x-www-form-urlencoded" : NULL,
        .body = form ? form->str : NULL, .body_len = form ? form->len : 0, .headers = headers,
    };
    psp_result rc = psp_call(STRIPE, what, &req, 200, stripe_error_text, out, err);
    g_free(url);
    return rc;
}

/* ---- create_checkout ---- */

static void stripe_form_payment_methods(GString *form, const char *const *types)
{
    static const char *const card_only[] = { "card", NULL };
    if (!types || !types[0])
        types = card_only;
    for (int i = 0; types[i]; i++) {
        char key[48];
        g_snprintf(key, sizeof key, "payment_method_types[%d]", i);
        http_form_add(form, key, types[i]);
    }
}

static GString *stripe_checkout_form(const psp_conf *conf, const psp_checkout_req *req)
{
    GString *form = g_string_new(NULL);
    char currency[4], id[24];
    psp_currency_copy(currency, req->currency);
    char *lower = g_ascii_strdown(currency, -1);
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, req->invoice_id);
    char *name = psp_description(req);

    http_form_add(form, "mode", "payment");
    http_form_add(form, "line_items[0][price_data][currency]", lower);
    http_form_add_int(form, "line_items[0][price_data][unit_amount]", req->amount_minor);
    http_form_add(form, "line_items[0][price_data][product_data][name]", name);
    http_form_add(form, "line_items[0][quantity]", "1");
    http_form_add(form, "success_url", req->redirect_url);
    http_form_add(form, "cancel_url", req->cancel_url ? req->cancel_url : req->redirect_url);
    http_form_add(form, "client_reference_id", id);
    http_form_add(form, "metadata[invoice_id]", id);
    if (req->invoice_number && *req->invoice_number && strlen(req->invoice_number) <= 500)
        http_form_add(form, "metadata[invoice_number]", req->invoice_number);
    http_form_add(form, "payment_intent_data[metadata][invoice_id]", id);
    stripe_form_payment_methods(form, (const char *const *) conf->payment_method_types);
    if (req->customer_email && strchr(req->customer_email, '@'))
        http_form_add(form, "customer_email", req->customer_email);
    const char *locale = req->locale && (strcmp(req->locale, "fr") == 0
                                         || strcmp(req->locale, "en") == 0) ? req->locale : "auto";
    http_form_add(form, "locale", locale);
    g_free(lower);
    g_free(name);
    return form;
}

static psp_result stripe_create_checkout(const psp_conf *conf, const psp_checkout_req *req,
                                         psp_checkout *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (!psp_checkout_req_valid(req, STRIPE, err))
        return PSP_ERR_PSP;
    GString *form = stripe_checkout_form(conf, req);
    json_t *session = NULL;
    psp_result rc = stripe_call(conf, "create session", "POST", "/v1/checkout/sessions", form,
                                &session, err);
    g_string_free(form, TRUE);
    if (rc != PSP_OK)
        return rc;
    const char *id = psp_json_str(session, "id"), *url = psp_json_str(session, "url");
    if (!psp_id_valid(id, "cs_", STRIPE_ID_MAX, TRUE)) {
        *err = g_strdup("stripe: create session: no valid session id in the answer");
        rc = PSP_ERR_PSP;
    } else if (!psp_web_url_valid(url)) {
        *err = g_strdup("stripe: create session: no checkout URL in the answer");
        rc = PSP_ERR_PSP;
    } else {
        out->ref = g_strdup(id);
        out->url = g_strdup(url);
    }
    json_decref(session);
    return rc;
}

/* ---- parse_callback ---- */

static gboolean stripe_event_type_handled(const char *type)
{
    static const char *const handled[] = {
        "checkout.session.completed", "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed", "checkout.session.expired",
    };
    for (size_t i = 0; type && i < G_N_ELEMENTS(handled); i++)
        if (strcmp(type, handled[i]) == 0)
            return TRUE;
    return FALSE;
}

/* Reads event id and session id out of a verified event; the reason in *why otherwise. */
static gboolean stripe_event_read(json_t *event, psp_callback *out, char **why)
{
    const char *id = psp_json_str(event, "id"), *type = psp_json_str(event, "type");
    json_t *object = json_object_get(json_object_get(event, "data"), "object");
    const char *ref = psp_json_str(object, "id");
    if (!psp_id_valid(id, "evt_", STRIPE_ID_MAX, TRUE))
        *why = g_strdup("no valid event id");
    else if (!stripe_event_type_handled(type)) {
        char *clean = psp_clean_text(type);
        *why = g_strdup_printf("event type '%s' is not handled", clean ? clean : "");
        g_free(clean);
    } else if (!psp_id_valid(ref, "cs_", STRIPE_ID_MAX, TRUE))
        *why = g_strdup("no valid checkout session id");
    else {
        out->event_id = g_strdup(id);
        out->ref = g_strdup(ref);
        return TRUE;
    }
    return FALSE;
}

static psp_result stripe_parse_callback(const psp_conf *conf, const char *signature,
                                        const char *body, size_t len, time_t now,
                                        psp_callback *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (!stripe_signature_verify(signature, body, len, conf->webhook_secret, now,
                                 STRIPE_TOLERANCE_S, err))
        return PSP_ERR_REJECTED;
    json_error_t jerr;
    json_t *event = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    char *why = NULL;
    if (!json_is_object(event))
        why = g_strdup("the body is not a JSON object");
    else
        stripe_event_read(event, out, &why);
    json_decref(event);
    if (why) {
        *err = g_strdup_printf("stripe: callback: %s", why);
        g_free(why);
        return PSP_ERR_REJECTED;
    }
    return PSP_OK;
}

/* ---- fetch ---- */

static gboolean stripe_state(const char *status, const char *payment_status,
                             const char *intent_status, psp_state *state)
{
    if (!status || !payment_status)
        return FALSE;
    if (strcmp(status, "open") == 0)
        *state = PSP_STATE_OPEN;
    else if (strcmp(status, "expired") == 0)
        *state = PSP_STATE_EXPIRED;
    else if (strcmp(status, "complete") != 0)
        return FALSE;
    else if (strcmp(payment_status, "paid") == 0)
        *state = PSP_STATE_PAID;
    else if (strcmp(payment_status, "no_payment_required") == 0)
        *state = PSP_STATE_FAILED;
    else if (strcmp(payment_status, "unpaid") != 0)
        return FALSE;
    else if (intent_status && (strcmp(intent_status, "requires_payment_method") == 0
                               || strcmp(intent_status, "canceled") == 0))
        *state = PSP_STATE_FAILED;
    else
        *state = PSP_STATE_PENDING;
    return TRUE;
}

/* client_reference_id and metadata[invoice_id] are both ours; when they disagree, neither
 * is believed (0 never matches an invoice). */
static gint64 stripe_invoice_id(json_t *session)
{
    gint64 by_ref = 0, by_meta = 0;
    gboolean has_ref = psp_invoice_id_read(json_object_get(session, "client_reference_id"),
                                           &by_ref);
    gboolean has_meta = psp_invoice_id_read(
        json_object_get(json_object_get(session, "metadata"), "invoice_id"), &by_meta);
    if (has_ref && has_meta)
        return by_ref == by_meta ? by_ref : 0;
    return has_ref ? by_ref : by_meta;
}

static const char *stripe_intent_status(json_t *session)
{
    json_t *intent = json_object_get(session, "payment_intent");
    return json_is_object(intent) ? psp_json_str(intent, "status") : NULL;
}

static gboolean stripe_session_read(json_t *s, const char *ref, psp_payment *out,
                                    const char **why)
{
    json_t *amount = json_object_get(s, "amount_total");
    const char *id = psp_json_str(s, "id"), *currency = psp_json_str(s, "currency");
    if (!id || strcmp(id, ref) != 0)
        *why = "the answer is about another session";
    else if (!stripe_state(psp_json_str(s, "status"), psp_json_str(s, "payment_status"),
                           stripe_intent_status(s), &out->state))
        *why = "unknown status or payment_status";
    else if (!json_is_integer(amount) || json_integer_value(amount) < 0)
        *why = "no valid amount_total";
    else if (!psp_currency_copy(out->currency, currency))
        *why = "no valid currency";
    else {
        out->ref = g_strdup(ref);
        out->amount_minor = (gint64)json_integer_value(amount);
        out->invoice_id = stripe_invoice_id(s);
        out->payer_name = psp_clean_text(psp_json_str(json_object_get(s, "customer_details"),
                                                      "name"));
        return TRUE;
    }
    return FALSE;
}

static psp_result stripe_fetch(const psp_conf *conf, const char *ref, psp_payment *out,
                               char **err)
{
    memset(out, 0, sizeof *out);
    if (!psp_id_valid(ref, "cs_", STRIPE_ID_MAX, TRUE)) {
        *err = g_strdup("stripe: fetch session: invalid session id");
        return PSP_ERR_PSP;
    }
    char *path = g_strdup_printf("/v1/checkout/sessions/%s?expand%%5B%%5D=payment_intent", ref);
    json_t *session = NULL;
    psp_result rc = stripe_call(conf, "fetch session", "GET", path, NULL, &session, err);
    g_free(path);
    if (rc != PSP_OK)
        return rc;
    const char *why = NULL;
    if (!stripe_session_read(session, ref, out, &why)) {
        *err = g_strdup_printf("stripe: fetch session %s: %s", ref, why);
        psp_payment_clear(out);
        rc = PSP_ERR_PSP;
    }
    json_decref(session);
    return rc;
}

const psp_driver stripe_driver = {
    .name = "stripe",
    .signature_header = "Stripe-Signature",
    .create_checkout = stripe_create_checkout,
    .parse_callback = stripe_parse_callback,
    .fetch = stripe_fetch,
};
