/*
 * test_schedule — the arithmetic of reminders without waiting: the settable clock
 * (REGLO_CLOCK_FILE), due times from the sending date and from the due date (across DST),
 * business hours (nights, weekends, DST changes, wrapping day lists, other zones), the
 * "too late" rule, the retry back-off, days overdue, and the reminders { } configuration
 * section with its FILE:LINE errors. Hostile values (huge instants, bad dates) neither
 * crash nor loop.
 *
 * Instants are written in UTC; Paris is UTC+1 in winter, UTC+2 from 31 March 2030 to
 * 27 October 2030. 7 January 2030 is a Monday.
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "schedule.h"
#include "testutil.h"

static gint64 utc(const char *iso)
{
    GDateTime *dt = g_date_time_new_from_iso8601(iso, NULL);
    ck_assert_msg(dt != NULL, "bad test instant %s", iso);
    gint64 t = g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return t;
}

/* Compare instants as text, so a failure says which. */
#define ck_assert_instant(t, iso) do { \
    GDateTime *dt_ = g_date_time_new_from_unix_utc(t); \
    char *got_ = g_date_time_format(dt_, "%Y-%m-%dT%H:%M:%SZ"); \
    ck_assert_str_eq(got_, iso); \
    g_free(got_); \
    g_date_time_unref(dt_); \
} while (0)

static schedule_window *window(const char *hours, const char *days, const char *tz)
{
    char *err = NULL;
    schedule_window *w = schedule_window_new(hours, days, tz, &err);
    ck_assert_msg(w != NULL, "window: %s", err ? err : "?");
    return w;
}

static schedule_window *paris(void)
{
    return window("09:00-18:00", "mon-fri", "Europe/Paris");
}

/* ---- clock ---------------------------------------------------------------------------- */

START_TEST(test_clock_parse)
{
    gint64 t = 0;
    ck_assert(clock_parse("2030-01-07T09:00:00Z", 0, &t));
    ck_assert_instant(t, "2030-01-07T09:00:00Z");
    ck_assert(clock_parse("  1894006800\n", 0, &t));
    ck_assert_instant(t, "2030-01-07T09:00:00Z");
    ck_assert(clock_parse("+3600", 1000, &t));
    ck_assert_int_eq(t, 4600);
    ck_assert(clock_parse("-600\n", 1000, &t));
    ck_assert_int_eq(t, 400);
    const char *bad[] = { "", "tomorrow", "2030-01-07 09:00:00", "2030-01-07T09:00:00",
                          "2030-01-07T09:00:00+02:00", "12abc", "+", "+-5", "-2000",
                          "99999999999999999999", "2030-13-07T09:00:00Z", "0x10" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        t = 77;
        ck_assert_msg(!clock_parse(bad[i], 1000, &t), "accepted '%s'", bad[i]);
        ck_assert_int_eq(t, 77);
    }
    ck_assert(!clock_parse(NULL, 0, &t));
}
END_TEST

START_TEST(test_clock_file)
{
    char *dir = g_dir_make_tmp("test_schedule-XXXXXX", NULL);
    char *path = g_build_filename(dir, "clock", NULL);
    g_setenv(CLOCK_FILE_ENV, path, TRUE);
    gint64 real = (gint64) time(NULL);
    ck_assert_int_ge(clock_now(), real);              /* no file yet: the real time */
    ck_assert(g_file_set_contents(path, "2030-01-07T09:00:00Z\n", -1, NULL));
    ck_assert_instant(clock_now(), "2030-01-07T09:00:00Z");
    ck_assert(g_file_set_contents(path, "2030-01-14T09:00:00Z", -1, NULL));
    ck_assert_instant(clock_now(), "2030-01-14T09:00:00Z");   /* re-read on every call */
    ck_assert(g_file_set_contents(path, "+86400", -1, NULL));
    gint64 ahead = clock_now() - (gint64) time(NULL);
    ck_assert(ahead >= 86399 && ahead <= 86401);
    ck_assert(g_file_set_contents(path, "garbage", -1, NULL));
    ck_assert_int_ge(clock_now(), real);              /* a bad file: the real time */
    ck_assert_int_lt(clock_now(), real + 3600);
    g_unsetenv(CLOCK_FILE_ENV);
    ck_assert_int_lt(clock_now(), real + 3600);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}
