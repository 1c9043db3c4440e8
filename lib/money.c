/*
 * money — amounts as integer minor units: ISO 4217 exponents, exact parsing of machine
 * decimals (XML) and of amounts as people write them (French and English habits), and
 * formatting for French and English readers. See money.h.
 *
 * Owns nothing: returned strings are g_malloc'ed and belong to the caller. No floating
 * point. The parsers work on bytes, so any input (invalid UTF-8, binary) is safe: the few
 * non-ASCII characters they know (€ £ NBSP NNBSP thin space ’ −) are matched as exact
 * UTF-8 sequences, and every loop is bounded by the input or by a small constant.
 */
#include "money.h"

#include <string.h>

/* Largest amount accepted, in major units: far above any invoice, far below INT64_MAX. */
#define MONEY_MAX_UNITS 1000000000000000ULL
/* Longest digit run looked at; longer runs are not amounts (and keep scans bounded). */
#define MONEY_MAX_RUN 24
/* Digit groups in one human amount ("1 000 000 000 000 000,00" has 7). */
#define MONEY_MAX_RUNS 8
/* Spaces allowed between a number and a following currency ("12,50   €"). */
#define MONEY_MAX_GAP 4

#define UTF8_NBSP   "\xc2\xa0"     /* U+00A0 NO-BREAK SPACE */
#define UTF8_NNBSP  "\xe2\x80\xaf" /* U+202F NARROW NO-BREAK SPACE */

static const struct {
    const char *code;
    int digits;
} minor_digits[] = {
    { "BHD", 3 }, { "IQD", 3 }, { "JOD", 3 }, { "KWD", 3 }, { "LYD", 3 }, { "OMR", 3 },
    { "TND", 3 },
    { "BIF", 0 }, { "CLP", 0 }, { "DJF", 0 }, { "GNF", 0 }, { "ISK", 0 }, { "JPY", 0 },
    { "KMF", 0 }, { "KRW", 0 }, { "PYG", 0 }, { "RWF", 0 }, { "UGX", 0 }, { "VND", 0 },
    { "VUV", 0 }, { "XAF", 0 }, { "XOF", 0 }, { "XPF", 0 },
};

/* Codes recognised in human text; a short list so that words like "TTC" never match. */
static const char *const known_codes[] = {
    "EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "RON", "BGN", "MAD", "XOF", "XAF", "XPF", "TND", "KWD", "BHD", "OMR", "JOD",
};

/* Symbols, both ways: parsing maps them to a code, formatting uses them for that code. */
static const struct {
    const char *symbol;
    const char *code;
} symbols[] = {
    { "\xe2\x82\xac", "EUR" },  /* € */
    { "$", "USD" },
    { "\xc2\xa3", "GBP" },      /* £ */
};

int money_minor_digits(const char *currency)
{
    for (size_t i = 0; currency && i < G_N_ELEMENTS(minor_digits); i++)
        if (g_ascii_strcasecmp(currency, minor_digits[i].code) == 0)
            return minor_digits[i].digits;
    return 2;
}

static gboolean is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static gboolean is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static gboolean starts_with(const char *p, const char *prefix)
{
    return strncmp(p, prefix, strlen(prefix)) == 0;
}

/*
 * units + fraction digits → minor units, exactly: fraction digits beyond `digits` must be
 * zeros ("12.3400" is fine for EUR, "12.345" is not), and so must all of them at the
 * largest amount (MONEY_MAX_UNITS and a fraction is more than it).
 */
static gboolean to_minor(guint64 units, const char *frac, size_t nfrac, int digits,
                         gboolean negative, gint64 *minor)
{
    if (units > MONEY_MAX_UNITS || digits < 0 || digits > 4)
        return FALSE;
    gint64 v = (gint64)units;
    for (int i = 0; i < digits; i++) {
        int d = (size_t)i < nfrac ? frac[i] - '0' : 0;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
            return FALSE;
    }
    for (size_t i = 0; i < nfrac; i++)
        if (frac[i] != '0' && (i >= (size_t)digits || units == MONEY_MAX_UNITS))
            return FALSE;     /* a digit we cannot keep, or more than the largest amount */
    *minor = negative ? -v : v;
    return TRUE;
}

