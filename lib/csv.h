/*
 * csv — spreadsheet exports the way French accounting tools read them: UTF-8 with a BOM at
 * the start of the document, ';' between fields, CRLF after each row, amounts "1234,56".
 *
 * A document is a GString the caller owns (g_string_free). Text fields are defused against
 * formula injection (a leading = + - @ TAB or CR gets an apostrophe) unless the whole field
 * is a French amount as csv_amount writes it, so a negative amount stays a number. Invalid
 * UTF-8 is replaced (U+FFFD). Returned strings are g_malloc'ed; the caller frees them.
 */
#ifndef REGLO_CSV_H
#define REGLO_CSV_H

#include <glib.h>

/* A new document: the BOM, nothing else. */
GString *csv_new(void);

/* Append one row of n fields (a NULL field is empty), quoted where needed, then CRLF. */
void csv_row(GString *doc, const char *const *fields, size_t n);

/* Minor units as a French amount without thousands separator: "1234,56", "-12,00". */
char *csv_amount(gint64 minor);

/* TRUE when s is exactly an optional '-', digits, ',' and two digits. */
gboolean csv_is_amount(const char *s);

#endif
