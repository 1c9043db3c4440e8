/*
 * pagecache — rendered payment pages (GET /p/{token}) kept in memory until their invoice
 * changes, so that a page seen again costs no database round trip and no rendering.
 *
 * Freshness: a trigger (sql/006_page_notify.sql) sends NOTIFY reglo_page with the token
 * hash of every invoice updated or deleted, or '*' when an artisan changes; one listener
 * thread per process (pagecache_listen_start) drops those pages from every cache. Pages are
 * used only while that listener is connected and listening: before it is, after its
 * connection breaks (until it is back, the caches emptied), or when the trigger is missing,
 * every request reads the database as if there were no cache. A notification that has
 * reached the listener's socket but is not applied yet makes the pages a miss, so a page
 * never outlives, in this process, the write that changed it by more than the time
 * PostgreSQL takes to deliver the NOTIFY. Pages also expire after PAGECACHE_TTL_S (a safety
 * net, give or take a tenth so that pages kept together do not all expire together) and at
 * local midnight (the "overdue" mark and dates depend on the day).
 *
 * A cache belongs to one configuration snapshot (templates, links): gw_snapshot holds it,
 * and a reload starts an empty one. What the callers must keep out: pages with a per-request
 * side effect (a first view, which writes; HEAD before it), errors, anything but 200.
 *
 * Bodies are shared (GBytes): pagecache_get returns a new reference the caller unrefs.
 */
#ifndef REGLO_PAGECACHE_H
#define REGLO_PAGECACHE_H

#include <glib.h>

#define PAGECACHE_TTL_S        300
#define PAGECACHE_MAX_BYTES    (64 * 1024 * 1024)   /* page bytes per cache */
#define PAGECACHE_VARIANTS     8                    /* distinct page variants per token */

typedef struct pagecache pagecache;

pagecache *pagecache_new(void);
void pagecache_free(pagecache *cache);          /* NULL is fine */

/* The page kept for (token hash, variant < PAGECACHE_VARIANTS) with the locale it was
 * rendered in ("fr" or "en", static), or NULL: not kept, expired, or not listening. */
GBytes *pagecache_get(pagecache *cache, const char *token_hash, guint variant,
                      const char **locale);

/* Taken before reading the database for a page: pagecache_put keeps the page only if no
 * invalidation happened since, so a page read before a write never outlives it. */
guint pagecache_stamp(void);

/* Keep a copy of body for (token hash, variant), rendered in locale. */
void pagecache_put(pagecache *cache, guint stamp, const char *token_hash, guint variant,
                   const char *locale, const char *body, gsize len);

/* Drop every page of this token hash from every cache ("*": everything). */
void pagecache_forget(const char *token_hash);

/* The listener thread: LISTEN reglo_page on its own connection (the conninfo of the current
 * snapshot), reconnecting after failures. Stop joins it and disables the caches. */
void pagecache_listen_start(void);
void pagecache_listen_stop(void);

#endif
