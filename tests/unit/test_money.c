/*
 * test_money — minor digits, XML decimals, human amounts (fr/en, separators, symbols,
 * ambiguity), formatting (fr/en, U+202F/U+00A0, extremes) and parse(format(x)) round trips.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "money.h"
#include "testutil.h"

#define NBSP  "\xc2\xa0"
#define NNBSP "\xe2\x80\xaf"

START_TEST(test_minor_digits)
{
    ck_assert_int_eq(money_minor_digits("EUR"), 2);
    ck_assert_int_eq(money_minor_digits("USD"), 2);
    ck_assert_int_eq(money_minor_digits("GBP"), 2);
    ck_assert_int_eq(money_minor_digits("CHF"), 2);
    ck_assert_int_eq(money_minor_digits("JPY"), 0);
    ck_assert_int_eq(money_minor_digits("KRW"), 0);
    ck_assert_int_eq(money_minor_digits("jpy"), 0);
    ck_assert_int_eq(money_minor_digits("BHD"), 3);
    ck_assert_int_eq(money_minor_digits("KWD"), 3);
    ck_assert_int_eq(money_minor_digits("OMR"), 3);
    ck_assert_int_eq(money_minor_digits("TND"), 3);
    ck_assert_int_eq(money_minor_digits("JOD"), 3);
    ck_assert_int_eq(money_minor_digits("XYZ"), 2);
    ck_assert_int_eq(money_minor_digits(""), 2);
    ck_assert_int_eq(money_minor_digits(NULL), 2);
}
END_TEST

static gint64 dec(const char *s, int digits)
{
    gint64 v = 0;
    ck_assert_msg(money_parse_decimal(s, digits, &v), "decimal rejected: \"%s\"", s);
    return v;
}

static void dec_bad(const char *s, int digits)
{
    gint64 v = 4242;
    ck_assert_msg(!money_parse_decimal(s, digits, &v), "decimal accepted: \"%s\"", s);
    ck_assert_int_eq(v, 4242);
}

START_TEST(test_parse_decimal)
{
    ck_assert_int_eq(dec("1234.56", 2), 123456);
    ck_assert_int_eq(dec("-12.5", 2), -1250);
    ck_assert_int_eq(dec("+3", 2), 300);
    ck_assert_int_eq(dec("100.00", 2), 10000);
    ck_assert_int_eq(dec("  42.10 \n", 2), 4210);
    ck_assert_int_eq(dec("\t7\r\n", 2), 700);
    ck_assert_int_eq(dec("12.3400", 2), 1234);
    ck_assert_int_eq(dec("0.5", 2), 50);
    ck_assert_int_eq(dec(".5", 2), 50);
    ck_assert_int_eq(dec("5.", 2), 500);
    ck_assert_int_eq(dec("-0", 2), 0);
    ck_assert_int_eq(dec("000123.45", 2), 12345);
    ck_assert_int_eq(dec("1234", 0), 1234);
    ck_assert_int_eq(dec("1234.000", 0), 1234);
    ck_assert_int_eq(dec("1.234", 3), 1234);
    ck_assert_int_eq(dec("1000000000000000", 2), 100000000000000000LL);
    ck_assert_int_eq(dec("-1000000000000000.00", 3), -1000000000000000000LL);
    dec_bad("12.345", 2);
    dec_bad("1.5", 0);
    dec_bad("1,5", 2);
    dec_bad("", 2);
    dec_bad("   ", 2);
    dec_bad("1e3", 2);
    dec_bad("abc", 2);
    dec_bad(".", 2);
    dec_bad("-", 2);
    dec_bad("+-1", 2);
    dec_bad("1 000", 2);
    dec_bad("1.2.3", 2);
    dec_bad("0x10", 2);
    dec_bad("12.5EUR", 2);
    dec_bad("1000000000000001", 2);
    dec_bad("99999999999999999999999999999999", 2);
    dec_bad("1", -1);
    dec_bad("1", 9);
    dec_bad(NULL, 2);
}
END_TEST

/* Parses s whole (end must reach the end of s). */
static gint64 human(const char *s, const char *want_currency)
{
    gint64 v = 0;
    char cur[4] = "??";
    size_t end = 0;
    ck_assert_msg(money_parse(s, &v, cur, &end), "amount rejected: \"%s\"", s);
    ck_assert_msg(end == strlen(s), "\"%s\": end %zu, want %zu", s, end, strlen(s));
    ck_assert_str_eq(cur, want_currency);
    return v;
}

static void human_bad(const char *s)
{
    gint64 v = 4242;
    ck_assert_msg(!money_parse(s, &v, NULL, NULL), "amount accepted: \"%s\"", s);
    ck_assert_int_eq(v, 4242);
}

