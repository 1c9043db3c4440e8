/*
 * textscan — heuristics that read an invoice written as text (the PDF's text as poppler
 * gives it, or the subject) in French, English and a little German. See textscan.h.
 *
 * The text is first folded into a private copy: accents and ligatures to ASCII ("Échéance"
 * and the accent-less "Echeance" of some PDFs match alike), every kind of space to ' ',
 * line ends to '\n', "n°"/"nº" to "no"; a lower-case twin of it serves label matching, at
 * the same offsets. Labels are whole words, though poppler may glue a value to them
 * ("Solde à payer470,15 €") or a label to the word before ("30 daysDue Date"). Each label
 * is found with memmem, at most MAX_HITS times, and its value is looked for within WINDOW
 * bytes, on the label's line or on the next non-empty one (PDF text often puts the value
 * under its label). The text is cut at SCAN_MAX bytes. So the work is linear in the
 * text, whatever its bytes.
 *
 * Rules (decided here, written once):
 * - Invoice: a line starting with "Facture", "Invoice", "Rechnung", a credit-note title,
 *   or an invoice number label ("N° de facture", "Invoice #"). A quote, order or delivery
 *   note title that comes first ("Devis n° 12"), or "pro forma" / "pas une facture"
 *   anywhere: not an invoice.
 * - Amount due: "Net à payer", "Reste à payer", "Montant dû", "Amount due", "Balance
 *   due"... (strong) win over "Total TTC", "Total", "Montant total"... (weak). Strong
 *   labels that disagree, a strong label standing alone with no amount we can tie to it,
 *   weak labels that disagree, or only weak labels in a text that mentions a deposit
 *   ("acompte", "déjà payé") give no amount: never a guess. A negative amount due is
 *   nothing to pay (0). A value is tied to its label only when the label follows a line
 *   that ends with a value (or is the first line), or, on the label's own line, when no
 *   lone amount comes next: PDF text of a table stacks the labels over a column of values,
 *   and there the value under or after a label is not its own (see stacked()).
 * - Currency: the amount's own ("1 200,00 €", "EUR 1 200,00", "Total (EUR)"), else the one
 *   currency the text mentions when it mentions exactly one (any "€" makes a French
 *   invoice EUR), else none. "TTC" alone does not mean euros (Morocco, Tunisia use it).
 * - Numeric dates are day first (12/03/2024 is 12 March).
 * - Credit note: a line "Avoir", "Credit note", "Facture d'avoir" or such a title followed
 *   by a number ("Avoir n° A-12", "Avoir AV-2017-0005"): type 381. Otherwise 380.
 * - Direct debit: "prélèvement", "prélevé", "direct debit", "Lastschrift", "Bankeinzug".
 * - Subjects: the same titles anywhere in the line after "Re:"/"Fwd:"/"TR:"; an amount
 *   counts only with its currency ("450,00 €", "$120.00") and not before tax ("HT").
 *
 * Owns only its scan_text copies; fills the caller's invoice_data (which then owns the
 * strings put into it). Leaves out->source alone.
 */
#include "textscan.h"

#include <stdint.h>
#include <string.h>

#include "money.h"
#include "qr.h"

#define SCAN_MAX   (1u << 20)  /* bytes of text looked at: an invoice's text is far less */
#define WINDOW     256         /* bytes looked at around a label */
#define MAX_HITS   256         /* occurrences of one label examined */
#define NUMBER_MAX 40          /* longest invoice number believed */

typedef struct {
    char *norm;  /* folded text, case kept: values are read here */
    char *low;   /* the same in ASCII lower case: labels are matched here */
    size_t len;
} scan_text;

/* ---- folding ------------------------------------------------------------------------- */

static gboolean is_mark(gunichar c)
{
    GUnicodeType type = g_unichar_type(c);
    return type == G_UNICODE_NON_SPACING_MARK || type == G_UNICODE_SPACING_MARK
        || type == G_UNICODE_ENCLOSING_MARK;
}

/* Characters whose folding is not their compatibility decomposition; NULL otherwise. */
static const char *fold_special(gunichar c)
{
    switch (c) {
    case '\r': case '\f': case '\v': case 0x85: case 0x2028: case 0x2029:
        return "\n";
    case 0xB0: case 0xBA:                     /* n° nº */
        return "o";
    case 0x2018: case 0x2019: case 0x201B: case 0x2032: case 0xB4:
        return "'";
    case 0x201C: case 0x201D: case 0xAB: case 0xBB:
        return "\"";
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
    case 0x2212:
        return "-";
    case 0x153: return "oe";
    case 0x152: return "OE";
    case 0xE6:  return "ae";
    case 0xC6:  return "AE";
    case 0xDF:  return "ss";
    case 0xAD: case 0x200B: case 0x200C: case 0x200D: case 0x2060: case 0xFEFF:
        return "";                             /* invisible */
    }
    return NULL;
}

/* Accented letters and ligatures to ASCII; anything else (€, £, CJK...) kept as UTF-8. */
static void fold_char(GString *out, gunichar c)
{
    const char *special = fold_special(c);
    if (special) {
        g_string_append(out, special);
        return;
    }
    if (c < 0x80) {
        g_string_append_c(out, c == '\n' || c >= 0x20 ? (char)c : ' ');
        return;
    }
    if (g_unichar_isspace(c)) {
        g_string_append_c(out, ' ');
        return;
    }
    gunichar d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
    gsize n = g_unichar_fully_decompose(c, TRUE, d, G_N_ELEMENTS(d));
    char ascii[G_UNICHAR_MAX_DECOMPOSITION_LENGTH + 1];
    size_t na = 0;
    for (gsize i = 0; i < n; i++) {
        if (d[i] >= 0x20 && d[i] < 0x7f)
            ascii[na++] = (char)d[i];
        else if (!is_mark(d[i])) {
            na = 0;
            break;
        }
    }
    ascii[na] = '\0';
    if (na > 0)
        g_string_append(out, ascii);
    else
        g_string_append_unichar(out, c);
}

