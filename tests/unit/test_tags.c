/*
 * test_tags — the artisan's subject tags: every tag in French and English, several at once,
 * foreign brackets kept, bad amounts flagged, the clean subject's whitespace, and hostile
 * subjects (huge, unbalanced, invalid UTF-8, thousands of brackets) in bounded time.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tags.h"
#include "testutil.h"

/* Parses subject and checks the clean subject; the caller inspects and clears *t. */
static void parse_expect(const char *subject, const char *clean, subject_tags *t)
{
    tags_parse(subject, t);
    ck_assert_ptr_nonnull(t->clean_subject);
    ck_assert_msg(strcmp(t->clean_subject, clean) == 0, "\"%s\" -> \"%s\", expected \"%s\"",
                  subject ? subject : "(null)", t->clean_subject, clean);
}

/* Exactly one flag set among no_link, link, qr, has_amount, bad_amount. */
static int flag_count(const subject_tags *t)
{
    return !!t->no_link + !!t->link + !!t->qr + !!t->has_amount + !!t->bad_amount;
}

static void expect_no_link(const char *subject, const char *clean)
{
    subject_tags t;
    parse_expect(subject, clean, &t);
    ck_assert_msg(t.no_link, "no_link not set for \"%s\"", subject);
    ck_assert(t.found);
    ck_assert_int_eq(flag_count(&t), 1);
    tags_clear(&t);
}

static void expect_link(const char *subject, const char *clean)
{
    subject_tags t;
    parse_expect(subject, clean, &t);
    ck_assert_msg(t.link, "link not set for \"%s\"", subject);
    ck_assert(t.found);
    ck_assert_int_eq(flag_count(&t), 1);
    tags_clear(&t);
}

static void expect_qr(const char *subject, const char *clean)
{
    subject_tags t;
    parse_expect(subject, clean, &t);
    ck_assert_msg(t.qr, "qr not set for \"%s\"", subject);
    ck_assert(t.found);
    ck_assert_int_eq(flag_count(&t), 1);
    tags_clear(&t);
}

static void expect_amount(const char *subject, gint64 minor, const char *clean)
{
    subject_tags t;
    parse_expect(subject, clean, &t);
    ck_assert_msg(t.has_amount && !t.bad_amount, "no amount read from \"%s\"", subject);
    ck_assert_int_eq(t.amount_minor, minor);
    ck_assert(t.found);
    ck_assert_int_eq(flag_count(&t), 1);
    tags_clear(&t);
}

static void expect_bad_amount(const char *subject, const char *clean)
{
    subject_tags t;
    parse_expect(subject, clean, &t);
    ck_assert_msg(t.bad_amount && !t.has_amount, "bad_amount not set for \"%s\"", subject);
    ck_assert(t.found);
    tags_clear(&t);
}

/* No tag of ours: nothing set, and the subject is unchanged (modulo whitespace). */
static void expect_none(const char *subject, const char *clean)
{
    subject_tags t;
    parse_expect(subject, clean, &t);
    ck_assert_msg(!t.found, "a tag was found in \"%s\"", subject);
    ck_assert_int_eq(flag_count(&t), 0);
    tags_clear(&t);
}

START_TEST(test_no_link)
{
    expect_no_link("[sans lien] Facture F-1", "Facture F-1");
    expect_no_link("[Sans Lien] Facture F-1", "Facture F-1");
    expect_no_link("[SANS LIEN] Facture F-1", "Facture F-1");
    expect_no_link("[sans  lien] Facture F-1", "Facture F-1");
    expect_no_link("[sans-lien] Facture F-1", "Facture F-1");
    expect_no_link("[no link] Invoice 7", "Invoice 7");
    expect_no_link("[No Link] Invoice 7", "Invoice 7");
    expect_no_link("Invoice 7 [no link]", "Invoice 7");
    expect_no_link("Invoice [no link] 7", "Invoice 7");
}
END_TEST

START_TEST(test_link)
{
    expect_link("[lien] Facture F-1", "Facture F-1");
    expect_link("[Lien] Facture F-1", "Facture F-1");
    expect_link("[LIEN] Facture F-1", "Facture F-1");
    expect_link("[link] Invoice 7", "Invoice 7");
    expect_link("[Link] Invoice 7", "Invoice 7");
    expect_link("Facture F-1 [lien]", "Facture F-1");
}
END_TEST

START_TEST(test_qr)
{
    expect_qr("[qr] Facture F-1", "Facture F-1");
    expect_qr("[QR] Facture F-1", "Facture F-1");
    expect_qr("[Qr] Facture F-1", "Facture F-1");
    expect_qr("Facture F-1 [QR]", "Facture F-1");
}
END_TEST