START_TEST(test_parse_human)
{
    ck_assert_int_eq(human("1 234,56 €", "EUR"), 123456);
    ck_assert_int_eq(human("1.234,56 EUR", "EUR"), 123456);
    ck_assert_int_eq(human("1234.56", ""), 123456);
    ck_assert_int_eq(human("1234,56", ""), 123456);
    ck_assert_int_eq(human("€1,234.56", "EUR"), 123456);
    ck_assert_int_eq(human("1,234.56 EUR", "EUR"), 123456);
    ck_assert_int_eq(human("EUR 1 234,56", "EUR"), 123456);
    ck_assert_int_eq(human("1" NBSP "234,56", ""), 123456);
    ck_assert_int_eq(human("1" NNBSP "234,56" NBSP "€", "EUR"), 123456);
    ck_assert_int_eq(human("1\xe2\x80\x89" "234,56", ""), 123456);  /* thin space */
    ck_assert_int_eq(human("1'234.56 CHF", "CHF"), 123456);
    ck_assert_int_eq(human("1\xe2\x80\x99" "234.56 CHF", "CHF"), 123456);
    ck_assert_int_eq(human("CHF 1'234.56", "CHF"), 123456);
    ck_assert_int_eq(human("12 €", "EUR"), 1200);
    ck_assert_int_eq(human("12,5 €", "EUR"), 1250);
    ck_assert_int_eq(human("12€", "EUR"), 1200);
    ck_assert_int_eq(human("-5,00 €", "EUR"), -500);
    ck_assert_int_eq(human("-€5.00", "EUR"), -500);
    ck_assert_int_eq(human("€-5.00", "EUR"), -500);
    ck_assert_int_eq(human("\xe2\x88\x92" "5,00 €", "EUR"), -500);  /* U+2212 */
    ck_assert_int_eq(human("$120.00", "USD"), 12000);
    ck_assert_int_eq(human("$ 120", "USD"), 12000);
    ck_assert_int_eq(human("£9.99", "GBP"), 999);
    ck_assert_int_eq(human("eur12,30", "EUR"), 1230);
    ck_assert_int_eq(human("12,30eur", "EUR"), 1230);
    ck_assert_int_eq(human("12,30 Eur", "EUR"), 1230);
    ck_assert_int_eq(human("1 200 euros", "EUR"), 120000);
    ck_assert_int_eq(human("1.234.567,89 €", "EUR"), 123456789);
    ck_assert_int_eq(human("1,234,567.89", ""), 123456789);
    ck_assert_int_eq(human("1,234,567", ""), 123456700);
    ck_assert_int_eq(human("1 234", ""), 123400);
    ck_assert_int_eq(human("0,05", ""), 5);
    ck_assert_int_eq(human("  42", ""), 4200);
    ck_assert_int_eq(human("+3", ""), 300);
    ck_assert_int_eq(human("1 000 000 000 000 000,00", ""), 100000000000000000LL);
    /* currencies with other exponents settle what two or three digits mean */
    ck_assert_int_eq(human("1,234 JPY", "JPY"), 1234);
    ck_assert_int_eq(human("JPY 1.234.567", "JPY"), 1234567);
    ck_assert_int_eq(human("12,00 JPY", "JPY"), 12);
    ck_assert_int_eq(human("1,234 KWD", "KWD"), 1234);
    ck_assert_int_eq(human("1 234,567 KWD", "KWD"), 1234567);
    ck_assert_int_eq(human("KWD 1,234.567", "KWD"), 1234567);

    human_bad("1,234");          /* ambiguous */
    human_bad("1.234");
    human_bad("1.234 €");
    human_bad("12,50 JPY");      /* JPY has no cents */
    human_bad("1,2345");
    human_bad("1.234.56");
    human_bad("1,234.567");
    human_bad("1.234,567");
    human_bad("1,23,456.00");
    human_bad("1234 567");
    human_bad("");
    human_bad("€");
    human_bad("EUR");
    human_bad("abc");
    human_bad(",50");
    human_bad("EURL 12");
    human_bad("12/03/2024");
    human_bad("12.03.2024");
    human_bad("2024-04-12");
    human_bad("20,0%");
    human_bad("12h30");
    human_bad("12:30");
    human_bad("1e3");
    human_bad("- 5");
    human_bad("1000000000000001");
    human_bad("99999999999999999999999999999999999");
    human_bad(NULL);
}
END_TEST

