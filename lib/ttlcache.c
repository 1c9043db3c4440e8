/*
 * ttlcache — expiring answers, see ttlcache.h.
 */
#include "ttlcache.h"

typedef struct ttl_entry {
    gpointer value;
    gint64 expires;           /* monotonic microseconds */
    GDestroyNotify free;
} ttl_entry;

static void ttl_entry_free(gpointer p)
{
    ttl_entry *e = p;
    if (e->free && e->value)
        e->free(e->value);
    g_free(e);
}

gboolean ttl_cache_get(ttl_cache *c, const char *key, gpointer *value)
{
    gboolean known = FALSE;
    g_mutex_lock(&c->lock);
    ttl_entry *e = c->entries ? g_hash_table_lookup(c->entries, key) : NULL;
    if (e && e->expires > g_get_monotonic_time()) {
        *value = c->copy && e->value ? c->copy(e->value) : e->value;
        known = TRUE;
    }
    g_mutex_unlock(&c->lock);
    return known;
}

void ttl_cache_put(ttl_cache *c, const char *key, gpointer value, int ttl)
{
    ttl_entry *e = g_new0(ttl_entry, 1);
    e->value = value;
    e->free = c->free;
    if (ttl <= 0) {
        ttl_entry_free(e);
        return;
    }
    e->expires = g_get_monotonic_time() + (gint64) ttl * G_USEC_PER_SEC;
    g_mutex_lock(&c->lock);
    if (!c->entries)
        c->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, ttl_entry_free);
    if (g_hash_table_size(c->entries) >= c->max)
        g_hash_table_remove_all(c->entries);
    g_hash_table_replace(c->entries, g_strdup(key), e);
    g_mutex_unlock(&c->lock);
}
