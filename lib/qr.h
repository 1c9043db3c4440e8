/*
 * qr — QR codes as PNG images (libqrencode + libpng), and the EPC069-12 SEPA credit
 * transfer payload with its ISO 11649 RF creditor reference.
 *
 * Returned buffers are g_malloc'ed; the caller frees them.
 */
#ifndef REGLO_QR_H
#define REGLO_QR_H

#include <glib.h>

/* PNG of text (1-bit grayscale, level M, at most 2048 bytes); module_px pixels per module
 * (1..32), 4-module quiet zone. NULL on failure. */
guint8 *qr_png(const char *text, int module_px, size_t *len);

/* The Content-ID under which an invoice's QR image travels inline ("qr-F-12@reglo.invalid"):
 * the number with anything but [A-Za-z0-9-.@] made a '-', so any number gives a valid id. */
char *qr_content_id(const char *number);

/* RF creditor reference for a reference string ("RF" + 2 check digits + ref), ISO 11649:
 * ref upper-cased, non-alphanumerics removed, 1..21 characters left, else NULL. */
char *qr_rf_reference(const char *ref);
gboolean qr_rf_valid(const char *rf);

/* EPC069-12 v002 payload (BCD, SCT, UTF-8); NULL when IBAN/name invalid or amount out of range.
 * bic and rf_reference may be NULL or ""; the RF reference and the text are exclusive: when
 * both are given the text is dropped. Trailing empty lines omitted; at most 331 bytes. */
char *qr_epc_payload(const char *bic, const char *name, const char *iban,
                     gint64 amount_minor, const char *rf_reference, const char *text);

/* IBAN mod-97 check on a normalised IBAN (no spaces, upper case). */
gboolean qr_iban_valid(const char *iban);

/* Normalise an IBAN as written ("FR76 3000 ...") into a new string; NULL if not plausible. */
char *qr_iban_normalise(const char *s);

#endif
