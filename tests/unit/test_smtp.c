/*
 * test_smtp — submission against Postfix's smtp-sink on a private loopback port: accepted
 * (message captured to a file), 5xx and 4xx on RCPT and on ".", connection refused, bad input;
 * a session carrying several messages, one refused among them, then the server gone.
 * Skips with a notice when smtp-sink is not installed. Only the sink we started is killed.
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "smtp.h"
#include "testutil.h"

#define SMTP_SINK "/usr/sbin/smtp-sink"

static GPid sink_pid;
static char *base_dir;   /* per run */
static char *dump_dir;   /* per sink, inside base_dir */
static char url[64];

/* A port nobody listens on right now (the kernel picks it). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static gboolean port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    gboolean ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* make check installs postfix (make deps): without smtp-sink the test fails, not passes. */
static void need_sink(void)
{
    ck_assert_msg(g_file_test(SMTP_SINK, G_FILE_TEST_IS_EXECUTABLE),
                  "%s not installed (make deps: postfix)", SMTP_SINK);
}

/* Starts smtp-sink with extra options (NULL-terminated), capturing into dump_dir. */
static void start_sink(const char *const *opts)
{
    int port = free_port();
    dump_dir = g_strdup_printf("%s/%d", base_dir, port);
    ck_assert_int_eq(g_mkdir(dump_dir, 0777), 0);
    ck_assert_int_eq(g_chmod(dump_dir, 0777), 0);
    char *dump = g_build_filename(dump_dir, "m.", NULL);
    char *listen = g_strdup_printf("127.0.0.1:%d", port);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)SMTP_SINK);
    if (geteuid() == 0) {       /* smtp-sink refuses to keep root privileges */
        g_ptr_array_add(argv, (char *)"-u");
        g_ptr_array_add(argv, (char *)"nobody");
    }
    g_ptr_array_add(argv, (char *)"-d");
    g_ptr_array_add(argv, dump);
    for (; opts && *opts; opts++)
        g_ptr_array_add(argv, (char *)*opts);
    g_ptr_array_add(argv, listen);
    g_ptr_array_add(argv, (char *)"16");
    g_ptr_array_add(argv, NULL);
    ck_assert(g_spawn_async(NULL, (char **)argv->pdata, NULL,
                            G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                            &sink_pid, NULL));
    for (int i = 0; i < 50 && !port_open(port); i++)
        g_usleep(100 * 1000);
    ck_assert_msg(port_open(port), "smtp-sink did not start on port %d", port);
    g_snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    g_ptr_array_free(argv, TRUE);
    g_free(listen);
    g_free(dump);
}

/* One base directory per run (created and removed by the parent process, so it goes away
 * even when a test fails in its forked child); one capture directory per sink inside. */
static void setup_base(void)
{
    base_dir = g_dir_make_tmp("test_smtp-XXXXXX", NULL);
    ck_assert_ptr_nonnull(base_dir);
    ck_assert_int_eq(g_chmod(base_dir, 0711), 0); /* smtp-sink runs as nobody */
}

static void remove_tree(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
        char *p = g_build_filename(dir, n, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            remove_tree(p);
        else
            g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

static void teardown_base(void)
{
    remove_tree(base_dir);
    g_free(base_dir);
}

/* Check also kills the test's process group when a test fails before this runs. */
static void teardown(void)
{
    if (sink_pid > 0) {
        kill(sink_pid, SIGTERM);
        waitpid(sink_pid, NULL, 0);
        sink_pid = 0;
    }
    g_free(dump_dir);
    dump_dir = NULL;
}

/* Contents of the single captured message, waiting briefly for it to be written. */
static char *captured(void)
{
    for (int i = 0; i < 40; i++) {
        GDir *d = g_dir_open(dump_dir, 0, NULL);
        const char *n = d ? g_dir_read_name(d) : NULL;
        char *path = n ? g_build_filename(dump_dir, n, NULL) : NULL;
        if (d)
            g_dir_close(d);
        if (path) {
            char *text = NULL;
            g_file_get_contents(path, &text, NULL, NULL);
            g_free(path);
            if (text && strstr(text, "last line"))
                return text;
            g_free(text);
        }
        g_usleep(50 * 1000);
    }
    return NULL;
}

static const char *const rcpt1[] = { "client@example.org", "artisan@example.com", NULL };
static const char msg[] = "From: artisan@example.com\nTo: client@example.org\n"
                          "Subject: test\n\nHello.\r\nbare CR\rhere\n.leading dot\n\nlast line";

START_TEST(test_accept)
{
    need_sink();
    start_sink(NULL);
    char *err = NULL;
    int rc = smtp_submit(url, "artisan@example.com", rcpt1, msg, strlen(msg), &err);
    ck_assert_msg(rc == SMTP_OK, "submit: %d %s", rc, err ? err : "");
    ck_assert_ptr_null(err);
    char *text = captured();
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "X-Mail-Args: <artisan@example.com>"));
    ck_assert_ptr_nonnull(strstr(text, "X-Rcpt-Args: <client@example.org>"));
    ck_assert_ptr_nonnull(strstr(text, "X-Rcpt-Args: <artisan@example.com>"));
    ck_assert_ptr_nonnull(strstr(text, "Subject: test"));
    ck_assert_ptr_nonnull(strstr(text, "\nHello.\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nbare CR\nhere\n"));
    ck_assert_ptr_nonnull(strstr(text, "last line"));
    ck_assert_ptr_null(strchr(text, '\r'));
    g_free(text);
}
END_TEST

