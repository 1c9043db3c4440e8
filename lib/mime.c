/*
 * mime — safety check, body part discovery and payment block injection on a gmime tree;
 * see mime.h.
 *
 * Ownership: the caller owns the GMimeMessage. Parts created here (QR image, wrapping
 * multiparts, new content streams) are handed to the tree, which holds the only reference.
 * mime_part_bytes() and mime_body_text() return g_malloc'ed memory the caller frees.
 *
 * Bounded work: trees deeper than MIME_MAX_DEPTH are not walked further (and are reported
 * unparsable), part contents larger than MIME_MAX_PART_BYTES are not decoded; every scan
 * over content is linear.
 */
#include "mime.h"

#include <string.h>

#define MIME_MAX_DEPTH 64
#define MIME_MAX_PART_BYTES ((size_t)32 << 20)
#define MIME_MAX_LINE 998

/* ------------------------------------------------------------------ type helpers */

static gboolean mime_is_type(GMimeObject *obj, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

static const char *mime_filename(GMimeObject *obj)
{
    return GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) : NULL;
}

static gboolean mime_filename_is(GMimeObject *obj, const char *name)
{
    const char *fn = mime_filename(obj);
    return fn && g_ascii_strcasecmp(fn, name) == 0;
}

static gboolean mime_filename_ends(GMimeObject *obj, const char *suffix)
{
    const char *fn = mime_filename(obj);
    size_t n = fn ? strlen(fn) : 0, m = strlen(suffix);
    return n >= m && g_ascii_strcasecmp(fn + n - m, suffix) == 0;
}

/* A part with a file name is a file the client can save, even when shown inline: its
 * bytes must stay those of the file, so it is never a body. */
static gboolean mime_is_attachment(GMimePart *part)
{
    return g_mime_part_is_attachment(part) || g_mime_part_get_filename(part) != NULL;
}

/* ------------------------------------------------------------------ content bytes */

guint8 *mime_part_bytes(GMimePart *part, size_t *len)
{
    *len = 0;
    GMimeDataWrapper *content = part ? g_mime_part_get_content(part) : NULL;
    if (!content)
        return NULL;
    /* decoding only shrinks data (but for degenerate QP): a part whose encoded form is
     * four times the cap is refused before any work */
    GMimeStream *raw = g_mime_data_wrapper_get_stream(content);
    gint64 raw_len = raw ? g_mime_stream_length(raw) : -1;
    if (raw_len > (gint64)(4 * MIME_MAX_PART_BYTES))
        return NULL;

    GMimeStream *mem = g_mime_stream_mem_new();
    ssize_t n = g_mime_data_wrapper_write_to_stream(content, mem);
    GByteArray *buf = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    if (n < 0 || buf->len > MIME_MAX_PART_BYTES) {
        g_object_unref(mem);
        return NULL;
    }
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_object_unref(mem);
    *len = buf->len;
    g_byte_array_append(buf, (const guint8 *)"", 1); /* NUL-terminated for string scans */
    return g_byte_array_free(buf, FALSE);
}

/* ------------------------------------------------------------------ body discovery */

typedef struct {
    GMimePart *part;     /* NULL: none */
    GMimeObject *parent; /* the multipart holding it, NULL when it is the top-level part */
    int index;           /* position in parent */
} mime_body_ref;

typedef struct {
    mime_body_ref plain;
    mime_body_ref html;
} mime_body;

static void mime_find_body(GMimeObject *obj, GMimeObject *parent, int index, int depth,
                           mime_body *body);

/* The root of a multipart/related: the part named by the "start" parameter, else the first. */
static int mime_related_root(GMimeMultipart *mp)
{
    const char *start = g_mime_object_get_content_type_parameter(GMIME_OBJECT(mp), "start");
    if (!start)
        return 0;
    char *want = g_strstrip(g_strdelimit(g_strdup(start), "<>", ' '));
    int n = g_mime_multipart_get_count(mp), root = 0;
    for (int i = 0; i < n; i++) {
        const char *cid = g_mime_object_get_content_id(g_mime_multipart_get_part(mp, i));
        if (cid && strcmp(cid, want) == 0) {
            root = i;
            break;
        }
    }
    g_free(want);
    return root;
}

/* Which children a client displays as the body: every alternative, the root of a related,
 * the first child of anything else (mixed, report...; later children are attachments). */
static void mime_find_body_multipart(GMimeMultipart *mp, int depth, mime_body *body)
{
    GMimeObject *obj = GMIME_OBJECT(mp);
    int n = g_mime_multipart_get_count(mp);
    if (n <= 0)
        return;
    if (mime_is_type(obj, "multipart", "alternative")) {
        for (int i = 0; i < n; i++)
            mime_find_body(g_mime_multipart_get_part(mp, i), obj, i, depth + 1, body);
        return;
    }
    int first = mime_is_type(obj, "multipart", "related") ? mime_related_root(mp) : 0;
    mime_find_body(g_mime_multipart_get_part(mp, first), obj, first, depth + 1, body);
}

static void mime_body_take(mime_body_ref *ref, GMimePart *part, GMimeObject *parent, int index)
{
    if (ref->part)
        return;
    ref->part = part;
    ref->parent = parent;
    ref->index = index;
}

static void mime_find_body(GMimeObject *obj, GMimeObject *parent, int index, int depth,
                           mime_body *body)
{
    if (!obj || depth > MIME_MAX_DEPTH)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        mime_find_body_multipart(GMIME_MULTIPART(obj), depth, body);
        return;
    }
    if (!GMIME_IS_PART(obj) || mime_is_attachment(GMIME_PART(obj)))
        return; /* message/rfc822 is a forward, never our body */
    if (mime_is_type(obj, "text", "plain"))
        mime_body_take(&body->plain, GMIME_PART(obj), parent, index);
    else if (mime_is_type(obj, "text", "html"))
        mime_body_take(&body->html, GMIME_PART(obj), parent, index);
}

