/*
 * portal — routing, sessions, CSRF and rendering shared by the portal's pages; see portal.h.
 *
 * Every POST is checked twice before its handler runs: the Origin header, when the browser
 * sends one, must be this gateway's own (no form of another site may post here, even one
 * that needs no session, like the sign-in link's), and a signed-in POST must carry the
 * session's CSRF token. A page that needs a session redirects a GET to the sign-in page and
 * refuses a POST.
 */
#include "portal.h"

#include <string.h>

#include "log.h"
#include "../page.h"

typedef struct portal_route {
    gboolean post;            /* POST; else GET and HEAD */
    const char *path;
    gboolean tail;            /* path is a prefix: "/portal/factures" + "/42" */
    gboolean signed_in;
    void (*handle)(portal_req *);
} portal_route;

static void portal_home(portal_req *p)
{
    portal_redirect(p, p->user ? "/portal/factures" : "/portal/connexion");
}

static const portal_route routes[] = {
    { FALSE, "/portal", FALSE, FALSE, portal_home },
    { FALSE, "/portal/", FALSE, FALSE, portal_home },
    { FALSE, "/portal/connexion", FALSE, FALSE, portal_signin_form },
    { TRUE, "/portal/connexion", FALSE, FALSE, portal_signin_request },
    { FALSE, "/portal/entrer", FALSE, FALSE, portal_enter_form },
    { TRUE, "/portal/entrer", FALSE, FALSE, portal_enter },
    { TRUE, "/portal/deconnexion", FALSE, TRUE, portal_signout },
    { FALSE, "/portal/factures", FALSE, TRUE, portal_invoices },
    { FALSE, "/portal/factures.csv", FALSE, TRUE, portal_invoices_csv },
    { FALSE, "/portal/factures", TRUE, TRUE, portal_invoice },
    { TRUE, "/portal/factures", TRUE, TRUE, portal_invoice_act },
    { FALSE, "/portal/options", FALSE, TRUE, portal_options },
    { TRUE, "/portal/options", FALSE, TRUE, portal_options_save },
    { FALSE, "/portal/iban", FALSE, FALSE, portal_iban_form },
    { TRUE, "/portal/iban", FALSE, FALSE, portal_iban_confirm },
    { FALSE, "/portal/modeles", FALSE, TRUE, portal_templates },
    { FALSE, "/portal/modeles", TRUE, TRUE, portal_template },
    { TRUE, "/portal/modeles", TRUE, TRUE, portal_template_post },
};

/* ---- what handlers share -------------------------------------------------------------- */

static json_t *portal_words(const portal_req *p)
{
    return json_object_get(p->req->snap->words, p->lang);
}

const char *portal_word(const portal_req *p, const char *key)
{
    const char *w = json_string_value(json_object_get(portal_words(p), key));
    return w ? w : "";
}

char *portal_field(const portal_req *p, const char *name)
{
    return gw_form_field(p->req, name);
}

const char *portal_arg(const portal_req *p, const char *name)
{
    return gw_request_arg(p->req, name);
}

void portal_render(portal_req *p, unsigned status, const char *page, json_t *ctx)
{
    json_object_set_new(ctx, "lang", json_string(p->lang));
    json_object_set_new(ctx, "other_lang", json_string(strcmp(p->lang, "fr") == 0 ? "en" : "fr"));
    json_object_set(ctx, "t", portal_words(p));
    if (p->user) {
        json_object_set_new(ctx, "csrf", json_string(p->user->csrf));
        json_object_set_new(ctx, "artisan", json_pack("{s:s, s:s}", "name", p->user->name,
                                                      "email", p->user->email));
    }
    char *nav = g_strdup_printf("nav_%s", page);
    json_object_set_new(ctx, nav, json_true());
    g_free(nav);
    /* ?ok=saved after a redirect: the word ok_saved says what was done. */
    const char *ok = portal_arg(p, "ok");
    if (ok && strlen(ok) < 32) {
        char *key = g_strdup_printf("ok_%s", ok);
        const char *w = portal_word(p, key);
        if (*w)
            json_object_set_new(ctx, "flash", json_string(w));
        g_free(key);
    }
    char *name = g_strdup_printf("%s.html", page);
    page_render(p->req->snap, p->resp, status, "portal", name, ctx);
    g_free(name);
    json_decref(ctx);
    gw_response_add_header(p->resp, "Content-Language", p->lang);
}

