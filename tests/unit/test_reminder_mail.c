/*
 * test_reminder_mail — one reminder written as the artisan, parsed back with gmime: From,
 * To (the invoice's recipients but the artisan, once each, else the client), Cc, "Re:"
 * subject, In-Reply-To/References, deterministic Message-ID, the signed "reminder" marker,
 * the link once in each body, the QR inline beside the html; the artisan's own templates
 * and payment block (a broken or refused one falls back to the default); refusals (no
 * recipient, link key gone, an unusable address); hostile fields neutralised; and
 * reglo-milter's view of the result: already processed, marker removed, nothing else
 * touched.
 *
 * Runs from the repository root (the shipped templates/).
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "reminder_mail.h"
#include "rewrite.h"
#include "token.h"
#include "testutil.h"

#define KEY "k1 0123456789abcdefghijklmnopqrstuvwxyzABCD\n"
#define ARTISAN "jean@plomberie.example"
#define CLIENT "claire@client.example"

static char *tmpdir;
static reglo_conf *conf;
static keyring *keys;
static reminder_writer writer;

static char *write_file(const char *name, const char *text, int mode)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    ck_assert_int_eq(g_chmod(path, mode), 0);
    return path;
}

static void setup(void)
{
    tmpdir = g_dir_make_tmp("test_reminder_mail-XXXXXX", NULL);
    char *kpath = write_file("link.key", KEY, 0600);
    char *text = g_strdup_printf("gateway { public_url = \"https://pay.example.fr\" }\n"
                                 "templates { dir = \"templates\" }\n"
                                 "secrets { link_key_file = \"%s\" }\n", kpath);
    char *cpath = write_file("reglo.conf", text, 0600);
    char *err = NULL;
    conf = conf_load(cpath, &err);
    ck_assert_msg(conf != NULL, "%s", err ? err : "?");
    keys = keyring_load(kpath, &err);
    ck_assert_msg(keys != NULL, "%s", err ? err : "?");
    writer = (reminder_writer) { conf, keys, tmpl_set_new(conf->templates_dir) };
    g_unlink(kpath);
    g_unlink(cpath);
    g_free(kpath);
    g_free(cpath);
    g_free(text);
}

static void teardown(void)
{
    tmpl_set_free(writer.files);
    keyring_free(keys);
    conf_free(conf);
    g_rmdir(tmpdir);
    g_free(tmpdir);
}

static const char *const rcpts[] = { CLIENT, "Jean@Plomberie.example", "compta@client.example",
                                     "CLAIRE@client.example", NULL };
static const char *const earlier[] = { "reminder-42-7@plomberie.example", NULL };

static reminder_invoice invoice(void)
{
    reminder_invoice inv = {
        .invoice_id = 42, .step = 15, .number = "F-2030-0042", .amount_due_minor = 123456,
        .currency = "EUR", .issue_date = "2030-01-02", .due_date = "2030-02-01",
        .sent_date = "2030-01-07", .days_overdue = 6, .client_email = CLIENT,
        .recipients = rcpts, .subject = "RE: Re: Facture F-2030-0042",
        .message_id = "inv-42@plomberie.example", .earlier = earlier, .key_id = "k1",
        .artisan_email = ARTISAN, .artisan_name = "Plomberie Dupont", .locale = "fr",
    };
    return inv;
}

static GMimeMessage *parse(const reminder_mail *m)
{
    GMimeMessage *msg = mime_parse_bytes(m->data, m->len);
    ck_assert_ptr_nonnull(msg);
    return msg;
}

static const char *header(GMimeMessage *msg, const char *name)
{
    return g_mime_object_get_header(GMIME_OBJECT(msg), name);
}

static char *link_of(gint64 id)
{
    char *token = token_derive(keys, "k1", id);
    char *link = g_strdup_printf("https://pay.example.fr/p/%s", token);
    g_free(token);
    return link;
}

static int count(const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static reminder_mail build_ok(const reminder_invoice *inv, const reminder_templates *own)
{
    reminder_mail m;
    char *err = NULL;
    ck_assert_msg(reminder_mail_build(&writer, inv, own, &m, &err), "build: %s",
                  err ? err : "?");
    ck_assert_ptr_null(err);
    return m;
}

static char *build_fails(const reminder_invoice *inv)
{
    reminder_mail m;
    char *err = NULL;
    ck_assert(!reminder_mail_build(&writer, inv, NULL, &m, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(m.data);
    return err;
}

START_TEST(test_message_id)
{
    char *id = reminder_message_id(42, 7, "jean@Plomberie.EXAMPLE");
    ck_assert_str_eq(id, "reminder-42-7@plomberie.example");
    g_free(id);
    id = reminder_message_id(42, -3, ARTISAN);
    ck_assert_str_eq(id, "reminder-42-m3@plomberie.example");
    g_free(id);
    ck_assert_ptr_null(reminder_message_id(1, 7, "nodomain"));
    ck_assert_ptr_null(reminder_message_id(1, 7, "x@"));
    ck_assert_ptr_null(reminder_message_id(1, 7, NULL));
}
END_TEST

START_TEST(test_headers)
{
    reminder_invoice inv = invoice();
    reminder_mail m = build_ok(&inv, NULL);
    ck_assert_str_eq(m.message_id, "reminder-42-15@plomberie.example");
    ck_assert_str_eq(m.to[0], CLIENT);
    ck_assert_str_eq(m.to[1], "compta@client.example");
    ck_assert_ptr_null(m.to[2]);
    ck_assert_str_eq(m.envelope[2], ARTISAN);
    ck_assert_ptr_null(m.envelope[3]);
    GMimeMessage *msg = parse(&m);
    ck_assert_str_eq(header(msg, "From"), "Plomberie Dupont <" ARTISAN ">");
    ck_assert_str_eq(header(msg, "To"), CLIENT ", compta@client.example");
    ck_assert_str_eq(header(msg, "Cc"), ARTISAN);
    ck_assert_str_eq(g_mime_message_get_subject(msg), "Re: Facture F-2030-0042");
    ck_assert_str_eq(header(msg, "In-Reply-To"), "<inv-42@plomberie.example>");
    ck_assert_str_eq(header(msg, "References"),
                     "<inv-42@plomberie.example> <reminder-42-7@plomberie.example>");
    ck_assert_str_eq(g_mime_message_get_message_id(msg), m.message_id);
    char kind[16];
    gint64 id = 0;
    ck_assert(token_marker_verify(keys, header(msg, REWRITE_MARKER_HEADER), m.message_id, kind,
                                  &id));
    ck_assert_str_eq(kind, "reminder");
    ck_assert_int_eq(id, 42);
    g_object_unref(msg);
    reminder_mail_clear(&m);
}
END_TEST

START_TEST(test_bodies)
{
    reminder_invoice inv = invoice();
    reminder_mail m = build_ok(&inv, NULL);
    GMimeMessage *msg = parse(&m);
    char *link = link_of(42);
    char *text = mime_body_text(msg, "plain"), *html = mime_body_text(msg, "html");
    ck_assert_int_eq(count(text, link), 1);
    ck_assert(strstr(text, "F-2030-0042") && strstr(text, "1\u202f234,56\u00a0€"));
    ck_assert(strstr(text, "du 02/01/2030") && strstr(text, "échéance : 01/02/2030"));
    ck_assert(strstr(text, "dépassée de 6 jour(s)"));
    ck_assert(g_str_has_suffix(g_strchomp(text), "Plomberie Dupont"));
    ck_assert_int_eq(count(html, link), 1);
    ck_assert(strstr(html, "src=\"cid:qr-F-2030-0042@reglo.invalid\""));
    /* One image: the QR, inline, with the Content-ID the html names. */
    int images = 0;
    GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(msg));
    do {
        GMimeObject *part = g_mime_part_iter_get_current(it);
        GMimeContentType *ct = g_mime_object_get_content_type(part);
        if (g_mime_content_type_is_type(ct, "image", "png")) {
            images++;
            ck_assert_str_eq(g_mime_object_get_content_id(part), "qr-F-2030-0042@reglo.invalid");
        }
    } while (g_mime_part_iter_next(it));
    g_mime_part_iter_free(it);
    ck_assert_int_eq(images, 1);
    /* 7-bit clean on the wire. */
    for (size_t i = 0; i < m.len; i++)
        ck_assert_msg((unsigned char) m.data[i] < 0x80, "8-bit byte at %zu", i);
    g_free(text);
    g_free(html);
    g_free(link);
    g_object_unref(msg);
    reminder_mail_clear(&m);
}
END_TEST

