/*
 * schedule — due times, business hours, lateness, back-off; see schedule.h.
 *
 * Local times go through glib's GDateTime in the window's GTimeZone, which knows the
 * zone's DST rules: "09:00 local" is found for each calendar day rather than by adding
 * 24-hour periods, so a window keeps its local hours across a DST change.
 */
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

struct schedule_window {
    int start_min;            /* minutes after local midnight: opens */
    int end_min;              /* closes (exclusive), up to 1440 */
    guint days;               /* bit (weekday - 1), weekday 1 = Monday */
    GTimeZone *tz;
};

#define SCHEDULE_RETRY_MAX (6 * 3600)
/* GDateTime covers years 1..9999: instants and offsets are kept inside (hostile rows). */
#define SCHEDULE_TIME_MAX ((gint64) 253402300799)   /* 9999-12-31T23:59:59Z */
#define SCHEDULE_OFFSET_MAX 3660

static gint64 clamp_time(gint64 t)
{
    return CLAMP(t, 0, SCHEDULE_TIME_MAX - 20 * SCHEDULE_DAY);
}

/* "HH:MM" with 0 <= HH <= 24, 0 <= MM < 60; 24:00 at most. */
static gboolean parse_clock(const char *s, size_t len, int *minutes)
{
    if (len != 5 || !g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]) || s[2] != ':' ||
        !g_ascii_isdigit(s[3]) || !g_ascii_isdigit(s[4]))
        return FALSE;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return FALSE;
    *minutes = h * 60 + m;
    return TRUE;
}

gboolean schedule_parse_hours(const char *text, int *start_min, int *end_min)
{
    if (!text)
        return FALSE;
    char *s = g_strstrip(g_strdup(text));
    const char *dash = strchr(s, '-');
    int start = 0, end = 0;
    gboolean ok = dash && parse_clock(s, (size_t)(dash - s), &start) &&
                  parse_clock(dash + 1, strlen(dash + 1), &end) && start < end && start < 1440;
    g_free(s);
    if (ok) {
        *start_min = start;
        *end_min = end;
    }
    return ok;
}

/* 1 (Monday) .. 7 (Sunday), 0 when not a day name. */
static int day_number(const char *name)
{
    static const char *const names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
    for (int i = 0; i < 7; i++)
        if (g_ascii_strcasecmp(name, names[i]) == 0)
            return i + 1;
    return 0;
}

/* "mon" or "mon-fri" (a range may wrap over the week end: "sat-mon"). */
static gboolean parse_day_item(char *item, guint *days)
{
    char *dash = strchr(g_strstrip(item), '-');
    if (dash)
        *dash = '\0';
    int first = day_number(g_strstrip(item));
    int last = dash ? day_number(g_strstrip(dash + 1)) : first;
    if (!first || !last)
        return FALSE;
    for (int d = first;; d = d % 7 + 1) {
        *days |= 1u << (d - 1);
        if (d == last)
            break;
    }
    return TRUE;
}

gboolean schedule_parse_days(const char *text, guint *days)
{
    if (!text || strlen(text) > 200)
        return FALSE;
    char **items = g_strsplit(text, ",", 0);
    guint mask = 0;
    gboolean ok = items[0] != NULL;
    for (int i = 0; ok && items[i]; i++)
        ok = parse_day_item(items[i], &mask);
    g_strfreev(items);
    if (ok && mask)
        *days = mask;
    return ok && mask;
}

static GTimeZone *timezone_new(const char *name)
{
    return name && *name && strlen(name) < 64 ? g_time_zone_new_identifier(name) : NULL;
}

gboolean schedule_timezone_valid(const char *name)
{
    GTimeZone *tz = timezone_new(name);
    if (tz)
        g_time_zone_unref(tz);
    return tz != NULL;
}

schedule_window *schedule_window_new(const char *hours, const char *days, const char *timezone,
                                     char **err)
{
    schedule_window w = { 0 };
    if (!schedule_parse_hours(hours, &w.start_min, &w.end_min)) {
        *err = g_strdup_printf("business hours '%s' are not HH:MM-HH:MM", hours ? hours : "");
        return NULL;
    }
    if (!schedule_parse_days(days, &w.days)) {
        *err = g_strdup_printf("days '%s' are not like mon-fri", days ? days : "");
        return NULL;
    }
    if (!(w.tz = timezone_new(timezone))) {
        *err = g_strdup_printf("unknown time zone '%s'", timezone ? timezone : "");
        return NULL;
    }
    return g_memdup2(&w, sizeof w);
}

void schedule_window_free(schedule_window *w)
{
    if (!w)
        return;
    g_time_zone_unref(w->tz);
    g_free(w);
}

