/*
 * policy — trust and sender decisions; see policy.h.
 */
#include "policy.h"

#include <string.h>

char *policy_address(const char *arg)
{
    if (!arg)
        return NULL;
    const char *start = arg, *end = arg + strlen(arg);
    while (*start == ' ' || *start == '<')
        start++;
    const char *close = memchr(start, '>', (size_t) (end - start));
    if (close)
        end = close;
    if (end <= start || end - start > 320 || !memchr(start, '@', (size_t) (end - start)))
        return NULL;
    return g_ascii_strdown(start, end - start);
}

static gboolean client_trusted(const reglo_conf *conf, const struct sockaddr *client,
                               const char *auth_authen)
{
    if (auth_authen && *auth_authen)
        return TRUE;
    if (!client)        /* the MTA's own local submission: only local users get there */
        return TRUE;
    return cidr_list_match(conf->trusted_networks, client);
}

policy_verdict policy_decide(const reglo_conf *conf, db_pool *pool, const struct sockaddr *client,
                             const char *auth_authen, const char *mail_from, artisan **sender,
                             const char **why, char **err)
{
    *sender = NULL;
    if (!client_trusted(conf, client, auth_authen)) {
        *why = "untrusted-client";
        return POLICY_SKIP;
    }
    char *address = policy_address(mail_from);
    if (!address) {
        *why = "null-sender";
        return POLICY_SKIP;
    }
    PGconn *db = db_acquire(pool, err);
    if (!db) {
        g_free(address);
        return POLICY_ERROR;
    }
    artisan_lookup_result found = artisan_lookup(db, address, sender, err);
    db_release(pool, db, found == ARTISAN_DB_ERROR);
    g_free(address);
    if (found == ARTISAN_DB_ERROR)
        return POLICY_ERROR;
    if (found == ARTISAN_UNKNOWN) {
        *why = "not-enrolled";
        return POLICY_SKIP;
    }
    if ((*sender)->disabled || !(*sender)->payment_enabled) {
        *why = (*sender)->disabled ? "artisan-disabled" : "payment-off";
        artisan_free(*sender);
        *sender = NULL;
        return POLICY_SKIP;
    }
    *why = "artisan";
    return POLICY_PROCESS;
}