static void mime_body_of(GMimeMessage *msg, mime_body *body)
{
    memset(body, 0, sizeof *body);
    mime_find_body(g_mime_message_get_mime_part(msg), NULL, 0, 0, body);
}

/* ------------------------------------------------------------------ safety */

const char *mime_safety_name(mime_safety s)
{
    switch (s) {
    case MIME_TOUCHABLE: return "touchable";
    case MIME_SIGNED: return "signed";
    case MIME_ENCRYPTED: return "encrypted";
    case MIME_PGP_INLINE: return "pgp-inline";
    case MIME_TNEF: return "tnef";
    case MIME_UNPARSABLE: return "unparsable";
    }
    return "unknown";
}

static gboolean mime_is_pkcs7_mime(GMimeObject *obj)
{
    return mime_is_type(obj, "application", "pkcs7-mime") ||
           mime_is_type(obj, "application", "x-pkcs7-mime") || mime_filename_ends(obj, ".p7m");
}

static mime_safety mime_pkcs7_kind(GMimeObject *obj)
{
    const char *kind = g_mime_object_get_content_type_parameter(obj, "smime-type");
    if (kind && (g_ascii_strcasecmp(kind, "signed-data") == 0 ||
                 g_ascii_strcasecmp(kind, "certs-only") == 0))
        return MIME_SIGNED;
    return MIME_ENCRYPTED; /* enveloped, authEnveloped, compressed, unknown: hands off */
}

/* The verdict for one node, regardless of its children. */
static mime_safety mime_node_safety(GMimeObject *obj)
{
    if (mime_is_type(obj, "multipart", "signed"))
        return MIME_SIGNED;
    if (mime_is_type(obj, "multipart", "encrypted") ||
        mime_is_type(obj, "application", "pgp-encrypted"))
        return MIME_ENCRYPTED;
    if (mime_is_pkcs7_mime(obj))
        return mime_pkcs7_kind(obj);
    /* a detached signature outside multipart/signed (Apple Mail smime.p7s in mixed) */
    if (mime_is_type(obj, "application", "pkcs7-signature") ||
        mime_is_type(obj, "application", "x-pkcs7-signature") ||
        mime_is_type(obj, "application", "pgp-signature") || mime_filename_ends(obj, ".p7s"))
        return MIME_SIGNED;
    if (mime_is_type(obj, "application", "ms-tnef") ||
        mime_is_type(obj, "application", "vnd.ms-tnef") || mime_filename_is(obj, "winmail.dat"))
        return MIME_TNEF;
    return MIME_TOUCHABLE;
}

/* Whole tree, forwarded messages included: conservative by design. */
/* gmime keeps a header's raw value as a C string: a NUL byte in it cuts the value, line end
 * included, and writing the headers back would glue the next header (a Content-Type...) onto
 * it. Such a header block cannot be written back as it was. */
static gboolean mime_headers_writable(GMimeObject *obj)
{
    GMimeHeaderList *list = g_mime_object_get_header_list(obj);
    int n = list ? g_mime_header_list_get_count(list) : 0;
    for (int i = 0; i < n; i++) {
        const char *raw = g_mime_header_get_raw_value(g_mime_header_list_get_header_at(list, i));
        size_t len = raw ? strlen(raw) : 0;
        if (len && raw[len - 1] != '\n')
            return FALSE;
    }
    return TRUE;
}

static mime_safety mime_tree_safety(GMimeObject *obj, int depth)
{
    if (!obj)
        return MIME_TOUCHABLE;
    if (depth > MIME_MAX_DEPTH || !mime_headers_writable(obj))
        return MIME_UNPARSABLE;
    mime_safety s = mime_node_safety(obj);
    if (s != MIME_TOUCHABLE)
        return s;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n && s == MIME_TOUCHABLE; i++)
            s = mime_tree_safety(g_mime_multipart_get_part(mp, i), depth + 1);
        return s;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        return inner ? mime_tree_safety(g_mime_message_get_mime_part(inner), depth + 1)
                     : MIME_TOUCHABLE;
    }
    return MIME_TOUCHABLE;
}

static gboolean mime_has_inline_pgp(GMimePart *part)
{
    if (!part)
        return FALSE;
    size_t len;
    guint8 *data = mime_part_bytes(part, &len);
    gboolean found = data && (memmem(data, len, "-----BEGIN PGP SIGNED MESSAGE-----", 34) ||
                              memmem(data, len, "-----BEGIN PGP MESSAGE-----", 27));
    g_free(data);
    return found;
}

mime_safety mime_safety_check(GMimeMessage *msg)
{
    GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
    if (!top)
        return MIME_UNPARSABLE;
    if (GMIME_IS_MULTIPART(top) && g_mime_multipart_get_count(GMIME_MULTIPART(top)) <= 0)
        return MIME_UNPARSABLE;
    if (!mime_headers_writable(GMIME_OBJECT(msg)))
        return MIME_UNPARSABLE;
    mime_safety s = mime_tree_safety(top, 0);
    if (s != MIME_TOUCHABLE)
        return s;
    mime_body body;
    mime_body_of(msg, &body);
    if (mime_has_inline_pgp(body.plain.part) || mime_has_inline_pgp(body.html.part))
        return MIME_PGP_INLINE;
    return MIME_TOUCHABLE;
}

