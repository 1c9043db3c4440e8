/*
 * clock — the settable clock; see clock.h.
 */
#include "clock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define CLOCK_FILE_MAX 64
/* Far enough for any test, small enough that arithmetic on it never overflows. */
#define CLOCK_LIMIT ((gint64) 1 << 40)

static gboolean clock_parse_integer(const char *s, gint64 *out)
{
    char *end = NULL;
    if (!g_ascii_isdigit(*s))
        return FALSE;
    gint64 v = g_ascii_strtoll(s, &end, 10);
    if (*end || v > CLOCK_LIMIT)
        return FALSE;
    *out = v;
    return TRUE;
}

gboolean clock_parse(const char *text, gint64 real, gint64 *out)
{
    if (!text)
        return FALSE;
    char *s = g_strstrip(g_strndup(text, CLOCK_FILE_MAX));
    gint64 v = 0;
    gboolean ok = FALSE;
    if (s[0] == '+' || s[0] == '-') {
        ok = clock_parse_integer(s + 1, &v);
        v = s[0] == '+' ? real + v : real - v;
    } else if (strchr(s, 'T')) {
        /* Only the exact UTC form: a zone-less time would silently depend on TZ. */
        GDateTime *dt = strlen(s) == 20 && s[19] == 'Z' ? g_date_time_new_from_iso8601(s, NULL)
                                                        : NULL;
        if (dt) {
            v = g_date_time_to_unix(dt);
            g_date_time_unref(dt);
            ok = TRUE;
        }
    } else
        ok = clock_parse_integer(s, &v);
    g_free(s);
    if (ok && (v < 0 || v > CLOCK_LIMIT))
        ok = FALSE;
    if (ok)
        *out = v;
    return ok;
}

/* The last bad content reported, so a bad file is logged once, not on every call. */
static GMutex clock_lock;
static char *clock_reported;

static void clock_report_bad(const char *path, const char *text)
{
    g_mutex_lock(&clock_lock);
    if (g_strcmp0(clock_reported, text) != 0) {
        g_free(clock_reported);
        clock_reported = g_strdup(text);
        log_warn("clock: %s does not hold a time (YYYY-MM-DDTHH:MM:SSZ, epoch seconds or "
                 "+/-seconds); using the real time", path);
    }
    g_mutex_unlock(&clock_lock);
}

gint64 clock_now(void)
{
    gint64 real = (gint64) time(NULL);
    const char *path = getenv(CLOCK_FILE_ENV);
    if (!path || !*path)
        return real;
    char *text = NULL;
    gsize len = 0;
    gint64 t = real;
    if (g_file_get_contents(path, &text, &len, NULL) &&
        (len > CLOCK_FILE_MAX || !clock_parse(text, real, &t)))
        clock_report_bad(path, len > CLOCK_FILE_MAX ? "(too long)" : text);
    g_free(text);
    return t;
}

char *clock_date_for_locale(const char *iso, const char *locale)
{
    if (!iso || !*iso)
        return NULL;
    gboolean shaped = strlen(iso) == 10 && iso[4] == '-' && iso[7] == '-';
    if (shaped && g_strcmp0(locale, "fr") == 0)
        return g_strdup_printf("%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
    return g_strdup(iso);
}
