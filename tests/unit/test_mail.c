/*
 * test_mail — compose, parse back with gmime, compare headers and decoded bodies; 7-bit output;
 * hostile fields refused or neutralised.
 */
#include <check.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"
#include "testutil.h"

#define SUBJECT "Facture n° 12 — impayée"
#define TEXT    "Bonjour Élodie,\n\nLa facture n° 12 (1 234,56 €) reste à régler : merci !\n"
#define HTML    "<p>Bonjour Élodie,</p><p>La facture n° 12 reste à régler.</p>\n"

static const char *const to[] = { "client@example.org", NULL };
static const char *const cc[] = { "artisan@example.com", "compta@example.com", NULL };
static const char *const refs[] = { "inv-12@example.com", "reply-1@example.org", NULL };

static mail_spec base_spec(void)
{
    mail_spec s = {
        .from = "artisan@example.com",
        .from_name = "Plomberie Müller",
        .to = to,
        .cc = cc,
        .subject = SUBJECT,
        .text = TEXT,
        .in_reply_to = "inv-12@example.com",
        .references = refs,
        .message_id = "rem-1@example.com",
    };
    return s;
}

static GMimeMessage *parse(const char *data, size_t len)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    ck_assert_ptr_nonnull(msg);
    return msg;
}

static void assert_7bit(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        ck_assert_msg((unsigned char)data[i] < 0x80, "8-bit byte at %zu", i);
}

static void assert_mailbox(InternetAddressList *list, int i, const char *addr)
{
    InternetAddress *a = internet_address_list_get_address(list, i);
    ck_assert(INTERNET_ADDRESS_IS_MAILBOX(a));
    ck_assert_str_eq(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)), addr);
}

static void assert_text(GMimeObject *part, const char *subtype, const char *expect)
{
    ck_assert(GMIME_IS_TEXT_PART(part));
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    ck_assert(g_mime_content_type_is_type(ct, "text", subtype));
    ck_assert_str_eq(g_mime_object_get_content_type_parameter(part, "charset"), "utf-8");
    char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    ck_assert_str_eq(text, expect);
    g_free(text);
}

START_TEST(test_text_message)
{
    mail_spec spec = base_spec();
    size_t len = 0;
    char *out = mail_compose(&spec, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, strlen(out));
    assert_7bit(out, len);
    ck_assert_ptr_null(strchr(out, '\r'));
    ck_assert(g_regex_match_simple("^Subject: .*=\\?utf-8\\?", out,
                                   G_REGEX_MULTILINE | G_REGEX_CASELESS, 0));
    ck_assert(g_regex_match_simple("^From: .*=\\?utf-8\\?", out,
                                   G_REGEX_MULTILINE | G_REGEX_CASELESS, 0));

    GMimeMessage *msg = parse(out, len);
    InternetAddressList *from = g_mime_message_get_from(msg);
    ck_assert_int_eq(internet_address_list_length(from), 1);
    assert_mailbox(from, 0, "artisan@example.com");
    ck_assert_str_eq(internet_address_get_name(internet_address_list_get_address(from, 0)),
                     "Plomberie Müller");
    InternetAddressList *tl = g_mime_message_get_to(msg);
    ck_assert_int_eq(internet_address_list_length(tl), 1);
    assert_mailbox(tl, 0, "client@example.org");
    InternetAddressList *cl = g_mime_message_get_cc(msg);
    ck_assert_int_eq(internet_address_list_length(cl), 2);
    assert_mailbox(cl, 0, "artisan@example.com");
    assert_mailbox(cl, 1, "compta@example.com");
    ck_assert_str_eq(g_mime_message_get_subject(msg), SUBJECT);
    ck_assert_str_eq(g_mime_message_get_message_id(msg), "rem-1@example.com");
    ck_assert_ptr_nonnull(g_mime_message_get_date(msg));

    GMimeObject *obj = GMIME_OBJECT(msg);
    GMimeReferences *irt = g_mime_references_parse(NULL, g_mime_object_get_header(obj,
                                                                                  "In-Reply-To"));
    ck_assert_int_eq(g_mime_references_length(irt), 1);
    ck_assert_str_eq(g_mime_references_get_message_id(irt, 0), "inv-12@example.com");
    g_mime_references_free(irt);
    GMimeReferences *r = g_mime_references_parse(NULL, g_mime_object_get_header(obj,
                                                                                "References"));
    ck_assert_int_eq(g_mime_references_length(r), 2);
    ck_assert_str_eq(g_mime_references_get_message_id(r, 0), "inv-12@example.com");
    ck_assert_str_eq(g_mime_references_get_message_id(r, 1), "reply-1@example.org");
    g_mime_references_free(r);

    GMimeObject *body = g_mime_message_get_mime_part(msg);
    assert_text(body, "plain", TEXT);
    ck_assert_int_eq(g_mime_part_get_content_encoding(GMIME_PART(body)),
                     GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    g_object_unref(msg);
    g_free(out);
}
END_TEST

START_TEST(test_html_alternative)
{
    mail_spec spec = base_spec();
    spec.html = HTML;
    spec.cc = NULL;
    spec.references = NULL;
    spec.in_reply_to = NULL;
    spec.message_id = NULL;
    const mail_header extra[] = {
        { "X-Reglo", "reminder; id=12; mac=abc" },
        { "X-Note", "réglée\r\nBcc: victim@example.net" },
        { NULL, NULL },
    };
    spec.headers = extra;
    size_t len = 0;
    char *out = mail_compose(&spec, &len);
    ck_assert_ptr_nonnull(out);
    assert_7bit(out, len);
    GMimeMessage *msg = parse(out, len);
    GMimeObject *obj = GMIME_OBJECT(msg);

    GMimeObject *body = g_mime_message_get_mime_part(msg);
    ck_assert(GMIME_IS_MULTIPART(body));
    ck_assert(g_mime_content_type_is_type(g_mime_object_get_content_type(body), "multipart",
                                          "alternative"));
    ck_assert_int_eq(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);
    assert_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0), "plain", TEXT);
    assert_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1), "html", HTML);

    const char *id = g_mime_message_get_message_id(msg);
    ck_assert(g_regex_match_simple("^[0-9a-f]{32}@example\\.com$", id, 0, 0));
    ck_assert_ptr_null(g_mime_object_get_header(obj, "In-Reply-To"));
    ck_assert_int_eq(internet_address_list_length(g_mime_message_get_cc(msg)), 0);
    ck_assert_str_eq(g_mime_object_get_header(obj, "X-Reglo"), "reminder; id=12; mac=abc");
    /* Line breaks in a field are flattened: no header can be smuggled in. */
    ck_assert_ptr_null(g_mime_object_get_header(obj, "Bcc"));
    ck_assert_int_eq(internet_address_list_length(g_mime_message_get_bcc(msg)), 0);
    char *note = g_mime_utils_header_decode_text(NULL, g_mime_object_get_header(obj, "X-Note"));
    ck_assert_str_eq(note, "réglée  Bcc: victim@example.net");
    g_free(note);
    g_object_unref(msg);
    g_free(out);
}
END_TEST

