/*
 * policy — trust and sender decisions; see policy.h.
 */
#include "policy.h"

#include <string.h>

#include "ttlcache.h"

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

/*
 * Who is enrolled changes rarely; every message asks. A short-lived per-process memory of
 * the answers spares PostgreSQL a query per message; a change of enrolment or settings
 * applies within milter.sender_cache_ttl seconds. Senders map to a copy of the artisan
 * (NULL: not enrolled), domains to DOMAIN_WATCHED or DOMAIN_OTHER.
 */
#define POLICY_CACHE_MAX 10000
#define DOMAIN_WATCHED GINT_TO_POINTER(1)
#define DOMAIN_OTHER GINT_TO_POINTER(2)

static ttl_cache sender_cache = TTL_CACHE_INIT(POLICY_CACHE_MAX, (ttl_copy_fn) artisan_dup,
                                               (GDestroyNotify) artisan_free);
static ttl_cache domain_cache = TTL_CACHE_INIT(POLICY_CACHE_MAX, NULL, NULL);

/* The enrolled artisan with this address, from the cache or PostgreSQL. */
static artisan_lookup_result sender_lookup(db_pool *pool, const char *address, int ttl,
                                           artisan **who, char **err)
{
    gpointer cached;
    if (ttl_cache_get(&sender_cache, address, &cached)) {
        *who = cached;
        return *who ? ARTISAN_FOUND : ARTISAN_UNKNOWN;
    }
    PGconn *db = db_acquire(pool, err);
    if (!db)
        return ARTISAN_DB_ERROR;
    artisan_lookup_result found = artisan_lookup(db, address, who, err);
    db_release(pool, db, found == ARTISAN_DB_ERROR);
    if (found != ARTISAN_DB_ERROR)
        ttl_cache_put(&sender_cache, address, *who ? artisan_dup(*who) : NULL, ttl);
    return found;
}

policy_verdict policy_recipient_watched(const reglo_conf *conf, db_pool *pool,
                                        const char *rcpt_arg, char **err)
{
    char *address = policy_address(rcpt_arg);
    if (!address)
        return POLICY_SKIP;
    const char *domain = strrchr(address, '@') + 1;
    gpointer cached;
    policy_verdict v;
    if (ttl_cache_get(&domain_cache, domain, &cached))
        v = cached == DOMAIN_WATCHED ? POLICY_PROCESS : POLICY_SKIP;
    else {
        PGconn *db = db_acquire(pool, err);
        artisan_lookup_result found = db ? artisan_domain_lookup(db, domain, err)
                                         : ARTISAN_DB_ERROR;
        if (db)
            db_release(pool, db, found == ARTISAN_DB_ERROR);
        v = found == ARTISAN_DB_ERROR ? POLICY_ERROR
            : found == ARTISAN_FOUND ? POLICY_PROCESS : POLICY_SKIP;
        if (v != POLICY_ERROR)
            ttl_cache_put(&domain_cache, domain, v == POLICY_PROCESS ? DOMAIN_WATCHED : DOMAIN_OTHER,
                          conf->sender_cache_ttl);
    }
    g_free(address);
    return v;
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
                             char **address, const char **why, char **err)
{
    *sender = NULL;
    *address = policy_address(mail_from);
    if (!client_trusted(conf, client, auth_authen)) {
        *why = "untrusted-client";
        return POLICY_SKIP;
    }
    if (!*address) {
        *why = "null-sender";
        return POLICY_SKIP;
    }
    artisan_lookup_result found = sender_lookup(pool, *address, conf->sender_cache_ttl, sender,
                                                err);
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
