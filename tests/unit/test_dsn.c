/*
 * test_dsn — lib/dsn.c (bounces: RFC 3464 reports, old-style MAILER-DAEMON messages) and the
 * thread-reply helpers of lib/mime.c (mime_own_lines, mime_remove_lines), on the project's
 * fixtures (tests/fixtures/mail/dsn_*.eml, reply_*.eml), the corpus's real Office 365
 * bounce when present, and hostile bytes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "mime.h"
#include "testutil.h"

#define FIXTURES "tests/fixtures/mail/"

static GMimeMessage *load_path(const char *path)
{
    size_t len;
    char *data = read_file_or_die(path, &len);
    GMimeMessage *msg = mime_parse_bytes(data, len);
    g_free(data);
    ck_assert_msg(msg != NULL, "%s does not parse", path);
    return msg;
}

static GMimeMessage *load(const char *name)
{
    char *path = g_strconcat(FIXTURES, name, NULL);
    GMimeMessage *msg = load_path(path);
    g_free(path);
    return msg;
}

static const char *item(const GPtrArray *a, guint i)
{
    return i < a->len ? g_ptr_array_index(a, i) : "(none)";
}

/* ------------------------------------------------------------------ dsn */

START_TEST(postfix_report)
{
    GMimeMessage *msg = load("dsn_postfix.eml");
    dsn_report r;
    dsn_report_init(&r);
    ck_assert(dsn_parse(msg, &r));
    ck_assert(r.report);
    ck_assert(r.failed);
    /* Original-Recipient is the address the sender wrote, lower-cased. */
    ck_assert_uint_eq(r.recipients->len, 1);
    ck_assert_str_eq(item(r.recipients, 0), "client@bad.test");
    ck_assert_str_eq(item(r.message_ids, 0), "facture-0042.1776153728@artisan.test");
    dsn_report_clear(&r);
    g_object_unref(msg);
}
END_TEST

START_TEST(headers_only_report)
{
    GMimeMessage *msg = load("dsn_headers_only.eml");
    dsn_report r;
    dsn_report_init(&r);
    ck_assert(dsn_parse(msg, &r));
    /* No Action field: a 5.x.x Status is a failure; the delivered recipient is not listed. */
    ck_assert_uint_eq(r.recipients->len, 1);
    ck_assert_str_eq(item(r.recipients, 0), "gone@bad.test");
    ck_assert_str_eq(item(r.message_ids, 0), "facture-0043.1776153900@artisan.test");
    dsn_report_clear(&r);
    g_object_unref(msg);
}
END_TEST

START_TEST(delay_is_not_failure)
{
    GMimeMessage *msg = load("dsn_delayed.eml");
    dsn_report r;
    dsn_report_init(&r);
    ck_assert(!dsn_parse(msg, &r));
    ck_assert(!r.failed);
    ck_assert(r.delayed_only);
    ck_assert_uint_eq(r.recipients->len, 0);
    dsn_report_clear(&r);
    g_object_unref(msg);
}
END_TEST

START_TEST(qmail_bounce)
{
    GMimeMessage *msg = load("dsn_qmail.eml");
    dsn_report r;
    dsn_report_init(&r);
    ck_assert(dsn_parse(msg, &r));
    ck_assert(!r.report);
    ck_assert_str_eq(item(r.recipients, 0), "nobody@bad.test");
    ck_assert_str_eq(item(r.message_ids, 0), "facture-0045@artisan.test");
    dsn_report_clear(&r);
    g_object_unref(msg);
}
END_TEST

START_TEST(ordinary_mail_is_no_bounce)
{
    GMimeMessage *msg = load("reply_commands.eml");
    dsn_report r;
    dsn_report_init(&r);
    ck_assert(!dsn_parse(msg, &r));
    ck_assert(!r.failed);
    dsn_report_clear(&r);
    g_object_unref(msg);
    ck_assert(dsn_maybe_bounce("multipart/report; report-type=delivery-status", NULL));
    ck_assert(dsn_maybe_bounce(NULL, "Mail Delivery System <MAILER-DAEMON@mx.test>"));
    ck_assert(!dsn_maybe_bounce("text/plain", "Client <client@example.test>"));
    ck_assert(!dsn_maybe_bounce(NULL, NULL));
}
END_TEST