START_TEST(test_amount)
{
    expect_amount("[montant 1 234,56] Facture", 123456, "Facture");
    expect_amount("[montant 1234,56] Facture", 123456, "Facture");
    expect_amount("[Montant 1234,56] Facture", 123456, "Facture");
    expect_amount("[MONTANT 99,00] Facture", 9900, "Facture");
    expect_amount("[amount 1234.56] Invoice", 123456, "Invoice");
    expect_amount("[Amount 1,234.56] Invoice", 123456, "Invoice");
    expect_amount("[montant 12,5 €] Facture", 1250, "Facture");
    expect_amount("[montant 12,50 EUR] Facture", 1250, "Facture");
    expect_amount("[montant 42] Facture", 4200, "Facture");
    expect_amount("[montant  7,10 ] Facture", 710, "Facture");
    expect_amount("Facture F-9 [montant 89,90]", 8990, "Facture F-9");
    expect_amount("[montant 1\xc2\xa0" "234,56] Facture", 123456, "Facture");
}
END_TEST

/* tags.h: "Matching ignores case, accents and spacing inside the brackets". */
START_TEST(test_amount_spacing)
{
    expect_amount("[ montant 12,50 ] Facture", 1250, "Facture");
    expect_amount("[montant\t12,50] Facture", 1250, "Facture");
    expect_amount("[  amount   3.00] Invoice", 300, "Invoice");
}
END_TEST

START_TEST(test_bad_amount)
{
    expect_bad_amount("[montant abc] Facture", "Facture");
    expect_bad_amount("[amount xyz] Invoice", "Invoice");
    expect_bad_amount("[montant 0] Facture", "Facture");
    expect_bad_amount("[montant -12,00] Facture", "Facture");
    expect_bad_amount("[montant 12,50 €uros de plus] Facture", "Facture");
    expect_bad_amount("[montant 1,234] Facture", "Facture");   /* ambiguous */
    expect_bad_amount("[montant 12 abc] Facture", "Facture");
}
END_TEST

START_TEST(test_several)
{
    subject_tags t;
    parse_expect("[lien] [montant 99,00] Facture P-5", "Facture P-5", &t);
    ck_assert(t.link && t.has_amount && t.found);
    ck_assert(!t.no_link && !t.qr && !t.bad_amount);
    ck_assert_int_eq(t.amount_minor, 9900);
    tags_clear(&t);

    parse_expect("[qr][amount 15.00]Invoice 3[link]", "Invoice 3", &t);
    ck_assert(t.qr && t.has_amount && t.link);
    ck_assert_int_eq(t.amount_minor, 1500);
    tags_clear(&t);

    parse_expect("[sans lien] Facture [QR] F-2 [montant abc]", "Facture F-2", &t);
    ck_assert(t.no_link && t.qr && t.bad_amount && !t.has_amount);
    tags_clear(&t);

    /* The same tag twice is harmless. */
    parse_expect("[lien] [LIEN] Facture", "Facture", &t);
    ck_assert(t.link);
    ck_assert_int_eq(flag_count(&t), 1);
    tags_clear(&t);
}
END_TEST

START_TEST(test_foreign_brackets)
{
    expect_none("[EXT] Facture F-1", "[EXT] Facture F-1");
    expect_none("[SPAM] Facture F-1", "[SPAM] Facture F-1");
    expect_none("Re: [liste-artisans] Facture", "Re: [liste-artisans] Facture");
    expect_none("[lien utile] voir", "[lien utile] voir");
    expect_none("[links] voir", "[links] voir");
    expect_none("[montant] Facture", "[montant] Facture");   /* no amount: not our tag */
    expect_none("[] Facture", "[] Facture");
    expect_none("[[x]] Facture", "[[x]] Facture");

    subject_tags t;
    parse_expect("[EXT] [sans lien] [SPAM] Facture", "[EXT] [SPAM] Facture", &t);
    ck_assert(t.no_link && t.found);
    tags_clear(&t);
    parse_expect("[EXT][lien]Facture", "[EXT]Facture", &t);
    ck_assert(t.link);
    tags_clear(&t);
}
END_TEST

START_TEST(test_clean_whitespace)
{
    expect_link("  [lien]   Facture   F-1  ", "Facture F-1");
    expect_link("\t[lien]\tFacture\tF-1\t", "Facture F-1");
    expect_link("Facture [lien] [lien] F-1", "Facture F-1");
    expect_none("Facture F-1", "Facture F-1");
    expect_none("Facture   F-1 ", "Facture F-1");
    subject_tags t;
    parse_expect("[lien]", "", &t);
    ck_assert(t.link && t.found);
    tags_clear(&t);
    parse_expect("[sans lien] [qr]  ", "", &t);
    ck_assert(t.no_link && t.qr);
    tags_clear(&t);
}
END_TEST

START_TEST(test_null_and_empty)
{
    subject_tags t;
    tags_parse(NULL, &t);
    ck_assert_ptr_nonnull(t.clean_subject);
    ck_assert_str_eq(t.clean_subject, "");
    ck_assert(!t.found);
    ck_assert_int_eq(flag_count(&t), 0);
    tags_clear(&t);
    ck_assert_ptr_null(t.clean_subject);
    tags_clear(&t);   /* clearing twice is harmless */

    expect_none("", "");
    expect_none("   ", "");
}
END_TEST

