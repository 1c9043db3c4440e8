/*
 * mime_testutil — helpers shared by test_mime.c and test_mime_corpus.c (header only).
 *
 * The rewrite check: snapshot every leaf (decoded bytes) before mime_inject_block, serialize,
 * re-parse, and compare leaf by leaf: edited body parts must be "block + original text",
 * every other leaf must decode to the same bytes, the QR image must exist once where the
 * html can reference it. Functions return NULL when fine, else a g_malloc'ed reason.
 */
#ifndef REGLO_MIME_TESTUTIL_H
#define REGLO_MIME_TESTUTIL_H

#include "mime.h"

#include <string.h>

#define MT_TEXT_MARK "REGLO-PAY-TEXT"
#define MT_HTML_MARK "reglo-pay-html"
#define MT_QR_CID "qr-123@reglo.example"

/* Lines that format=flowed must neutralise: trailing spaces, leading space, '>', "From ". */
static const char mt_block_text[] =
    MT_TEXT_MARK ": réglez votre facture en ligne (120,00 €)  \n"
    "  https://pay.example/p/abc\n"
    ">not a quote\n"
    "From the artisan, merci.\n"
    "\n";
static const char mt_block_html[] =
    "<table id=\"" MT_HTML_MARK "\"><tr><td>Réglez en ligne : 120,00 € "
    "<a href=\"https://pay.example/p/abc\">payer</a></td>"
    "<td><img src=\"cid:" MT_QR_CID "\" alt=\"QR\"></td></tr></table>\n";
static const guint8 mt_qr_png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0,
                                   'I',  'E', 'N', 'D', 0xae, 'B',  0x60, 0x82};

static inline mime_block mt_block(void)
{
    mime_block b = {mt_block_text, mt_block_html, mt_qr_png, sizeof mt_qr_png, MT_QR_CID,
                    "paiement-qr.png"};
    return b;
}

static inline GMimeMessage *mt_parse(const char *data, size_t len)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
    g_object_unref(p);
    g_object_unref(s);
    return m;
}

static inline char *mt_serialize(GMimeMessage *msg)
{
    return g_mime_object_to_string(GMIME_OBJECT(msg), NULL);
}

/* Output newlines as the input's first line ends: CRLF input stays CRLF byte for byte
 * (what the milter must do), LF input stays LF. Caller frees with g_mime_format_options_free. */
static inline GMimeFormatOptions *mt_format_like(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && data[i] != '\n')
        i++;
    GMimeFormatOptions *fmt = g_mime_format_options_new();
    if (i < len && i > 0 && data[i - 1] == '\r')
        g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
    return fmt;
}

static inline size_t mt_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static inline char *mt_crlf_to_lf(const char *s, size_t len, size_t *out_len)
{
    char *out = g_malloc(len + 1);
    size_t j = 0;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
            out[j++] = s[i];
    out[j] = '\0';
    *out_len = j;
    return out;
}

/* NULL when every byte is 7-bit and no line exceeds 998 octets, else the reason. */
static inline char *mt_check_7bit(const char *s, size_t len)
{
    size_t line = 0;
    for (size_t i = 0; i < len; i++) {
        if ((guchar)s[i] >= 0x80)
            return g_strdup_printf("8-bit byte at offset %zu", i);
        if (s[i] == '\n')
            line = 0;
        else if (s[i] != '\r' && ++line > 998)
            return g_strdup_printf("line longer than 998 at offset %zu", i);
    }
    return NULL;
}

/* ---- leaf snapshots */

typedef struct {
    char *type;     /* "text/plain" ... */
    char *cid;
    char *charset;
    char *parent_type;
    char *wire;     /* the part as serialized (headers + encoded content) */
    guint8 *bytes;  /* decoded content (or the serialized embedded message) */
    size_t len;
    gboolean message;    /* message/rfc822: bytes are the embedded message serialized */
} mt_leaf;

static inline void mt_leaf_free(gpointer p)
{
    mt_leaf *l = p;
    g_free(l->type);
    g_free(l->cid);
    g_free(l->charset);
    g_free(l->parent_type);
    g_free(l->wire);
    g_free(l->bytes);
    g_free(l);
}

static inline char *mt_type_of(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (!ct)
        return g_strdup("?");
    char *t = g_mime_content_type_get_mime_type(ct);
    char *low = g_ascii_strdown(t, -1);
    g_free(t);
    return low;
}

static inline void mt_leaf_bytes(mt_leaf *l, GMimeObject *part)
{
    if (GMIME_IS_PART(part)) {
        l->bytes = mime_part_bytes(GMIME_PART(part), &l->len);
        return;
    }
    GMimeMessage *inner = GMIME_IS_MESSAGE_PART(part)
                              ? g_mime_message_part_get_message(GMIME_MESSAGE_PART(part))
                              : NULL;
    l->message = TRUE;
    l->bytes = inner ? (guint8 *)mt_serialize(inner) : NULL;
    l->len = l->bytes ? strlen((char *)l->bytes) : 0;
}