/* Corpus tests: registered only when the corpus is present. */
START_TEST(corpus_office365)
{
    char *path = corpus_path("mail", "flanker__bounce_office365.eml", NULL);
    GMimeMessage *msg = load_path(path);
    dsn_report r;
    dsn_report_init(&r);
    ck_assert(dsn_parse(msg, &r));
    ck_assert(r.report);
    ck_assert_str_eq(item(r.recipients, 0), "noname@example.com");
    ck_assert_str_eq(item(r.message_ids, 0), "20171013111011.20866.254C2F3A4D7AA526@ninomail.com");
    dsn_report_clear(&r);
    g_object_unref(msg);
    g_free(path);
}
END_TEST

START_TEST(status_fields_hostile)
{
    static const char *const cases[] = {
        "", "\n\n\n", ":", "Action: failed", "Action: failed\nFinal-Recipient:",
        "Final-Recipient: rfc822;\nAction: failed\n", "Final-Recipient\nAction failed\n",
        "Final-Recipient: rfc822; a@b\n Action: failed", "\r\n\r\nFinal-Recipient: x;y@z\r\n"
        "Action: FAILED (permanent)\r\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        dsn_report r;
        dsn_report_init(&r);
        dsn_parse_status(cases[i], strlen(cases[i]), &r);
        ck_assert(r.recipients->len <= 1);
        dsn_report_clear(&r);
    }
    dsn_report r;
    dsn_report_init(&r);
    const char *last = cases[G_N_ELEMENTS(cases) - 1];
    dsn_parse_status(last, strlen(last), &r);
    ck_assert(r.failed);
    ck_assert_str_eq(item(r.recipients, 0), "y@z");
    dsn_report_clear(&r);

    /* Many recipients: bounded. Random bytes: no crash. */
    GString *many = g_string_new("Reporting-MTA: dns; x\n");
    for (int i = 0; i < 500; i++)
        g_string_append_printf(many, "\nFinal-Recipient: rfc822; u%d@x.test\nAction: failed\n", i);
    dsn_report_init(&r);
    dsn_parse_status(many->str, many->len, &r);
    ck_assert_uint_eq(r.recipients->len, DSN_MAX_RECIPIENTS);
    dsn_report_clear(&r);
    g_string_free(many, TRUE);
    GRand *rand = g_rand_new_with_seed(42);
    for (int round = 0; round < 200; round++) {
        char buf[512];
        size_t n = (size_t)g_rand_int_range(rand, 0, sizeof buf);
        for (size_t k = 0; k < n; k++)
            buf[k] = "Fa:;@\n \r\tActionfild-R"[g_rand_int_range(rand, 0, 22)];
        dsn_report_init(&r);
        dsn_parse_status(buf, n, &r);
        dsn_report_clear(&r);
    }
    g_rand_free(rand);
}
END_TEST

START_TEST(hostile_messages)
{
    static const char *const cases[] = {
        "From: MAILER-DAEMON@x\n\n",
        "Content-Type: multipart/report; report-type=delivery-status\n\nno boundary",
        "Content-Type: multipart/report; boundary=a\n\n--a\nContent-Type: message/delivery-status\n\n"
        "Final-Recipient: rfc822; a@b\nAction: failed\n--a\nContent-Type: message/rfc822\n\n--a--\n",
        "From: postmaster@x\nContent-Type: text/plain\n\nMessage-ID: <<<>>>\n<:\n<>:\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GMimeMessage *msg = mime_parse_bytes(cases[i], strlen(cases[i]));
        dsn_report r;
        dsn_report_init(&r);
        ck_assert(!dsn_parse(msg, &r));     /* nothing names the bounced message */
        dsn_report_clear(&r);
        if (msg)
            g_object_unref(msg);
    }
}
END_TEST

/* ------------------------------------------------------------------ own lines, removal */

/* "#payée" alone on its line, any case, accents optional (the milter's rule, simplified). */
static gboolean is_paid_line(const char *line, void *arg)
{
    int *calls = arg;
    (*calls)++;
    char *s = g_strdup(line);
    g_strdelimit(s, "\xc2\xa0", ' ');
    g_strstrip(s);
    char *ascii = g_str_to_ascii(s, "C");
    gboolean yes = g_ascii_strcasecmp(ascii, "#payee") == 0;
    g_free(ascii);
    g_free(s);
    return yes;
}

static char *serialize(GMimeMessage *msg)
{
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, mem);
    GByteArray *b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    char *out = g_strndup((const char *)b->data, b->len);
    g_object_unref(mem);
    return out;
}

static gboolean seven_bit(const char *s)
{
    for (; *s; s++)
        if ((guchar)*s >= 0x80)
            return FALSE;
    return TRUE;
}