/* ------------------------------------------------------------------ charsets */

static gboolean mime_is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((guchar)s[i] >= 0x80)
            return FALSE;
    return TRUE;
}

/* Convert, and only accept it when converting back gives the input again (some iconv
 * tables substitute instead of failing). NULL when not lossless. */
static char *mime_convert_lossless(const char *in, size_t len, const char *to, const char *from,
                                   size_t *out_len)
{
    gsize n = 0, back_n = 0;
    char *out = g_convert(in, len, to, from, NULL, &n, NULL);
    if (!out)
        return NULL;
    char *back = g_convert(out, n, from, to, NULL, &back_n, NULL);
    gboolean same = back && back_n == len && memcmp(back, in, len) == 0;
    g_free(back);
    if (!same) {
        g_free(out);
        return NULL;
    }
    *out_len = n;
    return out;
}

/* The iconv name of a charset label, or NULL when iconv does not know it. */
static const char *mime_charset_known(const char *label)
{
    const char *name = g_mime_charset_iconv_name(label);
    GIConv cd = g_iconv_open("UTF-8", name);
    if (cd == (GIConv)-1)
        return NULL;
    g_iconv_close(cd);
    return name;
}

/* Whether bytes we insert as ASCII mean the same in this charset (rules out UTF-16/32). */
static gboolean mime_charset_ascii_compatible(const char *name)
{
    static const char probe[] = "<body>\n =&#;-+Az09";
    size_t n = 0;
    char *out = mime_convert_lossless(probe, sizeof probe - 1, name, "UTF-8", &n);
    gboolean ok = out && n == sizeof probe - 1 && memcmp(out, probe, n) == 0;
    g_free(out);
    return ok;
}

/* HTML: characters the charset may lack, as numeric character references (pure ASCII). */
static char *mime_html_ncr(const char *utf8)
{
    GString *out = g_string_new(NULL);
    for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_free(out, TRUE);
            return NULL;
        }
        if (c < 0x80)
            g_string_append_c(out, (char)c);
        else
            g_string_append_printf(out, "&#%u;", (unsigned)c);
    }
    return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------ text edit */

/* One text part being edited: its decoded content and the block, both in the charset the
 * part will be labelled with. */
typedef struct {
    char *body;
    size_t body_len;
    char *block;
    size_t block_len;
    gboolean relabel_utf8; /* the part's charset parameter becomes utf-8 */
} mime_edit;

static void mime_edit_clear(mime_edit *e)
{
    g_free(e->body);
    g_free(e->block);
    memset(e, 0, sizeof *e);
}

/* The block in the part's own charset; for HTML, entities stand in for what it lacks. */
static gboolean mime_edit_keep_charset(mime_edit *e, const char *cs, const char *block,
                                       gboolean html)
{
    if (!mime_charset_ascii_compatible(cs))
        return FALSE;
    e->block = mime_convert_lossless(block, strlen(block), cs, "UTF-8", &e->block_len);
    if (!e->block && html) {
        char *ncr = mime_html_ncr(block);
        if (ncr)
            e->block = mime_convert_lossless(ncr, strlen(ncr), cs, "UTF-8", &e->block_len);
        g_free(ncr);
    }
    return e->block != NULL;
}

/* The whole part in UTF-8, when its content converts both ways without loss. */
static gboolean mime_edit_to_utf8(mime_edit *e, const char *cs, const char *block)
{
    size_t n = 0;
    char *utf8 = mime_convert_lossless(e->body, e->body_len, "UTF-8", cs, &n);
    if (!utf8 || !g_utf8_validate(block, -1, NULL)) {
        g_free(utf8);
        return FALSE;
    }
    g_free(e->body);
    e->body = utf8;
    e->body_len = n;
    e->block = g_strdup(block);
    e->block_len = strlen(block);
    e->relabel_utf8 = TRUE;
    return TRUE;
}

/* Decide the charset of the edited part. FALSE: leave the part alone. */
static gboolean mime_edit_charset(mime_edit *e, GMimePart *part, const char *block, gboolean html)
{
    const char *label = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    const char *cs = mime_charset_known(label && *label ? label : "us-ascii");
    if (!cs) {
        /* unknown label: only pure ASCII content is safe to reinterpret */
        if (!mime_is_ascii(e->body, e->body_len))
            return FALSE;
        cs = "US-ASCII";
    }
    if (mime_edit_keep_charset(e, cs, block, html))
        return TRUE;
    return mime_edit_to_utf8(e, cs, block);
}

/* format=flowed (RFC 3676): our lines are hard breaks (no trailing space) and lines that
 * would be read as quoted or flowed are space-stuffed. */
static char *mime_flowed_block(const char *block)
{
    GString *out = g_string_new(NULL);
    char **lines = g_strsplit(block, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (l != lines)
            g_string_append_c(out, '\n');
        size_t n = strlen(*l);
        gboolean cr = n > 0 && (*l)[n - 1] == '\r';
        if (cr)
            n--;
        while (n > 0 && (*l)[n - 1] == ' ')
            n--;
        if (n > 0 && ((*l)[0] == ' ' || (*l)[0] == '>' || strncmp(*l, "From ", 5) == 0))
            g_string_append_c(out, ' ');
        g_string_append_len(out, *l, (gssize)n);
        if (cr)
            g_string_append_c(out, '\r');
    }
    g_strfreev(lines);
    return g_string_free(out, FALSE);
}

static gboolean mime_is_flowed(GMimePart *part)
{
    const char *f = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "format");
    return f && g_ascii_strcasecmp(f, "flowed") == 0;
}