static inline void mt_collect(GMimeObject *parent, GMimeObject *part, void *arg)
{
    mt_leaf *l = g_new0(mt_leaf, 1);
    l->type = mt_type_of(part);
    l->parent_type = GMIME_IS_MESSAGE(parent) ? g_strdup("message") : mt_type_of(parent);
    l->cid = g_strdup(g_mime_object_get_content_id(part));
    l->charset = g_strdup(g_mime_object_get_content_type_parameter(part, "charset"));
    l->wire = g_mime_object_to_string(part, NULL);
    mt_leaf_bytes(l, part);
    g_ptr_array_add(arg, l);
}

static inline GPtrArray *mt_leaves(GMimeMessage *msg)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(mt_leaf_free);
    mime_foreach_leaf(msg, mt_collect, a);
    return a;
}

/* Leaf text in UTF-8 with LF newlines (charset label honoured when iconv knows it). */
static inline char *mt_leaf_text(const mt_leaf *l)
{
    const char *data = l->bytes ? (const char *)l->bytes : "";
    char *conv = NULL;
    if (l->charset && *l->charset)
        conv = g_convert(data, l->len, "UTF-8", g_mime_charset_iconv_name(l->charset), NULL,
                         NULL, NULL);
    size_t n;
    char *text = conv ? mt_crlf_to_lf(conv, strlen(conv), &n) : mt_crlf_to_lf(data, l->len, &n);
    g_free(conv);
    return text;
}

/* Exact bytes; an empty embedded message is written back as a lone header terminator. */
static inline gboolean mt_same_bytes(const mt_leaf *a, const mt_leaf *b)
{
    size_t na = a->len, nb = b->len;
    while (a->message && na > 0 && (a->bytes[na - 1] == '\n' || a->bytes[na - 1] == '\r'))
        na--;
    while (b->message && nb > 0 && (b->bytes[nb - 1] == '\n' || b->bytes[nb - 1] == '\r'))
        nb--;
    return na == nb && (na == 0 || memcmp(a->bytes, b->bytes, na) == 0);
}

/* ---- the rewrite check */

typedef struct {
    int plain_edited;
    int html_edited;
    int qr_images;
    gboolean qr_in_related; /* QR shares a multipart/related with the edited html */
} mt_report;

static inline gboolean mt_is_edited(const mt_leaf *l, char *text)
{
    if (strcmp(l->type, "text/plain") == 0)
        return strstr(text, MT_TEXT_MARK) != NULL;
    if (strcmp(l->type, "text/html") == 0)
        return strstr(text, MT_HTML_MARK) != NULL;
    return FALSE;
}

/* plain: block then the original text, block once. */
static inline char *mt_check_plain(const char *after, const char *before)
{
    size_t na = strlen(after), nb = strlen(before);
    if (mt_count(after, MT_TEXT_MARK) != 1)
        return g_strdup("text block not exactly once");
    if (na < nb || strcmp(after + na - nb, before) != 0)
        return g_strdup("plain text does not end with the original text");
    if (strstr(after, MT_TEXT_MARK) > after + (na - nb))
        return g_strdup("text block not before the original text");
    return NULL;
}

/* The tag just before the block must be <body ...> when the original has one. */
static inline char *mt_check_html_position(const char *after, const char *start,
                                           const char *before)
{
    char *low = g_ascii_strdown(before, -1);
    gboolean has_body = strstr(low, "<body") != NULL;
    g_free(low);
    if (!has_body)
        return NULL;
    const char *lt = start > after ? start - 1 : start;
    while (lt > after && *lt != '<')
        lt--;
    if (start == after || start[-1] != '>' || g_ascii_strncasecmp(lt, "<body", 5) != 0)
        return g_strdup("html block not right after the <body> tag");
    return NULL;
}

/* html: original text with the block (table) inserted once. */
static inline char *mt_check_html(const char *after, const char *before)
{
    if (mt_count(after, MT_HTML_MARK) != 1)
        return g_strdup("html block not exactly once");
    if (!strstr(after, "cid:" MT_QR_CID))
        return g_strdup("html does not reference the QR cid");
    const char *start = strstr(after, "<table id=\"" MT_HTML_MARK);
    const char *end = start ? strstr(start, "</table>\n") : NULL;
    if (!end)
        return g_strdup("html block not found whole");
    end += strlen("</table>\n");
    char *rest = g_strdup_printf("%.*s%s", (int)(start - after), after, end);
    char *err = strcmp(rest, before) ? g_strdup("html minus block differs from the original")
                                     : mt_check_html_position(after, start, before);
    g_free(rest);
    return err;
}

