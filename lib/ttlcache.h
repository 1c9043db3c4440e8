/*
 * ttlcache — a small thread-safe memory of answers that expire: key (a string) -> value,
 * each for a given number of seconds. Meant for answers that change rarely and are asked
 * for on every message (is this sender enrolled, does this domain have an artisan).
 *
 * The cache owns its keys and values: ttl_cache_put takes the value; ttl_cache_get hands a
 * copy made by the cache's copy function (the caller frees it), or the value itself when
 * there is no copy function (plain integers stored with GINT_TO_POINTER). When it holds
 * `max` entries it is emptied rather than grown: old answers are cheap to ask again.
 * Declare one with TTL_CACHE_INIT (a static object needs no set-up).
 */
#ifndef REGLO_TTLCACHE_H
#define REGLO_TTLCACHE_H

#include <glib.h>

typedef gpointer (*ttl_copy_fn)(gconstpointer value);

typedef struct ttl_cache {
    GMutex lock;
    GHashTable *entries;      /* made at the first put */
    guint max;
    ttl_copy_fn copy;         /* NULL: values are integers, handed as they are */
    GDestroyNotify free;      /* NULL: nothing to free */
} ttl_cache;

#define TTL_CACHE_INIT(max_entries, copy_fn, free_fn) \
    { .max = (max_entries), .copy = (copy_fn), .free = (free_fn) }

/* TRUE when key is known and fresh; *value receives a copy (see above), possibly NULL. */
gboolean ttl_cache_get(ttl_cache *c, const char *key, gpointer *value);
/* Remembers value for ttl seconds (taken over; freed at once when ttl <= 0). */
void ttl_cache_put(ttl_cache *c, const char *key, gpointer value, int ttl);

#endif