/* The UTF-8 block as it must appear in this part (trailing newline, flowed rules). */
static char *mime_block_for(GMimePart *part, const char *block)
{
    size_t n = strlen(block);
    char *b = (n > 0 && block[n - 1] != '\n') ? g_strconcat(block, "\n", NULL) : g_strdup(block);
    if (!mime_is_flowed(part))
        return b;
    char *flowed = mime_flowed_block(b);
    g_free(b);
    return flowed;
}

/* Block newlines follow the body's (CRLF or LF) so the part stays consistent. */
static void mime_edit_match_newlines(mime_edit *e)
{
    const char *nl = memchr(e->body, '\n', e->body_len);
    if (!nl || nl == e->body || nl[-1] != '\r')
        return;
    GString *out = g_string_sized_new(e->block_len + 16);
    for (size_t i = 0; i < e->block_len; i++) {
        if (e->block[i] == '\n' && (i == 0 || e->block[i - 1] != '\r'))
            g_string_append_c(out, '\r');
        g_string_append_c(out, e->block[i]);
    }
    g_free(e->block);
    e->block_len = out->len;
    e->block = g_string_free(out, FALSE);
}

static size_t mime_skip_bom(const mime_edit *e, const char *cs_label)
{
    gboolean utf8 = e->relabel_utf8 || (cs_label && g_ascii_strcasecmp(cs_label, "utf-8") == 0);
    return utf8 && e->body_len >= 3 && memcmp(e->body, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* ---- where the HTML block goes */

static gboolean mime_tag_is(const char *s, size_t len, size_t i, const char *name)
{
    size_t n = strlen(name);
    if (i + 1 + n >= len || s[i] != '<' || g_ascii_strncasecmp(s + i + 1, name, n) != 0)
        return FALSE;
    char c = s[i + 1 + n];
    return c == '>' || c == '/' || g_ascii_isspace(c);
}

/* Offset just after the '>' closing the tag opened at i (quotes respected); 0 if none. */
static size_t mime_tag_end(const char *s, size_t len, size_t i)
{
    char quote = 0;
    for (size_t j = i; j < len; j++) {
        if (quote) {
            if (s[j] == quote)
                quote = 0;
        } else if (s[j] == '"' || s[j] == '\'') {
            quote = s[j];
        } else if (s[j] == '>') {
            return j + 1;
        }
    }
    const char *gt = memchr(s + i, '>', len - i); /* unbalanced quotes: first '>' */
    return gt ? (size_t)(gt - s) + 1 : 0;
}

/* After <body ...>; else after <html ...>; else 0. Comments are skipped. */
static size_t mime_html_insert_at(const char *s, size_t len)
{
    size_t html_end = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '<')
            continue;
        if (i + 4 <= len && memcmp(s + i, "<!--", 4) == 0) {
            const char *end = memmem(s + i + 4, len - i - 4, "-->", 3);
            if (!end)
                break;
            i = (size_t)(end - s) + 2;
        } else if (mime_tag_is(s, len, i, "body")) {
            size_t end = mime_tag_end(s, len, i);
            return end ? end : html_end;
        } else if (!html_end && mime_tag_is(s, len, i, "html")) {
            html_end = mime_tag_end(s, len, i);
        }
    }
    return html_end;
}

/* ---- re-encoding */

/* 7bit when every byte is 7-bit, no NUL or bare CR, no line over 998; else QP (base64 if
 * the part was base64). */
static GMimeContentEncoding mime_pick_encoding(const char *s, size_t len, GMimeContentEncoding was)
{
    size_t line = 0;
    gboolean clean = TRUE;
    for (size_t i = 0; i < len && clean; i++) {
        guchar c = (guchar)s[i];
        if (c == '\n') {
            line = 0;
            continue;
        }
        gboolean bare_cr = c == '\r' && (i + 1 >= len || s[i + 1] != '\n');
        if (c >= 0x80 || c == 0 || bare_cr || (c != '\r' && ++line > MIME_MAX_LINE))
            clean = FALSE;
    }
    if (clean)
        return GMIME_CONTENT_ENCODING_7BIT;
    return was == GMIME_CONTENT_ENCODING_BASE64 ? GMIME_CONTENT_ENCODING_BASE64
                                                : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

static void mime_set_content(GMimePart *part, const char *data, size_t len)
{
    GMimeContentEncoding was = g_mime_part_get_content_encoding(part);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part, w);
    g_object_unref(w);
    g_object_unref(stream);
    g_mime_part_set_content_encoding(part, mime_pick_encoding(data, len, was));
    g_mime_object_remove_header(GMIME_OBJECT(part), "Content-MD5"); /* no longer true */
}

/* Insert the UTF-8 block into a body text part. FALSE (part untouched) when the charset
 * or the content does not allow a lossless edit. */
static gboolean mime_edit_part(GMimePart *part, const char *block_utf8, gboolean html)
{
    mime_edit e = {0};
    guint8 *bytes = mime_part_bytes(part, &e.body_len);
    if (!bytes)
        return FALSE;
    e.body = (char *)bytes;
    char *block = mime_block_for(part, block_utf8);
    gboolean ok = mime_edit_charset(&e, part, block, html);
    g_free(block);
    if (!ok) {
        mime_edit_clear(&e);
        return FALSE;
    }
    mime_edit_match_newlines(&e);
    const char *label = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    size_t at = html ? mime_html_insert_at(e.body, e.body_len) : mime_skip_bom(&e, label);

    GString *out = g_string_sized_new(e.body_len + e.block_len);
    g_string_append_len(out, e.body, (gssize)at);
    g_string_append_len(out, e.block, (gssize)e.block_len);
    g_string_append_len(out, e.body + at, (gssize)(e.body_len - at));
    if (e.relabel_utf8)
        g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
    mime_set_content(part, out->str, out->len);
    g_string_free(out, TRUE);
    mime_edit_clear(&e);
    return TRUE;
}

