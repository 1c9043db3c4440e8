/*
 * facturx — Factur-X / ZUGFeRD (1.0 and 2.x) / XRechnung: the invoice XML embedded in a
 * PDF (poppler-glib attachments: factur-x.xml, zugferd-invoice.xml, ZUGFeRD-invoice.xml,
 * xrechnung.xml, or any XML attachment that parses as CII/UBL), handed to einvoice.
 *
 * Hostile input: a broken or huge PDF returns FALSE, never crashes.
 */
#ifndef REGLO_FACTURX_H
#define REGLO_FACTURX_H

#include <stddef.h>
#include "invoice.h"

/*
 * TRUE when an embedded invoice XML was found and parsed into out (source FACTURX). out is
 * an output, initialised here and left empty on FALSE; the caller clears it.
 */
gboolean facturx_extract(const void *pdf, size_t len, invoice_data *out);

#endif