static inline char *mt_check_edited(const mt_leaf *a, const mt_leaf *b, const char *text,
                                    mt_report *r)
{
    if (strcmp(a->type, b->type) != 0)
        return g_strdup_printf("edited part changed type %s -> %s", b->type, a->type);
    char *orig = mt_leaf_text(b);
    char *err;
    if (strcmp(a->type, "text/plain") == 0) {
        err = mt_check_plain(text, orig);
        r->plain_edited++;
    } else {
        err = mt_check_html(text, orig);
        r->html_edited++;
    }
    g_free(orig);
    return err;
}

static inline char *mt_check_qr(const mt_leaf *l, mt_report *r)
{
    r->qr_images++;
    char *err = mt_check_7bit(l->wire, strlen(l->wire));
    if (err)
        return err;
    if (strcmp(l->type, "image/png") != 0)
        return g_strdup_printf("QR part has type %s", l->type);
    if (l->len != sizeof mt_qr_png || memcmp(l->bytes, mt_qr_png, l->len) != 0)
        return g_strdup("QR part bytes differ");
    r->qr_in_related = strcmp(l->parent_type, "multipart/related") == 0;
    return NULL;
}

/* One after-leaf against its before-leaf (ai walks after, bi walks before). */
static inline char *mt_check_pair(const mt_leaf *a, const mt_leaf *b, mt_report *r, guint i)
{
    char *text = mt_leaf_text(a);
    char *err = NULL;
    if (mt_is_edited(a, text) && !(err = mt_check_7bit(a->wire, strlen(a->wire))))
        err = mt_check_edited(a, b, text, r);
    else if (strcmp(a->type, b->type) != 0)
        err = g_strdup_printf("leaf %u type %s -> %s", i, b->type, a->type);
    else if (!mt_same_bytes(a, b))
        err = g_strdup_printf("leaf %u (%s) decodes to different bytes", i, a->type);
    g_free(text);
    return err;
}

static inline char *mt_compare(GPtrArray *before, GPtrArray *after, mt_report *r)
{
    guint bi = 0;
    for (guint ai = 0; ai < after->len; ai++) {
        const mt_leaf *a = after->pdata[ai];
        char *err;
        if (a->cid && strcmp(a->cid, MT_QR_CID) == 0)
            err = mt_check_qr(a, r);
        else if (bi >= before->len)
            err = g_strdup_printf("extra leaf %u (%s)", ai, a->type);
        else
            err = mt_check_pair(a, before->pdata[bi++], r, ai);
        if (err)
            return err;
    }
    if (bi != before->len)
        return g_strdup_printf("%u original leaves missing", before->len - bi);
    return NULL;
}

/*
 * Run the injection on msg and check the result. whole_7bit: the input was 7-bit clean,
 * so the whole output must be. fmt: output format (NULL: gmime's default, LF).
 * *n_out: mime_inject_block's result.
 */
static inline char *mt_inject_and_check(GMimeMessage *msg, gboolean whole_7bit,
                                        GMimeFormatOptions *fmt, int *n_out, mt_report *r)
{
    mime_block block = mt_block();
    GPtrArray *before = mt_leaves(msg);
    char *untouched = g_mime_object_to_string(GMIME_OBJECT(msg), fmt);
    int n = *n_out = mime_inject_block(msg, &block);
    char *out = g_mime_object_to_string(GMIME_OBJECT(msg), fmt);
    char *err = NULL;
    memset(r, 0, sizeof *r);
    if (n == 0 && strcmp(out, untouched) != 0)
        err = g_strdup("nothing injected but the message changed");
    GMimeMessage *re = err ? NULL : mt_parse(out, strlen(out));
    if (!err && !re)
        err = g_strdup("output does not re-parse");
    if (!err && whole_7bit)
        err = mt_check_7bit(out, strlen(out));
    GPtrArray *after = re ? mt_leaves(re) : NULL;
    if (!err && after)
        err = mt_compare(before, after, r);
    if (!err && r->plain_edited + r->html_edited != n)
        err = g_strdup_printf("%d parts reported, %d found edited", n,
                              r->plain_edited + r->html_edited);
    if (!err && n > 0 && r->qr_images != 1)
        err = g_strdup_printf("%d QR images", r->qr_images);
    if (!err && r->html_edited && !r->qr_in_related)
        err = g_strdup("QR not in the html's multipart/related");
    if (after)
        g_ptr_array_free(after, TRUE);
    if (re)
        g_object_unref(re);
    g_ptr_array_free(before, TRUE);
    g_free(untouched);
    g_free(out);
    return err;
}

#endif