/* Appends digits to a saturating integer: anything above the limit stays above it. */
static guint64 add_digits(guint64 v, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v > MONEY_MAX_UNITS)
            return v;
        v = v * 10 + (guint64)(p[i] - '0');
    }
    return v;
}

static gboolean is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

gboolean money_parse_decimal(const char *s, int digits, gint64 *minor)
{
    if (!s)
        return FALSE;
    while (is_xml_space(*s))
        s++;
    gboolean negative = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    const char *int_start = s;
    while (is_digit(*s))
        s++;
    const char *int_end = s, *frac = s, *frac_end = s;
    if (*s == '.') {
        frac = ++s;
        while (is_digit(*s))
            s++;
        frac_end = s;
    }
    if (int_end == int_start && frac_end == frac)
        return FALSE;  /* "", ".", "-" */
    while (is_xml_space(*s))
        s++;
    if (*s)
        return FALSE;
    guint64 units = add_digits(0, int_start, (size_t)(int_end - int_start));
    return to_minor(units, frac, (size_t)(frac_end - frac), digits, negative, minor);
}

/* Horizontal white space of any kind people and PDFs put inside amounts; its length. */
static size_t hspace_len(const char *p)
{
    if (*p == ' ' || *p == '\t')
        return 1;
    if (starts_with(p, UTF8_NBSP))
        return 2;
    if (starts_with(p, UTF8_NNBSP) || starts_with(p, "\xe2\x80\x89") /* thin */
        || starts_with(p, "\xe2\x80\x87") /* figure space */)
        return 3;
    return 0;
}

/* A thousands separator that cannot be a decimal separator: a space or an apostrophe. */
static size_t group_mark_len(const char *p, char *kind)
{
    size_t n = hspace_len(p);
    if (n && *p != '\t') {
        *kind = ' ';
        return n;
    }
    if (*p == '\'') {
        *kind = '\'';
        return 1;
    }
    if (starts_with(p, "\xe2\x80\x99")) {  /* ’ (Swiss "1’234.50") */
        *kind = '\'';
        return 3;
    }
    return 0;
}

static size_t sign_len(const char *p, gboolean *negative)
{
    if (*p == '-' || *p == '+') {
        *negative = *p == '-';
        return 1;
    }
    if (starts_with(p, "\xe2\x88\x92")) {  /* U+2212 MINUS SIGN */
        *negative = TRUE;
        return 3;
    }
    return 0;
}

