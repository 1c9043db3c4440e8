/*
 * facturx — the invoice XML embedded in a Factur-X / ZUGFeRD / XRechnung PDF; see facturx.h.
 *
 * Attachments are read through poppler-glib with a size cap and tried best name first
 * (factur-x.xml, the ZUGFeRD 2.0 name, xrechnung.xml, then the ZUGFeRD 1.0 name, then any
 * other .xml), so a PDF carrying both a 1.0 and a 2.x XML yields the 2.x one. order-x.xml
 * is a purchase order and never tried. Attachment bytes are freed here.
 */
#include "facturx.h"
#include "einvoice.h"
#include "pdftext.h"

#include <string.h>

#define FACTURX_MAX_XML         (8 * 1024 * 1024)
#define FACTURX_MAX_ATTACHMENTS 32

/* Lower is better; -1 means not an invoice XML candidate. */
static int name_rank(const char *name)
{
    static const char *const preferred[] = {
        "factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "ZUGFeRD-invoice.xml", NULL
    };
    if (!name)
        return -1;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    for (int i = 0; preferred[i]; i++)
        if (strcmp(base, preferred[i]) == 0)
            return i;
    if (g_ascii_strcasecmp(base, "order-x.xml") == 0)
        return -1;
    size_t n = strlen(base);
    if (n > 4 && g_ascii_strcasecmp(base + n - 4, ".xml") == 0)
        return G_N_ELEMENTS(preferred);
    return -1;
}

/* poppler save callback: accumulate, refuse beyond the cap (poppler then stops). */
static gboolean collect_bytes(const gchar *buf, gsize count, gpointer data, GError **error)
{
    GByteArray *acc = data;
    if (count > FACTURX_MAX_XML - acc->len) {
        g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_NOSPC, "attachment too large");
        return FALSE;
    }
    g_byte_array_append(acc, (const guint8 *)buf, (guint)count);
    return TRUE;
}

/* Contents of one attachment, or NULL when unreadable or over the cap. */
static GByteArray *attachment_bytes(PopplerAttachment *att)
{
    GByteArray *acc = g_byte_array_new();
    GError *err = NULL;
    if (!poppler_attachment_save_to_callback(att, collect_bytes, acc, &err)) {
        g_clear_error(&err);
        g_byte_array_unref(acc);
        return NULL;
    }
    return acc;
}

typedef struct candidate {
    int rank;
    int order;
    PopplerAttachment *att;
} candidate;

static gint candidate_cmp(gconstpointer a, gconstpointer b)
{
    const candidate *x = a, *y = b;
    return x->rank != y->rank ? x->rank - y->rank : x->order - y->order;
}

/* Candidates best first (at most FACTURX_MAX_ATTACHMENTS looked at). */
static GArray *rank_attachments(GList *attachments)
{
    GArray *cands = g_array_new(FALSE, FALSE, sizeof(candidate));
    int order = 0;
    for (GList *l = attachments; l && order < FACTURX_MAX_ATTACHMENTS; l = l->next, order++) {
        candidate c = { name_rank(poppler_attachment_get_name(l->data)), order, l->data };
        if (c.rank >= 0)
            g_array_append_val(cands, c);
    }
    g_array_sort(cands, candidate_cmp);
    return cands;
}

static gboolean try_attachment(PopplerAttachment *att, invoice_data *out)
{
    GByteArray *xml = attachment_bytes(att);
    gboolean ok = xml && einvoice_parse((const char *)xml->data, xml->len, out);
    if (xml)
        g_byte_array_unref(xml);
    return ok;
}

gboolean facturx_extract(const void *pdf, size_t len, invoice_data *out)
{
    invoice_data_init(out);
    PopplerDocument *doc = pdftext_open(pdf, len);
    if (!doc)
        return FALSE;
    GList *attachments = poppler_document_get_attachments(doc);
    GArray *cands = rank_attachments(attachments);
    gboolean found = FALSE;
    for (guint i = 0; i < cands->len && !found; i++)
        found = try_attachment(g_array_index(cands, candidate, i).att, out);
    g_array_unref(cands);
    g_list_free_full(attachments, g_object_unref);
    g_object_unref(doc);
    if (found)
        out->source = INVOICE_SRC_FACTURX;
    return found;
}