static void scan_text_init(scan_text *t, const char *text)
{
    size_t len = strnlen(text, SCAN_MAX);
    GString *out = g_string_sized_new(len + 1);
    const char *p = text, *end = text + len;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_c(out, ' ');  /* invalid byte: a word break, nothing more */
            p++;
            continue;
        }
        fold_char(out, c);
        p = g_utf8_next_char(p);
        if ((c == 0xB0 || c == 0xBA) && p < end && g_ascii_isalpha(*p))
            g_string_append_c(out, ' ');  /* "N°A12": the marker, then the number */
    }
    t->len = out->len;
    t->norm = g_string_free(out, FALSE);
    t->low = g_ascii_strdown(t->norm, (gssize)t->len);
}

static void scan_text_clear(scan_text *t)
{
    g_free(t->norm);
    g_free(t->low);
}

/* ---- positions and lines ------------------------------------------------------------- */

static gboolean word_char(char c)
{
    return g_ascii_isalnum(c);
}

static size_t window_end(const scan_text *t, size_t at)
{
    return MIN(t->len, at + WINDOW);
}

static gboolean in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static size_t skip_chars(const scan_text *t, size_t p, size_t lim, const char *set)
{
    while (p < lim && in_set(t->low[p], set))
        p++;
    return p;
}

/*
 * Nothing glued to a word ending in `last` at p: no letter after a letter. Digits may
 * follow, because poppler glues a value to its label ("Total TTC671,15 €"); a one-letter
 * word ("n") must stand alone.
 */
static gboolean word_ends(const scan_text *t, size_t p, char last, size_t word_len)
{
    if (p >= t->len || !word_char(last))
        return TRUE;
    return word_len == 1 ? !word_char(t->low[p]) : !g_ascii_isalpha(t->low[p]);
}

/* The lower-case word w stands at p. */
static gboolean word_at(const scan_text *t, size_t p, const char *w)
{
    size_t n = strlen(w);
    return p + n <= t->len && memcmp(t->low + p, w, n) == 0 && word_ends(t, p + n, w[n - 1], n);
}

/* Only spaces between the start of the line and p. */
static gboolean at_line_start(const scan_text *t, size_t p)
{
    size_t lim = p > WINDOW ? p - WINDOW : 0;
    while (p > lim && t->low[p - 1] == ' ')
        p--;
    return p == 0 || t->low[p - 1] == '\n';
}

/* Only spaces between p and the end of its line. */
static gboolean at_line_end(const scan_text *t, size_t p)
{
    p = skip_chars(t, p, window_end(t, p), " ");
    return p == t->len || t->low[p] == '\n';
}

/* Spaces and the punctuation between a label and its value: ": ", " ....... ", "= ". */
static size_t skip_filler(const scan_text *t, size_t p, size_t lim)
{
    return skip_chars(t, p, lim, " :.=_*|");
}

/*
 * Where the value after a label starts: on the label's line past the filler, else on the
 * next non-empty line (*below set). t->len when nothing is near.
 */
static size_t value_start(const scan_text *t, size_t after, gboolean *below)
{
    size_t lim = window_end(t, after);
    size_t p = skip_filler(t, after, lim);
    *below = FALSE;
    if (p < lim && t->low[p] != '\n')
        return p;
    *below = TRUE;
    p = skip_chars(t, p, lim, " \n");
    return p < lim ? p : t->len;
}

/* ---- labels -------------------------------------------------------------------------- */

typedef gboolean (*label_fn)(const scan_text *t, size_t at, size_t after, void *ctx);

/* "daysDue Date": poppler glued two words; the capital tells where the second starts. */
static gboolean camel_glued(const scan_text *t, size_t at)
{
    return g_ascii_islower(t->norm[at - 1]) && g_ascii_isupper(t->norm[at]);
}

/*
 * Calls fn for each occurrence of label (lower-case ASCII) that stands as whole words, in
 * text order, at most MAX_HITS times; fn returns FALSE to stop. With `prefix` the label
 * may begin a longer word ("prelev" for prélèvement, prélevé).
 */
static void each_label(const scan_text *t, const char *label, gboolean prefix, label_fn fn,
                       void *ctx)
{
    size_t n = strlen(label), from = 0;
    int hits = 0;
    while (from + n <= t->len && hits < MAX_HITS) {
        const char *m = memmem(t->low + from, t->len - from, label, n);
        if (!m)
            return;
        size_t at = (size_t)(m - t->low), after = at + n;
        from = at + 1;
        if (g_ascii_isalpha(label[0]) && at > 0 && g_ascii_isalpha(t->low[at - 1])
            && !camel_glued(t, at))
            continue;
        if (!prefix && !word_ends(t, after, label[n - 1], n))
            continue;
        hits++;
        if (!fn(t, at, after, ctx))
            return;
    }
}

static void each_label_of(const scan_text *t, const char *const *labels, gboolean prefix,
                          label_fn fn, void *ctx)
{
    for (size_t i = 0; labels[i]; i++)
        each_label(t, labels[i], prefix, fn, ctx);
}

/* First position of a label found by a callback; SIZE_MAX when none yet. */
typedef struct {
    size_t pos;
} first_hit;

static gboolean on_any(const scan_text *t, size_t at, size_t after, void *ctx)
{
    (void)t;
    (void)after;
    first_hit *f = ctx;
    f->pos = MIN(f->pos, at);
    return FALSE;
}

