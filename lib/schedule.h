/*
 * schedule — the arithmetic of reminders, without a database: when a step falls due, the
 * artisan's business hours (a daily window on chosen weekdays, in one time zone, DST
 * included), when a due reminder may go out, when it is too late to send, and the retry
 * back-off. Instants are epoch seconds (UTC); calendar dates are "YYYY-MM-DD".
 *
 * A schedule_window owns its time zone; schedule_window_free releases it. The functions
 * never allocate otherwise and are safe from several threads on one window.
 */
#ifndef REGLO_SCHEDULE_H
#define REGLO_SCHEDULE_H

#include <glib.h>

typedef struct schedule_window schedule_window;

#define SCHEDULE_DAY 86400

/* "09:00-18:00": minutes after local midnight; start before end, both within the day
 * (24:00 allowed as an end). FALSE on anything else. */
gboolean schedule_parse_hours(const char *text, int *start_min, int *end_min);

/* "mon-fri", "mon,wed,fri", "mon-fri,sat", "sat-mon" (wraps), case-insensitive English
 * names: a mask with bit (weekday - 1) set, weekday 1 = Monday .. 7 = Sunday (ISO 8601).
 * FALSE when empty or not understood. */
gboolean schedule_parse_days(const char *text, guint *days);

/* TRUE when the identifier names a time zone glib knows ("Europe/Paris", "UTC"). */
gboolean schedule_timezone_valid(const char *name);

/* NULL with *err (g_malloc'ed) when one of the three does not parse. */
schedule_window *schedule_window_new(const char *hours, const char *days, const char *timezone,
                                     char **err);
void schedule_window_free(schedule_window *w);

/*
 * When step `offset_days` falls due: the same local time `offset_days` days after sent_at
 * (wall-clock days in the window's zone, so D+7 keeps its hour across a DST change), or,
 * with from_due and a valid due_date, local midnight of due_date + offset_days.
 * Without a usable due date, counting from the due date falls back to the sending date.
 */
gint64 schedule_due(const schedule_window *w, gint64 sent_at, const char *due_date,
                    gboolean from_due, int offset_days);

/* TRUE when t is inside business hours. */
gboolean schedule_in_window(const schedule_window *w, gint64 t);

/* The first instant at or after t inside business hours. */
gint64 schedule_window_open(const schedule_window *w, gint64 t);

/*
 * A reminder due at `due` and not sent yet is "too late" at `now` when more than
 * max_late_days have passed since it could first go out (the first business-hours instant
 * at or after due): it is then skipped rather than sent, so a schedule change or an outage
 * never sends a burst of stale reminders. A night or a weekend is not lateness.
 */
gboolean schedule_too_late(const schedule_window *w, gint64 due, gint64 now, int max_late_days);

/* Delay before try number attempts + 1 after a temporary failure: one minute, doubling,
 * at most six hours. */
gint64 schedule_retry_delay(int attempts);

/* Temporary failures stop being retried (and become a failure) this long after the
 * reminder could first go out. */
#define SCHEDULE_RETRY_FOR (2 * SCHEDULE_DAY)

/* Whole days from due_date to the local date of now (0 when not overdue or no date). */
int schedule_days_overdue(const schedule_window *w, gint64 now, const char *due_date);

#endif