/* ------------------------------------------------------------------ QR image */

static GMimePart *mime_qr_part(const mime_block *b)
{
    GMimePart *img = g_mime_part_new_with_type("image", "png");
    GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)b->qr_png, b->qr_png_len);
    GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(img, w);
    g_object_unref(w);
    g_object_unref(s);
    g_mime_part_set_content_encoding(img, GMIME_CONTENT_ENCODING_BASE64);
    g_mime_part_set_content_id(img, b->qr_cid);
    g_mime_object_set_disposition(GMIME_OBJECT(img), GMIME_DISPOSITION_INLINE);
    if (b->qr_filename)
        g_mime_part_set_filename(img, b->qr_filename);
    return img;
}

/* Put repl where the child at index of parent was (parent NULL: the top-level part). */
static void mime_replace_child(GMimeMessage *msg, GMimeObject *parent, int index,
                               GMimeObject *repl)
{
    if (!parent) {
        g_mime_message_set_mime_part(msg, repl);
        return;
    }
    GMimeObject *old = g_mime_multipart_replace(GMIME_MULTIPART(parent), index, repl);
    if (old)
        g_object_unref(old);
}

/* New multipart/<subtype> holding first and second, in place of first. */
static void mime_wrap(GMimeMessage *msg, GMimeObject *parent, int index, GMimeObject *first,
                      GMimeObject *second, const char *subtype)
{
    GMimeMultipart *mp = g_mime_multipart_new_with_subtype(subtype);
    if (strcmp(subtype, "related") == 0)
        g_mime_object_set_content_type_parameter(GMIME_OBJECT(mp), "type", "text/html");
    g_mime_multipart_add(mp, first);
    g_mime_multipart_add(mp, second);
    mime_replace_child(msg, parent, index, GMIME_OBJECT(mp));
    g_object_unref(mp);
}

/* The html's cid: target, as a sibling in its multipart/related. */
static void mime_qr_related(GMimeMessage *msg, const mime_body_ref *html, GMimePart *img)
{
    if (html->parent && mime_is_type(html->parent, "multipart", "related")) {
        g_mime_multipart_add(GMIME_MULTIPART(html->parent), GMIME_OBJECT(img));
        return;
    }
    mime_wrap(msg, html->parent, html->index, GMIME_OBJECT(html->part), GMIME_OBJECT(img),
              "related");
}

/* Plain-text-only message: the QR as an inline image in the top multipart/mixed. */
static void mime_qr_inline(GMimeMessage *msg, GMimePart *img)
{
    GMimeObject *top = g_mime_message_get_mime_part(msg);
    if (GMIME_IS_MULTIPART(top) && mime_is_type(top, "multipart", "mixed")) {
        g_mime_multipart_add(GMIME_MULTIPART(top), GMIME_OBJECT(img));
        return;
    }
    mime_wrap(msg, NULL, 0, top, GMIME_OBJECT(img), "mixed");
}

static gboolean mime_has_qr(const mime_block *b)
{
    return b->qr_png && b->qr_png_len > 0 && b->qr_cid && *b->qr_cid;
}

/* ------------------------------------------------------------------ injection */

int mime_inject_block(GMimeMessage *msg, const mime_block *block)
{
    if (!msg || !block || mime_safety_check(msg) != MIME_TOUCHABLE)
        return 0;
    mime_body body;
    mime_body_of(msg, &body);
    gboolean html = body.html.part && block->html && mime_edit_part(body.html.part, block->html, TRUE);
    gboolean plain = body.plain.part && block->text &&
                     mime_edit_part(body.plain.part, block->text, FALSE);
    if (!html && !plain)
        return 0;
    if (mime_has_qr(block)) {
        GMimePart *img = mime_qr_part(block);
        if (html)
            mime_qr_related(msg, &body.html, img);
        else
            mime_qr_inline(msg, img);
        g_object_unref(img);
    }
    if (!g_mime_object_get_header(GMIME_OBJECT(msg), "MIME-Version"))
        g_mime_object_set_header(GMIME_OBJECT(msg), "MIME-Version", "1.0", NULL);
    return (int)html + (int)plain;
}

/* ------------------------------------------------------------------ leaves and text */

static void mime_leaf_walk(GMimeObject *parent, GMimeObject *obj, int depth, mime_leaf_fn fn,
                           void *arg)
{
    if (!obj || depth > MIME_MAX_DEPTH)
        return;
    if (!GMIME_IS_MULTIPART(obj)) {
        fn(parent, obj, arg);
        return;
    }
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; i++)
        mime_leaf_walk(obj, g_mime_multipart_get_part(mp, i), depth + 1, fn, arg);
}

void mime_foreach_leaf(GMimeMessage *msg, mime_leaf_fn fn, void *arg)
{
    if (msg && fn)
        mime_leaf_walk(GMIME_OBJECT(msg), g_mime_message_get_mime_part(msg), 0, fn, arg);
}

/* Decoded bytes to UTF-8: the declared charset, else UTF-8 as is, else Latin-1 (never
 * fails); the result is always valid UTF-8. */
