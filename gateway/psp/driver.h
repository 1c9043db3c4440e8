/*
 * driver — what the PSP drivers (stripe.c, mollie.c) share, internal to gateway/psp/:
 * the API URL from the configuration, one JSON API call with its error mapping, and the
 * checks every value read from a PSP goes through before it reaches the caller.
 *
 * Returned strings are g_malloc'ed (caller frees); json_t results are new references.
 */
#ifndef REGLO_PSP_DRIVER_H
#define REGLO_PSP_DRIVER_H

#include <jansson.h>

#include "http.h"
#include "psp.h"

/* Longest PSP text (error message, payer name) passed on to logs and the database. */
#define PSP_TEXT_MAX 200

/* conf->api_base (trailing '/' dropped) + path, or NULL with *err when api_base is unset. */
char *psp_url(const psp_conf *conf, const char *psp, const char *path, char **err);

/* Reads a PSP's error body (a JSON object) into a short sentence (g_malloc'ed) or NULL. */
typedef char *(*psp_error_text)(json_t *body);

/*
 * Perform req and read a JSON object answered with status ok_status. No answer →
 * PSP_ERR_NETWORK; another status, an oversized or unreadable body → PSP_ERR_PSP, with the
 * PSP's own explanation (describe) in *err, prefixed "psp: what: ". *out is set on PSP_OK.
 */
psp_result psp_call(const char *psp, const char *what, const http_req *req, long ok_status,
                    psp_error_text describe, json_t **out, char **err);

/* s is prefix followed by 1..max characters of [A-Za-z0-9] (and '_' when underscore). */
gboolean psp_id_valid(const char *s, const char *prefix, size_t max, gboolean underscore);

/* Three ASCII letters, stored upper-case in out. */
gboolean psp_currency_copy(char out[4], const char *s);

/* Our invoice id as we wrote it into the metadata: a JSON string of digits or an integer,
 * positive. FALSE for anything else (absent included). */
gboolean psp_invoice_id_read(json_t *value, gint64 *out);

/* A PSP's text made safe for a log line or a column: valid UTF-8, no control characters,
 * at most PSP_TEXT_MAX bytes. NULL for NULL or empty. */
char *psp_clean_text(const char *s);

/* obj[key] when it is a string, else NULL (borrowed). */
const char *psp_json_str(json_t *obj, const char *key);

/* An absolute http(s) URL, valid UTF-8, on one line. */
gboolean psp_web_url_valid(const char *url);

/* The description to show at the PSP: req->description, or "Facture NUMBER". */
char *psp_description(const psp_checkout_req *req);

/* The checks every driver applies to a checkout request before calling the PSP. */
gboolean psp_checkout_req_valid(const psp_checkout_req *req, const char *psp, char **err);

#endif