START_TEST(test_ascii_and_long_lines)
{
    mail_spec spec = base_spec();
    spec.subject = "Invoice 12\r\nBcc: x@y.z";
    char *longline = g_strnfill(3000, 'x');
    char *text = g_strconcat("Plain ASCII.\n", longline, "\n", NULL);
    spec.text = text;
    size_t len = 0;
    char *out = mail_compose(&spec, &len);
    ck_assert_ptr_nonnull(out);
    assert_7bit(out, len);
    char **lines = g_strsplit(out, "\n", -1);
    for (char **p = lines; *p; p++)
        ck_assert_uint_le(strlen(*p), 998);
    g_strfreev(lines);
    GMimeMessage *msg = parse(out, len);
    ck_assert_str_eq(g_mime_message_get_subject(msg), "Invoice 12  Bcc: x@y.z");
    ck_assert_ptr_null(g_mime_object_get_header(GMIME_OBJECT(msg), "Bcc"));
    assert_text(g_mime_message_get_mime_part(msg), "plain", text);
    g_object_unref(msg);
    g_free(out);

    spec.text = "Short ASCII.\n";
    out = mail_compose(&spec, &len);
    msg = parse(out, len);
    GMimePart *part = GMIME_PART(g_mime_message_get_mime_part(msg));
    ck_assert_int_eq(g_mime_part_get_content_encoding(part), GMIME_CONTENT_ENCODING_7BIT);
    g_object_unref(msg);
    g_free(out);
    g_free(text);
    g_free(longline);
}
END_TEST

START_TEST(test_refused)
{
    const char *const bad_to[] = { "client@example.org", "a b@example.org", NULL };
    const char *const no_to[] = { NULL };
    const char *const bad_refs[] = { "ok@x", "<bracketed@x>", NULL };
    const mail_header bad_h1[] = { { "Content-Type", "text/html" }, { NULL, NULL } };
    const mail_header bad_h2[] = { { "X Bad", "v" }, { NULL, NULL } };
    const mail_header bad_h3[] = { { "X-Ok", NULL }, { NULL, NULL } };
    size_t len;
    mail_spec s;

#define REFUSED(field, value) \
    do { s = base_spec(); s.field = value; ck_assert_ptr_null(mail_compose(&s, &len)); } while (0)
    REFUSED(from, NULL);
    REFUSED(from, "no-at-sign");
    REFUSED(from, "a@b@c");
    REFUSED(from, "a@b>\r\nRCPT TO:<x@y");
    REFUSED(from, "\"quoted\"@example.com");
    REFUSED(to, NULL);
    REFUSED(to, no_to);
    REFUSED(to, bad_to);
    REFUSED(cc, bad_to);
    REFUSED(text, NULL);
    REFUSED(text, "bad \xc3\x28 utf-8");
    REFUSED(html, "bad \xff");
    REFUSED(in_reply_to, "<x@y>");
    REFUSED(in_reply_to, "a b@c");
    REFUSED(message_id, "");
    REFUSED(references, bad_refs);
    REFUSED(headers, bad_h1);
    REFUSED(headers, bad_h2);
    REFUSED(headers, bad_h3);
#undef REFUSED
    ck_assert_ptr_null(mail_compose(NULL, &len));
}
END_TEST

START_TEST(test_message_id_new)
{
    char *a = mail_message_id_new("artisan@example.com");
    char *b = mail_message_id_new("artisan@example.com");
    ck_assert(g_regex_match_simple("^[0-9a-f]{32}@example\\.com$", a, 0, 0));
    ck_assert_str_ne(a, b);
    ck_assert_ptr_null(mail_message_id_new("no-domain"));
    ck_assert_ptr_null(mail_message_id_new("x@"));
    ck_assert_ptr_null(mail_message_id_new(NULL));
    g_free(a);
    g_free(b);
}
END_TEST

static Suite *mail_suite(void)
{
    Suite *s = suite_create("mail");
    TCase *tc = tcase_create("mail");
    tcase_add_test(tc, test_text_message);
    tcase_add_test(tc, test_html_alternative);
    tcase_add_test(tc, test_ascii_and_long_lines);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_message_id_new);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    g_mime_init();
    int failed = testutil_run(mail_suite());
    g_mime_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