static char *mime_text_to_utf8(const char *data, size_t len, const char *label)
{
    const char *cs = label && *label ? mime_charset_known(label) : NULL;
    char *out = cs ? g_convert(data, len, "UTF-8", cs, NULL, NULL, NULL) : NULL;
    if (!out && g_utf8_validate(data, (gssize)len, NULL))
        out = g_strndup(data, len);
    if (!out)
        out = g_convert(data, len, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
    if (out && !g_utf8_validate(out, -1, NULL)) {
        char *valid = g_utf8_make_valid(out, -1);
        g_free(out);
        out = valid;
    }
    return out;
}

char *mime_body_text(GMimeMessage *msg, const char *subtype)
{
    if (!msg || !subtype)
        return NULL;
    mime_body body;
    mime_body_of(msg, &body);
    GMimePart *part = g_ascii_strcasecmp(subtype, "html") == 0 ? body.html.part
                      : g_ascii_strcasecmp(subtype, "plain") == 0 ? body.plain.part
                                                                  : NULL;
    size_t len;
    guint8 *data = part ? mime_part_bytes(part, &len) : NULL;
    if (!data)
        return NULL;
    const char *label = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    char *text = mime_text_to_utf8((const char *)data, len, label);
    g_free(data);
    return text;
}

GMimeMessage *mime_parse_stream(GMimeStream *stream, gboolean persist)
{
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_persist_stream(parser, persist);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    return msg;
}

GMimeMessage *mime_parse_bytes(const char *data, size_t len)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeMessage *msg = mime_parse_stream(stream, FALSE);
    g_object_unref(stream);
    return msg;
}

/* ------------------------------------------------------------------ own text: lines */

typedef enum {
    MIME_LINE_OWN,           /* the author's own text */
    MIME_LINE_QUOTED,        /* a "> " line or an attribution ("... a écrit :"): skipped */
    MIME_LINE_END,           /* a separator after which the original follows unquoted */
} mime_line_kind;

/* What a line of a reply is. Quoted lines are skipped rather than ending the own text, so a
 * bottom-posted reply is read too; Outlook's separators end it (the original follows as is). */
static mime_line_kind mime_line_kind_of(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen(line);
    if (line[0] == '>')
        return MIME_LINE_QUOTED;
    if (n >= 10 && strspn(line, "_") >= 10)
        return MIME_LINE_END;
    if (strncmp(line, "-----", 5) == 0) {
        char *fold = g_utf8_casefold(line, -1);
        gboolean sep = strstr(fold, "message") || strstr(fold, "origin");
        g_free(fold);
        if (sep)
            return MIME_LINE_END;
    }
    static const char *const starts[] = { "From: ", "De : ", "De: ", "Von: ", NULL };
    for (int i = 0; starts[i]; i++)
        if (g_ascii_strncasecmp(line, starts[i], strlen(starts[i])) == 0)
            return MIME_LINE_END;
    static const char *const ends[] = { "wrote:", "a écrit :", "a écrit:", "a ecrit :",
                                        "schrieb:", NULL };
    for (int i = 0; ends[i]; i++) {
        size_t m = strlen(ends[i]);
        if (n >= m && strcmp(line + n - m, ends[i]) == 0)
            return MIME_LINE_QUOTED;
    }
    return MIME_LINE_OWN;
}

/* One line of own text: its UTF-8 text and the byte range to remove in the part's text. */
typedef gboolean (*mime_own_fn)(const char *line, size_t start, size_t end, void *arg);

/* Lines of a plain text, each with its line end; stops at the end of the own text. */
static void mime_plain_lines(const char *s, size_t len, mime_own_fn fn, void *arg)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - s) + 1 : len, n = end - pos;
        while (n > 0 && (s[pos + n - 1] == '\n' || s[pos + n - 1] == '\r'))
            n--;
        char *line = g_strndup(s + pos, n);
        mime_line_kind kind = mime_line_kind_of(line);
        gboolean go_on = kind != MIME_LINE_END &&
                         (kind == MIME_LINE_QUOTED || fn(line, pos, end, arg));
        g_free(line);
        if (!go_on)
            return;
        pos = end;
    }
}

/* ---- html: text lines as a browser would break them, with their source ranges */

typedef struct {
    const char *s;
    size_t len;
    GString *text;           /* the current line, entities decoded, spaces collapsed */
    size_t start, end;       /* source range of its text, from first to last visible char */
    mime_own_fn fn;
    void *arg;
    int quote_depth;         /* inside <blockquote>: not the author's text */
    gboolean stopped;
} mime_html_scan;

static gboolean mime_html_emit(mime_html_scan *h)
{
    while (h->text->len && h->text->str[h->text->len - 1] == ' ')
        g_string_truncate(h->text, h->text->len - 1);
    if (h->text->len) {
        mime_line_kind kind = mime_line_kind_of(h->text->str);
        if (kind == MIME_LINE_END ||
            (kind == MIME_LINE_OWN && !h->fn(h->text->str, h->start, h->end, h->arg)))
            h->stopped = TRUE;
    }
    g_string_truncate(h->text, 0);
    return !h->stopped;
}

