/*
 * page — the client's payment page (GET /p/{token}), its two QR images (qr.png: the link,
 * large, for "paiement immédiat" on site; epc.png: the SEPA credit transfer) and the
 * gateway's error pages, rendered from templates/<locale>/page.html and error.html
 * (mustache; partials from the same directory). The first view of an invoice is put on its
 * timeline.
 *
 * Returned strings are g_malloc'ed; the caller frees them.
 */
#ifndef REGLO_PAGE_H
#define REGLO_PAGE_H

#include <jansson.h>

#include "gateway.h"
#include "record.h"

/* "fr" or "en" from an Accept-Language value (the preferred of the two with q > 0), or
 * NULL when it names neither. */
const char *page_accept_language(const char *header);

/* The request's locale: ?lang=fr|en, else Accept-Language, else fallback ("fr" if NULL). */
const char *page_locale(const gw_request *req, const char *fallback);

/* The token of a path "/p/{token}{suffix}" (suffix "" for the page itself), or NULL when the
 * path has another shape. The token is not checked here: unknown and malformed tokens get
 * the same answer from the handlers. */
char *page_token(const char *path, const char *suffix);

/*
 * The invoice behind a token: TRUE with the worker's connection and the record (the
 * caller frees it); otherwise FALSE with the 404 (unknown or malformed: the same page) or
 * the 503 page already in resp.
 */
gboolean page_find(const gw_request *req, gw_response *resp, const char *token, PGconn **db,
                   record **rec);

/* Render templates/<locale>/<name> with ctx into resp; a plain 500 when the template is
 * missing or broken (logged). */
void page_render(const gw_snapshot *snap, gw_response *resp, unsigned status,
                 const char *locale, const char *name, json_t *ctx);

/* An error page in the request's locale. kind selects the message: "notfound", "method",
 * "toolarge", "unavailable" (our database), "psp" (the payment service). back_url, when not
 * NULL, is offered as a way back (a relative URL). */
void page_error(const gw_request *req, gw_response *resp, unsigned status, const char *kind,
                const char *back_url);

#endif
