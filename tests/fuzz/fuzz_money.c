/*
 * fuzz_money — amounts as people and documents write them: money_parse (human, with
 * currency), money_parse_decimal (XML decimals, 0 to 3 digits), money_currency_at; then
 * money_format / money_format_plain of what was read.
 * Asserts: no crash/leak/UB; `end` stays within the input; the currency is "" or 3 upper
 * case letters; amounts within 1e15 major units; a plain formatted amount parses back to
 * the same value; a decimal with d digits formatted back by hand parses the same.
 */
#include "fuzz_common.h"
#include "money.h"

static void check_currency(const char c[4])
{
    FUZZ_CHECK(memchr(c, '\0', 4) != NULL);
    size_t n = strlen(c);
    FUZZ_CHECK(n == 0 || n == 3);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(c[i] >= 'A' && c[i] <= 'Z');
}

static void check_human(const char *s)
{
    gint64 minor = 0;
    char cur[4] = "";
    size_t end = 0;
    if (!money_parse(s, &minor, cur, &end))
        return;
    check_currency(cur);
    FUZZ_CHECK(end <= strlen(s));
    const char *code = *cur ? cur : "EUR";
    int d = money_minor_digits(code);
    gint64 cap = 1000000000000000LL;
    for (int i = 0; i < d; i++)
        cap *= 10;
    FUZZ_CHECK(minor >= -cap && minor <= cap);
    char *fr = money_format(minor, code, "fr");
    char *en = money_format(minor, code, "en");
    char *plain = money_format_plain(minor, code);
    FUZZ_CHECK(fuzz_utf8(fr) && fuzz_utf8(en));
    gint64 back = 0;
    char c2[4];
    char *tagged = g_strdup_printf("%s %s", plain, code);
    FUZZ_CHECK(money_parse(tagged, &back, c2, NULL));
    FUZZ_CHECK(back == minor);
    g_free(tagged);
    g_free(fr);
    g_free(en);
    g_free(plain);
}

static void check_decimal(const char *s)
{
    for (int d = 0; d <= 3; d++) {
        gint64 minor = 0;
        if (money_parse_decimal(s, d, &minor)) {
            gint64 back = 0;
            gint64 scale = 1;
            for (int i = 0; i < d; i++)
                scale *= 10;
            gint64 a = minor < 0 ? -(minor / scale) : minor / scale;
            gint64 f = minor % scale;
            char *txt = d ? g_strdup_printf("%s%" G_GINT64_FORMAT ".%0*" G_GINT64_FORMAT,
                                            minor < 0 ? "-" : "", a, d, f < 0 ? -f : f)
                          : g_strdup_printf("%" G_GINT64_FORMAT, minor);
            FUZZ_CHECK(money_parse_decimal(txt, d, &back) && back == minor);
            g_free(txt);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    check_human(s);
    check_decimal(s);
    char code[4] = "";
    size_t n = money_currency_at(s, code);
    FUZZ_CHECK(n <= strlen(s));
    if (n)
        check_currency(code);
    g_free(s);
    return 0;
}
