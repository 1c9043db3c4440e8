/*
 * invoice — the extracted invoice record and the extraction dispatch; see invoice.h.
 */
#include "invoice.h"
#include "mime.h"
#include "einvoice.h"
#include "facturx.h"
#include "money.h"
#include "pdftext.h"
#include "textscan.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

void invoice_data_init(invoice_data *inv)
{
    memset(inv, 0, sizeof *inv);
    inv->amount_due_minor = -1;
}

void invoice_data_clear(invoice_data *inv)
{
    g_free(inv->number);
    g_free(inv->type_code);
    g_free(inv->buyer_email);
    g_free(inv->buyer_name);
    g_free(inv->seller_name);
    g_free(inv->seller_iban);
    g_free(inv->reason);
    invoice_data_init(inv);
}

void invoice_data_move(invoice_data *dst, invoice_data *src)
{
    invoice_data_clear(dst);
    *dst = *src;
    invoice_data_init(src);
}

void invoice_set_reason(invoice_data *inv, const char *reason)
{
    g_free(inv->reason);
    inv->reason = reason ? g_strdup(reason) : NULL;
}

const char *invoice_source_name(invoice_source src)
{
    switch (src) {
    case INVOICE_SRC_FACTURX: return "facturx";
    case INVOICE_SRC_CII:     return "cii";
    case INVOICE_SRC_UBL:     return "ubl";
    case INVOICE_SRC_HEADERS: return "headers";
    case INVOICE_SRC_PDFTEXT: return "pdf-text";
    case INVOICE_SRC_SUBJECT: return "subject";
    case INVOICE_SRC_NONE:    break;
    }
    return "none";
}

/* UNTDID 1001 codes that credit rather than charge the buyer. */
static gboolean type_code_is_credit(const char *code)
{
    static const char *const credit[] = {
        "81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532", NULL
    };
    for (int i = 0; code && credit[i]; i++)
        if (strcmp(code, credit[i]) == 0)
            return TRUE;
    return FALSE;
}

/* UNTDID 1001 codes of documents the buyer issues (self-billing): the sender is the payer. */
static gboolean type_code_is_self_billed(const char *code)
{
    return code && (strcmp(code, "389") == 0 || strcmp(code, "527") == 0);
}

void invoice_finish(invoice_data *inv)
{
    inv->payable = FALSE;
    if (!inv->invoice) {
        if (!inv->reason)
            invoice_set_reason(inv, "not an invoice");
        return;
    }
    if (type_code_is_credit(inv->type_code))
        invoice_set_reason(inv, "credit note");
    else if (type_code_is_self_billed(inv->type_code))
        invoice_set_reason(inv, "self-billed invoice");
    else if (inv->direct_debit)
        invoice_set_reason(inv, "collected by SEPA direct debit");
    else if (inv->amount_due_minor < 0)
        invoice_set_reason(inv, "amount due not found");
    else if (inv->amount_due_minor == 0)
        invoice_set_reason(inv, "nothing left to pay");
    else if (inv->currency[0] == '\0')
        invoice_set_reason(inv, "currency not found");
    else if (!inv->number)
        invoice_set_reason(inv, "invoice number not found");
    else {
        invoice_set_reason(inv, NULL);
        inv->payable = TRUE;
    }
}

/* ---- extraction dispatch ---- */

#define INVOICE_MAX_PARTS      64
#define INVOICE_MAX_DEPTH      32
#define INVOICE_MAX_PART_BYTES (16 * 1024 * 1024)
#define INVOICE_MAX_ALL_BYTES  (64 * 1024 * 1024)
#define INVOICE_MAX_HEADER     200

/* Decoded attachments worth a look, in message order (GBytes each, owned here). */
typedef struct message_blobs {
    GPtrArray *pdfs;
    GPtrArray *xmls;
    int parts;        /* leaf parts looked at */
    size_t bytes;     /* decoded bytes kept */
} message_blobs;

static gboolean name_ends_with(const char *name, const char *suffix)
{
    size_t n = name ? strlen(name) : 0, k = strlen(suffix);
    return n > k && g_ascii_strcasecmp(name + n - k, suffix) == 0;
}

