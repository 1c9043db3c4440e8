/*
 * fuzz_csv — the portal's spreadsheet export (lib/csv.c) of hostile invoice fields (client
 * names, numbers, subjects are the client's or the artisan's text): the input split on
 * '\t' into the fields of one row; each field also through csv_is_amount.
 * Asserts: no crash/leak/UB; the document is the BOM, one row, CRLF-terminated, valid UTF-8;
 * no field starts with a formula character (= + - @ TAB CR, after spaces) once unquoted
 * unless it is an amount as csv_amount writes it; csv_amount's output is such an amount.
 */
#include "csv.h"
#include "fuzz_common.h"

/* Splits one CSV row (';' separated, "..." quoted with "" escapes) and checks each field. */
static void check_row(const char *row, size_t len)
{
    size_t i = 0;
    while (i <= len) {
        GString *f = g_string_new(NULL);
        if (i < len && row[i] == '"') {
            for (i++; i < len; i++) {
                if (row[i] == '"' && i + 1 < len && row[i + 1] == '"')
                    g_string_append_c(f, row[i++]);
                else if (row[i] == '"')
                    break;
                else
                    g_string_append_c(f, row[i]);
            }
            FUZZ_CHECK(i < len); /* closing quote */
            i++;
        } else {
            for (; i < len && row[i] != ';'; i++)
                g_string_append_c(f, row[i]);
        }
        FUZZ_CHECK(i == len || row[i] == ';');
        const char *p = f->str + strspn(f->str, " ");
        if (*p && strchr("=+-@\t\r", *p))
            FUZZ_CHECK(csv_is_amount(f->str));
        g_string_free(f, TRUE);
        i++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char **fields = g_strsplit(text, "\t", 16);
    size_t n = g_strv_length(fields);
    GString *doc = csv_new();
    csv_row(doc, (const char *const *)fields, n);
    FUZZ_CHECK(g_str_has_prefix(doc->str, "\xEF\xBB\xBF"));
    FUZZ_CHECK(g_str_has_suffix(doc->str, "\r\n"));
    FUZZ_CHECK(g_utf8_validate(doc->str, (gssize)doc->len, NULL));
    check_row(doc->str + 3, doc->len - 5);
    for (size_t i = 0; i < n; i++)
        (void)csv_is_amount(fields[i]);
    gint64 v = 0;
    memcpy(&v, data, size < sizeof v ? size : sizeof v);
    char *amount = csv_amount(v);
    FUZZ_CHECK(csv_is_amount(amount));
    g_free(amount);
    g_string_free(doc, TRUE);
    g_strfreev(fields);
    g_free(text);
    return 0;
}
