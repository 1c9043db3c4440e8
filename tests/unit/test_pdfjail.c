/*
 * test_pdfjail — what a child's answer can be, in both ways of running it (forked by the
 * caller, and by the fork server): an answer, an empty one, "nothing found", a crash, a
 * hang (ended by the child's alarm), an answer over the cap, a 3 MB request; and the caller
 * goes on after each failure.
 */
#include <check.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pdfjail.h"

static GBytes *echo_job(const void *pdf, size_t len)
{
    return g_bytes_new(pdf, len);
}

static GBytes *nothing_job(const void *pdf, size_t len)
{
    (void) pdf;
    (void) len;
    return NULL;
}

static GBytes *crash_job(const void *pdf, size_t len)
{
    (void) pdf;
    (void) len;
    raise(SIGKILL);
    return NULL;
}

static GBytes *hang_job(const void *pdf, size_t len)
{
    (void) pdf;
    (void) len;
    for (;;)
        pause();
    return NULL;
}

static void check_all(void)
{
    gboolean failed = TRUE;
    GBytes *b = pdfjail_run("test", echo_job, "%PDF-1.4 hello", 14, 100, &failed);
    ck_assert(!failed);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(g_bytes_get_size(b), 14);
    ck_assert(memcmp(g_bytes_get_data(b, NULL), "%PDF-1.4 hello", 14) == 0);
    g_bytes_unref(b);

    b = pdfjail_run("test", echo_job, "", 0, 100, &failed);   /* an empty answer is one */
    ck_assert(!failed);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(g_bytes_get_size(b), 0);
    g_bytes_unref(b);

    ck_assert_ptr_null(pdfjail_run("test", nothing_job, "x", 1, 100, &failed));
    ck_assert(!failed);

    ck_assert_ptr_null(pdfjail_run("test", crash_job, "x", 1, 100, &failed));
    ck_assert(failed);

    gint64 t0 = g_get_monotonic_time();    /* the hang limit is 1 s here */
    ck_assert_ptr_null(pdfjail_run("test", hang_job, "x", 1, 100, &failed));
    ck_assert(failed);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 4 * G_USEC_PER_SEC);

    char big[4096];
    memset(big, 'a', sizeof big);
    ck_assert_ptr_null(pdfjail_run("test", echo_job, big, sizeof big, 100, &failed));
    ck_assert(failed);

    b = pdfjail_run("test", echo_job, "%PDF-", 5, 100, &failed);   /* and goes on after them */
    ck_assert(!failed);
    ck_assert_ptr_nonnull(b);
    g_bytes_unref(b);
}

START_TEST(test_forked_by_caller)
{
    pdfjail_set_timeout(1);
    check_all();
}
END_TEST

START_TEST(test_fork_server)
{
    pdfjail_set_timeout(1);
    ck_assert(pdfjail_start(NULL));
    check_all();
    /* A large request goes through the server's socket whole. */
    gsize n = 3 * 1024 * 1024;
    char *pdf = g_malloc(n);
    memset(pdf, 'p', n);
    gboolean failed = TRUE;
    GBytes *b = pdfjail_run("test", echo_job, pdf, n, n, &failed);
    ck_assert(!failed);
    ck_assert_uint_eq(g_bytes_get_size(b), n);
    ck_assert(memcmp(g_bytes_get_data(b, NULL), pdf, n) == 0);
    g_bytes_unref(b);
    g_free(pdf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pdfjail");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_forked_by_caller);
    tcase_add_test(tc, test_fork_server);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
