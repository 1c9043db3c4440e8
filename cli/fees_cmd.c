/*
 * fees_cmd — `reglo fees --month YYYY-MM [--csv]`: what the operator bills for a month. Per
 * artisan with at least one successful payment through a link that month (one fee row
 * each): the transactions, the fee total and what the links collected; then the total.
 * Month boundaries are in Paris time. The default output is an aligned table for a
 * terminal, --csv a spreadsheet export (lib/csv.h). Amounts collected in another currency
 * than the euro get their own rows and total, never a sum across currencies.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "db.h"
#include "money.h"
#include "sqltext.h"

#define FEES_TIMEZONE "Europe/Paris"
#define FEES_CURRENCY "EUR"   /* the fee ledger's (sql/002_payments.sql) */

/* Column order of SQL_FEES_MONTH. */
enum { C_TOTAL, C_EMAIL, C_NAME, C_CURRENCY, C_COUNT, C_FEES, C_PAID };

/* Columns of the text table. */
enum { T_EMAIL, T_NAME, T_COUNT, T_FEES, T_PAID, T_N };

/* One line of the report; the strings point into the PGresult or are literals. */
typedef struct fees_line {
    gboolean total;
    const char *email, *name, *currency;
    gint64 count, fees, paid;
} fees_line;

/* "YYYY-MM", month 01 to 12, year 0001 to 9999. */
static gboolean fees_month_valid(const char *s)
{
    if (strlen(s) != 7 || s[4] != '-')
        return FALSE;
    for (int i = 0; i < 7; i++)
        if (i != 4 && !g_ascii_isdigit(s[i]))
            return FALSE;
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    return strncmp(s, "0000", 4) != 0 && month >= 1 && month <= 12;
}

/* The result's lines, and a zero total when the month has none (nothing billed). */
static GArray *fees_lines(const PGresult *res)
{
    GArray *lines = g_array_new(FALSE, TRUE, sizeof(fees_line));
    gboolean has_total = FALSE;
    for (int i = 0; i < PQntuples(res); i++) {
        fees_line l = { .total = db_int(res, i, C_TOTAL) != 0,
                        .email = db_str(res, i, C_EMAIL), .name = db_str(res, i, C_NAME),
                        .currency = db_str(res, i, C_CURRENCY),
                        .count = db_int(res, i, C_COUNT), .fees = db_int(res, i, C_FEES),
                        .paid = db_int(res, i, C_PAID) };
        has_total = has_total || l.total;
        g_array_append_val(lines, l);
    }
    if (!has_total) {
        fees_line zero = { .total = TRUE, .email = "", .name = "", .currency = FEES_CURRENCY };
        g_array_append_val(lines, zero);
    }
    return lines;
}

/* ---- text ------------------------------------------------------------------------------ */

/* What a terminal can show safely: valid UTF-8, control characters as '?'. */
static char *fees_printable(const char *s)
{
    char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_sized_new(strlen(valid));
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c))
            g_string_append_c(out, '?');
        else
            g_string_append_unichar(out, c);
    }
    g_free(valid);
    return g_string_free(out, FALSE);
}

/* Terminal columns taken by valid UTF-8 (money_format writes U+202F and U+00A0). */
static size_t fees_width(const char *s)
{
    size_t w = 0;
    for (; *s; s = g_utf8_next_char(s)) {
        gunichar c = g_utf8_get_char(s);
        w += g_unichar_iszerowidth(c) ? 0 : g_unichar_iswide(c) ? 2 : 1;
    }
    return w;
}

static void fees_pad(GString *out, const char *s, size_t width, gboolean right)
{
    size_t w = fees_width(s), pad = width > w ? width - w : 0;
    if (!right)
        g_string_append(out, s);
    for (size_t i = 0; i < pad; i++)
        g_string_append_c(out, ' ');
    if (right)
        g_string_append(out, s);
}

/* The cells of a line (a NULL-terminated vector of T_N strings). */
static char **fees_text_cells(const fees_line *l)
{
    char **cells = g_new0(char *, T_N + 1);
    cells[T_EMAIL] = l->total ? g_strdup("Total") : fees_printable(l->email);
    cells[T_NAME] = fees_printable(l->name);
    cells[T_COUNT] = g_strdup_printf("%" G_GINT64_FORMAT, l->count);
    cells[T_FEES] = money_format(l->fees, FEES_CURRENCY, "fr");
    cells[T_PAID] = money_format(l->paid, l->currency, "fr");
    return cells;
}