START_TEST(test_english_and_first_reminder)
{
    reminder_invoice inv = invoice();
    inv.locale = "en";
    inv.earlier = NULL;
    inv.step = 7;
    inv.days_overdue = 0;
    inv.subject = "";
    reminder_mail m = build_ok(&inv, NULL);
    GMimeMessage *msg = parse(&m);
    ck_assert_str_eq(g_mime_message_get_subject(msg), "Re: Invoice F-2030-0042");
    ck_assert_str_eq(header(msg, "References"), "<inv-42@plomberie.example>");
    char *text = mime_body_text(msg, "plain");
    ck_assert(strstr(text, "Unless we are mistaken") && !strstr(text, "ago"));
    g_free(text);
    g_object_unref(msg);
    reminder_mail_clear(&m);
}
END_TEST

START_TEST(test_recipient_fallbacks)
{
    reminder_invoice inv = invoice();
    inv.recipients = NULL;
    reminder_mail m = build_ok(&inv, NULL);
    ck_assert_str_eq(m.to[0], CLIENT);
    ck_assert_ptr_null(m.to[1]);
    reminder_mail_clear(&m);

    const char *only_artisan[] = { ARTISAN, "", NULL };
    inv.recipients = only_artisan;
    inv.client_email = "";
    char *err = build_fails(&inv);
    ck_assert(strstr(err, "no recipient"));
    g_free(err);

    /* No thread to join, or an invoice Message-ID no header can carry: no In-Reply-To, no
     * References (or only the earlier reminders); still sent. */
    inv = invoice();
    inv.message_id = "";
    inv.earlier = NULL;
    m = build_ok(&inv, NULL);
    GMimeMessage *msg = parse(&m);
    ck_assert_ptr_null(header(msg, "In-Reply-To"));
    ck_assert_ptr_null(header(msg, "References"));
    g_object_unref(msg);
    reminder_mail_clear(&m);
    inv = invoice();
    inv.message_id = "\"odd id\"@mua.example>\r\nX-Evil: 1";
    m = build_ok(&inv, NULL);
    msg = parse(&m);
    ck_assert_ptr_null(header(msg, "In-Reply-To"));
    ck_assert_ptr_null(header(msg, "X-Evil"));
    ck_assert_str_eq(header(msg, "References"), "<reminder-42-7@plomberie.example>");
    g_object_unref(msg);
    reminder_mail_clear(&m);

    /* One good address among bad ones: that one. */
    const char *mixed[] = { "a b@client.example", "ok@client.example", NULL };
    inv = invoice();
    inv.recipients = mixed;
    m = build_ok(&inv, NULL);
    ck_assert_str_eq(m.to[0], "ok@client.example");
    ck_assert_ptr_null(m.to[1]);
    reminder_mail_clear(&m);
}
END_TEST

