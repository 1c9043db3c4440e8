/*
 * portal/signin — signing in to the portal with a link sent by email, and signing out.
 *
 * The request page answers the same whether the address is enrolled or not, after the same
 * work (no one learns who is a customer, not even from the time it takes): the request is
 * recorded, counted per address and per client address in the database (the limits hold
 * across gateways), and the outbox thread mails the link afterwards when the address is an
 * artisan's (portal_signin_handle). The link from the email opens a page with
 * a button: mail scanners that fetch every link in a message must not use it up.
 */
#include <string.h>

#include "artisan.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "portal.h"
#include "sqltext.h"

#define SIGNIN_MAX_PER_ADDRESS 5      /* per 15 minutes */
#define SIGNIN_MAX_PER_CLIENT 20
#define SIGNIN_BATCH 16               /* requests handled per transaction */
#define EMAIL_MAX 254

void portal_signin_form(portal_req *p)
{
    if (p->user) {
        portal_redirect(p, "/portal/factures");
        return;
    }
    portal_render(p, 200, "signin", json_object());
}

/* A plausible address, lower-cased; NULL when it is not one. */
static char *signin_address(const char *typed)
{
    if (!typed)
        return NULL;
    char *email = g_ascii_strdown(typed, -1);
    g_strstrip(email);
    const char *at = strchr(email, '@');
    gboolean ok = at && at > email && at[1] && !strchr(at + 1, '@') && strlen(email) <= EMAIL_MAX;
    for (const char *c = email; ok && *c; c++)
        ok = (unsigned char) *c > ' ' && *c != '<' && *c != '>' && *c != ',' && *c != ';';
    if (!ok) {
        g_free(email);
        return NULL;
    }
    return email;
}

/* Record this request; *within: it is within the limits (then a gateway mails the link,
 * portal_signin_handle). FALSE with *err on a database error. */
static gboolean signin_record(portal_req *p, const char *email, gboolean *within, char **err)
{
    char per_address[16], per_client[16];
    g_snprintf(per_address, sizeof per_address, "%d", SIGNIN_MAX_PER_ADDRESS);
    g_snprintf(per_client, sizeof per_client, "%d", SIGNIN_MAX_PER_CLIENT);
    const char *params[] = { email, p->req->client_ip, per_address, per_client };
    PGresult *res = db_exec(p->db, SQL_PORTAL_SIGNIN_REQUEST, 4, params, err);
    if (res)
        *within = db_bool(res, 0, 0);
    PQclear(res);
    return res != NULL;
}

/* Queue the sign-in link's mail when the address is an enrolled artisan's; TRUE unless the
 * database or the template failed. */
static gboolean signin_mail_link(PGconn *db, const reglo_conf *conf, const char *email,
                                 char **err)
{
    artisan *a = NULL;
    artisan_lookup_result found = artisan_lookup(db, email, &a, err);
    if (found != ARTISAN_FOUND || a->disabled) {
        artisan_free(a);
        return found != ARTISAN_DB_ERROR;
    }
    char *token = session_link_new(db, a->id, LINK_SIGNIN, NULL, NULL, err);
    gboolean ok = token != NULL;
    if (ok) {
        char *link = g_strdup_printf("%s/portal/entrer?t=%s", conf->public_url, token);
        json_t *ctx = json_pack("{s:s, s:s, s:i}", "name", a->name, "link", link,
                                "minutes", SESSION_SIGNIN_TTL_S / 60);
        ok = notify_artisan(db, conf, a, "signin", ctx, NULL, 0, err);
        if (ok)
            log_info("portal: sign-in link queued for %s", a->email);
        json_decref(ctx);
        g_free(link);
        g_free(token);
    }
    artisan_free(a);
    return ok;
}

/* One batch of requests taken and their links queued, in one transaction; how many were
 * taken, -1 on an error (*err; the batch is left for the next pass). */