START_TEST(own_lines_stop_at_quote)
{
    GMimeMessage *msg = load("reply_commands.eml");
    char **lines = mime_own_lines(msg);
    ck_assert_ptr_nonnull(lines);
    ck_assert_str_eq(lines[0], "Merci pour votre règlement en espèces.");
    ck_assert_str_eq(lines[1], "  #PAYÉE  ");
    ck_assert_str_eq(lines[3], "Jean");
    /* the attribution and the "> " lines are not the author's */
    for (char **l = lines; *l; l++)
        ck_assert_msg(!strstr(*l, "crit") && !strstr(*l, "#stop") && !strstr(*l, "liquide"),
                      "quoted line read as own text: %s", *l);
    g_strfreev(lines);
    g_object_unref(msg);

    /* Outlook: the original follows a separator, unquoted: nothing after it is own text. */
    static const char outlook[] = "Content-Type: text/plain\n\nOK\n\n-----Original Message-----\n"
                                  "From: Client\n#payee\n";
    msg = mime_parse_bytes(outlook, sizeof outlook - 1);
    lines = mime_own_lines(msg);
    ck_assert_uint_eq(g_strv_length(lines), 2);
    g_strfreev(lines);
    g_object_unref(msg);
}
END_TEST

START_TEST(remove_command_plain_and_html)
{
    GMimeMessage *msg = load("reply_commands.eml");
    int calls = 0;
    ck_assert_int_eq(mime_remove_lines(msg, is_paid_line, &calls), 2);
    char *out = serialize(msg);
    ck_assert(seven_bit(out));
    GMimeMessage *re = mime_parse_bytes(out, strlen(out));
    char *plain = mime_body_text(re, "plain");
    char *html = mime_body_text(re, "html");
    ck_assert_ptr_null(strstr(plain, "PAY"));
    ck_assert_ptr_nonnull(strstr(plain, "Merci pour votre règlement en espèces.\nBonne journée,"));
    ck_assert_ptr_nonnull(strstr(plain, "> #stop"));               /* quoted: kept */
    ck_assert_ptr_null(strstr(html, "pay&eacute;e"));
    ck_assert_ptr_nonnull(strstr(html, "<blockquote><div>#stop</div></blockquote>"));
    ck_assert_ptr_nonnull(strstr(html, "/* #paid */"));            /* style: not text */
    ck_assert_ptr_nonnull(strstr(html, "Bonne journée,<br>Jean"));
    g_free(plain);
    g_free(html);
    g_object_unref(re);
    g_free(out);
    g_object_unref(msg);
}
END_TEST

START_TEST(remove_bottom_posted)
{
    static const char plain[] = "Content-Type: text/plain; charset=utf-8\n\n"
                                "Le 14/04/2026, Client a écrit :\n> Payé ?\n> #payée\n\n#payée\nJean\n";
    GMimeMessage *msg = mime_parse_bytes(plain, sizeof plain - 1);
    int calls = 0;
    ck_assert_int_eq(mime_remove_lines(msg, is_paid_line, &calls), 1);
    char *text = mime_body_text(msg, "plain");
    ck_assert_str_eq(text, "Le 14/04/2026, Client a écrit :\n> Payé ?\n> #payée\n\nJean\n");
    g_free(text);
    g_object_unref(msg);
    static const char html[] = "Content-Type: text/html; charset=utf-8\n\n"
                               "<div>Le 14/04, Client a écrit :<blockquote>#payee<blockquote>x"
                               "</blockquote>#payee</blockquote></div><div>#payee</div>\n";
    msg = mime_parse_bytes(html, sizeof html - 1);
    ck_assert_int_eq(mime_remove_lines(msg, is_paid_line, &calls), 1);
    text = mime_body_text(msg, "html");
    ck_assert_str_eq(text, "<div>Le 14/04, Client a écrit :<blockquote>#payee<blockquote>x"
                           "</blockquote>#payee</blockquote></div><div></div>\n");
    g_free(text);
    g_object_unref(msg);
}
END_TEST

START_TEST(remove_keeps_charset)
{
    GMimeMessage *msg = load("reply_latin1_8bit.eml");
    int calls = 0;
    ck_assert_int_eq(mime_remove_lines(msg, is_paid_line, &calls), 1);
    char *out = serialize(msg);
    ck_assert(seven_bit(out));
    ck_assert_ptr_nonnull(strstr(out, "charset=iso-8859-1"));
    ck_assert_ptr_nonnull(strstr(out, "quoted-printable"));
    GMimeMessage *re = mime_parse_bytes(out, strlen(out));
    char *plain = mime_body_text(re, "plain");
    ck_assert_str_eq(plain, "Réglé par chèque.\nJean\n");
    g_free(plain);
    g_object_unref(re);
    g_free(out);
    g_object_unref(msg);
}
END_TEST