START_TEST(test_refusals)
{
    reminder_invoice inv = invoice();
    inv.key_id = "gone";
    char *err = build_fails(&inv);
    ck_assert(strstr(err, "link key 'gone'"));
    g_free(err);

    /* Addresses a header cannot carry are left out; none left: no recipient. */
    const char *bad[] = { "a b@client.example", "\"quoted\"@client.example", "x@y\r\nBcc: z@z",
                          NULL };
    inv = invoice();
    inv.recipients = bad;
    inv.client_email = "still bad@client.example";
    err = build_fails(&inv);
    ck_assert(strstr(err, "no recipient"));
    g_free(err);

    inv = invoice();
    inv.artisan_email = "no-domain";
    err = build_fails(&inv);
    g_free(err);

    /* The template files are not there: said, not sent empty. */
    tmpl_set *files = writer.files;
    writer.files = tmpl_set_new("/nonexistent/templates");
    inv = invoice();
    err = build_fails(&inv);
    ck_assert(strstr(err, "reminder.subject") && strstr(err, "missing"));
    g_free(err);
    tmpl_set_free(writer.files);
    writer.files = files;
}
END_TEST

START_TEST(test_own_templates)
{
    reminder_invoice inv = invoice();
    reminder_templates own = { .subject = "Rappel : facture {{number}}",
                               .text = "Merci de régler {{amount}}.\n" };
    reminder_mail m = build_ok(&inv, &own);
    GMimeMessage *msg = parse(&m);
    ck_assert_str_eq(g_mime_message_get_subject(msg), "Rappel : facture F-2030-0042");
    char *text = mime_body_text(msg, "plain"), *html = mime_body_text(msg, "html");
    ck_assert(strstr(text, "Merci de régler 1\u202f234,56\u00a0€."));
    ck_assert(!strstr(text, "Sauf erreur"));
    ck_assert(strstr(html, "Sauf erreur"));        /* no own html: the default */
    g_free(text);
    g_free(html);
    g_object_unref(msg);
    reminder_mail_clear(&m);

    /* A broken template of the artisan's: the default instead, not a lost reminder. */
    reminder_templates broken = { .subject = "{{#number}}", .text = "{{/oops}}",
                                  .html = "<p>{{{amount}}</p>" };
    m = build_ok(&inv, &broken);
    msg = parse(&m);
    ck_assert_str_eq(g_mime_message_get_subject(msg), "Re: Facture F-2030-0042");
    text = mime_body_text(msg, "plain");
    ck_assert(strstr(text, "Sauf erreur"));
    g_free(text);
    g_object_unref(msg);
    reminder_mail_clear(&m);
}
END_TEST

