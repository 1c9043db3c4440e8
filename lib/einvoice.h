/*
 * einvoice — CII (UN/CEFACT CrossIndustryInvoice, and ZUGFeRD 1.0 CrossIndustryDocument)
 * and UBL 2.1 Invoice / CreditNote XML into invoice_data. libxml2 with network access,
 * entity substitution and DTD loading off.
 */
#ifndef REGLO_EINVOICE_H
#define REGLO_EINVOICE_H

#include <stddef.h>
#include "invoice.h"

/*
 * TRUE when xml is a CII or UBL invoice-like document (fills out, source CII or UBL,
 * then invoice_finish). FALSE for anything else (orders, random XML, garbage, documents
 * with a DTD). out is an output: it is initialised here (a previous content is not freed)
 * and left empty on FALSE; the caller clears it with invoice_data_clear().
 */
gboolean einvoice_parse(const char *xml, size_t len, invoice_data *out);

/*
 * A real calendar date written "YYYY-MM-DD" (ISO 8601, a zone suffix allowed) or
 * "YYYYMMDD" (UN/CEFACT format 102) into out as "YYYY-MM-DD"; FALSE otherwise.
 */
gboolean einvoice_date(const char *s, char out[11]);

#endif
