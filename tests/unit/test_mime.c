/*
 * test_mime — lib/mime.c on the project fixtures (tests/fixtures/mail/): safety
 * classification, body discovery, block injection with charsets, encodings, flowed text,
 * the QR image placement, and the invariant that every other part decodes unchanged.
 */
#include <check.h>
#include <stdlib.h>

#include "mime.h"
#include "mime_testutil.h"
#include "testutil.h"

#define FIXTURES "tests/fixtures/mail/"

static GMimeMessage *load(const char *name)
{
    char *path = g_strconcat(FIXTURES, name, NULL);
    size_t len;
    char *data = read_file_or_die(path, &len);
    GMimeMessage *msg = mt_parse(data, len);
    g_free(data);
    g_free(path);
    ck_assert_msg(msg != NULL, "%s does not parse", name);
    return msg;
}

/* Inject into a fixture, run the whole rewrite check, return the re-parsed output. */
static GMimeMessage *inject(const char *name, int expect_parts, mt_report *r)
{
    GMimeMessage *msg = load(name);
    int n = -1;
    char *err = mt_inject_and_check(msg, TRUE, NULL, &n, r);
    ck_assert_msg(err == NULL, "%s: %s", name, err ? err : "");
    ck_assert_msg(n == expect_parts, "%s: %d parts injected, expected %d", name, n, expect_parts);
    char *out = mt_serialize(msg);
    GMimeMessage *re = mt_parse(out, strlen(out));
    g_free(out);
    g_object_unref(msg);
    return re;
}

static const char *top_type(GMimeMessage *msg)
{
    static char buf[64];
    char *t = mt_type_of(g_mime_message_get_mime_part(msg));
    g_strlcpy(buf, t, sizeof buf);
    g_free(t);
    return buf;
}

static GMimeObject *first_of_type(GMimeObject *obj, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (ct && g_mime_content_type_is_type(ct, type, subtype))
        return obj;
    if (!GMIME_IS_MULTIPART(obj))
        return NULL;
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
        GMimeObject *found = first_of_type(g_mime_multipart_get_part(mp, i), type, subtype);
        if (found)
            return found;
    }
    return NULL;
}

static GMimeObject *find_part(GMimeMessage *msg, const char *type, const char *subtype)
{
    GMimeObject *p = first_of_type(g_mime_message_get_mime_part(msg), type, subtype);
    ck_assert_msg(p != NULL, "no %s/%s part", type, subtype);
    return p;
}

static const char *param(GMimeObject *part, const char *name)
{
    return g_mime_object_get_content_type_parameter(part, name);
}

static GMimeContentEncoding cte(GMimeObject *part)
{
    return g_mime_part_get_content_encoding(GMIME_PART(part));
}

/* ------------------------------------------------------------------ plain text */

START_TEST(plain_ascii_becomes_utf8_with_inline_qr)
{
    mt_report r;
    GMimeMessage *re = inject("plain_ascii.eml", 1, &r);
    ck_assert_int_eq(r.plain_edited, 1);
    ck_assert_str_eq(top_type(re), "multipart/mixed");
    GMimeObject *plain = find_part(re, "text", "plain");
    ck_assert_str_eq(param(plain, "charset"), "utf-8");
    ck_assert_int_eq(cte(plain), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    GMimeObject *img = find_part(re, "image", "png");
    ck_assert_str_eq(g_mime_object_get_content_id(img), MT_QR_CID);
    ck_assert_str_eq(g_mime_object_get_disposition(img), "inline");
    ck_assert_str_eq(g_mime_part_get_filename(GMIME_PART(img)), "paiement-qr.png");
    ck_assert_ptr_nonnull(g_mime_object_get_header(GMIME_OBJECT(re), "MIME-Version"));
    char *text = mime_body_text(re, "plain");
    ck_assert_ptr_nonnull(strstr(text, "120,00 €"));
    ck_assert_ptr_nonnull(strstr(text, "Veuillez trouver votre facture."));
    g_free(text);
    g_object_unref(re);
}
END_TEST

START_TEST(plain_without_mime_headers_gets_them)
{
    mt_report r;
    GMimeMessage *re = inject("plain_nomime.eml", 1, &r);
    ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(re), "MIME-Version"), "1.0");
    ck_assert_str_eq(top_type(re), "multipart/mixed");
    ck_assert_str_eq(param(find_part(re, "text", "plain"), "charset"), "utf-8");
    g_object_unref(re);
}
END_TEST