/* The artisan's own payment block replaces the default one in the reminder; one the checks
 * refuse (no link) is replaced by the default. */
START_TEST(test_own_block)
{
    reminder_invoice inv = invoice();
    reminder_templates own = {
        .block_text = "Mon bloc : {{amount}} sur {{link}}\n",
        .block_html = "<p class=\"mon-bloc\"><a href=\"{{link}}\">Régler {{number}}</a>"
                      "<img src=\"cid:{{qr_cid}}\"></p>",
    };
    reminder_mail m = build_ok(&inv, &own);
    GMimeMessage *msg = parse(&m);
    char *link = link_of(42);
    char *text = mime_body_text(msg, "plain"), *html = mime_body_text(msg, "html");
    char *want = g_strdup_printf("Mon bloc : 1\u202f234,56\u00a0€ sur %s", link);
    ck_assert_msg(strstr(text, want), "%s", text);
    ck_assert(!strstr(text, "Payez en ligne depuis votre banque"));
    ck_assert(strstr(text, "Sauf erreur"));         /* the reminder's text is the default */
    ck_assert_int_eq(count(text, link), 1);
    ck_assert(strstr(html, "<p class=\"mon-bloc\">") && strstr(html, "Régler F-2030-0042"));
    ck_assert(!strstr(html, "depuis ma banque"));
    ck_assert_int_eq(count(html, link), 1);
    ck_assert(strstr(html, "cid:qr-F-2030-0042@reglo.invalid"));
    g_free(want);
    g_free(text);
    g_free(html);
    g_object_unref(msg);
    reminder_mail_clear(&m);

    reminder_templates refused = { .block_text = "Mon bloc sans lien {{amount}}\n",
                                   .block_html = "<p>{{{number}}} {{link}}</p>" };
    m = build_ok(&inv, &refused);
    msg = parse(&m);
    text = mime_body_text(msg, "plain");
    html = mime_body_text(msg, "html");
    ck_assert(!strstr(text, "Mon bloc") && strstr(text, "Payez en ligne depuis votre banque"));
    ck_assert(strstr(html, "depuis ma banque"));
    ck_assert_int_eq(count(text, link), 1);
    g_free(text);
    g_free(html);
    g_free(link);
    g_object_unref(msg);
    reminder_mail_clear(&m);
}
END_TEST