size_t money_currency_at(const char *s, char code[4])
{
    if (!s)
        return 0;
    for (size_t i = 0; i < G_N_ELEMENTS(symbols); i++)
        if (starts_with(s, symbols[i].symbol)) {
            g_strlcpy(code, symbols[i].code, 4);
            return strlen(symbols[i].symbol);
        }
    /* "euro(s)" before the codes: "EUR" must not swallow the start of "euros". */
    static const char *const euro_words[] = { "euros", "euro" };
    for (size_t i = 0; i < G_N_ELEMENTS(euro_words); i++) {
        size_t n = strlen(euro_words[i]);
        if (g_ascii_strncasecmp(s, euro_words[i], n) == 0 && !is_alpha(s[n])) {
            g_strlcpy(code, "EUR", 4);
            return n;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(known_codes); i++)
        if (g_ascii_strncasecmp(s, known_codes[i], 3) == 0 && !is_alpha(s[3])) {
            g_strlcpy(code, known_codes[i], 4);
            return 3;
        }
    return 0;
}

/* The digits of a human amount as written: runs of digits and the marks between them. */
typedef struct {
    const char *run[MONEY_MAX_RUNS];
    size_t len[MONEY_MAX_RUNS];
    char sep[MONEY_MAX_RUNS];  /* sep[i] sits between run[i] and run[i + 1]: ' ' '\'' ',' '.' */
    int n;
} digit_runs;

static size_t digit_run_len(const char *p)
{
    size_t n = 0;
    while (n <= MONEY_MAX_RUN && is_digit(p[n]))
        n++;
    return n;
}

/*
 * Splits "1 234 567,89" into runs; returns the bytes consumed, 0 when no digit or a run
 * is absurdly long. A space or apostrophe joins runs only before exactly three digits and
 * before any ',' or '.', so "12 2024" stops after "12".
 */
static size_t split_runs(const char *s, digit_runs *r)
{
    const char *p = s;
    gboolean point_seen = FALSE;
    r->n = 0;
    for (;;) {
        size_t n = digit_run_len(p);
        if (n == 0 || n > MONEY_MAX_RUN)
            return 0;
        r->run[r->n] = p;
        r->len[r->n] = n;
        r->n++;
        p += n;
        if (r->n == MONEY_MAX_RUNS)
            break;
        char kind;
        size_t g;
        if ((*p == ',' || *p == '.') && is_digit(p[1])) {
            r->sep[r->n - 1] = *p;
            point_seen = TRUE;
            p++;
        } else if (!point_seen && (g = group_mark_len(p, &kind)) > 0
                   && digit_run_len(p + g) == 3) {
            r->sep[r->n - 1] = kind;
            p += g;
        } else
            break;
    }
    return (size_t)(p - s);
}

/*
 * Which separator, if any, is the decimal one: the last ',' or '.' when 1-2 digits follow
 * it. A last ',' or '.' before exactly three digits is a thousands separator only when
 * the grouping is otherwise evident; "1,234" alone is ambiguous, except for currencies
 * whose exponent settles it (JPY has no decimals, KWD has three).
 * Returns the index of the decimal separator, -1 for none, -2 when ambiguous or malformed.
 */
static int decimal_index(const digit_runs *r, int currency_digits)
{
    if (r->n < 2)
        return -1;
    int last = r->n - 1;
    char ls = r->sep[last - 1];
    if (ls != ',' && ls != '.')
        return -1;
    if (r->len[last] <= 2)
        return last - 1;
    if (r->len[last] != 3)
        return -2;
    gboolean same_before = FALSE;
    for (int i = 0; i < last - 1; i++)
        if (r->sep[i] == ls)
            same_before = TRUE;
    if (same_before)
        return -1;  /* "1,234,567" */
    if (currency_digits == 3)
        return last - 1;  /* "1,234 KWD", "1 234,567 KWD" */
    if (currency_digits == 0 || last >= 2)
        return -1;  /* "1,234 JPY"; "1 234.567" is checked by the grouping */
    return -2;      /* "1,234", "1.234" */
}

/* Thousands groups: one kind of mark, 1-3 digits then groups of exactly 3. */
static gboolean grouping_valid(const digit_runs *r, int ngroups, char decimal)
{
    if (ngroups == 0)
        return TRUE;
    if (r->len[0] > 3)
        return FALSE;
    for (int i = 0; i < ngroups; i++) {
        if (r->sep[i] != r->sep[0] || r->sep[i] == decimal || r->len[i + 1] != 3)
            return FALSE;
    }
    return TRUE;
}

static gboolean runs_to_minor(const digit_runs *r, int currency_digits, gboolean negative,
                              gint64 *minor)
{
    int dec = decimal_index(r, currency_digits);
    if (dec == -2)
        return FALSE;
    int nint = dec >= 0 ? dec + 1 : r->n;  /* runs in the integer part */
    if (!grouping_valid(r, nint - 1, dec >= 0 ? r->sep[dec] : 0))
        return FALSE;
    guint64 units = 0;
    for (int i = 0; i < nint; i++)
        units = add_digits(units, r->run[i], r->len[i]);
    const char *frac = dec >= 0 ? r->run[r->n - 1] : "";
    size_t nfrac = dec >= 0 ? r->len[r->n - 1] : 0;
    return to_minor(units, frac, nfrac, currency_digits, negative, minor);
}

/* The amount must end here: not "12/03/2024", "20,0%", "12h30", "2024-17", "12:30". */
static gboolean amount_boundary(const char *p)
{
    if (is_digit(*p) || is_alpha(*p) || *p == '%' || *p == '_')
        return FALSE;
    if (*p && strchr("/-:.,'", *p) && is_digit(p[1]))
        return FALSE;
    return TRUE;
}

gboolean money_parse(const char *s, gint64 *minor, char currency[4], size_t *end)
{
    if (!s)
        return FALSE;
    const char *p = s;
    size_t n;
    while ((n = hspace_len(p)) > 0 || *p == '\n' || *p == '\r')
        p += n ? n : 1;
    gboolean negative = FALSE;
    size_t sign = sign_len(p, &negative);  /* "-5,00 €", "-€5.00" or "€-5.00" */
    p += sign;
    char cur[4] = "";
    if ((n = money_currency_at(p, cur)) > 0) {
        p += n;
        for (int gap = 0; gap < MONEY_MAX_GAP && (n = hspace_len(p)) > 0; gap++)
            p += n;
        if (!sign)
            p += sign_len(p, &negative);
    }
    digit_runs runs;
    if ((n = split_runs(p, &runs)) == 0)
        return FALSE;
    p += n;
    if (!cur[0]) {
        const char *q = p;
        for (int gap = 0; gap < MONEY_MAX_GAP && (n = hspace_len(q)) > 0; gap++)
            q += n;
        if ((n = money_currency_at(q, cur)) > 0)
            p = q + n;
    }
    if (!amount_boundary(p))
        return FALSE;
    gint64 v;
    if (!runs_to_minor(&runs, money_minor_digits(cur[0] ? cur : NULL), negative, &v))
        return FALSE;
    if (minor)
        *minor = v;
    if (currency)
        memcpy(currency, cur, 4);
    if (end)
        *end = (size_t)(p - s);
    return TRUE;
}

/* Three ASCII letters, upper-cased into code; FALSE for anything else. */
static gboolean currency_code(const char *currency, char code[4])
{
    if (!currency || strlen(currency) != 3)
        return FALSE;
    for (int i = 0; i < 3; i++) {
        if (!is_alpha(currency[i]))
            return FALSE;
        code[i] = g_ascii_toupper(currency[i]);
    }
    code[3] = '\0';
    return TRUE;
}

static const char *currency_symbol(const char *code)
{
    for (size_t i = 0; i < G_N_ELEMENTS(symbols); i++)
        if (strcmp(code, symbols[i].code) == 0)
            return symbols[i].symbol;
    return NULL;
}

/* |minor| with `digits` decimals, `group` between thousands (NULL: none). */
static void append_number(GString *out, guint64 magnitude, int digits, const char *group,
                          char decimal)
{
    guint64 scale = 1;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    char buf[32];
    int len = g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT, magnitude / scale);
    for (int i = 0; i < len; i++) {
        g_string_append_c(out, buf[i]);
        int left = len - i - 1;
        if (group && left > 0 && left % 3 == 0)
            g_string_append(out, group);
    }
    if (digits > 0)
        g_string_append_printf(out, "%c%0*" G_GUINT64_FORMAT, decimal, digits,
                               magnitude % scale);
}

