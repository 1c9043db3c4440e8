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

/*
 * Who is enrolled changes rarely; every message asks. A short-lived per-process memory of
 * the answers (artisan or "not enrolled") spares PostgreSQL a query per message; a change
 * of enrolment or settings applies within milter.sender_cache_ttl seconds.
 */
#define SENDER_CACHE_MAX 10000

typedef struct sender_entry {
    artisan *who;             /* NULL: not enrolled */
    gint64 expires;           /* monotonic microseconds */
} sender_entry;

static GMutex sender_lock;
static GHashTable *sender_cache;   /* address -> sender_entry */

static void sender_entry_free(gpointer p)
{
    sender_entry *e = p;
    artisan_free(e->who);
    g_free(e);
}

/* TRUE when the cache knows the address; *who is a copy (NULL: not enrolled). */
static gboolean sender_cached(const char *address, artisan **who)
{
    gboolean known = FALSE;
    g_mutex_lock(&sender_lock);
    sender_entry *e = sender_cache ? g_hash_table_lookup(sender_cache, address) : NULL;
    if (e && e->expires > g_get_monotonic_time()) {
        *who = e->who ? artisan_dup(e->who) : NULL;
        known = TRUE;
    }
    g_mutex_unlock(&sender_lock);
    return known;
}

static void sender_remember(const char *address, const artisan *who, int ttl)
{
    if (ttl <= 0)
        return;
    sender_entry *e = g_new0(sender_entry, 1);
    e->who = who ? artisan_dup(who) : NULL;
    e->expires = g_get_monotonic_time() + (gint64) ttl * G_USEC_PER_SEC;
    g_mutex_lock(&sender_lock);
    if (!sender_cache)
        sender_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, sender_entry_free);
    if (g_hash_table_size(sender_cache) >= SENDER_CACHE_MAX)
        g_hash_table_remove_all(sender_cache);
    g_hash_table_replace(sender_cache, g_strdup(address), e);
    g_mutex_unlock(&sender_lock);
}

/* The enrolled artisan with this address, from the cache or PostgreSQL. */
static artisan_lookup_result sender_lookup(db_pool *pool, const char *address, int ttl,
                                           artisan **who, char **err)
{
    if (sender_cached(address, who))
        return *who ? ARTISAN_FOUND : ARTISAN_UNKNOWN;
    PGconn *db = db_acquire(pool, err);
    if (!db)
        return ARTISAN_DB_ERROR;
    artisan_lookup_result found = artisan_lookup(db, address, who, err);
    db_release(pool, db, found == ARTISAN_DB_ERROR);
    if (found != ARTISAN_DB_ERROR)
        sender_remember(address, *who, ttl);
    return found;
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
