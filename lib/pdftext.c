/*
 * pdftext — the text of the first pages of a PDF through poppler-glib; see pdftext.h.
 *
 * Returned text is g_malloc'ed (caller frees). Documents are opened over the caller's
 * bytes without a copy and released here; the text is read in a child process (pdfjail.c),
 * where a crash of poppler costs only that PDF.
 */
#include "pdftext.h"
#include "pdfjail.h"

#include <string.h>

#define PDFTEXT_MAX_PAGES 5
#define PDFTEXT_MAX_TEXT  (512 * 1024)

gboolean pdftext_is_pdf(const void *data, size_t len)
{
    return data && memmem(data, MIN(len, 1024), "%PDF-", 5) != NULL;
}

/*
 * poppler-glib g_warning()s about some malformed documents ("Invalid page %d in Link
 * Destination"...): those are about the sender's file, not about us, and must not flood
 * the milter's stderr. (Its core syntax errors are already quiet.)
 */
static void quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                      gpointer data)
{
    (void)domain; (void)level; (void)message; (void)data;
}

static void silence_poppler(void)
{
    static gsize done;
    if (g_once_init_enter(&done)) {
        g_log_set_handler("Poppler", G_LOG_LEVEL_MASK & ~G_LOG_LEVEL_ERROR, quiet_log, NULL);
        g_once_init_leave(&done, 1);
    }
}

gboolean pdftext_may_open(const void *pdf, size_t len)
{
    return pdftext_is_pdf(pdf, len) && len <= PDFTEXT_MAX_PDF;
}

PopplerDocument *pdftext_open(const void *pdf, size_t len)
{
    if (!pdftext_may_open(pdf, len))
        return NULL;
    silence_poppler();
    GBytes *bytes = g_bytes_new_static(pdf, len);
    GError *err = NULL;
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &err);
    g_bytes_unref(bytes);
    g_clear_error(&err);
    return doc;
}

void pdftext_warm_up(void)
{
    static const char tiny[] = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                               "2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                               "trailer<</Root 1 0 R>>\n%%EOF\n";
    PopplerDocument *doc = pdftext_open(tiny, sizeof tiny - 1);
    if (doc)
        g_object_unref(doc);
}

/* Appends text, cut at a character boundary so the whole stays under the cap. */
static void append_capped(GString *out, const char *text)
{
    size_t room = PDFTEXT_MAX_TEXT - out->len;
    size_t n = strlen(text);
    if (n > room) {
        const char *cut = g_utf8_find_prev_char(text, text + room + 1);
        n = cut ? (size_t)(cut - text) : 0;
    }
    g_string_append_len(out, text, (gssize)n);
}

/* In the jail's child: the text, or NULL when poppler cannot open the document. */
static GBytes *text_job(const void *pdf, size_t len)
{
    PopplerDocument *doc = pdftext_open(pdf, len);
    if (!doc)
        return NULL;
    GString *out = g_string_new(NULL);
    int pages = MIN(poppler_document_get_n_pages(doc), PDFTEXT_MAX_PAGES);
    for (int i = 0; i < pages && out->len < PDFTEXT_MAX_TEXT; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        char *text = page ? poppler_page_get_text(page) : NULL;
        if (text && g_utf8_validate(text, -1, NULL)) {
            if (out->len)
                append_capped(out, "\n");
            append_capped(out, text);
        }
        g_free(text);
        if (page)
            g_object_unref(page);
    }
    g_object_unref(doc);
    return g_string_free_to_bytes(out);
}

char *pdftext_extract(const void *pdf, size_t len)
{
    if (!pdftext_may_open(pdf, len))     /* spares a child for what poppler never sees */
        return NULL;
    /* The text may end a few bytes past the cap (the last character is kept whole). */
    GBytes *text = pdfjail_run("PDF text", text_job, pdf, len, PDFTEXT_MAX_TEXT + 8, NULL);
    if (!text)
        return NULL;
    gsize n = 0;
    const char *data = g_bytes_get_data(text, &n);
    char *copy = g_strndup(data ? data : "", n);
    g_bytes_unref(text);
    return copy;
}