static void fees_text_row(GString *out, char *const *cells, const size_t *widths)
{
    for (int c = 0; c < T_N; c++) {
        if (c)
            g_string_append(out, "  ");
        fees_pad(out, cells[c], widths[c], c >= T_COUNT);
    }
    g_string_append_c(out, '\n');
}

static void fees_text(GString *out, const char *month, const GArray *lines)
{
    static const char *const header[T_N + 1] = { "Artisan", "Nom", "Transactions", "Frais",
                                                 "Encaissé", NULL };
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    g_ptr_array_add(rows, g_strdupv((char **) header));
    for (guint i = 0; i < lines->len; i++)
        g_ptr_array_add(rows, fees_text_cells(&g_array_index(lines, fees_line, i)));
    size_t widths[T_N] = { 0 }, total_width = 2 * (T_N - 1);
    for (guint r = 0; r < rows->len; r++)
        for (int c = 0; c < T_N; c++)
            widths[c] = MAX(widths[c], fees_width(((char **) rows->pdata[r])[c]));
    for (int c = 0; c < T_N; c++)
        total_width += widths[c];

    g_string_append_printf(out, "Frais du mois %s (heure de Paris)\n\n", month);
    gboolean in_totals = FALSE;   /* the totals come last */
    for (guint r = 0; r < rows->len; r++) {
        gboolean total = r > 0 && g_array_index(lines, fees_line, r - 1).total;
        if (r == 1 || (total && !in_totals)) {   /* a rule under the header, above the totals */
            for (size_t i = 0; i < total_width; i++)
                g_string_append_c(out, '-');
            g_string_append_c(out, '\n');
        }
        in_totals = total;
        fees_text_row(out, rows->pdata[r], widths);
    }
    g_ptr_array_free(rows, TRUE);
}

/* ---- csv ------------------------------------------------------------------------------- */

static void fees_csv(GString *doc, const GArray *lines)
{
    static const char *const header[] = { "artisan", "nom", "transactions", "frais",
                                          "total_encaisse", "devise" };
    csv_row(doc, header, G_N_ELEMENTS(header));
    for (guint i = 0; i < lines->len; i++) {
        const fees_line *l = &g_array_index(lines, fees_line, i);
        char *count = g_strdup_printf("%" G_GINT64_FORMAT, l->count);
        char *fees = csv_amount(l->fees);
        char *paid = money_format_plain(l->paid, l->currency);   /* its currency's digits */
        const char *row[] = { l->total ? "TOTAL" : l->email, l->name, count, fees, paid,
                              l->currency };
        csv_row(doc, row, G_N_ELEMENTS(row));
        g_free(count);
        g_free(fees);
        g_free(paid);
    }
}

/* ---- command --------------------------------------------------------------------------- */

static int fees_report(cli_env *env, const char *month, gboolean csv)
{
    const char *params[] = { month, FEES_TIMEZONE };
    char *err = NULL;
    PGresult *res = db_exec(cli_db(env), SQL_FEES_MONTH, 2, params, &err);
    if (!res) {
        fprintf(stderr, "reglo: %s\n", err);
        g_free(err);
        return EXIT_FAIL;
    }
    GArray *lines = fees_lines(res);
    GString *out = csv ? csv_new() : g_string_new(NULL);
    if (csv)
        fees_csv(out, lines);
    else
        fees_text(out, month, lines);
    int rc = EXIT_OK;
    if (fwrite(out->str, 1, out->len, stdout) != out->len || fflush(stdout) != 0) {
        perror("reglo: stdout");
        rc = EXIT_FAIL;
    }
    g_string_free(out, TRUE);
    g_array_free(lines, TRUE);
    PQclear(res);
    return rc;
}

static int fees_usage(void)
{
    fprintf(stderr, "usage: reglo fees --month YYYY-MM [--csv]\n");
    return EXIT_USAGE;
}

int cmd_fees(cli_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "month", required_argument, NULL, 'm' }, { "csv", no_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 }
    };
    const char *month = NULL;
    gboolean csv = FALSE;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'm')
            month = optarg;
        else if (opt == 'c')
            csv = TRUE;
        else
            return fees_usage();
    }
    if (!month || optind != argc)
        return fees_usage();
    if (!fees_month_valid(month)) {
        fprintf(stderr, "reglo: bad month '%s': expected YYYY-MM, e.g. 2026-03\n", month);
        return EXIT_USAGE;
    }
    return fees_report(env, month, csv);
}