START_TEST(test_hostile_fields)
{
    reminder_invoice inv = invoice();
    inv.subject = "Facture\r\nBcc: evil@attacker.example";
    inv.artisan_name = "Dupont\r\nX-Evil: 1";
    inv.number = "F<1>\r\n\"x\"";
    reminder_templates own = { .subject = "{{{original_subject}}}", .html = "<b>{{number}}</b>" };
    reminder_mail m = build_ok(&inv, &own);
    GMimeMessage *msg = parse(&m);
    ck_assert_ptr_null(header(msg, "Bcc"));
    ck_assert_ptr_null(header(msg, "X-Evil"));
    char *head = g_strndup(m.data, (gsize) (strstr(m.data, "\n\n") - m.data));
    ck_assert(!strstr(head, "\nBcc:") && !strstr(head, "\nX-Evil"));
    g_free(head);
    char *html = mime_body_text(msg, "html");
    ck_assert(strstr(html, "<b>F&lt;1&gt;"));       /* html-escaped */
    g_free(html);
    for (int i = 0; m.to[i]; i++)
        ck_assert(!strchr(m.to[i], '\n'));
    g_object_unref(msg);
    reminder_mail_clear(&m);
}
END_TEST

/* What reglo-milter does with it: already processed, the marker goes, the body stays. */
START_TEST(test_milter_view)
{
    reminder_invoice inv = invoice();
    reminder_mail m = build_ok(&inv, NULL);
    GMimeMessage *msg = parse(&m);
    char *before = mime_body_text(msg, "plain");
    artisan sender = { .id = 1, .email = ARTISAN, .name = "Plomberie Dupont", .locale = "fr",
                       .payment_enabled = TRUE, .link_default = TRUE };
    rewrite_ctx ctx = { .conf = conf, .keys = keys, .sender = &sender, .queue_id = "TEST" };
    rewrite_result res;
    rewrite_message(&ctx, msg, &res);
    ck_assert_str_eq(res.decision, "already-processed");
    ck_assert_int_eq(res.action, REWRITE_CHANGED);
    ck_assert(!res.body_changed);
    ck_assert_ptr_null(header(msg, REWRITE_MARKER_HEADER));
    char *after = mime_body_text(msg, "plain");
    ck_assert_str_eq(before, after);
    g_free(before);
    g_free(after);
    rewrite_result_clear(&res);
    g_object_unref(msg);
    reminder_mail_clear(&m);
}
END_TEST

static Suite *reminder_mail_suite(void)
{
    Suite *s = suite_create("reminder_mail");
    TCase *tc = tcase_create("build");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_message_id);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_bodies);
    tcase_add_test(tc, test_english_and_first_reminder);
    tcase_add_test(tc, test_recipient_fallbacks);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_own_templates);
    tcase_add_test(tc, test_own_block);
    tcase_add_test(tc, test_hostile_fields);
    tcase_add_test(tc, test_milter_view);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    g_mime_init();
    int failed = testutil_run(reminder_mail_suite());
    g_mime_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