static gboolean type_is_pdf(GMimeContentType *ct)
{
    return g_mime_content_type_is_type(ct, "application", "pdf") ||
           g_mime_content_type_is_type(ct, "application", "x-pdf") ||
           g_mime_content_type_is_type(ct, "application", "acrobat") ||
           g_mime_content_type_is_type(ct, "application", "octet-stream");
}

static gboolean type_is_xml(GMimeContentType *ct)
{
    const char *sub = g_mime_content_type_get_media_subtype(ct);
    return g_mime_content_type_is_type(ct, "application", "xml") ||
           g_mime_content_type_is_type(ct, "text", "xml") ||
           (g_mime_content_type_is_type(ct, "application", "*") && name_ends_with(sub, "+xml"));
}

/* Transfer-decoded content of a leaf, NULL when empty or over the per-part cap. */
static GBytes *part_content(GMimePart *part)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    GMimeStream *raw = content ? g_mime_data_wrapper_get_stream(content) : NULL;
    /* quoted-printable may triple the size: beyond that the decoded part is over the cap */
    if (!raw || g_mime_stream_length(raw) > (gint64)INVOICE_MAX_PART_BYTES * 3)
        return NULL;
    /* Sized for base64's 3/4 so the array does not double past the content, and handed
     * over without a copy: one buffer of the decoded size, not three. */
    gint64 raw_len = g_mime_stream_length(raw);
    gboolean b64 = g_mime_part_get_content_encoding(part) == GMIME_CONTENT_ENCODING_BASE64;
    guint reserve = (guint) MIN(MAX(raw_len, 0) * (b64 ? 3 : 4) / 4 + 64, INVOICE_MAX_PART_BYTES);
    GByteArray *arr = g_byte_array_sized_new(reserve);
    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(arr);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    gboolean ok = g_mime_data_wrapper_write_to_stream(content, mem) >= 0;
    g_object_unref(mem);
    if (ok && arr->len > 0 && arr->len <= INVOICE_MAX_PART_BYTES)
        return g_byte_array_free_to_bytes(arr);
    g_byte_array_unref(arr);
    return NULL;
}

static void collect_leaf(GMimePart *part, message_blobs *mb)
{
    GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    const char *filename = g_mime_part_get_filename(part);
    gboolean want_xml = name_ends_with(filename, ".xml") || (ct && type_is_xml(ct));
    gboolean want_pdf = !want_xml && (name_ends_with(filename, ".pdf") || (ct && type_is_pdf(ct)));
    if (!want_xml && !want_pdf)
        return;
    GBytes *bytes = part_content(part);
    if (!bytes)
        return;
    gsize len;
    const void *data = g_bytes_get_data(bytes, &len);
    GPtrArray *dest = want_xml ? mb->xmls : pdftext_is_pdf(data, len) ? mb->pdfs : NULL;
    if (dest && len <= INVOICE_MAX_ALL_BYTES - mb->bytes) {
        mb->bytes += len;
        g_ptr_array_add(dest, bytes);
    } else {
        g_bytes_unref(bytes);
    }
}

/* Leaves of the MIME tree; a forwarded message (message/rfc822) is not this mail's invoice. */
static void collect_parts(GMimeObject *obj, int depth, message_blobs *mb)
{
    if (!obj || depth > INVOICE_MAX_DEPTH || mb->parts >= INVOICE_MAX_PARTS)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            collect_parts(g_mime_multipart_get_part(mp, i), depth + 1, mb);
    } else if (GMIME_IS_PART(obj)) {
        mb->parts++;
        collect_leaf(GMIME_PART(obj), mb);
    }
}

/* One source applied to one blob: TRUE with out filled (and finished), else out empty. */
typedef gboolean (*blob_extractor)(const void *data, size_t len, invoice_data *out);

static gboolean extract_from_xml(const void *data, size_t len, invoice_data *out)
{
    return einvoice_parse(data, len, out);
}