/* Starts a sink with opts and checks the outcome class and the code in the message. */
static void expect_failure(const char *const *opts, int want, const char *code)
{
    need_sink();
    start_sink(opts);
    char *err = NULL;
    int rc = smtp_submit(url, "artisan@example.com", rcpt1, msg, strlen(msg), &err);
    ck_assert_msg(rc == want, "got %d (%s), want %d", rc, err ? err : "", want);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, code) != NULL, "error \"%s\" lacks %s", err, code);
    g_free(err);
}

START_TEST(test_rcpt_5xx)
{
    const char *const opts[] = { "-f", "RCPT", "-B", "550 5.1.1 No such user", NULL };
    expect_failure(opts, SMTP_PERMFAIL, "550");
}
END_TEST

START_TEST(test_rcpt_4xx)
{
    const char *const opts[] = { "-r", "RCPT", NULL };
    expect_failure(opts, SMTP_TEMPFAIL, "450");
}
END_TEST

START_TEST(test_data_5xx)
{
    const char *const opts[] = { "-f", ".", "-B", "554 5.7.1 Rejected", NULL };
    expect_failure(opts, SMTP_PERMFAIL, "554");
}
END_TEST

START_TEST(test_connect_421)
{
    const char *const opts[] = { "-Q", "MAIL", NULL };
    expect_failure(opts, SMTP_TEMPFAIL, "421");
}
END_TEST

START_TEST(test_refused)
{
    char u[64];
    g_snprintf(u, sizeof u, "smtp://127.0.0.1:%d", free_port());
    char *err = NULL;
    ck_assert_int_eq(smtp_submit(u, "a@b.c", rcpt1, msg, strlen(msg), &err), SMTP_TEMPFAIL);
    ck_assert_ptr_nonnull(err);
    g_free(err);
}
END_TEST

START_TEST(test_bad_input)
{
    const char *const none[] = { NULL };
    const char *const inject[] = { "a@b.c>\r\nRCPT TO:<x@y.z", NULL };
    const char *const spaced[] = { "a b@c.d", NULL };
    char *err = NULL;
    ck_assert_int_eq(smtp_submit("smtp://127.0.0.1:1", "a@b.c", none, msg, 3, &err),
                     SMTP_PERMFAIL);
    g_free(err);
    ck_assert_int_eq(smtp_submit("smtp://127.0.0.1:1", "a@b.c", NULL, msg, 3, &err),
                     SMTP_PERMFAIL);
    g_free(err);
    ck_assert_int_eq(smtp_submit("smtp://127.0.0.1:1", "a@b.c", inject, msg, 3, &err),
                     SMTP_PERMFAIL);
    g_free(err);
    ck_assert_int_eq(smtp_submit("smtp://127.0.0.1:1", "a@b.c", spaced, msg, 3, &err),
                     SMTP_PERMFAIL);
    g_free(err);
    ck_assert_int_eq(smtp_submit("smtp://127.0.0.1:1", "a@b.c>", rcpt1, msg, 3, &err),
                     SMTP_PERMFAIL);
    g_free(err);
    /* Not an SMTP URL: kept for a retry (a configuration error must not lose mail). */
    ck_assert_int_eq(smtp_submit("file:///etc/passwd", "a@b.c", rcpt1, msg, 3, &err),
                     SMTP_TEMPFAIL);
    g_free(err);
}
END_TEST

static int captured_count(int want)
{
    int n = 0;
    for (int i = 0; i < 40 && n < want; i++, g_usleep(50 * 1000)) {
        GDir *d = g_dir_open(dump_dir, 0, NULL);
        for (n = 0; d && g_dir_read_name(d);)
            n++;
        if (d)
            g_dir_close(d);
    }
    return n;
}

/* Several messages through one session (curl keeps the connection between them), one
 * refused on the way (the session starts again on a new connection), the server gone. */
START_TEST(test_session)
{
    need_sink();
    start_sink(NULL);
    const char *const bad[] = { "no address", NULL };
    smtp_session *s = smtp_session_new();
    char *err = NULL;
    for (int i = 0; i < 2; i++) {
        int rc = smtp_session_submit(s, url, "artisan@example.com", rcpt1, msg, strlen(msg), &err);
        ck_assert_msg(rc == SMTP_OK, "message %d: %d %s", i, rc, err ? err : "");
    }
    ck_assert_int_eq(smtp_session_submit(s, url, "artisan@example.com", bad, msg, strlen(msg),
                                         &err), SMTP_PERMFAIL);
    g_free(err);
    int rc = smtp_session_submit(s, url, "artisan@example.com", rcpt1, msg, strlen(msg), &err);
    ck_assert_msg(rc == SMTP_OK, "after a failure: %d %s", rc, err ? err : "");
    ck_assert_int_eq(captured_count(3), 3);
    kill(sink_pid, SIGTERM);
    waitpid(sink_pid, NULL, 0);
    sink_pid = 0;
    ck_assert_int_eq(smtp_session_submit(s, url, "artisan@example.com", rcpt1, msg, strlen(msg),
                                         &err), SMTP_TEMPFAIL);
    ck_assert_ptr_nonnull(err);
    g_free(err);
    smtp_session_free(s);
    smtp_session_free(NULL);
}
END_TEST

static Suite *smtp_suite(void)
{
    Suite *s = suite_create("smtp");
    TCase *tc = tcase_create("smtp");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_accept);
    tcase_add_test(tc, test_rcpt_5xx);
    tcase_add_test(tc, test_rcpt_4xx);
    tcase_add_test(tc, test_data_5xx);
    tcase_add_test(tc, test_connect_421);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_session);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = testutil_run(smtp_suite());
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
