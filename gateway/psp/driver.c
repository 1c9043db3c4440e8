/*
 * driver — helpers shared by the PSP drivers; see driver.h.
 */
#include "driver.h"

#include <string.h>

char *psp_url(const psp_conf *conf, const char *psp, const char *path, char **err)
{
    if (!conf || !conf->api_base || !*conf->api_base) {
        *err = g_strdup_printf("%s: api_base is not configured", psp);
        return NULL;
    }
    size_t n = strlen(conf->api_base);
    while (n > 0 && conf->api_base[n - 1] == '/')
        n--;
    return g_strdup_printf("%.*s%s", (int)n, conf->api_base, path);
}

/* The PSP's explanation, unless it quotes our own secret back. */
static char *psp_explain(json_t *body, psp_error_text describe, const char *secret)
{
    char *raw = body && describe ? describe(body) : NULL;
    char *text = psp_clean_text(raw);
    g_free(raw);
    if (text && secret && *secret && strstr(text, secret)) {
        g_free(text);
        text = g_strdup("(message withheld: it quotes the credentials)");
    }
    return text;
}

psp_result psp_call(const char *psp, const char *what, const http_req *req, long ok_status,
                    psp_error_text describe, json_t **out, char **err)
{
    *out = NULL;
    http_resp resp;
    char *why = NULL;
    int rc = http_request(req, &resp, &why);
    if (rc != HTTP_OK) {
        *err = g_strdup_printf("%s: %s: %s", psp, what, why);
        g_free(why);
        return rc == HTTP_ERR_NETWORK ? PSP_ERR_NETWORK : PSP_ERR_PSP;
    }
    json_t *body = http_resp_json(&resp, &why);
    psp_result result = PSP_OK;
    if (resp.status != ok_status) {
        char *text = psp_explain(body, describe, req->auth_secret);
        *err = g_strdup_printf("%s: %s: HTTP %ld%s%s", psp, what, resp.status,
                               text ? ": " : "", text ? text : "");
        g_free(text);
        result = PSP_ERR_PSP;
    } else if (!body || !json_is_object(body)) {
        *err = g_strdup_printf("%s: %s: %s", psp, what, body ? "not a JSON object" : why);
        result = PSP_ERR_PSP;
    } else {
        *out = json_incref(body);
    }
    json_decref(body);
    g_free(why);
    http_resp_clear(&resp);
    return result;
}

gboolean psp_id_valid(const char *s, const char *prefix, size_t max, gboolean underscore)
{
    size_t plen = strlen(prefix);
    if (!s || strncmp(s, prefix, plen) != 0)
        return FALSE;
    size_t n = 0;
    for (const char *p = s + plen; *p; p++, n++)
        if (n >= max || !(g_ascii_isalnum(*p) || (underscore && *p == '_')))
            return FALSE;
    return n > 0;
}

gboolean psp_currency_copy(char out[4], const char *s)
{
    if (!s || strlen(s) != 3)
        return FALSE;
    for (int i = 0; i < 3; i++) {
        if (!g_ascii_isalpha(s[i]))
            return FALSE;
        out[i] = g_ascii_toupper(s[i]);
    }
    out[3] = '\0';
    return TRUE;
}

gboolean psp_invoice_id_read(json_t *value, gint64 *out)
{
    gint64 id = 0;
    if (json_is_integer(value)) {
        id = (gint64)json_integer_value(value);
    } else if (json_is_string(value)) {
        const char *s = json_string_value(value);
        size_t n = strlen(s);
        if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
            return FALSE;
        id = g_ascii_strtoll(s, NULL, 10);
    } else {
        return FALSE;
    }
    if (id <= 0)
        return FALSE;
    *out = id;
    return TRUE;
}

char *psp_clean_text(const char *s)
{
    if (!s || !*s)
        return NULL;
    char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_new(NULL);
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        const char *next = g_utf8_next_char(p);
        if (out->len + (size_t)(next - p) > PSP_TEXT_MAX)
            break;
        if (g_unichar_iscntrl(c))
            g_string_append_c(out, ' ');
        else
            g_string_append_len(out, p, next - p);
    }
    g_free(valid);
    return g_string_free(out, FALSE);
}

const char *psp_json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

char *psp_description(const psp_checkout_req *req)
{
    if (req->description && *req->description)
        return g_strdup(req->description);
    return g_strdup_printf("Facture %s", req->invoice_number ? req->invoice_number : "");
}

gboolean psp_web_url_valid(const char *url)
{
    return url && (g_str_has_prefix(url, "https://") || g_str_has_prefix(url, "http://"))
           && g_utf8_validate(url, -1, NULL) && !strpbrk(url, "\r\n");
}

gboolean psp_checkout_req_valid(const psp_checkout_req *req, const char *psp, char **err)
{
    char code[4];
    const char *why = NULL;
    if (req->invoice_id <= 0)
        why = "no invoice id";
    else if (req->amount_minor <= 0)
        why = "the amount is not positive";
    else if (!psp_currency_copy(code, req->currency))
        why = "no valid currency";
    else if (!psp_web_url_valid(req->redirect_url))
        why = "no valid redirect URL";
    else if (req->cancel_url && !psp_web_url_valid(req->cancel_url))
        why = "invalid cancel URL";
    else if (req->webhook_url && !psp_web_url_valid(req->webhook_url))
        why = "invalid webhook URL";
    if (why)
        *err = g_strdup_printf("%s: create checkout: %s", psp, why);
    return why == NULL;
}
