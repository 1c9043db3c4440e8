/*
 * session — portal links and sessions; see session.h.
 *
 * A link or a session is found by the sha256 of its secret, so the lookup key reveals
 * nothing and comparing it needs no constant-time care; the CSRF token, compared with
 * what a form carries, is compared in constant time.
 */
#include "session.h"

#include <string.h>

#include <openssl/crypto.h>

#include "db.h"
#include "sqltext.h"
#include "token.h"

static const char *link_purpose_name(link_purpose purpose)
{
    return purpose == LINK_IBAN ? "iban" : "signin";
}

char *session_link_new(PGconn *db, gint64 artisan_id, link_purpose purpose, const char *iban,
                       const char *bic, char **err)
{
    char *token = token_random(), *hash = token_hash(token);
    char id[24], ttl[16];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, artisan_id);
    g_snprintf(ttl, sizeof ttl, "%d",
               purpose == LINK_IBAN ? SESSION_IBAN_TTL_S : SESSION_SIGNIN_TTL_S);
    const char *params[] = { hash, id, link_purpose_name(purpose), iban, bic, ttl };
    gboolean ok = db_run(db, SQL_PORTAL_LINK_ADD, 6, params, err);
    g_free(hash);
    if (!ok) {
        g_free(token);
        return NULL;
    }
    return token;
}

link_result session_link_take(PGconn *db, const char *token, link_purpose purpose,
                              gboolean peek, link_use *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (!token_random_well_formed(token))
        return LINK_INVALID;
    char *hash = token_hash(token);
    const char *params[] = { hash, link_purpose_name(purpose) };
    PGresult *res = db_exec(db, peek ? SQL_PORTAL_LINK_PEEK : SQL_PORTAL_LINK_USE, 2, params,
                            err);
    g_free(hash);
    if (!res)
        return LINK_DB_ERROR;
    link_result result = LINK_INVALID;
    if (PQntuples(res) == 1) {
        /* peek: artisan_id, purpose, iban, bic, email; use: artisan_id, iban, bic, email */
        int base = peek ? 2 : 1;
        out->artisan_id = db_int(res, 0, 0);
        out->iban = g_strdup(db_str(res, 0, base));
        out->bic = g_strdup(db_str(res, 0, base + 1));
        out->email = g_strdup(db_str(res, 0, base + 2));
        result = LINK_OK;
    }
    PQclear(res);
    return result;
}

void link_use_clear(link_use *u)
{
    g_free(u->email);
    g_free(u->iban);
    g_free(u->bic);
    memset(u, 0, sizeof *u);
}

char *session_open(PGconn *db, gint64 artisan_id, char **err)
{
    char *sid = token_random(), *hash = token_hash(sid), *csrf = token_random();
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, artisan_id);
    const char *params[] = { hash, id, csrf };
    gboolean ok = db_run(db, SQL_PORTAL_SESSION_ADD, 3, params, err);
    g_free(hash);
    g_free(csrf);
    if (!ok) {
        g_free(sid);
        return NULL;
    }
    return sid;
}

/* The value of our cookie in a Cookie header ("a=1; reglo_portal=...; b=2"), or NULL. */
static char *session_cookie_value(const char *header)
{
    if (!header)
        return NULL;
    char *value = NULL;
    char **items = g_strsplit(header, ";", 32);
    for (char **it = items; *it && !value; it++) {
        const char *item = g_strstrip(*it);
        size_t n = strlen(SESSION_COOKIE);
        if (strncmp(item, SESSION_COOKIE, n) == 0 && item[n] == '=')
            value = g_strdup(item + n + 1);
    }
    g_strfreev(items);
    return value;
}

gboolean session_find(PGconn *db, const gw_request *req, session_user **out, char **err)
{
    *out = NULL;
    char *sid = session_cookie_value(gw_request_header(req, "Cookie"));
    if (!token_random_well_formed(sid)) {
        g_free(sid);
        return FALSE;
    }
    char *hash = token_hash(sid);
    g_free(sid);
    const char *params[] = { hash };
    PGresult *res = db_exec(db, SQL_PORTAL_SESSION_FIND, 1, params, err);
    if (res && PQntuples(res) == 1) {
        session_user *u = g_new0(session_user, 1);
        u->id_hash = hash;
        hash = NULL;
        u->artisan_id = db_int(res, 0, 0);
        u->csrf = g_strdup(db_str(res, 0, 1));
        u->email = g_strdup(db_str(res, 0, 2));
        u->name = g_strdup(db_str(res, 0, 3));
        u->locale = g_strdup(db_str(res, 0, 4));
        *out = u;
    }
    g_free(hash);
    PQclear(res);
    return *out != NULL;
}

void session_user_free(session_user *u)
{
    if (!u)
        return;
    g_free(u->id_hash);
    g_free(u->email);
    g_free(u->name);
    g_free(u->locale);
    g_free(u->csrf);
    g_free(u);
}

gboolean session_close(PGconn *db, const session_user *u, gboolean everywhere, char **err)
{
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, u->artisan_id);
    const char *params[] = { everywhere ? id : u->id_hash };
    return db_run(db, everywhere ? SQL_PORTAL_SESSION_END_ALL : SQL_PORTAL_SESSION_END, 1,
                  params, err);
}

char *session_cookie(const char *id)
{
    /* Path=/portal: the payment pages never see it. The cookie outlives any session (400
     * days, what browsers keep at most): the server decides when a session ends. */
    if (!id)
        return g_strdup(SESSION_COOKIE "=; Path=/portal; Max-Age=0; HttpOnly; Secure; "
                        "SameSite=Strict");
    return g_strdup_printf(SESSION_COOKIE "=%s; Path=/portal; Max-Age=%d; HttpOnly; Secure; "
                           "SameSite=Strict", id, SESSION_COOKIE_DAYS * 24 * 3600);
}

gboolean session_csrf_ok(const session_user *u, const char *token)
{
    size_t n = strlen(u->csrf);
    return token && strlen(token) == n && n > 0 && CRYPTO_memcmp(u->csrf, token, n) == 0;
}