void portal_fail(portal_req *p, unsigned status, const char *message)
{
    json_t *ctx = json_pack("{s:s, s:i}", "message", portal_word(p, message),
                            "status", (int) status);
    portal_render(p, status, "notice", ctx);
}

void portal_db_fail(portal_req *p, const char *what, char *err)
{
    log_error("portal: %s: %s", what, err);
    g_free(err);
    gw_db_check();
    portal_fail(p, 503, "err_unavailable");
    gw_response_add_header(p->resp, "Retry-After", "30");
}

void portal_redirect(portal_req *p, const char *location)
{
    gw_response_redirect(p->resp, 303, location);
}

/* ---- routing ---------------------------------------------------------------------------- */

static const portal_route *portal_route_find(const char *path, gboolean post, const char **tail,
                                             gboolean *other_method)
{
    *other_method = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(routes); i++) {
        const portal_route *r = &routes[i];
        size_t n = strlen(r->path);
        gboolean match = r->tail ? strncmp(path, r->path, n) == 0 && path[n] == '/' && path[n + 1]
                                 : strcmp(path, r->path) == 0;
        if (!match)
            continue;
        if (r->post != post) {
            *other_method = TRUE;
            continue;
        }
        *tail = path + strlen(r->path);
        return r;
    }
    return NULL;
}

/* The Origin of a POST, when sent, must name the host the request came to ("null", what
 * sandboxed frames and no-referrer pages send, is refused too). */
static gboolean portal_origin_ok(const gw_request *req)
{
    const char *origin = gw_request_header(req, "Origin");
    if (!origin)
        return TRUE;
    const char *host = gw_request_header(req, "Host");
    const char *sep = strstr(origin, "://");
    return host && sep && g_ascii_strcasecmp(sep + 3, host) == 0;
}

/* The language: ?lang=, else the artisan's, else the browser's. */
static const char *portal_lang(const gw_request *req, const session_user *user)
{
    const char *arg = gw_request_arg(req, "lang");
    if (user && !arg)
        return strcmp(user->locale, "en") == 0 ? "en" : "fr";
    return page_locale(req, user ? user->locale : NULL);
}

static void portal_run(portal_req *p, const portal_route *r)
{
    char *err = NULL;
    gboolean post = strcmp(p->req->method, "POST") == 0;
    if (!session_find(p->db, p->req, &p->user, &err) && err) {
        p->lang = portal_lang(p->req, NULL);
        portal_db_fail(p, "session lookup", err);
        return;
    }
    p->lang = portal_lang(p->req, p->user);
    if (post && !portal_origin_ok(p->req)) {
        log_info("portal: POST %s from another origin refused (%s)", r->path,
                 p->req->client_ip);
        portal_fail(p, 403, "err_csrf");
    } else if (r->signed_in && !p->user) {
        if (post)
            portal_fail(p, 403, "err_signed_out");
        else
            portal_redirect(p, "/portal/connexion");
    } else if (r->signed_in && post) {
        char *token = portal_field(p, "csrf");
        gboolean ok = session_csrf_ok(p->user, token);
        g_free(token);
        if (ok)
            r->handle(p);
        else {
            log_info("portal: %s: POST %s without a valid CSRF token refused", p->user->email,
                     r->path);
            portal_fail(p, 403, "err_csrf");
        }
    } else
        r->handle(p);
}

void portal_handle(const gw_request *req, gw_response *resp)
{
    gboolean post = strcmp(req->method, "POST") == 0, other_method;
    const char *tail = "";
    const portal_route *r = portal_route_find(req->path, post, &tail, &other_method);
    if (!r) {
        page_error(req, resp, other_method ? 405 : 404, other_method ? "method" : "notfound",
                   NULL);
        return;
    }
    char *err = NULL;
    portal_req p = { .req = req, .resp = resp, .tail = tail };
    p.db = gw_db(req->snap->conf, &err);
    if (!p.db) {
        log_error("portal: %s", err);
        g_free(err);
        page_error(req, resp, 503, "unavailable", NULL);
        return;
    }
    portal_run(&p, r);
    session_user_free(p.user);
    /* Not no-referrer, as the payment pages: with it, browsers send "Origin: null" with
     * our own forms, and the Origin check could not tell them from a foreign page. */
    gw_response_add_header(resp, "Referrer-Policy", "same-origin");
}
