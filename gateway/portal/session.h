/*
 * session — who is signed in to the portal: the single-use links mailed to an artisan
 * (sign-in, 15 minutes; confirmation of a new IBAN) and the server-side sessions a sign-in
 * opens (a random id in an HttpOnly, Secure, SameSite=Strict cookie; 30 days idle).
 *
 * Secrets (link tokens, session ids, CSRF tokens) are token_random()'s 256 bits. The
 * database holds only sha256 of link tokens and session ids. Returned strings and structs
 * are g_malloc'ed: the caller frees them (session_user_free).
 */
#ifndef REGLO_SESSION_H
#define REGLO_SESSION_H

#include <glib.h>
#include <libpq-fe.h>

#include "../gateway.h"

#define SESSION_COOKIE "reglo_portal"
#define SESSION_IDLE_DAYS 30
#define SESSION_COOKIE_DAYS 400
#define SESSION_SIGNIN_TTL_S (15 * 60)
#define SESSION_IBAN_TTL_S (24 * 60 * 60)

typedef enum { LINK_SIGNIN, LINK_IBAN } link_purpose;

/* A new link for an artisan; the token to mail (the caller frees). iban/bic for LINK_IBAN,
 * else NULL. NULL with *err on a database error. */
char *session_link_new(PGconn *db, gint64 artisan_id, link_purpose purpose, const char *iban,
                       const char *bic, char **err);

typedef struct link_use {
    gint64 artisan_id;
    char *email;
    char *iban;               /* LINK_IBAN: the new IBAN and BIC; "" otherwise */
    char *bic;
} link_use;

typedef enum { LINK_OK, LINK_INVALID, LINK_DB_ERROR } link_result;

/* Use a link (once) or, with peek, only look at it. LINK_INVALID: unknown, used, expired,
 * of another purpose or of a disabled artisan — one answer for all. */
link_result session_link_take(PGconn *db, const char *token, link_purpose purpose,
                              gboolean peek, link_use *out, char **err);
void link_use_clear(link_use *u);

typedef struct session_user {
    char *id_hash;            /* of the session id */
    gint64 artisan_id;
    char *email;
    char *name;
    char *locale;
    char *csrf;               /* the token every form carries */
} session_user;

/* Open a session; the id for the cookie (the caller frees), NULL with *err. */
char *session_open(PGconn *db, gint64 artisan_id, char **err);

/* The session named by the request's cookie: FALSE with *out NULL when there is none (no
 * cookie, unknown, idle too long, artisan disabled); FALSE with *err on a database error. */
gboolean session_find(PGconn *db, const gw_request *req, session_user **out, char **err);
void session_user_free(session_user *u);

/* Sign out this session, or every session of its artisan. */
gboolean session_close(PGconn *db, const session_user *u, gboolean everywhere, char **err);

/* Set-Cookie values opening (id) or clearing (id NULL) the session cookie. */
char *session_cookie(const char *id);

/* The form's CSRF token matches the session's (constant time). */
gboolean session_csrf_ok(const session_user *u, const char *token);

#endif