END_TEST

START_TEST(test_date_for_locale)
{
    char *s = clock_date_for_locale("2030-02-15", "fr");
    ck_assert_str_eq(s, "15/02/2030");
    g_free(s);
    s = clock_date_for_locale("2030-02-15", "en");
    ck_assert_str_eq(s, "2030-02-15");
    g_free(s);
    s = clock_date_for_locale("15 février", "fr");
    ck_assert_str_eq(s, "15 février");
    g_free(s);
    ck_assert_ptr_null(clock_date_for_locale("", "fr"));
    ck_assert_ptr_null(clock_date_for_locale(NULL, "fr"));
}
END_TEST

/* ---- parsing the window ------------------------------------------------------------- */

START_TEST(test_parse_hours)
{
    int a = -1, b = -1;
    ck_assert(schedule_parse_hours("09:00-18:00", &a, &b));
    ck_assert_int_eq(a, 540);
    ck_assert_int_eq(b, 1080);
    ck_assert(schedule_parse_hours(" 08:30-24:00 ", &a, &b));
    ck_assert_int_eq(a, 510);
    ck_assert_int_eq(b, 1440);
    const char *bad[] = { "", "9:00-18:00", "09:00", "18:00-09:00", "09:00-09:00",
                          "24:00-24:00", "09:60-18:00", "25:00-26:00", "09:00-24:01",
                          "09:00 - 18:00", "09:00-18:00-19:00", "ab:cd-ef:gh" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(!schedule_parse_hours(bad[i], &a, &b), "accepted '%s'", bad[i]);
    ck_assert(!schedule_parse_hours(NULL, &a, &b));
}
END_TEST

START_TEST(test_parse_days)
{
    guint d = 0;
    ck_assert(schedule_parse_days("mon-fri", &d));
    ck_assert_uint_eq(d, 0x1f);
    ck_assert(schedule_parse_days("Mon, WED ,fri", &d));
    ck_assert_uint_eq(d, 0x15);
    ck_assert(schedule_parse_days("mon-fri,sat", &d));
    ck_assert_uint_eq(d, 0x3f);
    ck_assert(schedule_parse_days("sat-mon", &d));          /* wraps over the week end */
    ck_assert_uint_eq(d, 0x61);
    ck_assert(schedule_parse_days("sun", &d));
    ck_assert_uint_eq(d, 0x40);
    const char *bad[] = { "", ",", "mon,", "monday", "lun-ven", "mon-", "-fri", "mon--fri",
                          "mon-fri-sat" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(!schedule_parse_days(bad[i], &d), "accepted '%s'", bad[i]);
    char *long_list = g_strnfill(300, 'm');
    ck_assert(!schedule_parse_days(long_list, &d));
    g_free(long_list);
}
END_TEST

START_TEST(test_window_new)
{
    char *err = NULL;
    ck_assert(schedule_timezone_valid("Europe/Paris"));
    ck_assert(schedule_timezone_valid("UTC"));
    ck_assert(!schedule_timezone_valid("Europe/Nowhere"));
    ck_assert(!schedule_timezone_valid("../../etc/passwd"));
    ck_assert(!schedule_timezone_valid(""));
    ck_assert_ptr_null(schedule_window_new("9-18", "mon-fri", "UTC", &err));
    ck_assert(strstr(err, "9-18") != NULL);
    g_free(err);
    err = NULL;
    ck_assert_ptr_null(schedule_window_new("09:00-18:00", "weekdays", "UTC", &err));
    ck_assert(strstr(err, "weekdays") != NULL);
    g_free(err);
    err = NULL;
    ck_assert_ptr_null(schedule_window_new("09:00-18:00", "mon-fri", "Mars/Olympus", &err));
    ck_assert(strstr(err, "Mars/Olympus") != NULL);
    g_free(err);
    schedule_window_free(NULL);
}
END_TEST

/* ---- due times ---------------------------------------------------------------------- */

START_TEST(test_due_from_sent)
{
    schedule_window *w = paris();
    gint64 sent = utc("2030-01-07T09:00:00Z");   /* Monday 10:00 in Paris */
    ck_assert_instant(schedule_due(w, sent, NULL, FALSE, 7), "2030-01-14T09:00:00Z");
    ck_assert_instant(schedule_due(w, sent, "", FALSE, 15), "2030-01-22T09:00:00Z");
    ck_assert_instant(schedule_due(w, sent, "2030-02-15", FALSE, 30), "2030-02-06T09:00:00Z");
    ck_assert_instant(schedule_due(w, sent, NULL, FALSE, 0), "2030-01-07T09:00:00Z");
    /* Across the change to summer time (31 March): D+7 keeps its local hour, 10:00. */
    ck_assert_instant(schedule_due(w, utc("2030-03-28T09:00:00Z"), NULL, FALSE, 7),
                      "2030-04-04T08:00:00Z");
    /* And back to winter time (27 October). */
    ck_assert_instant(schedule_due(w, utc("2030-10-21T08:00:00Z"), NULL, FALSE, 15),
                      "2030-11-05T09:00:00Z");
    schedule_window_free(w);
}
END_TEST

START_TEST(test_due_from_due_date)
{
    schedule_window *w = paris();
    gint64 sent = utc("2030-01-07T09:00:00Z");
    /* Local midnight of the due date, plus the offset. */
    ck_assert_instant(schedule_due(w, sent, "2030-02-15", TRUE, -3), "2030-02-11T23:00:00Z");
    ck_assert_instant(schedule_due(w, sent, "2030-02-15", TRUE, 0), "2030-02-14T23:00:00Z");
    ck_assert_instant(schedule_due(w, sent, "2030-02-15", TRUE, 7), "2030-02-21T23:00:00Z");
    ck_assert_instant(schedule_due(w, sent, "2030-03-30", TRUE, 2), "2030-03-31T22:00:00Z");
    /* No usable due date: counted from the sending date. */
    const char *bad[] = { NULL, "", "2030-02-30", "2030-2-15", "15/02/2030", "2030-02-15x",
                          " 030-02-15", "0000-01-01", "9999-12-31" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_instant(schedule_due(w, sent, bad[i], TRUE, 7), "2030-01-14T09:00:00Z");
    schedule_window_free(w);
}
END_TEST

START_TEST(test_due_hostile)
{
    schedule_window *w = paris();
    /* Absurd rows neither crash nor overflow: the result stays a valid instant. */
    gint64 t = schedule_due(w, G_MAXINT64, NULL, FALSE, 365);
    ck_assert(t > 0);
    t = schedule_due(w, G_MININT64, NULL, FALSE, -60);
    ck_assert(schedule_window_open(w, t) >= t);
    t = schedule_due(w, 0, "8999-12-31", TRUE, G_MAXINT);
    ck_assert(t > 0);
    t = schedule_due(w, 0, NULL, FALSE, G_MININT);
    ck_assert(schedule_window_open(w, t) >= t);
    ck_assert(schedule_window_open(w, G_MAXINT64) > 0);
    ck_assert(schedule_window_open(w, G_MININT64) >= 0);
    schedule_window_free(w);
}
END_TEST

/* ---- business hours ----------------------------------------------------------------- */

START_TEST(test_window_weekdays)
{
    schedule_window *w = paris();
    ck_assert(schedule_in_window(w, utc("2030-01-07T09:00:00Z")));       /* Mon 10:00 */
    ck_assert(schedule_in_window(w, utc("2030-01-07T08:00:00Z")));       /* Mon 09:00 */
    ck_assert(!schedule_in_window(w, utc("2030-01-07T07:59:59Z")));      /* Mon 08:59:59 */
    ck_assert(schedule_in_window(w, utc("2030-01-07T16:59:59Z")));       /* Mon 17:59:59 */
    ck_assert(!schedule_in_window(w, utc("2030-01-07T17:00:00Z")));      /* Mon 18:00 */
    ck_assert(!schedule_in_window(w, utc("2030-01-12T10:00:00Z")));      /* Saturday */
    /* Before the opening: that morning. */
    ck_assert_instant(schedule_window_open(w, utc("2030-01-07T05:00:00Z")), "2030-01-07T08:00:00Z");
    /* Inside: now. */
    ck_assert_instant(schedule_window_open(w, utc("2030-01-08T12:34:56Z")), "2030-01-08T12:34:56Z");
    /* 22:00 on Tuesday: Wednesday 09:00. */
    ck_assert_instant(schedule_window_open(w, utc("2030-01-22T21:00:00Z")), "2030-01-23T08:00:00Z");
    /* Just after midnight (local) on Wednesday, which is 23:30 UTC on Tuesday. */
    ck_assert_instant(schedule_window_open(w, utc("2030-01-22T23:30:00Z")), "2030-01-23T08:00:00Z");
    /* Friday 18:00 and the whole weekend: Monday 09:00. */
    ck_assert_instant(schedule_window_open(w, utc("2030-01-11T17:00:00Z")), "2030-01-14T08:00:00Z");
    ck_assert_instant(schedule_window_open(w, utc("2030-01-12T11:00:00Z")), "2030-01-14T08:00:00Z");
    ck_assert_instant(schedule_window_open(w, utc("2030-01-13T22:59:59Z")), "2030-01-14T08:00:00Z");
    schedule_window_free(w);
}
END_TEST

START_TEST(test_window_dst)
{
    schedule_window *w = paris();
    /* Summer time begins Sunday 31 March 2030: Monday 09:00 is 07:00 UTC. */
    ck_assert_instant(schedule_window_open(w, utc("2030-03-29T17:30:00Z")), "2030-04-01T07:00:00Z");
    ck_assert_instant(schedule_window_open(w, utc("2030-03-31T01:30:00Z")), "2030-04-01T07:00:00Z");
    ck_assert(schedule_in_window(w, utc("2030-04-01T15:59:00Z")));       /* 17:59 CEST */
    ck_assert(!schedule_in_window(w, utc("2030-04-01T16:00:00Z")));      /* 18:00 CEST */
    /* Winter time comes back Sunday 27 October: Monday 09:00 is 08:00 UTC. */
    ck_assert_instant(schedule_window_open(w, utc("2030-10-25T16:30:00Z")), "2030-10-28T08:00:00Z");
    ck_assert(!schedule_in_window(w, utc("2030-10-28T07:30:00Z")));      /* 08:30 CET */
    schedule_window_free(w);

    /* A window that would open inside the spring gap still opens (at 03:00 local). */
    w = window("02:30-04:00", "sun", "Europe/Paris");
    gint64 open = schedule_window_open(w, utc("2030-03-30T12:00:00Z"));
    ck_assert(open >= utc("2030-03-31T00:30:00Z") && open <= utc("2030-03-31T01:30:00Z"));
    schedule_window_free(w);
}
END_TEST

START_TEST(test_window_variants)
{
    /* Saturday mornings too, until midnight; a list that wraps over the week end. */
    schedule_window *w = window("09:00-24:00", "sat-mon", "UTC");
    ck_assert(schedule_in_window(w, utc("2030-01-12T23:59:59Z")));       /* Saturday */
    ck_assert(schedule_in_window(w, utc("2030-01-13T09:00:00Z")));       /* Sunday */
    ck_assert(!schedule_in_window(w, utc("2030-01-15T10:00:00Z")));      /* Tuesday */
    ck_assert_instant(schedule_window_open(w, utc("2030-01-15T10:00:00Z")), "2030-01-19T09:00:00Z");
    schedule_window_free(w);
    /* Another zone: New York business hours. */
    w = window("09:00-17:00", "mon-fri", "America/New_York");
    ck_assert_instant(schedule_window_open(w, utc("2030-01-07T09:00:00Z")), "2030-01-07T14:00:00Z");
    schedule_window_free(w);
}
END_TEST

/* ---- too late, retries, overdue ------------------------------------------------------- */

START_TEST(test_too_late)
{
    schedule_window *w = paris();
    gint64 due = utc("2030-01-14T09:00:00Z");                            /* Monday 10:00 */
    ck_assert(!schedule_too_late(w, due, due, 2));
    ck_assert(!schedule_too_late(w, due, due - 3600, 2));                /* not due yet */
    ck_assert(!schedule_too_late(w, due, due + 2 * SCHEDULE_DAY, 2));    /* exactly 2 days */
    ck_assert(schedule_too_late(w, due, due + 2 * SCHEDULE_DAY + 1, 2));
    ck_assert(schedule_too_late(w, due, due + 9 * SCHEDULE_DAY, 2));
    ck_assert(!schedule_too_late(w, due, due + 9 * SCHEDULE_DAY, 10));
    ck_assert(schedule_too_late(w, due, due + 1, 0));
    ck_assert(!schedule_too_late(w, due, due, 0));
    /* Due Friday 20:00: the first chance is Monday 09:00, so Monday 10:00 is not late,
     * though 2.5 days have passed; Wednesday 09:01 is. */
    gint64 friday_night = utc("2030-01-11T19:00:00Z");
    ck_assert(!schedule_too_late(w, friday_night, utc("2030-01-14T09:00:00Z"), 2));
    ck_assert(!schedule_too_late(w, friday_night, utc("2030-01-16T08:00:00Z"), 2));
    ck_assert(schedule_too_late(w, friday_night, utc("2030-01-16T08:01:00Z"), 2));
    schedule_window_free(w);
}
END_TEST

START_TEST(test_retry_delay)
{
    ck_assert_int_eq(schedule_retry_delay(1), 60);
    ck_assert_int_eq(schedule_retry_delay(2), 120);
    ck_assert_int_eq(schedule_retry_delay(3), 240);
    ck_assert_int_eq(schedule_retry_delay(9), 15360);
    ck_assert_int_eq(schedule_retry_delay(10), 6 * 3600);
    ck_assert_int_eq(schedule_retry_delay(1000), 6 * 3600);
    ck_assert_int_eq(schedule_retry_delay(0), 60);
    ck_assert_int_eq(schedule_retry_delay(-5), 60);
}
END_TEST

START_TEST(test_days_overdue)
{
    schedule_window *w = paris();
    gint64 now = utc("2030-02-20T23:30:00Z");          /* already 21 February in Paris */
    ck_assert_int_eq(schedule_days_overdue(w, now, "2030-02-15"), 6);
    ck_assert_int_eq(schedule_days_overdue(w, now, "2030-02-21"), 0);
    ck_assert_int_eq(schedule_days_overdue(w, now, "2030-03-01"), 0);
    ck_assert_int_eq(schedule_days_overdue(w, now, ""), 0);
    ck_assert_int_eq(schedule_days_overdue(w, now, NULL), 0);
    ck_assert_int_eq(schedule_days_overdue(w, now, "garbage!!!"), 0);
    schedule_window_free(w);
}
END_TEST

/* ---- the reminders { } section ------------------------------------------------------- */

static char *conf_dir;

static char *write_conf(const char *text)
{
    if (!conf_dir)
        conf_dir = g_dir_make_tmp("test_schedule-XXXXXX", NULL);
    char *path = g_build_filename(conf_dir, "reglo.conf", NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

START_TEST(test_conf_section)
{
    char *path = write_conf("reminders {\n"
                            "    enabled = false\n"
                            "    window = \"08:30-19:00\"   # longer days\n"
                            "    days = \"mon-sat\"\n"
                            "    timezone = \"America/Martinique\"\n"
                            "    interval = 5\n"
                            "    workers = 8\n"
                            "    batch = 5\n"
                            "    max_late_days = 0\n"
                            "}\n");
    char *err = NULL;
    reglo_conf *conf = conf_load(path, &err);
    ck_assert_msg(conf != NULL, "%s", err ? err : "?");
    ck_assert(!conf->reminders_enabled);
    ck_assert_str_eq(conf->reminders_timezone, "America/Martinique");
    ck_assert_int_eq(conf->reminders_interval, 5);
    ck_assert_int_eq(conf->reminders_workers, 8);
    ck_assert_int_eq(conf->reminders_batch, 5);
    ck_assert_int_eq(conf->reminders_max_late_days, 0);
    /* Saturday 08:30 in Martinique (UTC-4). */
    ck_assert(schedule_in_window(conf->reminders_window, utc("2030-01-12T12:30:00Z")));
    conf_free(conf);
    g_free(path);

    path = write_conf("smtp { url = \"smtp://127.0.0.1:25\" }\n");
    conf = conf_load(path, &err);
    ck_assert_ptr_nonnull(conf);
    ck_assert(conf->reminders_enabled);
    ck_assert_str_eq(conf->reminders_timezone, "Europe/Paris");
    ck_assert_int_eq(conf->reminders_interval, 30);
    ck_assert_int_eq(conf->reminders_workers, 2);
    ck_assert_int_eq(conf->reminders_batch, 25);
    ck_assert_int_eq(conf->reminders_max_late_days, 2);
    ck_assert(schedule_in_window(conf->reminders_window, utc("2030-01-07T08:00:00Z")));
    ck_assert(!schedule_in_window(conf->reminders_window, utc("2030-01-12T10:00:00Z")));
    conf_free(conf);
    g_free(path);
}
END_TEST

static void conf_bad(const char *body, int line, const char *expect)
{
    char *text = g_strdup_printf("# reminders\nreminders {\n%s\n}\n", body);
    char *path = write_conf(text);
    char *err = NULL;
    reglo_conf *conf = conf_load(path, &err);
    ck_assert_msg(conf == NULL, "accepted: %s", body);
    char *prefix = g_strdup_printf("%s:%d: ", path, line);
    ck_assert_msg(g_str_has_prefix(err, prefix) && strstr(err, expect),
                  "error \"%s\" (wanted %s...%s)", err, prefix, expect);
    g_free(prefix);
    g_free(err);
    g_free(path);
    g_free(text);
}

START_TEST(test_conf_errors)
{
    conf_bad("    window = \"18:00-09:00\"", 3, "09:00-18:00");
    conf_bad("    enabled = true\n    days = \"weekdays\"", 4, "mon-fri");
    conf_bad("    timezone = \"Paris\"", 3, "unknown time zone 'Paris'");
    conf_bad("    interval = 0", 3, "positive");
    conf_bad("    workers = -2", 3, "positive");
    conf_bad("    batch = 0", 3, "positive");
    conf_bad("    max_late_days = -1", 3, "negative");
    conf_bad("    sometimes = 3", 3, "sometimes");
}
END_TEST

static void conf_cleanup(void)
{
    if (!conf_dir)
        return;
    char *path = g_build_filename(conf_dir, "reglo.conf", NULL);
    g_unlink(path);
    g_free(path);
    g_rmdir(conf_dir);
    g_free(conf_dir);
    conf_dir = NULL;
}

static Suite *schedule_suite(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, test_clock_parse);
    tcase_add_test(tc, test_clock_file);
    tcase_add_test(tc, test_date_for_locale);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_hours);
    tcase_add_test(tc, test_parse_days);
    tcase_add_test(tc, test_window_new);
    suite_add_tcase(s, tc);
    tc = tcase_create("due");
    tcase_add_test(tc, test_due_from_sent);
    tcase_add_test(tc, test_due_from_due_date);
    tcase_add_test(tc, test_due_hostile);
    suite_add_tcase(s, tc);
    tc = tcase_create("window");
    tcase_add_test(tc, test_window_weekdays);
    tcase_add_test(tc, test_window_dst);
    tcase_add_test(tc, test_window_variants);
    suite_add_tcase(s, tc);
    tc = tcase_create("late");
    tcase_add_test(tc, test_too_late);
    tcase_add_test(tc, test_retry_delay);
    tcase_add_test(tc, test_days_overdue);
    suite_add_tcase(s, tc);
    tc = tcase_create("conf");
    tcase_add_checked_fixture(tc, NULL, conf_cleanup);
    tcase_add_test(tc, test_conf_section);
    tcase_add_test(tc, test_conf_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(schedule_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