/* "&eacute;", "&#233;", "&#xE9;" at s[i] -> the character; 0 when not an entity we know. */
static gunichar mime_html_entity(const char *s, size_t len, size_t i, size_t *after)
{
    static const struct { const char *name; gunichar c; } named[] = {
        { "nbsp", 0xA0 }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
        { "apos", '\'' }, { "eacute", 0xE9 }, { "Eacute", 0xC9 }, { "egrave", 0xE8 },
        { "ecirc", 0xEA }, { "agrave", 0xE0 }, { "acirc", 0xE2 }, { "ccedil", 0xE7 },
        { "ugrave", 0xF9 }, { "ucirc", 0xFB }, { "icirc", 0xEE }, { "ocirc", 0xF4 },
    };
    const char *semi = memchr(s + i, ';', MIN(len - i, (size_t)12));
    if (!semi)
        return 0;
    size_t n = (size_t)(semi - (s + i)) - 1;
    const char *name = s + i + 1;
    *after = (size_t)(semi - s) + 1;
    if (n >= 2 && name[0] == '#') {
        char buf[12];
        memcpy(buf, name + 1, n - 1);
        buf[n - 1] = '\0';
        gboolean hex = buf[0] == 'x' || buf[0] == 'X';
        char *endp = NULL;
        guint64 v = g_ascii_strtoull(buf + hex, &endp, hex ? 16 : 10);
        return endp && !*endp && endp != buf + hex && v > 0 && v < 0x110000 &&
               g_unichar_validate((gunichar)v) ? (gunichar)v : 0;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(named); k++)
        if (strlen(named[k].name) == n && strncmp(named[k].name, name, n) == 0)
            return named[k].c;
    return 0;
}

static void mime_html_text_char(mime_html_scan *h, gunichar c, size_t at, size_t after)
{
    gboolean space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space) {
        if (h->text->len && h->text->str[h->text->len - 1] != ' ')
            g_string_append_c(h->text, ' ');
        return;
    }
    if (!h->text->len)
        h->start = at;
    g_string_append_unichar(h->text, c);
    h->end = after;
}

static gboolean mime_html_name_is(const char *tag, size_t n, const char *const *names)
{
    size_t k = 0;
    while (k < n && (tag[k] == '/' || tag[k] == ' '))
        k++;
    size_t m = k;
    while (m < n && g_ascii_isalnum(tag[m]))
        m++;
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == m - k && g_ascii_strncasecmp(tag + k, names[i], m - k) == 0)
            return TRUE;
    return FALSE;
}

/* A tag after which the original follows unquoted (Outlook, Yahoo): the own text ends. The
 * quotes of Gmail, Thunderbird and Apple Mail are <blockquote>s, skipped instead. */
static gboolean mime_html_tag_ends_own_text(const char *tag, size_t n)
{
    static const char *const marks[] = { "divrplyfwdmsg", "yahoo_quoted", "olk_src_body_section",
                                         "appendonsend", NULL };
    char *lower = g_ascii_strdown(tag, (gssize)n);
    gboolean found = FALSE;
    for (int i = 0; marks[i] && !found; i++)
        found = strstr(lower, marks[i]) != NULL;
    g_free(lower);
    return found;
}

/* Past the element whose content is not text (<style>...</style>); len when unclosed. */
static size_t mime_html_skip_element(const char *s, size_t len, size_t from, const char *name)
{
    size_t m = strlen(name);
    for (size_t i = from; i + 2 + m <= len; i++) {
        const char *lt = memchr(s + i, '<', len - i);
        if (!lt)
            break;
        i = (size_t)(lt - s);
        if (i + 2 + m <= len && s[i + 1] == '/' && g_ascii_strncasecmp(s + i + 2, name, m) == 0) {
            const char *gt = memchr(s + i, '>', len - i);
            return gt ? (size_t)(gt - s) + 1 : len;
        }
    }
    return len;
}

/* One tag at s[i] ('<'); returns where scanning goes on. */
static size_t mime_html_tag(mime_html_scan *h, size_t i)
{
    static const char *const breaks[] = { "br", "p", "div", "li", "tr", "td", "th", "h1", "h2",
                                          "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr", "pre",
                                          "body", "section", "article", "header", "footer",
                                          "center", "dd", "dt", NULL };
    static const char *const opaque[] = { "style", "script", "title", "head", NULL };
    const char *s = h->s;
    if (i + 4 <= h->len && memcmp(s + i, "<!--", 4) == 0) {
        const char *end = memmem(s + i + 4, h->len - i - 4, "-->", 3);
        return end ? (size_t)(end - s) + 3 : h->len;
    }
    const char *gt = memchr(s + i, '>', h->len - i);
    if (!gt)
        return h->len;
    const char *tag = s + i + 1;
    size_t n = (size_t)(gt - tag), after = (size_t)(gt - s) + 1;
    if (mime_html_tag_ends_own_text(tag, n)) {
        mime_html_emit(h);
        h->stopped = TRUE;
        return h->len;
    }
    if (mime_html_name_is(tag, n, (const char *const[]){ "blockquote", NULL })) {
        mime_html_emit(h);
        if (tag[0] != '/')
            h->quote_depth++;
        else if (h->quote_depth > 0)
            h->quote_depth--;
        return after;
    }
    for (int k = 0; tag[0] != '/' && opaque[k]; k++)
        if (mime_html_name_is(tag, n, (const char *const[]){ opaque[k], NULL }))
            return mime_html_skip_element(s, h->len, after, opaque[k]);
    if (mime_html_name_is(tag, n, breaks))
        mime_html_emit(h);
    return after;
}

static void mime_html_lines(const char *s, size_t len, mime_own_fn fn, void *arg)
{
    mime_html_scan h = { s, len, g_string_new(NULL), 0, 0, fn, arg, 0, FALSE };
    size_t i = 0;
    while (i < len && !h.stopped) {
        if (s[i] == '<') {
            i = mime_html_tag(&h, i);
            continue;
        }
        size_t after = i + 1;
        gunichar c = 0;
        if (s[i] == '&')
            c = mime_html_entity(s, len, i, &after);
        if (!c) {
            const char *next = g_utf8_find_next_char(s + i, s + len);
            after = next ? (size_t)(next - s) : len;
            c = g_utf8_get_char_validated(s + i, (gssize)(after - i));
            if (c == (gunichar)-1 || c == (gunichar)-2)
                c = 0xFFFD;
        }
        if (h.quote_depth == 0)
            mime_html_text_char(&h, c, i, after);
        i = after;
    }
    if (!h.stopped)
        mime_html_emit(&h);
    g_string_free(h.text, TRUE);
}

