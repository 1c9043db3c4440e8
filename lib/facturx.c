/*
 * facturx — the invoice XML embedded in a Factur-X / ZUGFeRD / XRechnung PDF; see facturx.h.
 *
 * Attachments are read through poppler-glib with a size cap and tried best name first
 * (factur-x.xml, the ZUGFeRD 2.0 name, xrechnung.xml, then the ZUGFeRD 1.0 name, then any
 * other .xml), so a PDF carrying both a 1.0 and a 2.x XML yields the 2.x one. order-x.xml
 * is a purchase order and never tried. poppler runs in a child process (pdfjail.c): it
 * hands back the candidates' bytes, parsed here (libxml2) in rank order. Attachment bytes
 * are freed here.
 */
#include "facturx.h"
#include "einvoice.h"
#include "pdfjail.h"
#include "pdftext.h"

#include <string.h>

#define FACTURX_MAX_XML         (8 * 1024 * 1024)
#define FACTURX_MAX_ATTACHMENTS 32
/* All candidates handed back by the child at most (the best ones first). */
#define FACTURX_MAX_ANSWER      (16 * 1024 * 1024)

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

/*
 * In the jail's child: the candidates' bytes, best first, each as a 4-byte length (host
 * order: parent and child are one program) and the bytes; NULL when there is none. What
 * would pass FACTURX_MAX_ANSWER is left out.
 */
static GBytes *candidates_job(const void *pdf, size_t len)
{
    PopplerDocument *doc = pdftext_open(pdf, len);
    if (!doc)
        return NULL;
    GList *attachments = poppler_document_get_attachments(doc);
    GArray *cands = rank_attachments(attachments);
    GByteArray *answer = g_byte_array_new();
    for (guint i = 0; i < cands->len; i++) {
        GByteArray *xml = attachment_bytes(g_array_index(cands, candidate, i).att);
        if (xml && answer->len + sizeof(guint32) + xml->len <= FACTURX_MAX_ANSWER) {
            guint32 n = xml->len;
            g_byte_array_append(answer, (const guint8 *) &n, sizeof n);
            g_byte_array_append(answer, xml->data, xml->len);
        }
        if (xml)
            g_byte_array_unref(xml);
    }
    g_array_unref(cands);
    g_list_free_full(attachments, g_object_unref);
    g_object_unref(doc);
    if (answer->len == 0) {
        g_byte_array_unref(answer);
        return NULL;
    }
    return g_byte_array_free_to_bytes(answer);
}

/* The first candidate that parses as an invoice, in the order the child gave them. */
static gboolean parse_candidates(GBytes *answer, invoice_data *out)
{
    gsize left = 0;
    const guint8 *p = g_bytes_get_data(answer, &left);
    while (left >= sizeof(guint32)) {
        guint32 n;
        memcpy(&n, p, sizeof n);
        p += sizeof n;
        left -= sizeof n;
        if (n > left)
            return FALSE;
        invoice_data_clear(out);
        invoice_data_init(out);
        if (einvoice_parse((const char *) p, n, out))
            return TRUE;
        p += n;
        left -= n;
    }
    return FALSE;
}

gboolean facturx_extract(const void *pdf, size_t len, invoice_data *out)
{
    invoice_data_init(out);
    if (!pdftext_may_open(pdf, len))
        return FALSE;
    GBytes *answer = pdfjail_run("Factur-X attachments", candidates_job, pdf, len,
                                 FACTURX_MAX_ANSWER, NULL);
    gboolean found = answer && parse_candidates(answer, out);
    if (answer)
        g_bytes_unref(answer);
    if (found)
        out->source = INVOICE_SRC_FACTURX;
    else {
        invoice_data_clear(out);
        invoice_data_init(out);
    }
    return found;
}
