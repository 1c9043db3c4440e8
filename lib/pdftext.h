/*
 * pdftext — the text of a PDF (poppler-glib) for the text heuristics, bounded in pages
 * and size so a hostile PDF cannot cost much. Also opens PDFs for facturx, so that both
 * apply the same limits and keep poppler's complaints about broken files off stderr.
 */
#ifndef REGLO_PDFTEXT_H
#define REGLO_PDFTEXT_H

#include <stddef.h>
#include <glib.h>
#include <poppler.h>

/* Largest PDF handed to poppler. */
#define PDFTEXT_MAX_PDF (32 * 1024 * 1024)

/* UTF-8 text of the first pages, g_malloc'ed; NULL when not a readable PDF. */
char *pdftext_extract(const void *pdf, size_t len);

/* TRUE when pdf is handed to poppler at all: it looks like a PDF, within PDFTEXT_MAX_PDF. */
gboolean pdftext_may_open(const void *pdf, size_t len);

/* Sets poppler's globals up by opening a tiny document (for pdfjail's server). */
void pdftext_warm_up(void);

/* TRUE when data starts like a PDF ("%PDF-" within the first 1024 bytes). */
gboolean pdftext_is_pdf(const void *data, size_t len);

/*
 * A poppler document over pdf (not copied: pdf must outlive the document), or NULL when
 * it is not a PDF, too big, encrypted or unreadable. Release with g_object_unref().
 */
PopplerDocument *pdftext_open(const void *pdf, size_t len);

#endif