static gboolean extract_from_pdf_text(const void *pdf, size_t len, invoice_data *out)
{
    invoice_data_init(out);
    char *text = pdftext_extract(pdf, len);
    gboolean found = text && textscan_document(text, out);
    g_free(text);
    if (!found) {
        invoice_data_clear(out);
        return FALSE;
    }
    out->invoice = TRUE;
    out->source = INVOICE_SRC_PDFTEXT;
    invoice_finish(out);
    return TRUE;
}

/* Two different invoices in one mail: which one would the link pay? None. */
static void mark_several(invoice_data *out)
{
    out->amount_due_minor = -1;
    out->payable = FALSE;
    invoice_set_reason(out, "several invoices in one message");
}

/* The first invoice among blobs; another one with a different number makes it ambiguous. */
static gboolean extract_first(GPtrArray *blobs, blob_extractor fn, invoice_data *out)
{
    gboolean found = FALSE, several = FALSE;
    for (guint i = 0; i < blobs->len; i++) {
        gsize len;
        const void *data = g_bytes_get_data(blobs->pdata[i], &len);
        invoice_data cand;
        if (fn(data, len, &cand)) {
            if (!found)
                invoice_data_move(out, &cand);
            else if (!out->number || g_strcmp0(cand.number, out->number) != 0)
                several = TRUE;
            found = TRUE;
        }
        invoice_data_clear(&cand);
    }
    if (several)
        mark_several(out);
    return found;
}

/* Trimmed header value, NULL when absent, empty, oversized or not UTF-8. */
static char *header_value(GMimeMessage *msg, const char *name)
{
    const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), name);
    char *s = v ? g_strstrip(g_strdup(v)) : NULL;
    if (s && (!*s || strlen(s) > INVOICE_MAX_HEADER || !g_utf8_validate(s, -1, NULL))) {
        g_free(s);
        s = NULL;
    }
    return s;
}

static void header_currency(invoice_data *out, const char *value)
{
    char *code = value ? g_ascii_strup(value, -1) : NULL;
    if (code && strlen(code) == 3 && g_ascii_isalpha(code[0]) && g_ascii_isalpha(code[1]) &&
        g_ascii_isalpha(code[2]))
        memcpy(out->currency, code, 4);
    g_free(code);
}

/* The whole value must be one amount, in the header currency when both name one. */
static void header_amount(invoice_data *out, const char *value)
{
    gint64 minor;
    char cur[4] = "";
    size_t end = 0;
    if (!value || !money_parse(value, &minor, cur, &end) || minor < 0)
        return;
    for (const char *p = value + end; *p; p++)
        if (!g_ascii_isspace(*p))
            return;
    if (cur[0] && out->currency[0] && strcmp(cur, out->currency) != 0)
        return;
    if (cur[0])
        memcpy(out->currency, cur, 4);
    out->amount_due_minor = minor;
}

/* X-Invoice-* headers from invoicing software: a number or an amount makes an invoice. */
static gboolean extract_headers(GMimeMessage *msg, invoice_data *out)
{
    char *number = header_value(msg, "X-Invoice-Number");
    char *amount = header_value(msg, "X-Invoice-Amount");
    char *currency = header_value(msg, "X-Invoice-Currency");
    char *due = header_value(msg, "X-Invoice-Due");
    gboolean found = number || amount;
    if (found) {
        out->invoice = TRUE;
        out->source = INVOICE_SRC_HEADERS;
        out->number = g_steal_pointer(&number);
        header_currency(out, currency);
        header_amount(out, amount);
        if (!due || !einvoice_date(due, out->due_date))
            out->due_date[0] = '\0';
        invoice_finish(out);
    }
    g_free(number);
    g_free(amount);
    g_free(currency);
    g_free(due);
    return found;
}

static gboolean extract_subject(GMimeMessage *msg, invoice_data *out)
{
    const char *subject = g_mime_message_get_subject(msg);
    if (!subject || !textscan_subject(subject, out)) {
        invoice_data_clear(out);
        return FALSE;
    }
    out->invoice = TRUE;
    out->source = INVOICE_SRC_SUBJECT;
    invoice_finish(out);
    return TRUE;
}

