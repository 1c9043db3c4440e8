/*
 * test_mime_corpus — lib/mime.c on every real-world message of the external corpus
 * (corpus/mail/; without the corpus no test is run and a SKIP notice says so, a corpus
 * without messages fails). Signed, encrypted and TNEF messages
 * must be classified untouchable; every other message gets a PDF attached the way an
 * invoice is, then the block injected, and the rewrite check of mime_testutil.h runs:
 * re-parses, every original leaf and the PDF decode to the same bytes, 7-bit clean, the
 * block present in each body text part. One line per file on stderr says what happened.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "mime.h"
#include "mime_testutil.h"
#include "testutil.h"

static GPtrArray *corpus_files; /* full paths, sorted */

static const guint8 invoice_pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\n"
                                    "\x00\x01\x02\xff\xfe\r\n\r\x80 trailer<<>>\n%%EOF\n";

static int by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fills corpus_files from corpus/mail (the corpus is present); FALSE, said on stderr, when
 * that directory is unreadable or holds no message: a broken corpus fails, it does not skip. */
static gboolean list_corpus(void)
{
    char *dir = g_build_filename(corpus_dir(), "mail", NULL);
    GError *err = NULL;
    GDir *d = g_dir_open(dir, 0, &err);
    if (!d) {
        fprintf(stderr, "FAIL: test_mime_corpus: %s\n", err->message);
        g_error_free(err);
        g_free(dir);
        return FALSE;
    }
    for (const char *name; (name = g_dir_read_name(d));)
        if (g_str_has_suffix(name, ".eml"))
            g_ptr_array_add(corpus_files, g_build_filename(dir, name, NULL));
    g_dir_close(d);
    g_ptr_array_sort(corpus_files, by_name);
    if (!corpus_files->len)
        fprintf(stderr, "FAIL: test_mime_corpus: no .eml file in %s\n", dir);
    g_free(dir);
    return corpus_files->len > 0;
}

static gboolean named_untouchable(const char *base)
{
    static const char *const words[] = {"smime", "pgp", "tnef", "pkcs7", "encrypted", "signed"};
    char *low = g_ascii_strdown(base, -1);
    gboolean hit = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(words) && !hit; i++)
        hit = strstr(low, words[i]) != NULL;
    g_free(low);
    return hit;
}

/* Append the PDF to the top multipart/mixed, or wrap the top part with it. */
static void attach_pdf(GMimeMessage *msg)
{
    GMimePart *pdf = g_mime_part_new_with_type("application", "pdf");
    GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)invoice_pdf,
                                                       sizeof invoice_pdf - 1);
    GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(pdf, w);
    g_mime_part_set_content_encoding(pdf, GMIME_CONTENT_ENCODING_BASE64);
    g_mime_object_set_disposition(GMIME_OBJECT(pdf), GMIME_DISPOSITION_ATTACHMENT);
    g_mime_part_set_filename(pdf, "facture-2025-042.pdf");
    g_object_unref(w);
    g_object_unref(s);

    GMimeObject *top = g_mime_message_get_mime_part(msg);
    GMimeContentType *ct = g_mime_object_get_content_type(top);
    if (GMIME_IS_MULTIPART(top) && g_mime_content_type_is_type(ct, "multipart", "mixed")) {
        g_mime_multipart_add(GMIME_MULTIPART(top), GMIME_OBJECT(pdf));
    } else {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
        g_mime_multipart_add(mixed, top);
        g_mime_multipart_add(mixed, GMIME_OBJECT(pdf));
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
        g_object_unref(mixed);
    }
    g_object_unref(pdf);
}

static gboolean has_body(GMimeMessage *msg, const char *subtype)
{
    char *text = mime_body_text(msg, subtype);
    g_free(text);
    return text != NULL;
}

static void check_untouchable(GMimeMessage *msg, const char *base, mime_safety s)
{
    char *before = mt_serialize(msg);
    mime_block b = mt_block();
    ck_assert_msg(mime_inject_block(msg, &b) == 0, "%s: injected although %s", base,
                  mime_safety_name(s));
    char *after = mt_serialize(msg);
    ck_assert_msg(strcmp(before, after) == 0, "%s: changed although %s", base,
                  mime_safety_name(s));
    g_free(before);
    g_free(after);
    fprintf(stderr, "mime corpus: %-58s 0 parts: %s\n", base, mime_safety_name(s));
}

static void check_rewrite(GMimeMessage *msg, const char *base, const char *data, size_t len)
{
    attach_pdf(msg);
    gboolean plain = has_body(msg, "plain"), html = has_body(msg, "html");
    char *why_not_7bit = mt_check_7bit(data, len);
    GMimeFormatOptions *fmt = mt_format_like(data, len);
    int n = -1;
    mt_report r;
    char *err = mt_inject_and_check(msg, why_not_7bit == NULL, fmt, &n, &r);
    g_mime_format_options_free(fmt);
    g_free(why_not_7bit);
    ck_assert_msg(err == NULL, "%s: %s", base, err ? err : "");
    ck_assert_msg(r.plain_edited == (int)plain, "%s: text/plain body %s but %d edited", base,
                  plain ? "present" : "absent", r.plain_edited);
    ck_assert_msg(r.html_edited == (int)html, "%s: text/html body %s but %d edited", base,
                  html ? "present" : "absent", r.html_edited);
    fprintf(stderr, "mime corpus: %-58s %d parts%s\n", base, n,
            n ? (r.html_edited ? " (html+qr related)" : " (plain+qr inline)")
              : ": no body text/plain or text/html part");
}

START_TEST(corpus_message)
{
    const char *path = corpus_files->pdata[_i];
    char *base = g_path_get_basename(path);
    size_t len;
    char *data = read_file_or_die(path, &len);
    GMimeMessage *msg = mt_parse(data, len);
    if (!msg) {
        fprintf(stderr, "mime corpus: %-58s 0 parts: gmime cannot parse it\n", base);
    } else {
        mime_safety s = mime_safety_check(msg);
        if (named_untouchable(base))
            ck_assert_msg(s != MIME_TOUCHABLE, "%s: classified touchable", base);
        if (s != MIME_TOUCHABLE)
            check_untouchable(msg, base, s);
        else
            check_rewrite(msg, base, data, len);
        g_object_unref(msg);
    }
    g_free(data);
    g_free(base);
}
END_TEST

/* Without the corpus the suite has no test: Check reports 0 checks and no failure. */
static Suite *corpus_suite(gboolean present)
{
    Suite *s = suite_create("mime_corpus");
    if (!present)
        return s;
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, corpus_message, 0, (int)corpus_files->len);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    g_mime_init();
    corpus_files = g_ptr_array_new_with_free_func(g_free);
    gboolean present = corpus_present("test_mime_corpus (every corpus/mail message)");
    if (present && !list_corpus()) {
        g_ptr_array_free(corpus_files, TRUE);
        g_mime_shutdown();
        return EXIT_FAILURE;
    }
    int failed = testutil_run(corpus_suite(present));
    g_ptr_array_free(corpus_files, TRUE);
    g_mime_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