START_TEST(test_parse_end)
{
    gint64 v;
    char cur[4];
    size_t end;
    /* end stops after the currency or the last digit; the rest is the caller's */
    ck_assert(money_parse("1 234,56 € TTC", &v, cur, &end));
    ck_assert_int_eq(v, 123456);
    ck_assert_uint_eq(end, strlen("1 234,56 €"));
    ck_assert(money_parse("12 2024", &v, cur, &end));
    ck_assert_int_eq(v, 1200);
    ck_assert_uint_eq(end, 2);
    ck_assert_str_eq(cur, "");
    ck_assert(money_parse("450,00 € TTC)", &v, cur, &end));
    ck_assert_uint_eq(end, strlen("450,00 €"));
    ck_assert(money_parse("12,50.", &v, cur, &end));
    ck_assert_int_eq(v, 1250);
    ck_assert_uint_eq(end, 5);
    ck_assert(money_parse("12 34,56", &v, cur, &end));  /* a space groups exactly 3 digits */
    ck_assert_int_eq(v, 1200);
    ck_assert_uint_eq(end, 2);
    ck_assert(money_parse("30 jours", &v, cur, &end));
    ck_assert_uint_eq(end, 2);
    /* NULL outputs are allowed */
    ck_assert(money_parse("1,5", NULL, NULL, NULL));
}
END_TEST

START_TEST(test_parse_hostile)
{
    /* invalid UTF-8, truncated sequences, lone continuation bytes: no crash, no accept */
    static const char *const junk[] = {
        "\xe2\x82", "12 \xe2\x82", "\xc2", "1\xc2", "1\xe2\x80", "\xff\xfe", "1\x80",
        "\xe2\x80\xaf\xe2\x80\xaf", "€€€", "$$", "--1", "1,", "1.", "1 ", "1'", ",", "'",
    };
    gint64 v;
    for (size_t i = 0; i < G_N_ELEMENTS(junk); i++)
        (void)money_parse(junk[i], &v, NULL, NULL);
    ck_assert(money_parse("1\xe2\x80", &v, NULL, NULL));  /* stops before the junk */
    ck_assert_int_eq(v, 100);

    /* long inputs are rejected fast */
    char *big = g_strnfill(1 << 20, '9');
    ck_assert(!money_parse(big, &v, NULL, NULL));
    ck_assert(!money_parse_decimal(big, 2, &v));
    memset(big, ' ', 1 << 20);
    ck_assert(!money_parse(big, &v, NULL, NULL));
    ck_assert(!money_parse_decimal(big, 2, &v));
    for (size_t i = 0; i + 4 < (1 << 20); i += 4)
        memcpy(big + i, "123 ", 4);
    ck_assert(!money_parse(big, &v, NULL, NULL));
    g_free(big);

    /* every single byte after a valid amount */
    for (int c = 1; c < 256; c++) {
        char s[8] = "12,50";
        s[5] = (char)c;
        (void)money_parse(s, &v, NULL, NULL);
        (void)money_parse_decimal(s, 2, &v);
    }
}
END_TEST

static void fmt_eq(gint64 minor, const char *cur, const char *locale, const char *want)
{
    char *s = money_format(minor, cur, locale);
    ck_assert_msg(strcmp(s, want) == 0, "format(%" G_GINT64_FORMAT ", %s, %s) = \"%s\", want \"%s\"",
                  minor, cur ? cur : "NULL", locale ? locale : "NULL", s, want);
    g_free(s);
}

START_TEST(test_format)
{
    fmt_eq(123456, "EUR", "fr", "1" NNBSP "234,56" NBSP "€");
    fmt_eq(123456, "EUR", "fr_FR", "1" NNBSP "234,56" NBSP "€");
    fmt_eq(123456, "EUR", "en", "€1,234.56");
    fmt_eq(123456, "EUR", NULL, "€1,234.56");
    fmt_eq(123456, "eur", "en", "€1,234.56");
    fmt_eq(123456, "CHF", "fr", "1" NNBSP "234,56" NBSP "CHF");
    fmt_eq(123456, "CHF", "en", "CHF" NBSP "1,234.56");
    fmt_eq(123456, "USD", "en", "$1,234.56");
    fmt_eq(999, "GBP", "en", "£9.99");
    fmt_eq(-500, "EUR", "fr", "-5,00" NBSP "€");
    fmt_eq(-500, "EUR", "en", "-€5.00");
    fmt_eq(0, "EUR", "fr", "0,00" NBSP "€");
    fmt_eq(5, "EUR", "en", "€0.05");
    fmt_eq(100000, "EUR", "fr", "1" NNBSP "000,00" NBSP "€");
    fmt_eq(99999, "EUR", "fr", "999,99" NBSP "€");
    fmt_eq(123456789, "EUR", "fr", "1" NNBSP "234" NNBSP "567,89" NBSP "€");
    fmt_eq(1234, "JPY", "fr", "1" NNBSP "234" NBSP "JPY");
    fmt_eq(1234, "JPY", "en", "JPY" NBSP "1,234");
    fmt_eq(1234567, "KWD", "fr", "1" NNBSP "234,567" NBSP "KWD");
    fmt_eq(1234, NULL, "fr", "12,34");
    fmt_eq(1234, "", "en", "12.34");
    fmt_eq(1234, "E", "en", "12.34");
    fmt_eq(1234, "E1R", "en", "12.34");
    fmt_eq(INT64_MAX, "EUR", "en", "€92,233,720,368,547,758.07");
    fmt_eq(INT64_MIN, "EUR", "fr",
           "-92" NNBSP "233" NNBSP "720" NNBSP "368" NNBSP "547" NNBSP "758,08" NBSP "€");
    fmt_eq(INT64_MIN, "JPY", "en", "-JPY" NBSP "9,223,372,036,854,775,808");
}
END_TEST