static int signin_handle_batch(PGconn *db, const reglo_conf *conf, char **err)
{
    char limit[16];
    g_snprintf(limit, sizeof limit, "%d", SIGNIN_BATCH);
    if (!db_begin(db, err))
        return -1;
    PGresult *res = db_exec(db, SQL_PORTAL_SIGNIN_TAKE, 1, (const char *[]) { limit }, err);
    int n = res ? PQntuples(res) : -1;
    for (int i = 0; i < n; i++) {
        char *why = NULL;
        if (signin_mail_link(db, conf, db_str(res, i, 0), &why))
            continue;
        if (PQtransactionStatus(db) == PQTRANS_INERROR) {
            *err = why;
            n = -1;
            break;
        }
        /* a template that does not render: this request only, not the others */
        log_error("portal: no sign-in link for %s: %s", db_str(res, i, 0), why);
        g_free(why);
    }
    PQclear(res);
    if (n >= 0 && !db_commit(db, err))
        n = -1;
    if (n < 0)
        db_rollback(db);
    return n;
}

gboolean portal_signin_handle(const reglo_conf *conf, PGconn *db, char **err)
{
    int n, handled = 0;
    while ((n = signin_handle_batch(db, conf, err)) == SIGNIN_BATCH)
        handled += n;
    handled += MAX(n, 0);
    /* Old requests, links and sessions go with the work that makes new ones. */
    if (n >= 0 && handled > 0 && !db_run(db, SQL_PORTAL_PURGE, 0, NULL, err))
        n = -1;
    return n >= 0;
}

/* Every address gets the same page after the same work (one statement): whether it is an
 * artisan's is found out afterwards, by the outbox thread, which mails the link. */
void portal_signin_request(portal_req *p)
{
    char *typed = portal_field(p, "email");
    char *email = signin_address(typed);
    g_free(typed);
    if (!email) {
        json_t *ctx = json_pack("{s:s}", "error", portal_word(p, "err_email"));
        portal_render(p, 400, "signin", ctx);
        return;
    }
    char *err = NULL;
    gboolean within = FALSE;
    if (!signin_record(p, email, &within, &err))
        portal_db_fail(p, "sign-in request", err);
    else if (!within) {
        log_info("portal: sign-in requests over the limit (%s, %s)", email, p->req->client_ip);
        portal_fail(p, 429, "err_rate");
        gw_response_add_header(p->resp, "Retry-After", "900");
    } else {
        outbox_wake();
        portal_render(p, 200, "signin-sent", json_pack("{s:s}", "email", email));
    }
    g_free(email);
}

void portal_enter_form(portal_req *p)
{
    const char *token = portal_arg(p, "t");
    char *err = NULL;
    link_use use;
    link_result r = session_link_take(p->db, token, LINK_SIGNIN, TRUE, &use, &err);
    if (r == LINK_DB_ERROR)
        portal_db_fail(p, "sign-in link", err);
    else if (r == LINK_INVALID)
        portal_fail(p, 410, "err_link");
    else
        portal_render(p, 200, "enter", json_pack("{s:s, s:s}", "token", token,
                                                 "email", use.email));
    link_use_clear(&use);
}

void portal_enter(portal_req *p)
{
    char *token = portal_field(p, "t"), *err = NULL, *sid = NULL;
    link_use use;
    link_result r = session_link_take(p->db, token, LINK_SIGNIN, FALSE, &use, &err);
    if (r == LINK_OK)
        sid = session_open(p->db, use.artisan_id, &err);
    if (r == LINK_INVALID)
        portal_fail(p, 410, "err_link");
    else if (!sid)
        portal_db_fail(p, "sign-in", err);
    else {
        log_info("portal: %s signed in (%s)", use.email, p->req->client_ip);
        char *cookie = session_cookie(sid);
        portal_redirect(p, "/portal/factures");
        gw_response_add_header(p->resp, "Set-Cookie", cookie);
        g_free(cookie);
    }
    g_free(sid);
    g_free(token);
    link_use_clear(&use);
}

void portal_signout(portal_req *p)
{
    char *everywhere = portal_field(p, "everywhere"), *err = NULL;
    gboolean all = g_strcmp0(everywhere, "1") == 0;
    g_free(everywhere);
    if (!session_close(p->db, p->user, all, &err)) {
        portal_db_fail(p, "sign-out", err);
        return;
    }
    log_info("portal: %s signed out%s", p->user->email, all ? " everywhere" : "");
    char *cookie = session_cookie(NULL);
    portal_redirect(p, "/portal/connexion?ok=signed_out");
    gw_response_add_header(p->resp, "Set-Cookie", cookie);
    g_free(cookie);
}