/* ---- the part's text in UTF-8 */

/* The decoded text of a body part in UTF-8, and its charset (iconv name) when converting
 * back is lossless; with lossy set, any part gives some text (for reading only). */
static char *mime_part_utf8(GMimePart *part, gboolean lossy, const char **charset, size_t *out_len)
{
    size_t len;
    guint8 *bytes = mime_part_bytes(part, &len);
    if (!bytes)
        return NULL;
    const char *label = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    const char *cs = mime_charset_known(label && *label ? label : "us-ascii");
    if (!cs && mime_is_ascii((const char *)bytes, len))
        cs = "US-ASCII";
    char *text = NULL;
    if (cs && mime_charset_ascii_compatible(cs))
        text = mime_convert_lossless((const char *)bytes, len, "UTF-8", cs, out_len);
    if (!text && lossy) {
        text = mime_text_to_utf8((const char *)bytes, len, label);
        *out_len = text ? strlen(text) : 0;
    }
    g_free(bytes);
    *charset = cs;
    return text;
}

typedef struct {
    GPtrArray *lines;
} mime_own_collect;

static gboolean mime_own_collect_line(const char *line, size_t start, size_t end, void *arg)
{
    (void)start;
    (void)end;
    mime_own_collect *c = arg;
    if (c->lines->len >= 10000)
        return FALSE;
    g_ptr_array_add(c->lines, g_strdup(line));
    return TRUE;
}

char **mime_own_lines(GMimeMessage *msg)
{
    if (!msg)
        return NULL;
    mime_body body;
    mime_body_of(msg, &body);
    GMimePart *part = body.plain.part ? body.plain.part : body.html.part;
    const char *cs;
    size_t len = 0;
    char *text = part ? mime_part_utf8(part, TRUE, &cs, &len) : NULL;
    if (!text)
        return NULL;
    mime_own_collect c = { g_ptr_array_new() };
    if (part == body.plain.part)
        mime_plain_lines(text, len, mime_own_collect_line, &c);
    else
        mime_html_lines(text, len, mime_own_collect_line, &c);
    g_free(text);
    g_ptr_array_add(c.lines, NULL);
    return (char **)g_ptr_array_free(c.lines, FALSE);
}

/* ---- removal */

typedef struct {
    mime_line_fn match;
    void *arg;
    GArray *ranges;          /* pairs of size_t: start, end */
} mime_remove_scan;

static gboolean mime_remove_collect(const char *line, size_t start, size_t end, void *arg)
{
    mime_remove_scan *r = arg;
    if (r->match(line, r->arg)) {
        g_array_append_val(r->ranges, start);
        g_array_append_val(r->ranges, end);
    }
    return TRUE;
}

/* An html line removed with the <br> that ended it leaves no empty line behind. */
static size_t mime_html_past_br(const char *s, size_t len, size_t end)
{
    size_t i = end;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    if (i + 3 < len && s[i] == '<' && g_ascii_strncasecmp(s + i + 1, "br", 2) == 0 &&
        (s[i + 3] == '>' || s[i + 3] == '/' || s[i + 3] == ' ')) {
        const char *gt = memchr(s + i, '>', len - i);
        if (gt)
            return (size_t)(gt - s) + 1;
    }
    return end;
}

/* Remove the own lines that match from one body part; TRUE when the part changed. */
static gboolean mime_remove_from_part(GMimePart *part, gboolean html, mime_line_fn match,
                                      void *arg)
{
    const char *cs = NULL;
    size_t len = 0;
    char *text = mime_part_utf8(part, FALSE, &cs, &len);
    if (!text)
        return FALSE;
    mime_remove_scan r = { match, arg, g_array_new(FALSE, FALSE, sizeof(size_t)) };
    if (html)
        mime_html_lines(text, len, mime_remove_collect, &r);
    else
        mime_plain_lines(text, len, mime_remove_collect, &r);
    gboolean changed = r.ranges->len > 0;
    if (changed) {
        GString *out = g_string_sized_new(len);
        size_t at = 0;
        for (guint k = 0; k + 1 < r.ranges->len; k += 2) {
            size_t start = g_array_index(r.ranges, size_t, k);
            size_t end = g_array_index(r.ranges, size_t, k + 1);
            if (html)
                end = mime_html_past_br(text, len, end);
            g_string_append_len(out, text + at, (gssize)(start - at));
            at = end;
        }
        g_string_append_len(out, text + at, (gssize)(len - at));
        size_t back_len = 0;
        char *back = mime_convert_lossless(out->str, out->len, cs, "UTF-8", &back_len);
        if (back) {
            mime_set_content(part, back, back_len);
        } else {
            g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
            mime_set_content(part, out->str, out->len);
        }
        g_free(back);
        g_string_free(out, TRUE);
    }
    g_array_free(r.ranges, TRUE);
    g_free(text);
    return changed;
}

int mime_remove_lines(GMimeMessage *msg, mime_line_fn match, void *arg)
{
    if (!msg || !match || mime_safety_check(msg) != MIME_TOUCHABLE)
        return 0;
    mime_body body;
    mime_body_of(msg, &body);
    int changed = 0;
    if (body.plain.part && mime_remove_from_part(body.plain.part, FALSE, match, arg))
        changed++;
    if (body.html.part && mime_remove_from_part(body.html.part, TRUE, match, arg))
        changed++;
    return changed;
}