/* A title starting its line, not the first half of a compound ("Lieferschein-Nr"). */
static gboolean on_line_start(const scan_text *t, size_t at, size_t after, void *ctx)
{
    if (!at_line_start(t, at) || (after + 1 < t->len && t->low[after] == '-'
                                  && g_ascii_isalpha(t->low[after + 1])))
        return TRUE;
    first_hit *f = ctx;
    f->pos = MIN(f->pos, at);
    return FALSE;
}

static size_t first_of(const scan_text *t, const char *const *labels, gboolean prefix,
                       gboolean line_start)
{
    first_hit f = { SIZE_MAX };
    each_label_of(t, labels, prefix, line_start ? on_line_start : on_any, &f);
    return f.pos;
}

static gboolean mentions(const scan_text *t, const char *const *labels, gboolean prefix)
{
    return first_of(t, labels, prefix, FALSE) != SIZE_MAX;
}

/* ---- dates --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int month;
} month_names[] = {
    { "janvier", 1 }, { "janv", 1 }, { "jan", 1 }, { "january", 1 }, { "januar", 1 },
    { "fevrier", 2 }, { "fevr", 2 }, { "fev", 2 }, { "february", 2 }, { "feb", 2 },
    { "februar", 2 },
    { "mars", 3 }, { "march", 3 }, { "mar", 3 }, { "marz", 3 },
    { "avril", 4 }, { "avr", 4 }, { "april", 4 }, { "apr", 4 },
    { "mai", 5 }, { "may", 5 },
    { "juin", 6 }, { "june", 6 }, { "jun", 6 }, { "juni", 6 },
    { "juillet", 7 }, { "juil", 7 }, { "july", 7 }, { "jul", 7 }, { "juli", 7 },
    { "aout", 8 }, { "august", 8 }, { "aug", 8 },
    { "septembre", 9 }, { "sept", 9 }, { "sep", 9 }, { "september", 9 },
    { "octobre", 10 }, { "oct", 10 }, { "october", 10 }, { "oktober", 10 },
    { "novembre", 11 }, { "nov", 11 }, { "november", 11 },
    { "decembre", 12 }, { "dec", 12 }, { "december", 12 }, { "dezember", 12 },
};

/* 1..max digits at s into *v; the count, 0 when none or more than max. */
static size_t read_int(const char *s, size_t max, int *v)
{
    size_t n = 0;
    int x = 0;
    while (g_ascii_isdigit(s[n])) {
        if (++n > max)
            return 0;
        x = x * 10 + (s[n - 1] - '0');
    }
    *v = x;
    return n;
}

/* A month name at s (lower case, "avr." too); its length, 0 when none. */
static size_t read_month(const char *s, int *month)
{
    size_t n = 0;
    while (n < 12 && g_ascii_isalpha(s[n]))
        n++;
    for (size_t i = 0; i < G_N_ELEMENTS(month_names); i++)
        if (strlen(month_names[i].name) == n && memcmp(s, month_names[i].name, n) == 0) {
            *month = month_names[i].month;
            return s[n] == '.' ? n + 1 : n;
        }
    return 0;
}

/* "12/03/2024", "12.03.24", "12-03-2024", "2024-03-12"; day first. */
static size_t numeric_date(const char *s, int *d, int *m, int *y)
{
    int a, b, c;
    size_t na = read_int(s, 4, &a), nb, nc;
    if (na == 0 || !in_set(s[na], "/.-"))
        return 0;
    char sep = s[na];
    const char *p = s + na + 1;
    if ((nb = read_int(p, 2, &b)) == 0 || p[nb] != sep)
        return 0;
    p += nb + 1;
    if ((nc = read_int(p, 4, &c)) == 0)
        return 0;
    if (na == 4 && nc <= 2) {
        *y = a, *m = b, *d = c;          /* ISO */
    } else if (na <= 2 && (nc == 4 || nc == 2)) {
        *d = a, *m = b, *y = nc == 2 ? 2000 + c : c;
    } else
        return 0;
    return (size_t)(p + nc - s);
}

/* "12 avril 2024", "1er avril 2024", "12 Apr 2024". */
static size_t day_month_date(const char *s, int *d, int *m, int *y)
{
    size_t n = read_int(s, 2, d), k;
    if (n == 0)
        return 0;
    if (strncmp(s + n, "er", 2) == 0 && *d == 1)
        n += 2;
    if (s[n++] != ' ' || (k = read_month(s + n, m)) == 0)
        return 0;
    n += k;
    if (s[n++] != ' ' || (k = read_int(s + n, 4, y)) != 4)
        return 0;
    return n + k;
}

/* "April 12, 2024", "Apr. 12 2024", "April 12th, 2024". */
static size_t month_day_date(const char *s, int *d, int *m, int *y)
{
    size_t n = read_month(s, m), k;
    if (n == 0 || s[n++] != ' ' || (k = read_int(s + n, 2, d)) == 0)
        return 0;
    n += k;
    static const char *const suffixes[] = { "st", "nd", "rd", "th" };
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++)
        if (strncmp(s + n, suffixes[i], 2) == 0)
            n += 2;
    if (s[n] == ',')
        n++;
    if (s[n++] != ' ' || (k = read_int(s + n, 4, y)) != 4)
        return 0;
    return n + k;
}

