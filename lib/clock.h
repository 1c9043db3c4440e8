/*
 * clock — "now" for everything that schedules (reminders), settable by tests and demos.
 *
 * clock_now() is time(NULL), unless $REGLO_CLOCK_FILE names a readable file: then its
 * content is the time, re-read on every call so a test can move the clock while daemons
 * run. The file holds one of:
 *   2026-03-02T09:30:00Z     an instant (UTC)
 *   1772443800               epoch seconds
 *   +604800  / -3600         an offset in seconds from the real time (the clock keeps running)
 * A file that is missing or unreadable, or whose content is none of these, gives the real
 * time (and one log line per distinct bad content, so a typo is seen).
 *
 * Nothing is allocated but by clock_date_for_locale (g_malloc'ed, the caller frees).
 */
#ifndef REGLO_CLOCK_H
#define REGLO_CLOCK_H

#include <glib.h>

#define CLOCK_FILE_ENV "REGLO_CLOCK_FILE"

/* Seconds since the epoch, UTC. */
gint64 clock_now(void);

/* Parse the file's text (surrounding white space allowed) into an instant, the real time
 * being `real`. FALSE when it is none of the accepted forms. */
gboolean clock_parse(const char *text, gint64 real, gint64 *out);

/* A calendar date as its readers write it: "2026-03-02" -> "02/03/2026" (fr) or unchanged
 * (en, and anything that is not YYYY-MM-DD). NULL for NULL or "". */
char *clock_date_for_locale(const char *iso, const char *locale);

#endif