START_TEST(remove_nothing_or_signed)
{
    GMimeMessage *msg = load("plain_ascii.eml");
    int calls = 0;
    ck_assert_int_eq(mime_remove_lines(msg, is_paid_line, &calls), 0);
    ck_assert_int_gt(calls, 0);
    g_object_unref(msg);
    msg = load("safety_signed.eml");
    calls = 0;
    ck_assert_int_eq(mime_remove_lines(msg, is_paid_line, &calls), 0);
    ck_assert_int_eq(calls, 0);
    g_object_unref(msg);
}
END_TEST

START_TEST(html_hostile)
{
    static const char *const bodies[] = {
        "<", "<<<<<<<", "<!--", "<style>", "&#;&#x;&#99999999999;&#0;&amp", "<div>#payée",
        "<p>a<br/>#payee<br>b</p>", "<head><title>#payee</title></head><body>#PAYEE</body>",
    };
    static const char *const after[] = {
        NULL, NULL, NULL, NULL, NULL, "<div>\n", "<p>a<br/>b</p>\n",
        "<head><title>#payee</title></head><body></body>\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        char *raw = g_strdup_printf("Content-Type: text/html; charset=utf-8\n\n%s\n", bodies[i]);
        GMimeMessage *msg = mime_parse_bytes(raw, strlen(raw));
        char **lines = mime_own_lines(msg);
        g_strfreev(lines);
        int calls = 0;
        int n = mime_remove_lines(msg, is_paid_line, &calls);
        if (i >= 5) {
            ck_assert_int_eq(n, 1);
            char *html = mime_body_text(msg, "html");
            ck_assert_str_eq(html, after[i]);
            g_free(html);
        }
        g_object_unref(msg);
        g_free(raw);
    }
}
END_TEST

/* Every corpus message: reading own lines and removing never crash, and an edited message
 * still parses and dsn_parse never fails on it. */
START_TEST(corpus_all_messages)
{
    char *mail = corpus_path("mail", NULL);
    GDir *d = g_dir_open(mail, 0, NULL);
    ck_assert_ptr_nonnull(d);
    const char *name;
    int seen = 0;
    while ((name = g_dir_read_name(d))) {
        char *path = g_build_filename(mail, name, NULL);
        if (!g_str_has_suffix(name, ".eml") || !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
            g_free(path);
            continue;
        }
        size_t len;
        char *data = read_file_or_die(path, &len);
        GMimeMessage *msg = mime_parse_bytes(data, len);
        if (msg) {
            dsn_report r;
            dsn_report_init(&r);
            dsn_parse(msg, &r);
            dsn_report_clear(&r);
            g_strfreev(mime_own_lines(msg));
            int calls = 0;
            mime_remove_lines(msg, is_paid_line, &calls);
            char *out = serialize(msg);
            GMimeMessage *re = mime_parse_bytes(out, strlen(out));
            ck_assert_msg(re != NULL, "%s: no longer parses", name);
            g_object_unref(re);
            g_free(out);
            g_object_unref(msg);
            seen++;
        }
        g_free(data);
        g_free(path);
    }
    g_dir_close(d);
    g_free(mail);
    ck_assert_int_gt(seen, 0);
}
END_TEST

static Suite *dsn_suite(void)
{
    Suite *s = suite_create("dsn");
    gboolean corpus = corpus_present("test_dsn corpus_office365, corpus_all_messages");
    TCase *tc = tcase_create("dsn");
    tcase_add_test(tc, postfix_report);
    tcase_add_test(tc, headers_only_report);
    tcase_add_test(tc, delay_is_not_failure);
    tcase_add_test(tc, qmail_bounce);
    tcase_add_test(tc, ordinary_mail_is_no_bounce);
    if (corpus)
        tcase_add_test(tc, corpus_office365);
    tcase_add_test(tc, status_fields_hostile);
    tcase_add_test(tc, hostile_messages);
    suite_add_tcase(s, tc);
    TCase *lines = tcase_create("own-lines");
    tcase_add_test(lines, own_lines_stop_at_quote);
    tcase_add_test(lines, remove_command_plain_and_html);
    tcase_add_test(lines, remove_bottom_posted);
    tcase_add_test(lines, remove_keeps_charset);
    tcase_add_test(lines, remove_nothing_or_signed);
    tcase_add_test(lines, html_hostile);
    if (corpus)
        tcase_add_test(lines, corpus_all_messages);
    suite_add_tcase(s, lines);
    return s;
}

int main(void)
{
    g_mime_init();
    int failed = testutil_run(dsn_suite());
    g_mime_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