START_TEST(test_format_plain)
{
    char *s;
    s = money_format_plain(123456, "EUR"); ck_assert_str_eq(s, "1234,56"); g_free(s);
    s = money_format_plain(-5, "EUR"); ck_assert_str_eq(s, "-0,05"); g_free(s);
    s = money_format_plain(0, NULL); ck_assert_str_eq(s, "0,00"); g_free(s);
    s = money_format_plain(1234, "JPY"); ck_assert_str_eq(s, "1234"); g_free(s);
    s = money_format_plain(1234567, "KWD"); ck_assert_str_eq(s, "1234,567"); g_free(s);
    s = money_format_plain(INT64_MIN, "EUR"); ck_assert_str_eq(s, "-92233720368547758,08");
    g_free(s);
    /* plain output parses back (it is what [montant 1234,56] tags carry) */
    s = money_format_plain(123456, "EUR");
    gint64 v;
    ck_assert(money_parse(s, &v, NULL, NULL));
    ck_assert_int_eq(v, 123456);
    g_free(s);
}
END_TEST

static void round_trip(gint64 minor, const char *cur, const char *locale)
{
    char *s = money_format(minor, cur, locale);
    gint64 back = 0;
    char got[4] = "";
    size_t end = 0;
    ck_assert_msg(money_parse(s, &back, got, &end), "round trip rejected: \"%s\"", s);
    ck_assert_msg(back == minor, "\"%s\" gave %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT,
                  s, back, minor);
    ck_assert_str_eq(got, cur);
    ck_assert_uint_eq(end, strlen(s));
    g_free(s);
}

START_TEST(test_round_trip)
{
    static const char *const currencies[] = { "EUR", "USD", "GBP", "CHF", "JPY", "KWD" };
    static const char *const locales[] = { "fr", "en" };
    for (size_t c = 0; c < G_N_ELEMENTS(currencies); c++)
        for (size_t l = 0; l < G_N_ELEMENTS(locales); l++) {
            /* every small value, then a geometric walk up to the 1e15 limit */
            for (gint64 v = -1500; v <= 200000; v += (v < 1500 ? 1 : 97))
                round_trip(v, currencies[c], locales[l]);
            for (gint64 v = 1; v <= 1000000000000000LL; v = v * 3 + 1) {
                round_trip(v, currencies[c], locales[l]);
                round_trip(-v, currencies[c], locales[l]);
            }
        }
}
END_TEST

START_TEST(test_currency_at)
{
    char code[4];
    ck_assert_uint_eq(money_currency_at("€ 12", code), 3);
    ck_assert_str_eq(code, "EUR");
    ck_assert_uint_eq(money_currency_at("euros", code), 5);
    ck_assert_uint_eq(money_currency_at("Euro)", code), 4);
    ck_assert_uint_eq(money_currency_at("chf", code), 3);
    ck_assert_str_eq(code, "CHF");
    ck_assert_uint_eq(money_currency_at("EURL", code), 0);
    ck_assert_uint_eq(money_currency_at("Europe", code), 0);
    ck_assert_uint_eq(money_currency_at("TTC", code), 0);
    ck_assert_uint_eq(money_currency_at("", code), 0);
    ck_assert_uint_eq(money_currency_at(NULL, code), 0);
}
END_TEST

static Suite *money_suite(void)
{
    Suite *s = suite_create("money");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_minor_digits);
    tcase_add_test(tc, test_parse_decimal);
    tcase_add_test(tc, test_parse_human);
    tcase_add_test(tc, test_parse_end);
    tcase_add_test(tc, test_parse_hostile);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_format_plain);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_currency_at);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(money_suite());
    return failed == 0 ? 0 : 1;
}