static guint64 magnitude_of(gint64 minor)
{
    /* Through unsigned arithmetic so that INT64_MIN has a magnitude too. */
    return minor < 0 ? (guint64)0 - (guint64)minor : (guint64)minor;
}

/*
 * French follows CLDR and French typography: U+202F NARROW NO-BREAK SPACE between
 * thousands, U+00A0 NO-BREAK SPACE before the symbol or code, so the amount never breaks
 * across lines: "1 234,56 €". English: "€1,234.56", "-€5.00", and a code with U+00A0:
 * "CHF 1,234.56". A missing or malformed currency gives the bare number.
 */
char *money_format(gint64 minor, const char *currency, const char *locale)
{
    char code[4];
    gboolean has_code = currency_code(currency, code);
    const char *sign = has_code ? currency_symbol(code) : NULL;
    int digits = money_minor_digits(has_code ? code : NULL);
    gboolean fr = locale && g_ascii_strncasecmp(locale, "fr", 2) == 0;
    GString *out = g_string_new(minor < 0 ? "-" : "");
    if (fr) {
        append_number(out, magnitude_of(minor), digits, UTF8_NNBSP, ',');
        if (has_code)
            g_string_append_printf(out, UTF8_NBSP "%s", sign ? sign : code);
    } else {
        if (has_code)
            g_string_append(out, sign ? sign : code);
        if (has_code && !sign)
            g_string_append(out, UTF8_NBSP);
        append_number(out, magnitude_of(minor), digits, ",", '.');
    }
    return g_string_free(out, FALSE);
}

char *money_format_plain(gint64 minor, const char *currency)
{
    char code[4];
    int digits = money_minor_digits(currency_code(currency, code) ? code : NULL);
    GString *out = g_string_new(minor < 0 ? "-" : "");
    append_number(out, magnitude_of(minor), digits, NULL, ',');
    return g_string_free(out, FALSE);
}
