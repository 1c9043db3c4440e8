/*
 * csv — see csv.h. Quoting follows RFC 4180 with ';' as the separator; defusing follows
 * the OWASP advice on CSV injection.
 */
#include <string.h>

#include "csv.h"
#include "money.h"

#define CSV_BOM "\xef\xbb\xbf"
#define CSV_SEP ';'
#define CSV_EOL "\r\n"

GString *csv_new(void)
{
    return g_string_new(CSV_BOM);
}

char *csv_amount(gint64 minor)
{
    /* Two decimals whatever the currency: the exports are in euros. */
    return money_format_plain(minor, "EUR");
}

gboolean csv_is_amount(const char *s)
{
    if (*s == '-')
        s++;
    const char *digits = s;
    while (g_ascii_isdigit(*s))
        s++;
    return s > digits && s[0] == ',' && g_ascii_isdigit(s[1]) && g_ascii_isdigit(s[2])
           && s[3] == '\0';
}

/*
 * A spreadsheet would read the cell as a formula. Leading spaces are looked through: some
 * importers trim them before deciding.
 */
static gboolean csv_is_dangerous(const char *s)
{
    const char *p = s + strspn(s, " ");
    return *p && strchr("=+-@\t\r", *p) && !csv_is_amount(s);
}

static gboolean csv_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Separators, quotes, line ends, or spaces a reader would trim. */
static gboolean csv_needs_quotes(const char *s)
{
    size_t len = strlen(s);
    return strpbrk(s, ";\"\r\n") || (len && (csv_is_blank(s[0]) || csv_is_blank(s[len - 1])));
}

static void csv_append_field(GString *doc, const char *field)
{
    char *text = g_utf8_make_valid(field ? field : "", -1);
    char *defused = csv_is_dangerous(text) ? g_strconcat("'", text, NULL) : NULL;
    const char *s = defused ? defused : text;
    if (!csv_needs_quotes(s))
        g_string_append(doc, s);
    else {
        g_string_append_c(doc, '"');
        for (; *s; s++) {
            if (*s == '"')
                g_string_append_c(doc, '"');
            g_string_append_c(doc, *s);
        }
        g_string_append_c(doc, '"');
    }
    g_free(defused);
    g_free(text);
}

void csv_row(GString *doc, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            g_string_append_c(doc, CSV_SEP);
        csv_append_field(doc, fields ? fields[i] : NULL);
    }
    g_string_append(doc, CSV_EOL);
}
