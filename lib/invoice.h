/*
 * invoice — the invoice data extracted from a message, and the extraction dispatch:
 * best source first (Factur-X/ZUGFeRD PDF, CII/UBL XML attachment, X-Invoice-* headers,
 * PDF text, subject).
 *
 * An invoice_data owns every string it points to; invoice_data_clear() frees them.
 * Amounts are integer minor units (cents), never floating point.
 */
#ifndef REGLO_INVOICE_H
#define REGLO_INVOICE_H

#include <glib.h>
#include <gmime/gmime.h>

typedef enum {
    INVOICE_SRC_NONE = 0,
    INVOICE_SRC_FACTURX,   /* CII/UBL embedded in a PDF (Factur-X, ZUGFeRD 1.0/2.x) */
    INVOICE_SRC_CII,       /* standalone CII XML attachment */
    INVOICE_SRC_UBL,       /* standalone UBL XML attachment */
    INVOICE_SRC_HEADERS,   /* X-Invoice-* headers from invoicing software */
    INVOICE_SRC_PDFTEXT,   /* heuristics on the PDF's text */
    INVOICE_SRC_SUBJECT,   /* heuristics on the subject */
} invoice_source;

typedef struct invoice_data {
    gboolean invoice;          /* this looks like an invoice (even if not payable) */
    gboolean payable;          /* a link may be added: amount due > 0, confident */
    invoice_source source;
    char *number;              /* BT-1, NULL if unknown */
    gint64 amount_due_minor;   /* BT-115 "amount due for payment"; -1 when unknown */
    char currency[4];          /* ISO 4217, "" when unknown */
    char issue_date[11];       /* YYYY-MM-DD, "" when unknown */
    char due_date[11];         /* YYYY-MM-DD, "" when unknown */
    char *type_code;           /* UNTDID 1001 (380 invoice, 381 credit note...), NULL if unknown */
    char *buyer_email;         /* buyer's electronic address when the document has one */
    char *buyer_name;
    char *seller_name;
    char *seller_iban;         /* payee IBAN (BT-84), normalised: upper case, no spaces */
    gboolean direct_debit;     /* collected by SEPA direct debit (payment means 49/59) */
    char *reason;              /* why not an invoice or not payable; NULL when payable */
} invoice_data;

void invoice_data_init(invoice_data *inv);
void invoice_data_clear(invoice_data *inv);
/* Moves src into dst (dst cleared first); src is left initialised and empty. */
void invoice_data_move(invoice_data *dst, invoice_data *src);
void invoice_set_reason(invoice_data *inv, const char *reason);
const char *invoice_source_name(invoice_source src);

/*
 * Decide payable/reason from the fields once a source has filled them: credit notes
 * (381, 261, 262, 296, 308, 396, 420, 458, 532), nothing left to pay, direct debit,
 * missing amount or currency give payable = FALSE with a reason.
 */
void invoice_finish(invoice_data *inv);

/* Whole message, best source first. Always fills out (invoice = FALSE when nothing found). */
void invoice_extract_message(GMimeMessage *msg, invoice_data *out);

/* One file for `reglo inspect`: .eml message, PDF, or CII/UBL XML, by content sniffing. */
void invoice_extract_bytes(const char *data, size_t len, invoice_data *out);

/* JSON line for `reglo inspect` (caller frees with g_free). */
char *invoice_to_json(const invoice_data *inv, const char *file);

#endif
