/*
 * gateway — what reglo-gateway's modules share.
 *
 * The configuration and link keys form a snapshot that SIGHUP replaces; a request holds
 * a reference for its whole life (gw_snapshot_get / gw_snapshot_put), so a reload never
 * frees what a request still reads. Each libmicrohttpd worker thread has its own
 * PostgreSQL connection (gw_db), opened on first use and reopened when it breaks.
 *
 * Requests and responses: a handler reads a gw_request (borrowed) and fills a gw_response
 * (body and headers owned by the response; the server sends and frees them).
 */
#ifndef REGLO_GATEWAY_H
#define REGLO_GATEWAY_H

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>

#include "conf.h"
#include "tmpl.h"
#include "token.h"

typedef struct gw_snapshot {
    reglo_conf *conf;
    keyring *keys;
    tmpl_set *templates;      /* the page templates, parsed once per snapshot */
    json_t *words;            /* the portal's words: {"fr": {...}, "en": {...}} */
    char *csp;                /* server_csp(conf), built once; NULL: built per response */
    struct pagecache *pages;  /* rendered payment pages (pagecache.h); NULL: none kept */
    gint refs;
} gw_snapshot;

gw_snapshot *gw_snapshot_get(void);
void gw_snapshot_put(gw_snapshot *snap);
/* Load conf_path again; on error keep the current snapshot and return FALSE with *err. */
gboolean gw_snapshot_reload(const char *conf_path, char **err);

/* The calling worker's connection, or NULL with *err (the caller answers 503). */
PGconn *gw_db(const reglo_conf *conf, char **err);
/* After a failed statement: drop the worker's connection if it is broken. */
void gw_db_check(void);

typedef struct gw_request {
    struct MHD_Connection *conn;  /* for headers and query arguments */
    const char *method;
    const char *path;             /* without the query string */
    const char *body;             /* raw bytes, body_len long; "" for none */
    size_t body_len;
    const char *client_ip;        /* textual, for rate limits and logs */
    gw_snapshot *snap;
} gw_request;

typedef struct gw_response {
    unsigned status;
    char *content_type;           /* NULL: text/html; charset=utf-8 */
    char *body;
    size_t body_len;
    GPtrArray *headers;           /* "Name", "value", "Name", "value"... (g_free'd) */
} gw_response;

/* Helpers for handlers. */
void gw_response_set_body(gw_response *resp, unsigned status, const char *content_type,
                          char *body, size_t len);     /* takes body */
void gw_response_add_header(gw_response *resp, const char *name, const char *value);
void gw_response_redirect(gw_response *resp, unsigned status, const char *location);
const char *gw_request_header(const gw_request *req, const char *name);
const char *gw_request_arg(const gw_request *req, const char *name);   /* query string */
/* Value of a field of an application/x-www-form-urlencoded body (g_malloc'ed), or NULL. */
char *gw_form_field(const gw_request *req, const char *name);

/* Routes: each handler answers one family of paths. */
void page_handle(const gw_request *req, gw_response *resp);      /* GET /p/{token}[/qr.png|/epc.png] */
void pay_handle(const gw_request *req, gw_response *resp);       /* POST /p/{token}/pay */
void webhook_handle(const gw_request *req, gw_response *resp);   /* POST /webhooks/{psp} */
void portal_handle(const gw_request *req, gw_response *resp);    /* GET, POST /portal/... */

#endif