/* "YYYY-MM-DD" (years 1..9000) into a valid GDate; FALSE otherwise. */
static gboolean parse_date(const char *iso, GDate *date)
{
    if (!iso || strlen(iso) != 10 || iso[4] != '-' || iso[7] != '-')
        return FALSE;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !g_ascii_isdigit(iso[i]))
            return FALSE;
    int y = atoi(iso), m = atoi(iso + 5), d = atoi(iso + 8);
    if (y > 9000 || !g_date_valid_dmy((GDateDay) d, (GDateMonth) m, (GDateYear) y))
        return FALSE;
    g_date_clear(date, 1);
    g_date_set_dmy(date, (GDateDay) d, (GDateMonth) m, (GDateYear) y);
    return TRUE;
}

/* The local calendar date of an instant. */
static void local_date(const schedule_window *w, gint64 t, GDate *date)
{
    GDateTime *utc = g_date_time_new_from_unix_utc(clamp_time(t));
    GDateTime *local = g_date_time_to_timezone(utc, w->tz);
    int y, m, d;
    g_date_time_get_ymd(local, &y, &m, &d);
    g_date_clear(date, 1);
    g_date_set_dmy(date, (GDateDay) d, (GDateMonth) m, (GDateYear) y);
    g_date_time_unref(local);
    g_date_time_unref(utc);
}

/* The instant of `minutes` after local midnight of date (1440: the next midnight). Not
 * midnight + minutes: on a DST change day that would shift the hour. */
static gint64 local_instant(const schedule_window *w, const GDate *date, int minutes)
{
    int y = g_date_get_year(date), m = g_date_get_month(date), d = g_date_get_day(date);
    GDateTime *midnight = g_date_time_new(w->tz, y, m, d, 0, 0, 0);
    if (!midnight)
        return SCHEDULE_TIME_MAX;
    GDateTime *at = minutes == 1440 ? g_date_time_add_days(midnight, 1)
                                    : g_date_time_new(w->tz, y, m, d, minutes / 60, minutes % 60, 0);
    gint64 t = at ? g_date_time_to_unix(at) : SCHEDULE_TIME_MAX;
    if (at)
        g_date_time_unref(at);
    g_date_time_unref(midnight);
    return t;
}

gint64 schedule_due(const schedule_window *w, gint64 sent_at, const char *due_date,
                    gboolean from_due, int offset_days)
{
    GDate due;
    offset_days = CLAMP(offset_days, -SCHEDULE_OFFSET_MAX, SCHEDULE_OFFSET_MAX);
    if (from_due && parse_date(due_date, &due)) {
        if (offset_days >= 0)
            g_date_add_days(&due, (guint) offset_days);
        else
            g_date_subtract_days(&due, (guint) -offset_days);
        return local_instant(w, &due, 0);
    }
    GDateTime *utc = g_date_time_new_from_unix_utc(clamp_time(sent_at));
    GDateTime *local = g_date_time_to_timezone(utc, w->tz);
    GDateTime *later = g_date_time_add_days(local, offset_days);
    gint64 t = later ? g_date_time_to_unix(later) : SCHEDULE_TIME_MAX;
    if (later)
        g_date_time_unref(later);
    g_date_time_unref(local);
    g_date_time_unref(utc);
    return t;
}

gint64 schedule_window_open(const schedule_window *w, gint64 t)
{
    GDate day;
    local_date(w, t, &day);
    /* Every weekday comes within 8 calendar days; the mask is never empty. */
    for (int k = 0; k < 8; k++, g_date_add_days(&day, 1)) {
        if (!(w->days & (1u << (g_date_get_weekday(&day) - 1))))
            continue;
        gint64 open = local_instant(w, &day, w->start_min);
        if (t < open)
            return open;
        if (t < local_instant(w, &day, w->end_min))
            return t;
    }
    return G_MAXINT64;
}

gboolean schedule_in_window(const schedule_window *w, gint64 t)
{
    return schedule_window_open(w, t) == t;
}

gboolean schedule_too_late(const schedule_window *w, gint64 due, gint64 now, int max_late_days)
{
    gint64 first_chance = schedule_window_open(w, due);
    return now > first_chance && now - first_chance > (gint64) max_late_days * SCHEDULE_DAY;
}

gint64 schedule_retry_delay(int attempts)
{
    int doublings = CLAMP(attempts - 1, 0, 16);
    return MIN((gint64) 60 << doublings, (gint64) SCHEDULE_RETRY_MAX);
}

int schedule_days_overdue(const schedule_window *w, gint64 now, const char *due_date)
{
    GDate due, today;
    if (!parse_date(due_date, &due))
        return 0;
    local_date(w, now, &today);
    int days = g_date_days_between(&due, &today);
    return days > 0 ? days : 0;
}