/* A date at p as YYYY-MM-DD into out; the bytes it takes, 0 when none. */
static size_t date_at(const scan_text *t, size_t p, char out[11])
{
    const char *s = t->low + p;
    int d = 0, m = 0, y = 0;
    size_t n = numeric_date(s, &d, &m, &y);
    if (n == 0)
        n = day_month_date(s, &d, &m, &y);
    if (n == 0)
        n = month_day_date(s, &d, &m, &y);
    if (n == 0 || g_ascii_isdigit(s[n]) || y < 1970 || y > 2199
        || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
        return 0;
    g_snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    return n;
}

typedef struct {
    size_t pos;     /* label of the date kept; SIZE_MAX when none */
    char date[11];
} date_pick;

static void date_pick_offer(date_pick *pick, size_t at, const char *date)
{
    if (at < pick->pos) {
        pick->pos = at;
        g_strlcpy(pick->date, date, sizeof pick->date);
    }
}

static gboolean on_date_label(const scan_text *t, size_t at, size_t after, void *ctx)
{
    static const char *const linking[] = { "le", "au", "du", "on", "by", "am", "bis", NULL };
    date_pick *pick = ctx;
    if (at >= pick->pos)
        return FALSE;
    size_t p = skip_filler(t, after, window_end(t, after));
    for (size_t i = 0; linking[i]; i++)
        if (word_at(t, p, linking[i])) {
            p += strlen(linking[i]);
            break;
        }
    gboolean below;
    p = value_start(t, p, &below);
    char date[11];
    if (p < t->len && date_at(t, p, date)) {
        date_pick_offer(pick, at, date);
        return FALSE;
    }
    return TRUE;
}

static const char *const issue_date_labels[] = {
    "date de facture", "date de facturation", "date facture", "date de la facture",
    "date d'emission", "date d'edition", "facture du", "invoice date", "date of invoice",
    "date of issue", "issue date", "invoice dated", "rechnungsdatum", NULL
};
static const char *const generic_date_labels[] = { "date", "datum", NULL };
static const char *const due_date_labels[] = {
    "date d'echeance", "echeance", "date limite de paiement", "date limite de reglement",
    "date limite", "payer avant le", "payable avant le", "regler avant le",
    "paiement avant le", "payable le", "payable au", "a payer le", "due date", "date due",
    "payment due", "due by", "due on", "due", "pay by", "payable by", "payable on",
    "zahlbar bis", "fallig am", "faellig am", "falligkeitsdatum", NULL
};

static void find_dates(const scan_text *t, invoice_data *out)
{
    date_pick issue = { SIZE_MAX, "" }, due = { SIZE_MAX, "" };
    each_label_of(t, issue_date_labels, FALSE, on_date_label, &issue);
    if (issue.pos == SIZE_MAX && !out->issue_date[0])
        each_label_of(t, generic_date_labels, FALSE, on_date_label, &issue);
    each_label_of(t, due_date_labels, FALSE, on_date_label, &due);
    if (issue.pos != SIZE_MAX && !out->issue_date[0])
        g_strlcpy(out->issue_date, issue.date, sizeof out->issue_date);
    if (due.pos != SIZE_MAX)
        g_strlcpy(out->due_date, due.date, sizeof out->due_date);
}

/* ---- invoice numbers ----------------------------------------------------------------- */

/*
 * Titles: of an invoice, and of a credit note ("Avoir", also the verb "to have", so only
 * alone on its line or with a number). A number may follow them, with or without a
 * marker: "Facture F-1", "Invoice No. 7", "Avoir n° A-12".
 */
static const char *const invoice_titles[] = {
    "facture", "invoice", "tax invoice", "rechnung", NULL
};
static const char *const credit_titles[] = {
    "avoir", "credit note", "credit memo", "note de credit", "gutschrift", NULL
};
/* Longest first: "no." before "no" before "n". */
static const char *const number_markers[] = {
    "numero", "number", "nummer", "num.", "num", "nr.", "nr", "no.", "no", "n.", "n", "#",
    NULL
};
/* Labels that are a marker already: "N° de facture : FA123". */
static const char *const number_labels[] = {
    "no de facture", "n de facture", "numero de facture", "num de facture", "no facture",
    "numero facture", "no d'avoir", "numero d'avoir", "rechnungsnummer", "rechnungsnr",
    "rechnungs-nr", NULL
};

static size_t marker_len(const scan_text *t, size_t p)
{
    for (size_t i = 0; number_markers[i]; i++)
        if (word_at(t, p, number_markers[i]))
            return strlen(number_markers[i]);
    return 0;
}

/* The character after a number token: a space, the end, or punctuation that ends it. */
static gboolean token_end_ok(const scan_text *t, size_t p)
{
    if (p >= t->len || in_set(t->low[p], " \n)];\"'"))
        return TRUE;
    return in_set(t->low[p], ",:") && !g_ascii_isdigit(t->low[p + 1]);
}

/*
 * An invoice number at p: letters, digits and "-_/." with at least one digit, not a date,
 * not an amount ("Invoice 120 €"). Returns its end, 0 when none; *number is g_malloc'ed.
 */
static size_t number_token(const scan_text *t, size_t p, char **number)
{
    size_t lim = window_end(t, p);
    if (p < lim && t->low[p] == '#')
        p++;
    size_t start = p;
    while (p < lim && p - start <= NUMBER_MAX
           && (word_char(t->low[p]) || in_set(t->low[p], "-_/.")))
        p++;
    size_t end = p;
    while (end > start && in_set(t->low[end - 1], "-_/."))
        end--;
    if (end == start || end - start > NUMBER_MAX || !token_end_ok(t, p))
        return 0;
    gboolean digit = FALSE;
    for (size_t i = start; i < end; i++)
        digit = digit || g_ascii_isdigit(t->low[i]);
    char date[11], code[4];
    size_t after = skip_chars(t, end, lim, " ");
    if (!digit || date_at(t, start, date) || money_currency_at(t->norm + after, code))
        return 0;
    *number = g_strndup(t->norm + start, end - start);
    return end;
}

/*
 * The number after a title: "Facture n° F-1", "FACTURE N° :\n\nF20180027" (a marker lets
 * the number sit on the next line), "Facture FA-2017-0010" (without one, same line only).
 */
static size_t number_after_title(const scan_text *t, size_t after, char **number,
                                 gboolean *marked)
{
    size_t lim = window_end(t, after);
    size_t p = skip_chars(t, after, lim, " ");
    size_t m = marker_len(t, p);
    *marked = m > 0;
    if (m > 0) {
        gboolean below;
        p = value_start(t, p + m, &below);
    } else {
        p = skip_chars(t, p, lim, " :");
    }
    return p < t->len && t->low[p] != '\n' ? number_token(t, p, number) : 0;
}

static gboolean has_alpha_and_digit(const char *s)
{
    gboolean alpha = FALSE, digit = FALSE;
    for (; *s; s++) {
        alpha = alpha || g_ascii_isalpha(*s);
        digit = digit || g_ascii_isdigit(*s);
    }
    return alpha && digit;
}

/*
 * "avoir" is also the verb "to have" ("avoir 2 jours"): after it, a number without a
 * marker counts only at the start of a line or when it looks like one ("AV-12").
 */
static gboolean number_believable(const scan_text *t, size_t title_at, gboolean marked,
                                  const char *number)
{
    if (marked || at_line_start(t, title_at) || has_alpha_and_digit(number))
        return TRUE;
    for (size_t i = 0; credit_titles[i]; i++)
        if (word_at(t, title_at, credit_titles[i]))
            return FALSE;
    return TRUE;
}

/* The believable number after the title at `at`; its end, 0 when none. */
static size_t title_number(const scan_text *t, size_t at, size_t after, char **number)
{
    gboolean marked;
    size_t end = number_after_title(t, after, number, &marked);
    if (end > 0 && !number_believable(t, at, marked, *number)) {
        g_clear_pointer(number, g_free);
        return 0;
    }
    return end;
}

typedef struct {
    size_t pos;        /* title or label of the number kept; SIZE_MAX when none */
    char *number;
    char issue[11];    /* "Facture n° 12 du 12/03/2024" */
} number_pick;

static void number_pick_offer(const scan_text *t, number_pick *pick, size_t at, char *number,
                              size_t end)
{
    if (at >= pick->pos) {
        g_free(number);
        return;
    }
    g_free(pick->number);
    pick->number = number;
    pick->pos = at;
    pick->issue[0] = '\0';
    static const char *const dated[] = { "du", "of", "dated", "vom", NULL };
    size_t p = skip_chars(t, end, window_end(t, end), " ,");
    for (size_t i = 0; dated[i]; i++)
        if (word_at(t, p, dated[i])) {
            p = skip_chars(t, p + strlen(dated[i]), window_end(t, p), " ");
            date_at(t, p, pick->issue);
            break;
        }
}

static gboolean on_number_title(const scan_text *t, size_t at, size_t after, void *ctx)
{
    number_pick *pick = ctx;
    if (at >= pick->pos)
        return FALSE;
    char *number = NULL;
    size_t end = title_number(t, at, after, &number);
    if (end == 0)
        return TRUE;
    number_pick_offer(t, pick, at, number, end);
    return FALSE;
}

static gboolean on_number_label(const scan_text *t, size_t at, size_t after, void *ctx)
{
    number_pick *pick = ctx;
    if (at >= pick->pos)
        return FALSE;
    gboolean below;
    size_t p = value_start(t, after, &below);
    char *number = NULL;
    size_t end = p < t->len ? number_token(t, p, &number) : 0;
    if (end == 0)
        return TRUE;
    number_pick_offer(t, pick, at, number, end);
    return FALSE;
}

/* The first invoice number of the text; *pos is where its label starts (SIZE_MAX: none). */
static void find_number(const scan_text *t, invoice_data *out, size_t *pos)
{
    number_pick pick = { SIZE_MAX, NULL, "" };
    each_label_of(t, invoice_titles, FALSE, on_number_title, &pick);
    each_label_of(t, credit_titles, FALSE, on_number_title, &pick);
    each_label_of(t, number_labels, FALSE, on_number_label, &pick);
    out->number = pick.number;
    if (pick.issue[0])
        g_strlcpy(out->issue_date, pick.issue, sizeof out->issue_date);
    *pos = pick.pos;
}

/* ---- what kind of document ----------------------------------------------------------- */

/* A credit-note title: alone on its line, or followed by a number ("Avoir n° A-12"). */
static gboolean on_credit_title(const scan_text *t, size_t at, size_t after, void *ctx)
{
    char *number = NULL;
    gboolean alone = at_line_start(t, at) && at_line_end(t, after);
    if (!alone && title_number(t, at, after, &number) == 0)
        return TRUE;
    g_free(number);
    first_hit *f = ctx;
    f->pos = MIN(f->pos, at);
    return FALSE;
}

static size_t credit_note_pos(const scan_text *t)
{
    static const char *const phrases[] = { "facture d'avoir", "facture avoir", NULL };
    first_hit f = { first_of(t, phrases, FALSE, FALSE) };
    each_label_of(t, credit_titles, FALSE, on_credit_title, &f);
    return f.pos;
}

static const char *const quote_titles[] = {
    "devis", "quote", "quotation", "estimate", "bon de commande", "purchase order",
    "bon de livraison", "delivery note", "confirmation de commande", "order confirmation",
    "releve de compte", "statement of account", "angebot", "lieferschein", NULL
};
/* "Facture pro forma", "Buchungshilfe - KEINE Rechnung": never an invoice. */
static const char *const not_invoice[] = {
    "pro forma", "proforma", "pro-forma", "pas une facture", "ne vaut pas facture",
    "not an invoice", "keine rechnung", NULL
};

/*
 * Invoice or not, and credit note or not, from the titles, which must start a line in a
 * document but may stand anywhere in a subject; number_pos is where the first invoice
 * number label starts (evidence of an invoice too). The first title wins.
 */
static void classify(const scan_text *t, size_t number_pos, gboolean line_titles,
                     invoice_data *out)
{
    size_t credit = credit_note_pos(t);
    size_t invoice = MIN(MIN(number_pos, credit),
                         first_of(t, invoice_titles, FALSE, line_titles));
    size_t quote = first_of(t, quote_titles, FALSE, line_titles);
    if (mentions(t, not_invoice, FALSE)) {
        invoice_set_reason(out, "pro forma or marked not an invoice");
        return;
    }
    if (quote < invoice) {
        invoice_set_reason(out, "quote or order, not an invoice");
        return;
    }
    if (invoice == SIZE_MAX)
        return;
    out->invoice = TRUE;
    out->type_code = g_strdup(credit != SIZE_MAX ? "381" : "380");
}

/* ---- amounts ------------------------------------------------------------------------- */

typedef struct {
    gint64 minor;
    char currency[4];
} amount;

/* An amount written with cents: "12,50", "1 234.5 €" (digits counted back from the end). */
static gboolean has_decimals(const char *s, size_t n)
{
    size_t k = n;
    while (k > 0 && !g_ascii_isdigit(s[k - 1]))
        k--;
    size_t digits = 0;
    while (k > 0 && g_ascii_isdigit(s[k - 1]))
        k--, digits++;
    return digits >= 1 && digits <= 2 && k > 0 && in_set(s[k - 1], ",.");
}

/* "1 000,00 HT": an amount before tax is never the amount due. */
static gboolean before_tax(const scan_text *t, size_t p)
{
    static const char *const words[] = { "ht", "h.t", "hors tax", "excl", "net of tax", NULL };
    p = skip_chars(t, p, window_end(t, p), " ");
    for (size_t i = 0; words[i]; i++)
        if (word_at(t, p, words[i]))
            return TRUE;
    return FALSE;
}

/* money_parse at p; *end receives where the amount ends in the text. */
static gboolean parse_amount(const scan_text *t, size_t p, amount *a, size_t *end,
                             gboolean *cents)
{
    size_t n;
    if (p >= t->len || !money_parse(t->norm + p, &a->minor, a->currency, &n) || p + n > t->len)
        return FALSE;
    *end = p + n;
    *cents = has_decimals(t->norm + p, n);
    return !before_tax(t, *end);
}

/*
 * An amount we can tie to a label: with a currency or cents; a bare "1200" only when it
 * ends the label's own line ("Solde 30 jours" is not 30.00).
 */
static gboolean label_amount(const scan_text *t, size_t p, gboolean below, amount *a,
                             size_t *end)
{
    gboolean cents;
    if (!parse_amount(t, p, a, end, &cents))
        return FALSE;
    return a->currency[0] || cents || (!below && at_line_end(t, *end));
}

/* The text from p to line_end is one amount, or one date when `dates`. */
static gboolean value_until(const scan_text *t, size_t p, size_t line_end, gboolean dates)
{
    amount a;
    size_t n;
    char date[11];
    if (money_parse(t->norm + p, &a.minor, a.currency, &n) && p + n <= line_end
        && skip_chars(t, p + n, line_end, " ") == line_end)
        return TRUE;
    n = dates ? date_at(t, p, date) : 0;
    return n > 0 && p + n <= line_end && skip_chars(t, p + n, line_end, " ") == line_end;
}

/* The next non-empty line after the one holding p is a lone amount. */
static gboolean amount_line_follows(const scan_text *t, size_t p)
{
    size_t lim = window_end(t, p);
    const char *nl = memchr(t->low + p, '\n', lim - p);
    if (!nl)
        return FALSE;
    size_t start = skip_chars(t, (size_t)(nl - t->low), lim, " \n");
    lim = window_end(t, start);
    const char *end = memchr(t->low + start, '\n', lim - start);
    return start < t->len && value_until(t, start, end ? (size_t)(end - t->low) : lim, FALSE);
}

/* A value may start at i: after a space, or a digit glued to a label ("TVA 10 %109,00"). */
static gboolean value_may_start(const scan_text *t, size_t i, size_t line_start)
{
    if (i == line_start || t->low[i - 1] == ' ')
        return TRUE;
    return g_ascii_isdigit(t->low[i]) && !g_ascii_isdigit(t->low[i - 1])
        && !in_set(t->low[i - 1], ",.'-/");
}

/*
 * The non-empty line before the line holding `at` ends with a value ("TVA 200,00",
 * "Échéance\n12/04/2024"), or there is none: the label at `at` then heads its own value.
 */
static gboolean after_value_line(const scan_text *t, size_t at)
{
    size_t floor = at > WINDOW ? at - WINDOW : 0, p = at;
    while (p > floor && t->low[p - 1] != '\n')
        p--;
    while (p > floor && in_set(t->low[p - 1], " \n"))
        p--;
    if (p == 0)
        return TRUE;
    if (p == floor)
        return FALSE;  /* too far to tell */
    size_t line_end = p;
    while (p > floor && t->low[p - 1] != '\n')
        p--;
    for (size_t i = p; i < line_end; i++)
        if (value_may_start(t, i, p) && value_until(t, i, line_end, TRUE))
            return TRUE;
    return FALSE;
}

/* "Total TTC (EUR) :", "Total en euros", "Montant € :" — currency noted in *currency. */
static size_t skip_amount_decor(const scan_text *t, size_t p, char currency[4])
{
    size_t lim = window_end(t, p);
    for (int round = 0; round < 4; round++) {
        p = skip_filler(t, p, lim);
        size_t q = p, n;
        gboolean paren = q < lim && t->low[q] == '(';
        q += paren;
        char code[4];
        if (word_at(t, q, "en "))
            q += 3;
        if (word_at(t, q, "ttc"))
            q += 3;
        else if ((n = money_currency_at(t->norm + q, code)) > 0
                 && (paren || at_line_end(t, skip_chars(t, q + n, lim, " )")))) {
            g_strlcpy(currency, code, 4);  /* "EUR 1 200,00" is left to money_parse */
            q += n;
        } else
            break;
        if (paren && (q >= lim || t->low[q++] != ')'))
            break;
        p = q;
    }
    return p;
}

/*
 * PDF text of a table stacks labels over a column of values: "Total HT\nTVA\nTotal TTC\n
 * 100,00\n20,00\n120,00", or with poppler "Total HT\nTVA\nTotal TTC100,00\n20,00\n
 * 120,00". Then the value under or after the last label is not its own. Told by a label
 * line that does not follow a value line and, for a value on the label's line, by a lone
 * amount on the next line.
 */
static gboolean stacked(const scan_text *t, size_t label_at, gboolean below, size_t value_end)
{
    if (after_value_line(t, label_at))
        return FALSE;
    return below || amount_line_follows(t, value_end);
}

enum { RANK_WEAK, RANK_STRONG, RANKS };

typedef struct {
    gboolean has[RANKS];
    gboolean conflict[RANKS];
    amount value[RANKS];
    gboolean unsure;  /* a strong label whose amount we could not tie to it */
} amount_votes;

static void vote(amount_votes *v, int rank, const amount *a)
{
    amount *kept = &v->value[rank];
    if (!v->has[rank]) {
        v->has[rank] = TRUE;
        *kept = *a;
    } else if (kept->minor != a->minor
               || (kept->currency[0] && a->currency[0] && strcmp(kept->currency, a->currency)))
        v->conflict[rank] = TRUE;
    else if (!kept->currency[0])
        memcpy(kept->currency, a->currency, 4);
}

typedef struct {
    amount_votes *votes;
    int rank;
    gboolean line_start;  /* the label must start its line */
} amount_label_ctx;

static gboolean on_amount_label(const scan_text *t, size_t at, size_t after, void *ctx)
{
    amount_label_ctx *c = ctx;
    if ((at > 0 && t->low[at - 1] == '-') || (c->line_start && !at_line_start(t, at)))
        return TRUE;  /* "Sous-total"; "Net total", "Tax total", "Prix total" */
    char decor[4] = "";
    gboolean below;
    size_t p = value_start(t, skip_amount_decor(t, after, decor), &below);
    amount a;
    size_t end;
    gboolean found = p < t->len && label_amount(t, p, below, &a, &end);
    if (found && !stacked(t, at, below, end)) {
        if (!a.currency[0])
            memcpy(a.currency, decor, 4);
        vote(c->votes, c->rank, &a);
    } else if (c->rank == RANK_STRONG && (below || found)) {
        /* alone on its line with nothing we can use under it, or a stacked value */
        c->votes->unsure = TRUE;
    }
    return TRUE;
}

/* The amount due, not the gross total: "à payer" covers net/reste/solde/montant à payer. */
static const char *const strong_labels[] = {
    "a payer", "a regler", "montant du", "solde du", "reste du", "total du", "amount due",
    "balance due", "total due", "amount payable", "total payable", "amount to pay",
    "balance to pay", "residual", "due payable", "zahlbetrag", "zu zahlen", "offener betrag",
    NULL
};
static const char *const weak_labels[] = {
    "total ttc", "montant ttc", "montant total", "total amount", "invoice total",
    "grand total", "gesamtbetrag", "rechnungsbetrag", "brutto", "endbetrag", NULL
};
/* Too common inside other labels ("Total HT", "Net total", "Prix total"): line start. */
static const char *const weak_line_labels[] = { "total", NULL };
/* Part already paid: the gross total is then not the amount due. */
static const char *const deposit_words[] = {
    "acompte", "deja paye", "deja regle", "deja verse", "deja percu", "montant paye",
    "deposit", "already paid", "amount paid", "paid to date", "prepaid", "prepayment",
    "anzahlung", "bereits bezahlt", NULL
};

/* The one currency the text mentions, "" when none or several. */
static void text_currency(const scan_text *t, char currency[4])
{
    currency[0] = '\0';
    for (size_t i = 0; i < t->len; i++) {
        if (i > 0 && word_char(t->low[i - 1]))
            continue;
        char code[4];
        if (money_currency_at(t->norm + i, code) == 0)
            continue;
        if (currency[0] && strcmp(currency, code) != 0) {
            currency[0] = '\0';
            return;
        }
        memcpy(currency, code, 4);
    }
}

static void find_amount(const scan_text *t, invoice_data *out)
{
    amount_votes v = { 0 };
    amount_label_ctx strong = { &v, RANK_STRONG, FALSE }, weak = { &v, RANK_WEAK, FALSE };
    amount_label_ctx weak_line = { &v, RANK_WEAK, TRUE };
    each_label_of(t, strong_labels, FALSE, on_amount_label, &strong);
    each_label_of(t, weak_labels, FALSE, on_amount_label, &weak);
    each_label_of(t, weak_line_labels, FALSE, on_amount_label, &weak_line);
    int rank;
    if (v.has[RANK_STRONG])
        rank = RANK_STRONG;
    else if (v.has[RANK_WEAK] && !v.unsure && !mentions(t, deposit_words, FALSE))
        rank = RANK_WEAK;
    else
        return;
    if (v.conflict[rank])
        return;
    const amount *a = &v.value[rank];
    char currency[4];
    if (a->currency[0])
        memcpy(currency, a->currency, 4);
    else
        text_currency(t, currency);
    /* a bare amount was read with two decimals: only right for such currencies */
    if (!a->currency[0] && currency[0] && money_minor_digits(currency) != 2)
        return;
    out->amount_due_minor = a->minor < 0 ? 0 : a->minor;
    memcpy(out->currency, currency, 4);
}

/* ---- IBAN ---------------------------------------------------------------------------- */

/*
 * "FR76 3000 6000 0112 3456 7890 189 - BIC ...": groups joined by single spaces; the
 * longest run of whole groups that is a valid IBAN. g_malloc'ed, NULL when none.
 */
static char *iban_at(const scan_text *t, size_t p)
{
    char buf[35];
    size_t n = 0, cuts[36], ncuts = 0, lim = window_end(t, p);
    while (p < lim && n < 34) {
        if (word_char(t->low[p])) {
            buf[n++] = g_ascii_toupper(t->low[p++]);
            if (p == lim || !word_char(t->low[p]))
                cuts[ncuts++] = n;
        } else if (t->low[p] == ' ' && n > 0 && p + 1 < lim && word_char(t->low[p + 1]))
            p++;
        else
            break;
    }
    while (ncuts > 0) {
        size_t len = cuts[--ncuts];
        buf[len] = '\0';
        if (qr_iban_valid(buf))
            return g_strndup(buf, len);
    }
    return NULL;
}

static gboolean on_iban_label(const scan_text *t, size_t at, size_t after, void *ctx)
{
    (void)at;
    char **iban = ctx;
    gboolean below;
    size_t p = value_start(t, after, &below);
    *iban = p < t->len ? iban_at(t, p) : NULL;
    return *iban == NULL;
}

static void find_iban(const scan_text *t, invoice_data *out)
{
    char *iban = NULL;
    each_label(t, "iban", FALSE, on_iban_label, &iban);
    out->seller_iban = iban;
}

/* ---- entry points -------------------------------------------------------------------- */

static const char *const direct_debit_words[] = {
    "prelev", "direct debit", "sepa debit", "lastschrift", "bankeinzug", "abgebucht", NULL
};

/* Starts out afresh but keeps the source the caller may have set. */
static void reset(invoice_data *out)
{
    invoice_source source = out->source;
    invoice_data_clear(out);
    out->source = source;
}

gboolean textscan_document(const char *text, invoice_data *out)
{
    reset(out);
    if (!text) {
        invoice_finish(out);
        return FALSE;
    }
    scan_text t;
    scan_text_init(&t, text);
    size_t number_pos;
    find_number(&t, out, &number_pos);
    classify(&t, number_pos, TRUE, out);
    if (out->invoice) {
        find_amount(&t, out);
        find_dates(&t, out);
        find_iban(&t, out);
        out->direct_debit = mentions(&t, direct_debit_words, TRUE);
    } else {
        g_clear_pointer(&out->number, g_free);
        out->issue_date[0] = '\0';
    }
    scan_text_clear(&t);
    invoice_finish(out);
    return out->invoice;
}

/* "Re: ", "TR : ", "Fwd: Fw: " — the subject proper starts after them. */
static const char *skip_reply_prefixes(const char *s)
{
    static const char *const prefixes[] = { "re", "fwd", "fw", "tr", "aw", "wg", "rif", NULL };
    for (int round = 0; round < 16; round++) {
        while (*s == ' ' || *s == '\t')
            s++;
        const char *next = NULL;
        for (size_t i = 0; prefixes[i] && !next; i++) {
            size_t n = strlen(prefixes[i]);
            if (g_ascii_strncasecmp(s, prefixes[i], n) != 0)
                continue;
            const char *p = s + n;
            while (*p == ' ')
                p++;
            if (*p == ':')
                next = p + 1;
        }
        if (!next)
            break;
        s = next;
    }
    return s;
}

/* One amount with its currency in the subject; none when absent or several disagree. */
static void subject_amount(const scan_text *t, invoice_data *out)
{
    amount found = { 0, "" };
    gboolean have = FALSE, conflict = FALSE;
    for (size_t i = 0; i < t->len; i++) {
        if (i > 0 && !in_set(t->low[i - 1], " ([:\"'"))
            continue;
        amount a;
        size_t end;
        gboolean cents;
        if (!parse_amount(t, i, &a, &end, &cents) || !a.currency[0])
            continue;
        if (have && (found.minor != a.minor || strcmp(found.currency, a.currency)))
            conflict = TRUE;
        found = a;
        have = TRUE;
        i = end - 1;
    }
    if (!have || conflict)
        return;
    out->amount_due_minor = found.minor < 0 ? 0 : found.minor;
    memcpy(out->currency, found.currency, 4);
}

gboolean textscan_subject(const char *subject, invoice_data *out)
{
    reset(out);
    if (!subject) {
        invoice_finish(out);
        return FALSE;
    }
    scan_text t;
    scan_text_init(&t, skip_reply_prefixes(subject));
    size_t number_pos;
    find_number(&t, out, &number_pos);
    classify(&t, number_pos, FALSE, out);
    if (out->invoice) {
        subject_amount(&t, out);
        out->direct_debit = mentions(&t, direct_debit_words, TRUE);
    }
    if (!out->invoice) {
        g_clear_pointer(&out->number, g_free);
        out->issue_date[0] = '\0';
    }
    scan_text_clear(&t);
    invoice_finish(out);
    return out->invoice;
}
