/*
 * test_csv — the BOM, ';' and CRLF, quoting (separators, quotes, line ends, edge spaces),
 * formula-injection defusing (and amounts left alone), amounts in French notation at the
 * extremes, invalid UTF-8, and a large hostile field.
 */
#include <check.h>
#include <string.h>

#include "csv.h"
#include "testutil.h"

#define BOM "\xef\xbb\xbf"

/* One row through csv_row, without the BOM, as a g_malloc'ed string. */
static char *row_of(const char *const *fields, size_t n)
{
    GString *doc = g_string_new(NULL);
    csv_row(doc, fields, n);
    return g_string_free(doc, FALSE);
}

/* A single field, as written in a row (without the CRLF). */
static char *cell(const char *field)
{
    char *row = row_of(&field, 1);
    size_t len = strlen(row);
    ck_assert_msg(len >= 2 && !strcmp(row + len - 2, "\r\n"), "row does not end with CRLF");
    row[len - 2] = '\0';
    return row;
}

static void assert_cell(const char *field, const char *expected)
{
    char *got = cell(field);
    ck_assert_msg(!strcmp(got, expected), "cell(\"%s\") = \"%s\", expected \"%s\"",
                  field ? field : "(null)", got, expected);
    g_free(got);
}

static void assert_amount(gint64 minor, const char *expected)
{
    char *got = csv_amount(minor);
    ck_assert_str_eq(got, expected);
    ck_assert(csv_is_amount(got));
    assert_cell(got, expected);   /* a negative amount stays a number */
    g_free(got);
}

START_TEST(test_document)
{
    GString *doc = csv_new();
    ck_assert_uint_eq(doc->len, 3);
    ck_assert(!memcmp(doc->str, BOM, 3));
    const char *head[] = { "artisan", "nom", "frais" };
    const char *row[] = { "jean@artisan.test", "Jean Dupont", "12,00" };
    csv_row(doc, head, 3);
    csv_row(doc, row, 3);
    ck_assert_str_eq(doc->str, BOM "artisan;nom;frais\r\njean@artisan.test;Jean Dupont;12,00\r\n");
    g_string_free(doc, TRUE);
}
END_TEST

START_TEST(test_empty_fields)
{
    const char *fields[] = { NULL, "", "x", NULL };
    char *row = row_of(fields, 4);
    ck_assert_str_eq(row, ";;x;\r\n");
    g_free(row);
    row = row_of(NULL, 0);
    ck_assert_str_eq(row, "\r\n");
    g_free(row);
    row = row_of(NULL, 2);
    ck_assert_str_eq(row, ";\r\n");
    g_free(row);
}
END_TEST

START_TEST(test_quoting)
{
    assert_cell("plain text", "plain text");
    assert_cell("a;b", "\"a;b\"");
    assert_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
    assert_cell("\"", "\"\"\"\"");
    assert_cell("two\nlines", "\"two\nlines\"");
    assert_cell("two\r\nlines", "\"two\r\nlines\"");
    assert_cell(" lead", "\" lead\"");
    assert_cell("trail ", "\"trail \"");
    assert_cell(" ", "\" \"");
    assert_cell("in side", "in side");
    assert_cell("a,b", "a,b");
    assert_cell("Électricité Dupré", "Électricité Dupré");
}
END_TEST

START_TEST(test_defuse)
{
    assert_cell("=SUM(A1:A9)", "'=SUM(A1:A9)");
    assert_cell("+33 6 12 34 56 78", "'+33 6 12 34 56 78");
    assert_cell("-x", "'-x");
    assert_cell("@cmd", "'@cmd");
    assert_cell("\t=1", "'\t=1");
    assert_cell("\r=1", "\"'\r=1\"");
    assert_cell("=1;2", "\"'=1;2\"");
    assert_cell("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
    assert_cell("  =1+1", "'  =1+1");
    assert_cell("a=b", "a=b");
    assert_cell("jean+devis@artisan.test", "jean+devis@artisan.test");
    assert_cell("'already", "'already");
    /* Only a whole, well-formed amount escapes defusing. */
    assert_cell("-12,00", "-12,00");
    assert_cell("-12", "'-12");
    assert_cell("-12,0", "'-12,0");
    assert_cell("-12,000", "'-12,000");
    assert_cell("-,00", "'-,00");
    assert_cell("--1,00", "'--1,00");
    assert_cell("-1 234,56", "'-1 234,56");
    assert_cell("-12,00+1", "'-12,00+1");
    assert_cell("-12.00", "'-12.00");
}
END_TEST

START_TEST(test_is_amount)
{
    ck_assert(csv_is_amount("0,00"));
    ck_assert(csv_is_amount("1234,56"));
    ck_assert(csv_is_amount("-12,00"));
    ck_assert(!csv_is_amount(""));
    ck_assert(!csv_is_amount("-"));
    ck_assert(!csv_is_amount(",00"));
    ck_assert(!csv_is_amount("12,"));
    ck_assert(!csv_is_amount("12,5"));
    ck_assert(!csv_is_amount("12,50 "));
    ck_assert(!csv_is_amount(" 12,50"));
    ck_assert(!csv_is_amount("1 234,56"));
}
END_TEST

START_TEST(test_amount)
{
    assert_amount(0, "0,00");
    assert_amount(5, "0,05");
    assert_amount(100, "1,00");
    assert_amount(123456, "1234,56");
    assert_amount(100000000, "1000000,00");
    assert_amount(-1200, "-12,00");
    assert_amount(-5, "-0,05");
    assert_amount(G_MAXINT64, "92233720368547758,07");
    assert_amount(G_MININT64, "-92233720368547758,08");
}
END_TEST

START_TEST(test_invalid_utf8)
{
    char *got = cell("caf\xe9;\xff");
    ck_assert(g_utf8_validate(got, -1, NULL));
    ck_assert_str_eq(got, "\"caf\xef\xbf\xbd;\xef\xbf\xbd\"");
    g_free(got);
}
END_TEST

START_TEST(test_hostile_large)
{
    /* A megabyte of quotes doubles, once: linear work, exact size. */
    size_t n = 1 << 20;
    char *big = g_malloc(n + 2);
    big[0] = '=';
    memset(big + 1, '"', n);
    big[n + 1] = '\0';
    char *got = cell(big);
    ck_assert_uint_eq(strlen(got), 2 + 2 + 2 * n);   /* quotes, apostrophe and '=', doubled */
    ck_assert(!strncmp(got, "\"'=\"\"", 5));
    g_free(got);
    g_free(big);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_document);
    tcase_add_test(tc, test_empty_fields);
    tcase_add_test(tc, test_quoting);
    tcase_add_test(tc, test_defuse);
    tcase_add_test(tc, test_is_amount);
    tcase_add_test(tc, test_amount);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_hostile_large);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(csv_suite());
    return failed == 0 ? 0 : 1;
}
