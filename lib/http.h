/*
 * http — a small HTTP client for the PSP drivers (libcurl + jansson): one request, one
 * response held in memory, plus helpers to build form-encoded bodies and read JSON replies.
 *
 * Only http:// and https:// URLs, no redirects followed, no signals (safe in threads).
 * curl_global_init is the program's job (main). The request is borrowed; the response body
 * (http_resp.body, NUL-terminated, g_malloc'ed) belongs to the caller: http_resp_clear.
 * Error strings (*err, g_malloc'ed) never carry the URL's credentials nor the auth secret.
 */
#ifndef REGLO_HTTP_H
#define REGLO_HTTP_H

#include <stddef.h>

#include <glib.h>
#include <jansson.h>

#define HTTP_TIMEOUT_DEFAULT     10L        /* seconds, the whole exchange */
#define HTTP_CONNECT_DEFAULT     5L         /* seconds */
#define HTTP_RESPONSE_MAX        (1 << 20)  /* bytes of response body kept */

typedef enum { HTTP_AUTH_NONE = 0, HTTP_AUTH_BEARER, HTTP_AUTH_BASIC } http_auth;

typedef struct http_req {
    const char *method;            /* "GET", "POST"...; NULL: GET */
    const char *url;
    http_auth auth;
    const char *auth_secret;       /* bearer token, or "user:password" for basic */
    const char *content_type;      /* of body; NULL: none sent */
    const char *body;              /* NULL: no body */
    size_t body_len;
    const char *const *headers;    /* extra "Name: value" lines, NULL-terminated; may be NULL */
    long timeout_s;                /* 0: HTTP_TIMEOUT_DEFAULT */
    long connect_timeout_s;        /* 0: HTTP_CONNECT_DEFAULT */
} http_req;

typedef struct http_resp {
    long status;                   /* HTTP status code */
    char *body;                    /* NUL-terminated (not counted in body_len) */
    size_t body_len;
} http_resp;

/* Return codes of http_request. */
#define HTTP_OK             0      /* a response arrived, whatever its status */
#define HTTP_ERR_NETWORK   (-1)    /* no response: DNS, connect, TLS, timeout, bad URL */
#define HTTP_ERR_TOO_LARGE (-2)    /* the response body exceeds HTTP_RESPONSE_MAX */

/* Perform one request. On HTTP_OK, *resp is filled (clear it); otherwise *resp is zeroed
 * and *err says why. */
int http_request(const http_req *req, http_resp *resp, char **err);
void http_resp_clear(http_resp *resp);

/* Append "key=value" (both percent-encoded, '&' between pairs) to a form body. */
void http_form_add(GString *form, const char *key, const char *value);
void http_form_add_int(GString *form, const char *key, gint64 value);

/* The response body as JSON (a new reference), or NULL with *err (no body bytes in it). */
json_t *http_resp_json(const http_resp *resp, char **err);

/* A percent-encoded copy of s, for a URL path segment or query value (g_malloc'ed). */
char *http_escape(const char *s);

#endif