START_TEST(test_accents_and_utf8)
{
    /* Accents fold: "Sans Lièn" is still ours; a UTF-8 subject survives untouched. */
    expect_no_link("[Sans Lièn] Facture", "Facture");
    expect_link("[LIÉN] Facture", "Facture");
    expect_none("Facture d'été — 12 €", "Facture d'été — 12 €");
    expect_link("Facture d'été [lien] — 12 €", "Facture d'été — 12 €");
}
END_TEST

START_TEST(test_hostile_huge)
{
    size_t n = 100 * 1024;
    char *s = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = "abc de[f]g "[i % 11];
    s[n] = '\0';
    subject_tags t;
    tags_parse(s, &t);
    ck_assert(!t.found);
    ck_assert_ptr_nonnull(t.clean_subject);
    ck_assert_uint_le(strlen(t.clean_subject), n);
    tags_clear(&t);

    /* A huge subject with our tags at both ends. */
    memcpy(s, "[lien] ", 7);
    memcpy(s + n - 5, " [qr]", 5);
    tags_parse(s, &t);
    ck_assert(t.link && t.qr);
    ck_assert(!g_str_has_prefix(t.clean_subject, "[lien]"));
    ck_assert(!g_str_has_suffix(t.clean_subject, "[qr]"));
    tags_clear(&t);

    /* One long bracket is not a tag of ours. */
    memset(s, 'x', n);
    s[0] = '[';
    s[n - 1] = ']';
    memcpy(s + 1, "montant ", 8);
    tags_parse(s, &t);
    ck_assert(!t.found && !t.bad_amount);
    ck_assert_uint_eq(strlen(t.clean_subject), n);
    tags_clear(&t);
    g_free(s);
}
END_TEST

START_TEST(test_hostile_brackets)
{
    expect_none("[lien", "[lien");
    expect_none("lien]", "lien]");
    expect_none("]]] [[[", "]]] [[[");
    expect_link("[[lien] Facture", "[ Facture");
    expect_link("[lien]] Facture", "] Facture");
    expect_none("[sans lien Facture ]", "[sans lien Facture ]");

    /* Thousands of opening brackets and nothing to close them: linear, not quadratic. */
    size_t sizes[] = { 10000, 200000 };
    for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
        size_t n = sizes[k];
        char *s = g_malloc(n + 1);
        memset(s, '[', n);
        s[n] = '\0';
        gint64 start = g_get_monotonic_time();
        subject_tags t;
        tags_parse(s, &t);
        gint64 elapsed = g_get_monotonic_time() - start;
        ck_assert(!t.found);
        ck_assert_str_eq(t.clean_subject, s);
        tags_clear(&t);
        ck_assert_msg(elapsed < 2 * G_USEC_PER_SEC, "%zu '[': %" G_GINT64_FORMAT " us", n,
                      elapsed);

        /* Alternating "[" and "]" and "[]": every pair is a foreign empty bracket. */
        for (size_t i = 0; i < n; i++)
            s[i] = i % 2 ? ']' : '[';
        tags_parse(s, &t);
        ck_assert(!t.found);
        ck_assert_str_eq(t.clean_subject, s);
        tags_clear(&t);
        g_free(s);
    }
}
END_TEST

START_TEST(test_hostile_utf8)
{
    /* Invalid UTF-8 inside and outside brackets: no crash, bytes outside tags kept. */
    expect_none("Facture \xff\xfe F-1", "Facture \xff\xfe F-1");
    expect_none("[\xff\xfe] Facture", "[\xff\xfe] Facture");
    expect_none("[li\xc3n] Facture", "[li\xc3n] Facture");
    expect_link("\xc3[lien] Facture", "\xc3 Facture");
    expect_bad_amount("[montant \xff\x80] Facture", "Facture");
    expect_bad_amount("[montant 12\xe2\x82] Facture", "Facture");
    expect_none("[\xf0\x9f\x92\xb0] Facture", "[\xf0\x9f\x92\xb0] Facture");

    /* Every byte value inside a bracket. */
    char s[300];
    for (int b = 1; b < 256; b++) {
        g_snprintf(s, sizeof s, "[montant 1%c2] [sans%clien] Facture", b, b);
        subject_tags t;
        tags_parse(s, &t);
        ck_assert_ptr_nonnull(t.clean_subject);
        tags_clear(&t);
    }
}
END_TEST

static Suite *tags_suite(void)
{
    Suite *s = suite_create("tags");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_no_link);
    tcase_add_test(tc, test_link);
    tcase_add_test(tc, test_qr);
    tcase_add_test(tc, test_amount);
    tcase_add_test(tc, test_amount_spacing);
    tcase_add_test(tc, test_bad_amount);
    tcase_add_test(tc, test_several);
    tcase_add_test(tc, test_foreign_brackets);
    tcase_add_test(tc, test_clean_whitespace);
    tcase_add_test(tc, test_null_and_empty);
    tcase_add_test(tc, test_accents_and_utf8);
    tcase_add_test(tc, test_hostile_huge);
    tcase_add_test(tc, test_hostile_brackets);
    tcase_add_test(tc, test_hostile_utf8);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(tags_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
