/*
 * portal — the artisan's portal under /portal/: what its pages share (portal.c: routing,
 * the session and CSRF checks, rendering; session.c: links and sessions) and the handlers of
 * each part: signin.c (sign-in by emailed link, sign-out), invoices.c (Mes factures: list,
 * CSV, one invoice and its actions), options.c (Profil › Options, IBAN confirmation),
 * templates.c (Personnalisation).
 *
 * Pages are templates/portal/<page>.html: one structure for every language, the words from
 * templates/<locale>/portal.json ({{t.key}}). A handler gets a portal_req (borrowed) and
 * fills its response.
 */
#ifndef REGLO_PORTAL_H
#define REGLO_PORTAL_H

#include <jansson.h>

#include "../gateway.h"
#include "session.h"

typedef struct portal_req {
    const gw_request *req;
    gw_response *resp;
    PGconn *db;
    session_user *user;       /* NULL on the pages open to everyone */
    const char *lang;         /* "fr" or "en" */
    const char *tail;         /* the path after the route's prefix ("" or "/42", "/42/qr") */
} portal_req;

/* Render templates/portal/<page>.html; ctx (taken) gets lang, t (the words), csrf, the
 * artisan and the navigation. */
void portal_render(portal_req *p, unsigned status, const char *page, json_t *ctx);

/* A page saying what is wrong: message is a key of the words ("err_csrf", ...). */
void portal_fail(portal_req *p, unsigned status, const char *message);

/* A database error: logged once here (what: the action), the 503 page. Takes err. */
void portal_db_fail(portal_req *p, const char *what, char *err);

/* 303 See Other to a path of ours. */
void portal_redirect(portal_req *p, const char *location);

/* A form field (g_malloc'ed, NULL when absent); a query argument (borrowed). */
char *portal_field(const portal_req *p, const char *name);
const char *portal_arg(const portal_req *p, const char *name);

/* A word of the request's language ("" when missing). */
const char *portal_word(const portal_req *p, const char *key);

/* Sign-in and sign-out (signin.c). */
void portal_signin_form(portal_req *p);
void portal_signin_request(portal_req *p);
/* The sign-in requests recorded since the last pass, handled: a link mailed (queued in the
 * outbox) to each enrolled address. The gateway's outbox thread runs it before it sends.
 * FALSE with *err on a database error (the requests wait for the next pass). */
gboolean portal_signin_handle(const reglo_conf *conf, PGconn *db, char **err);
void portal_enter_form(portal_req *p);
void portal_enter(portal_req *p);
void portal_signout(portal_req *p);

/* Mes factures (invoices.c). */
void portal_invoices(portal_req *p);
void portal_invoices_csv(portal_req *p);
void portal_invoice(portal_req *p);
void portal_invoice_act(portal_req *p);

/* Profil › Options (options.c). */
void portal_options(portal_req *p);
void portal_options_save(portal_req *p);
void portal_iban_form(portal_req *p);
void portal_iban_confirm(portal_req *p);

/* Personnalisation (templates.c). */
void portal_templates(portal_req *p);
void portal_template(portal_req *p);
void portal_template_post(portal_req *p);

#endif
