/*
 * test_pdfjail — what a child's answer can be, in both ways of running it (forked by the
 * caller, and by the fork server): an answer, an empty one, "nothing found", a crash, a
 * hang (ended by the child's alarm), an answer over the cap, a 3 MB request; and the caller
 * goes on after each failure. The fork server, killed, is started again by its keeper.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdfjail.h"
#include "testutil.h"

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

/* The only child of pid (0 when it has none, or several), from /proc. */
static pid_t only_child(pid_t pid)
{
    char *path = g_strdup_printf("/proc/%d/task/%d/children", (int) pid, (int) pid);
    char *text = NULL;
    pid_t child = 0;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        char **ids = g_strsplit(g_strstrip(text), " ", 0);
        if (g_strv_length(ids) == 1)
            child = (pid_t) atoi(ids[0]);
        g_strfreev(ids);
    }
    g_free(text);
    g_free(path);
    return child;
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

    /* The server killed (its keeper is our only child, the server the keeper's): the
     * keeper starts another, which serves the next requests. */
    pid_t keeper = only_child(getpid());
    ck_assert_int_gt(keeper, 0);
    pid_t server = only_child(keeper);
    ck_assert_int_gt(server, 0);
    ck_assert_int_eq(kill(server, SIGKILL), 0);
    pid_t again = 0;
    for (int i = 0; i < 300 && (again == 0 || again == server); i++) {
        g_usleep(10000);
        again = only_child(keeper);
    }
    ck_assert_int_gt(again, 0);
    ck_assert_int_ne(again, server);
    check_all();
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
    int failed = testutil_run(s);
    return failed ? 1 : 0;
}