START_TEST(latin1_8bit_converted_to_utf8_when_block_does_not_fit)
{
    /* the block has € which Latin-1 lacks: the part goes to UTF-8, text unchanged */
    mt_report r;
    GMimeMessage *re = inject("plain_latin1_8bit.eml", 1, &r);
    GMimeObject *plain = find_part(re, "text", "plain");
    ck_assert_str_eq(param(plain, "charset"), "utf-8");
    ck_assert_int_eq(cte(plain), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    /* the single part's 8bit CTE went down with it: none left on the new multipart top */
    char *out = mt_serialize(re);
    *strstr(out, "\n\n") = '\0';
    ck_assert_ptr_null(strstr(out, "Content-Transfer-Encoding"));
    ck_assert_ptr_nonnull(strstr(out, "\nContent-Type: multipart/mixed;"));
    g_free(out);
    char *text = mime_body_text(re, "plain");
    ck_assert_ptr_nonnull(strstr(text, "Bonjour Stéphane,\nVoici la facture n° 42"));
    ck_assert_ptr_nonnull(strstr(text, "Cordialement, Hélène\n"));
    g_free(text);
    g_object_unref(re);
}
END_TEST

START_TEST(cp1252_qp_keeps_its_charset)
{
    mt_report r;
    GMimeMessage *re = inject("plain_cp1252_qp.eml", 1, &r);
    GMimeObject *plain = find_part(re, "text", "plain");
    ck_assert_str_eq(param(plain, "charset"), "windows-1252");
    ck_assert_int_eq(cte(plain), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    char *text = mime_body_text(re, "plain");
    ck_assert_ptr_nonnull(strstr(text, "réglez votre facture en ligne (120,00 €)"));
    ck_assert_ptr_nonnull(strstr(text, "Montant dû : 120 € – merci d’avance."));
    g_free(text);
    g_object_unref(re);
}
END_TEST

START_TEST(base64_utf8_stays_base64)
{
    mt_report r;
    GMimeMessage *re = inject("plain_base64_utf8.eml", 1, &r);
    GMimeObject *plain = find_part(re, "text", "plain");
    ck_assert_str_eq(param(plain, "charset"), "utf-8");
    ck_assert_int_eq(cte(plain), GMIME_CONTENT_ENCODING_BASE64);
    g_object_unref(re);
}
END_TEST

START_TEST(format_flowed_block_is_hard_and_stuffed)
{
    mt_report r;
    GMimeMessage *re = inject("plain_flowed.eml", 1, &r);
    GMimeObject *plain = find_part(re, "text", "plain");
    ck_assert_str_eq(param(plain, "format"), "flowed");
    ck_assert_str_eq(param(plain, "delsp"), "yes");
    char *text = mime_body_text(re, "plain");
    /* trailing spaces gone, leading space / '>' / "From " stuffed with one space */
    ck_assert_ptr_nonnull(strstr(text, MT_TEXT_MARK ": réglez votre facture en ligne (120,00 €)\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n   https://pay.example/p/abc\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n >not a quote\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n From the artisan, merci.\n"));
    ck_assert_ptr_nonnull(strstr(text, "This is a flowed paragraph that is \nwrapped"));
    g_free(text);
    g_object_unref(re);
}
END_TEST

/* ------------------------------------------------------------------ html */

START_TEST(alternative_gets_both_blocks_and_related_qr)
{
    mt_report r;
    GMimeMessage *re = inject("alternative.eml", 2, &r);
    ck_assert_int_eq(r.plain_edited, 1);
    ck_assert_int_eq(r.html_edited, 1);
    ck_assert(r.qr_in_related);
    ck_assert_str_eq(top_type(re), "multipart/alternative");
    GMimeObject *rel = find_part(re, "multipart", "related");
    ck_assert_str_eq(param(rel, "type"), "text/html");
    ck_assert_int_eq(g_mime_multipart_get_count(GMIME_MULTIPART(rel)), 2);
    char *html = mime_body_text(re, "html");
    /* after the real <BODY> (quoted '>' in an attribute), not the one in the comment */
    ck_assert_ptr_nonnull(strstr(html, "bgcolor='#ffffff'><table id=\"" MT_HTML_MARK));
    ck_assert_ptr_nonnull(strstr(html, "<!-- <body> in a comment -->"));
    g_free(html);
    g_object_unref(re);
}
END_TEST

START_TEST(existing_related_receives_qr_and_pdf_untouched)
{
    mt_report r;
    GMimeMessage *re = inject("mixed_alt_related_pdf.eml", 2, &r);
    ck_assert(r.qr_in_related);
    GMimeObject *rel = find_part(re, "multipart", "related");
    ck_assert_int_eq(g_mime_multipart_get_count(GMIME_MULTIPART(rel)), 3);
    GMimeObject *html = find_part(re, "text", "html");
    ck_assert_str_eq(param(html, "charset"), "iso-8859-1");
    char *text = mime_body_text(re, "html");
    /* € is not Latin-1: a character reference keeps the part's charset */
    ck_assert_ptr_nonnull(strstr(text, "<body><table id=\"" MT_HTML_MARK));
    ck_assert_ptr_nonnull(strstr(text, "120,00 &#8364;"));
    ck_assert_ptr_nonnull(strstr(text, "R&#233;glez"));
    g_free(text);
    g_object_unref(re);
}
END_TEST

START_TEST(html_only_is_wrapped_in_related)
{
    mt_report r;
    GMimeMessage *re = inject("html_only.eml", 1, &r);
    ck_assert_str_eq(top_type(re), "multipart/related");
    GMimeObject *html = find_part(re, "text", "html");
    ck_assert_ptr_null(param(html, "charset")); /* stays us-ascii, entities for the rest */
    ck_assert_int_eq(cte(html), GMIME_CONTENT_ENCODING_7BIT);
    char *text = mime_body_text(re, "html");
    ck_assert_ptr_nonnull(strstr(text, "<body style=\"margin:0\"><table id=\"" MT_HTML_MARK));
    g_free(text);
    g_object_unref(re);
}
END_TEST

START_TEST(html_insert_points)
{
    static const struct {
        const char *html, *expect;
    } cases[] = {
        {"<HTML lang=fr><p>x</p></HTML>", "<HTML lang=fr><table id="},
        {"<p>no tags</p>", "<table id="},
        {"<html><bodyx><body\n class=\"a\">t", "<body\n class=\"a\"><table id="},
        {"<html><body class='it''s>", "<body class='it''s><table id="},
        {"<!-- unterminated <body>", "<table id="},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *eml = g_strdup_printf("From: a@example.fr\nMIME-Version: 1.0\n"
                                    "Content-Type: text/html; charset=utf-8\n\n%s\n",
                                    cases[i].html);
        GMimeMessage *msg = mt_parse(eml, strlen(eml));
        mime_block b = mt_block();
        ck_assert_int_eq(mime_inject_block(msg, &b), 1);
        char *text = mime_body_text(msg, "html");
        ck_assert_msg(strstr(text, cases[i].expect) != NULL, "case %zu: %s", i, text);
        ck_assert_int_eq(mt_count(text, MT_HTML_MARK), 1);
        g_free(text);
        g_object_unref(msg);
        g_free(eml);
    }
}
END_TEST

/* ------------------------------------------------------------------ what is not a body */

START_TEST(mixed_plain_pdf_appends_qr)
{
    mt_report r;
    GMimeMessage *re = inject("mixed_plain_pdf.eml", 1, &r);
    GMimeMultipart *top = GMIME_MULTIPART(g_mime_message_get_mime_part(re));
    ck_assert_int_eq(g_mime_multipart_get_count(top), 3);
    ck_assert_str_eq(g_mime_object_get_content_id(g_mime_multipart_get_part(top, 2)), MT_QR_CID);
    g_object_unref(re);
}
END_TEST

START_TEST(forwarded_message_is_not_entered)
{
    mt_report r;
    GMimeMessage *re = inject("forward_rfc822.eml", 1, &r);
    GMimeObject *fwd = find_part(re, "message", "rfc822");
    GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(fwd));
    char *inner_text = mt_serialize(inner);
    ck_assert_ptr_null(strstr(inner_text, MT_TEXT_MARK));
    ck_assert_ptr_nonnull(strstr(inner_text, "The forwarded text must stay as it is."));
    g_free(inner_text);
    g_object_unref(re);

    re = inject("forward_only.eml", 0, &r);
    g_object_unref(re);
}
END_TEST

START_TEST(calendar_is_never_a_body)
{
    mt_report r;
    GMimeMessage *re = inject("calendar.eml", 1, &r);
    ck_assert_int_eq(r.plain_edited, 1);
    g_object_unref(re);
    re = inject("calendar_only.eml", 0, &r);
    g_object_unref(re);
}
END_TEST

START_TEST(attachment_is_not_a_body)
{
    static const char *const emls[] = {
        "From: a@x\nMIME-Version: 1.0\nContent-Type: text/plain\n"
        "Content-Disposition: attachment\n\nx\n",
        /* a named file stays the file, even shown inline */
        "From: a@x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
        "Content-Type: text/html\nContent-Disposition: inline; filename=page.html\n\n<p>x</p>\n"
        "--B--\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(emls); i++) {
        GMimeMessage *msg = mt_parse(emls[i], strlen(emls[i]));
        mime_block b = mt_block();
        ck_assert_int_eq(mime_inject_block(msg, &b), 0);
        ck_assert_ptr_null(mime_body_text(msg, "plain"));
        ck_assert_ptr_null(mime_body_text(msg, "html"));
        g_object_unref(msg);
    }
}
END_TEST

/* ------------------------------------------------------------------ charsets left alone */

static int inject_raw(const char *eml)
{
    GMimeMessage *msg = mt_parse(eml, strlen(eml));
    mime_block b = mt_block();
    char *before = mt_serialize(msg);
    int n = mime_inject_block(msg, &b);
    char *after = mt_serialize(msg);
    if (n == 0)
        ck_assert_str_eq(before, after);
    g_free(before);
    g_free(after);
    g_object_unref(msg);
    return n;
}

START_TEST(unusable_charsets_leave_the_part_alone)
{
    /* unknown label: only pure ASCII may be reinterpreted */
    ck_assert_int_eq(inject_raw("From: a@x\nMIME-Version: 1.0\nContent-Type: text/plain; "
                                "charset=x-bogus\nContent-Transfer-Encoding: 8bit\n\nd\xe9j\xe0\n"),
                     0);
    ck_assert_int_eq(inject_raw("From: a@x\nMIME-Version: 1.0\nContent-Type: text/plain; "
                                "charset=x-bogus\n\nplain ascii\n"),
                     1);
    /* us-ascii label over 8-bit bytes: not convertible losslessly */
    ck_assert_int_eq(inject_raw("From: a@x\nMIME-Version: 1.0\nContent-Type: text/plain; "
                                "charset=us-ascii\nContent-Transfer-Encoding: 8bit\n\n\xff\xfe\n"),
                     0);
    /* invalid UTF-8 declared as UTF-8: the block still fits, bytes kept as they were */
    ck_assert_int_eq(inject_raw("From: a@x\nMIME-Version: 1.0\nContent-Type: text/plain; "
                                "charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n\xff ok\n"),
                     1);
}
END_TEST

START_TEST(body_text_decodes_to_utf8)
{
    GMimeMessage *msg = load("plain_latin1_8bit.eml");
    char *text = mime_body_text(msg, "plain");
    ck_assert_ptr_nonnull(strstr(text, "Stéphane"));
    ck_assert(g_utf8_validate(text, -1, NULL));
    ck_assert_ptr_null(mime_body_text(msg, "html"));
    g_free(text);
    g_object_unref(msg);

    msg = load("mixed_alt_related_pdf.eml");
    text = mime_body_text(msg, "html");
    ck_assert_ptr_nonnull(strstr(text, "Facture émise"));
    g_free(text);
    g_object_unref(msg);
}
END_TEST

/* ------------------------------------------------------------------ leaves and bytes */

static void count_leaf(GMimeObject *parent, GMimeObject *part, void *arg)
{
    (void)parent;
    char *t = mt_type_of(part);
    GString *s = arg;
    g_string_append_printf(s, "%s%s", s->len ? "," : "", t);
    g_free(t);
}

START_TEST(foreach_leaf_in_tree_order)
{
    GMimeMessage *msg = load("mixed_alt_related_pdf.eml");
    GString *s = g_string_new(NULL);
    mime_foreach_leaf(msg, count_leaf, s);
    ck_assert_str_eq(s->str, "text/plain,text/html,image/png,application/pdf");
    g_string_free(s, TRUE);
    g_object_unref(msg);

    msg = load("forward_rfc822.eml");
    s = g_string_new(NULL);
    mime_foreach_leaf(msg, count_leaf, s);
    ck_assert_str_eq(s->str, "text/plain,message/rfc822");
    g_string_free(s, TRUE);
    g_object_unref(msg);
}
END_TEST

START_TEST(part_bytes_decode_base64)
{
    GMimeMessage *msg = load("mixed_plain_pdf.eml");
    GMimeObject *pdf = find_part(msg, "application", "pdf");
    size_t len;
    guint8 *data = mime_part_bytes(GMIME_PART(pdf), &len);
    ck_assert_ptr_nonnull(data);
    ck_assert_mem_eq(data, "%PDF-1.4\n", 9);
    ck_assert_mem_eq(data + len - 7, "\n%%EOF\n", 7);
    ck_assert_int_eq(data[len], 0);
    g_free(data);
    GMimePart *empty = g_mime_part_new();
    ck_assert_ptr_null(mime_part_bytes(empty, &len));
    ck_assert_uint_eq(len, 0);
    g_object_unref(empty);
    g_object_unref(msg);
}
END_TEST

/* ------------------------------------------------------------------ safety */

static void assert_safety(const char *name, mime_safety want)
{
    GMimeMessage *msg = load(name);
    mime_safety got = mime_safety_check(msg);
    ck_assert_msg(got == want, "%s: %s, expected %s", name, mime_safety_name(got),
                  mime_safety_name(want));
    if (got != MIME_TOUCHABLE) {
        char *before = mt_serialize(msg);
        mime_block b = mt_block();
        ck_assert_int_eq(mime_inject_block(msg, &b), 0);
        char *after = mt_serialize(msg);
        ck_assert_str_eq(before, after);
        g_free(before);
        g_free(after);
    }
    g_object_unref(msg);
}

START_TEST(safety_classification)
{
    assert_safety("safety_signed.eml", MIME_SIGNED);
    assert_safety("safety_nested_signed.eml", MIME_SIGNED);
    assert_safety("safety_encrypted.eml", MIME_ENCRYPTED);
    assert_safety("safety_pkcs7_enveloped.eml", MIME_ENCRYPTED);
    assert_safety("safety_pkcs7_signed.eml", MIME_SIGNED);
    assert_safety("safety_tnef.eml", MIME_TNEF);
    assert_safety("safety_pgp_inline.eml", MIME_PGP_INLINE);
    assert_safety("garbage_empty_multipart.eml", MIME_UNPARSABLE);
    assert_safety("plain_ascii.eml", MIME_TOUCHABLE);
    assert_safety("mixed_alt_related_pdf.eml", MIME_TOUCHABLE);
    ck_assert_str_eq(mime_safety_name(MIME_TNEF), "tnef");
}
END_TEST

START_TEST(garbage_does_not_crash)
{
    GMimeMessage *msg = load("garbage_missing_boundary.eml");
    mime_safety s = mime_safety_check(msg);
    int n = -1;
    mt_report r;
    char *err = mt_inject_and_check(msg, FALSE, NULL, &n, &r);
    ck_assert_msg(err == NULL, "%s", err ? err : "");
    ck_assert(s == MIME_TOUCHABLE || n == 0);
    g_object_unref(msg);
}
END_TEST

START_TEST(deep_nesting_is_bounded)
{
    GString *eml = g_string_new("From: a@x\nMIME-Version: 1.0\n");
    for (int i = 0; i < 500; i++)
        g_string_append_printf(eml, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n",
                               i, i);
    g_string_append(eml, "Content-Type: text/plain\n\ndeep\n");
    GMimeMessage *msg = mt_parse(eml->str, eml->len);
    ck_assert_ptr_nonnull(msg);
    mime_block b = mt_block();
    ck_assert_int_eq(mime_safety_check(msg), MIME_UNPARSABLE);
    ck_assert_int_eq(mime_inject_block(msg, &b), 0);
    ck_assert_ptr_null(mime_body_text(msg, "plain"));
    g_object_unref(msg);
    g_string_free(eml, TRUE);
}
END_TEST

static Suite *mime_suite(void)
{
    Suite *s = suite_create("mime");
    TCase *tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, plain_ascii_becomes_utf8_with_inline_qr);
    tcase_add_test(tc, plain_without_mime_headers_gets_them);
    tcase_add_test(tc, latin1_8bit_converted_to_utf8_when_block_does_not_fit);
    tcase_add_test(tc, cp1252_qp_keeps_its_charset);
    tcase_add_test(tc, base64_utf8_stays_base64);
    tcase_add_test(tc, format_flowed_block_is_hard_and_stuffed);
    tcase_add_test(tc, alternative_gets_both_blocks_and_related_qr);
    tcase_add_test(tc, existing_related_receives_qr_and_pdf_untouched);
    tcase_add_test(tc, html_only_is_wrapped_in_related);
    tcase_add_test(tc, html_insert_points);
    tcase_add_test(tc, mixed_plain_pdf_appends_qr);
    tcase_add_test(tc, forwarded_message_is_not_entered);
    tcase_add_test(tc, calendar_is_never_a_body);
    tcase_add_test(tc, attachment_is_not_a_body);
    tcase_add_test(tc, unusable_charsets_leave_the_part_alone);
    tcase_add_test(tc, body_text_decodes_to_utf8);
    tcase_add_test(tc, foreach_leaf_in_tree_order);
    tcase_add_test(tc, part_bytes_decode_base64);
    tcase_add_test(tc, safety_classification);
    tcase_add_test(tc, garbage_does_not_crash);
    tcase_add_test(tc, deep_nesting_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    g_mime_init();
    int failed = testutil_run(mime_suite());
    g_mime_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