void invoice_extract_message(GMimeMessage *msg, invoice_data *out)
{
    invoice_data_init(out);
    if (!msg) {
        invoice_finish(out);
        return;
    }
    message_blobs mb = {
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref),
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref), 0, 0,
    };
    collect_parts(g_mime_message_get_mime_part(msg), 0, &mb);
    /* Best source first; one that finds an invoice wins even when it is not payable. */
    gboolean found = extract_first(mb.pdfs, facturx_extract, out) ||
                     extract_first(mb.xmls, extract_from_xml, out) ||
                     extract_headers(msg, out) ||
                     extract_first(mb.pdfs, extract_from_pdf_text, out) ||
                     extract_subject(msg, out);
    if (!found)
        invoice_finish(out);
    g_ptr_array_unref(mb.pdfs);
    g_ptr_array_unref(mb.xmls);
}

/* XML: optional byte order mark (UTF-8 or UTF-16), white space, then '<'. */
static gboolean looks_like_xml(const char *data, size_t len)
{
    const guchar *p = (const guchar *)data, *end = p + len;
    if (len >= 2 && ((p[0] == 0xFE && p[1] == 0xFF) || (p[0] == 0xFF && p[1] == 0xFE)))
        return TRUE;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        p += 3;
    while (p < end && g_ascii_isspace(*p))
        p++;
    return p < end && *p == '<';
}

void invoice_extract_bytes(const char *data, size_t len, invoice_data *out)
{
    invoice_data_init(out);
    if (!data || len == 0) {
        invoice_finish(out);
        return;
    }
    if (pdftext_is_pdf(data, len)) {
        if (!facturx_extract(data, len, out))
            extract_from_pdf_text(data, len, out);
    } else if (looks_like_xml(data, len)) {
        einvoice_parse(data, len, out);
    } else {
        GMimeMessage *msg = mime_parse_bytes(data, len);
        if (msg) {
            invoice_extract_message(msg, out);
            g_object_unref(msg);
            return;
        }
    }
    if (!out->invoice)
        invoice_finish(out);
}

/* JSON string (invalid UTF-8 repaired) or null. */
static json_t *json_text(const char *s)
{
    if (!s)
        return json_null();
    char *valid = g_utf8_make_valid(s, -1);
    json_t *j = json_string(valid);
    g_free(valid);
    return j ? j : json_null();
}

char *invoice_to_json(const invoice_data *inv, const char *file)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_text(file));
    json_object_set_new(o, "invoice", json_boolean(inv->invoice));
    json_object_set_new(o, "payable", json_boolean(inv->payable));
    json_object_set_new(o, "number", json_text(inv->number));
    json_object_set_new(o, "amount_due_minor", inv->amount_due_minor >= 0
                                                   ? json_integer(inv->amount_due_minor)
                                                   : json_null());
    json_object_set_new(o, "currency", json_text(inv->currency[0] ? inv->currency : NULL));
    json_object_set_new(o, "issue_date", json_text(inv->issue_date[0] ? inv->issue_date : NULL));
    json_object_set_new(o, "due_date", json_text(inv->due_date[0] ? inv->due_date : NULL));
    json_object_set_new(o, "buyer_email", json_text(inv->buyer_email));
    json_object_set_new(o, "seller_iban", json_text(inv->seller_iban));
    json_object_set_new(o, "source", json_text(inv->source == INVOICE_SRC_NONE
                                                   ? NULL : invoice_source_name(inv->source)));
    if (!inv->payable)
        json_object_set_new(o, "reason", json_text(inv->reason));
    json_object_set_new(o, "type_code", json_text(inv->type_code));
    json_object_set_new(o, "seller_name", json_text(inv->seller_name));
    json_object_set_new(o, "direct_debit", json_boolean(inv->direct_debit));
    char *dumped = json_dumps(o, JSON_COMPACT);
    char *line = g_strdup(dumped);
    free(dumped);
    json_decref(o);
    return line;
}
