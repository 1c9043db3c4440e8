/*
 * money — amounts as integer minor units with an ISO 4217 currency; parsing of the ways
 * people and documents write amounts, and formatting for French and English readers.
 *
 * No floating point anywhere. Returned strings are g_malloc'ed; the caller frees them.
 */
#ifndef REGLO_MONEY_H
#define REGLO_MONEY_H

#include <glib.h>

/* Minor-unit digits for a currency (EUR 2, JPY 0, KWD 3...); 2 for unknown codes. */
int money_minor_digits(const char *currency);

/*
 * Machine decimal as in XML ("1234.56", "-12.5", "100"): exact, at most `digits`
 * fraction digits (extra digits must be zeros). FALSE on anything else.
 */
gboolean money_parse_decimal(const char *s, int digits, gint64 *minor);

/*
 * Human amount: "1 234,56 €", "1.234,56 EUR", "1234.56", "€1,234.56", "1 234,56"
 * (U+00A0 / U+202F spaces too), "1'234.56 CHF", optional currency symbol or code before
 * or after. The decimal separator is the last ',' or '.' when 1-2 digits follow it; a
 * lone "1,234" or "1.234" is ambiguous (FALSE) unless the currency settles it (JPY, KWD).
 * At most 1e15 major units. currency receives the code found ("EUR") or "" when none.
 * FALSE when ambiguous or not an amount (outputs untouched). `end`, when not NULL,
 * receives the number of bytes consumed from s (through the currency when it follows).
 */
gboolean money_parse(const char *s, gint64 *minor, char currency[4], size_t *end);

/*
 * A currency written at s: symbol (€ $ £), "euro(s)" or a known ISO code in any case
 * ("EUR", "chf"; a code must not be followed by a letter, so "EURL" is not one). Writes the
 * code into `code` and returns the bytes it takes, 0 when none.
 */
size_t money_currency_at(const char *s, char code[4]);

/*
 * "1 234,56 €" (fr: U+202F between thousands, U+00A0 before the symbol, as in CLDR) or
 * "€1,234.56" (en; a currency without symbol: "CHF 1,234.56" with U+00A0).
 */
char *money_format(gint64 minor, const char *currency, const char *locale);

/* "1234,56" — plain, for subject tags and forms. */
char *money_format_plain(gint64 minor, const char *currency);

#endif
