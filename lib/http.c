/*
 * http — one libcurl easy transfer per request; see http.h.
 *
 * The body is collected in a GString and cut off at HTTP_RESPONSE_MAX (the transfer is
 * aborted, not silently truncated). Error strings are built from libcurl's messages, which
 * name the host but never the URL's user info nor our headers.
 *
 * Each thread keeps one easy handle (reset between requests: no option carries over), so
 * its connections stay open for the next request to the same PSP (keep-alive, TLS session)
 * and its DNS cache is reused; the handle is cleaned up when the thread ends.
 */
#include "http.h"

#include <string.h>

#include <curl/curl.h>

#define HTTP_USER_AGENT "reglo/1"

typedef struct {
    GString *body;
    gboolean too_large;
} http_sink;

static size_t http_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    http_sink *sink = userdata;
    size_t n = size * nmemb;
    if (n > HTTP_RESPONSE_MAX - sink->body->len) {
        sink->too_large = TRUE;
        return 0;                 /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    g_string_append_len(sink->body, data, (gssize)n);
    return n;
}

/* A header value must stay on its line: a CR or LF would let it forge headers. */
static gboolean http_header_safe(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

static struct curl_slist *http_headers(const http_req *req, char **err)
{
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");
    if (req->content_type) {
        char *h = g_strdup_printf("Content-Type: %s", req->content_type);
        list = curl_slist_append(list, h);
        g_free(h);
    } else {
        list = curl_slist_append(list, "Content-Type:");   /* no default form type */
    }
    if (req->auth == HTTP_AUTH_BEARER) {
        char *h = g_strdup_printf("Authorization: Bearer %s", req->auth_secret);
        list = curl_slist_append(list, h);
        g_free(h);
    }
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        if (!http_header_safe(req->headers[i])) {
            *err = g_strdup("http: a request header contains a line break");
            curl_slist_free_all(list);
            return NULL;
        }
        list = curl_slist_append(list, req->headers[i]);
    }
    if (!list)
        g_error("http: out of memory");
    return list;
}

static gboolean http_check_req(const http_req *req, char **err)
{
    if (!req->url || !*req->url) {
        *err = g_strdup("http: no URL");
        return FALSE;
    }
    if (g_ascii_strncasecmp(req->url, "http://", 7) != 0
        && g_ascii_strncasecmp(req->url, "https://", 8) != 0) {
        *err = g_strdup("http: only http:// and https:// URLs are allowed");
        return FALSE;
    }
    if (req->auth != HTTP_AUTH_NONE && (!req->auth_secret || !*req->auth_secret)) {
        *err = g_strdup("http: no credentials configured");
        return FALSE;
    }
    if (req->auth != HTTP_AUTH_NONE && !http_header_safe(req->auth_secret)) {
        *err = g_strdup("http: the credentials contain a line break");
        return FALSE;
    }
    if ((req->method && !http_header_safe(req->method)) || !http_header_safe(req->url)) {
        *err = g_strdup("http: a line break in the method or URL");
        return FALSE;
    }
    return TRUE;
}

static void http_set_method(CURL *curl, const http_req *req)
{
    const char *method = req->method ? req->method : "GET";
    if (req->body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
}

static void http_set_options(CURL *curl, const http_req *req, struct curl_slist *headers,
                             http_sink *sink, char *errbuf)
{
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout_s > 0 ? req->timeout_s
                                                               : HTTP_TIMEOUT_DEFAULT);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, req->connect_timeout_s > 0
                                                   ? req->connect_timeout_s
                                                   : HTTP_CONNECT_DEFAULT);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_RESPONSE_MAX);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, HTTP_USER_AGENT);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    if (req->auth == HTTP_AUTH_BASIC) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERPWD, req->auth_secret);
    }
    http_set_method(curl, req);
}

static void http_handle_free(gpointer curl)
{
    curl_easy_cleanup(curl);
}

static GPrivate http_handle = G_PRIVATE_INIT(http_handle_free);

/* The calling thread's handle, with every option at its default. */
static CURL *http_handle_get(void)
{
    CURL *curl = g_private_get(&http_handle);
    if (curl) {
        curl_easy_reset(curl);
        return curl;
    }
    curl = curl_easy_init();
    if (!curl)
        g_error("http: curl_easy_init failed");
    g_private_set(&http_handle, curl);
    return curl;
}

static char *http_error_text(CURLcode rc, const char *errbuf, const http_req *req)
{
    /* libcurl's detail names host and port; keep it unless it somehow quotes the secret. */
    gboolean detail = errbuf[0] && !(req->auth_secret && *req->auth_secret
                                     && strstr(errbuf, req->auth_secret));
    return g_strdup_printf("http: %s%s%s", curl_easy_strerror(rc), detail ? ": " : "",
                           detail ? errbuf : "");
}

int http_request(const http_req *req, http_resp *resp, char **err)
{
    memset(resp, 0, sizeof *resp);
    if (!http_check_req(req, err))
        return HTTP_ERR_NETWORK;
    struct curl_slist *headers = http_headers(req, err);
    if (!headers)
        return HTTP_ERR_NETWORK;
    CURL *curl = http_handle_get();
    char errbuf[CURL_ERROR_SIZE] = "";
    http_sink sink = { g_string_new(NULL), FALSE };
    http_set_options(curl, req, headers, &sink, errbuf);

    CURLcode rc = curl_easy_perform(curl);
    int result = HTTP_OK;
    if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        *err = g_strdup_printf("http: response larger than %d bytes", HTTP_RESPONSE_MAX);
        result = HTTP_ERR_TOO_LARGE;
    } else if (rc != CURLE_OK) {
        *err = http_error_text(rc, errbuf, req);
        result = HTTP_ERR_NETWORK;
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->body_len = sink.body->len;
    }
    /* The handle keeps pointers to these until its next reset. */
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, NULL);
    curl_slist_free_all(headers);
    if (result == HTTP_OK)
        resp->body = g_string_free(sink.body, FALSE);
    else
        g_string_free(sink.body, TRUE);
    return result;
}

void http_resp_clear(http_resp *resp)
{
    g_free(resp->body);
    memset(resp, 0, sizeof *resp);
}

char *http_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, (int)MIN(strlen(s), (size_t)G_MAXINT));
    if (!e)
        g_error("http: out of memory");
    char *copy = g_strdup(e);
    curl_free(e);
    return copy;
}

void http_form_add(GString *form, const char *key, const char *value)
{
    char *k = http_escape(key), *v = http_escape(value ? value : "");
    g_string_append_printf(form, "%s%s=%s", form->len ? "&" : "", k, v);
    g_free(k);
    g_free(v);
}

void http_form_add_int(GString *form, const char *key, gint64 value)
{
    char buf[32];
    g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, value);
    http_form_add(form, key, buf);
}

json_t *http_resp_json(const http_resp *resp, char **err)
{
    json_error_t jerr;
    json_t *j = resp->body ? json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES, &jerr)
                           : NULL;
    if (!j)   /* jerr.text may quote the body: report the position only */
        *err = resp->body ? g_strdup_printf("invalid JSON in the response (HTTP %ld, line %d "
                                            "column %d)", resp->status, jerr.line, jerr.column)
                          : g_strdup("empty response");
    return j;
}
