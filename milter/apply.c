/*
 * apply — header diff and body replacement for libmilter; see apply.h.
 *
 * The new headers are read back from gmime's own serialisation of the message, so what the
 * MTA delivers is what `reglo rewrite` prints.
 */
#include "apply.h"

#include <string.h>

/* Below MILTER_CHUNK_SIZE (65535): some milter peers (miltertest) overflow on full chunks. */
#define BODY_CHUNK 32768

static void header_field_free(gpointer p)
{
    header_field *h = p;
    g_free(h->name);
    g_free(h->value);
    g_free(h);
}

GPtrArray *header_list_new(void)
{
    return g_ptr_array_new_with_free_func(header_field_free);
}

/* Folding is presentation: "a\r\n\tb" and "a b" are the same header to us. */
static char *unfold(const char *value, size_t len)
{
    GString *out = g_string_sized_new(len);
    for (size_t i = 0; i < len; i++)
        if (value[i] != '\r' && value[i] != '\n')
            g_string_append_c(out, value[i]);
    return g_strstrip(g_string_free(out, FALSE));
}

void header_list_add(GPtrArray *list, const char *name, const char *value)
{
    header_field *h = g_new0(header_field, 1);
    h->name = g_strdup(name);
    h->value = unfold(value, strlen(value));
    g_ptr_array_add(list, h);
}

/* Parse the header block of a serialised message; *body receives where the body starts. */
static GPtrArray *parse_header_block(const char *text, size_t len, size_t *body)
{
    GPtrArray *list = header_list_new();
    size_t pos = 0;
    *body = len;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t line_end = nl ? (size_t) (nl - text) + 1 : len;
        if (line[0] == '\n' || (line[0] == '\r' && pos + 1 < len && line[1] == '\n')) {
            *body = line_end;
            break;
        }
        /* A field runs on while the next line starts with white space. */
        size_t field_end = line_end;
        while (field_end < len && (text[field_end] == ' ' || text[field_end] == '\t')) {
            const char *next = memchr(text + field_end, '\n', len - field_end);
            field_end = next ? (size_t) (next - text) + 1 : len;
        }
        const char *colon = memchr(line, ':', field_end - pos);
        if (colon) {
            char *name = g_strndup(line, (size_t) (colon - line));
            char *value = unfold(colon + 1, field_end - (size_t) (colon + 1 - text));
            header_field *h = g_new0(header_field, 1);
            h->name = g_strstrip(name);
            h->value = value;
            g_ptr_array_add(list, h);
        }
        pos = field_end;
    }
    return list;
}

/* The values of one header name, in order. */
static GPtrArray *values_of(const GPtrArray *list, const char *name)
{
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < list->len; i++) {
        const header_field *h = g_ptr_array_index(list, i);
        if (g_ascii_strcasecmp(h->name, name) == 0)
            g_ptr_array_add(out, h->value);
    }
    return out;
}

static gboolean apply_one_name(SMFICTX *ctx, const GPtrArray *before, const GPtrArray *after,
                               const char *name)
{
    GPtrArray *old = values_of(before, name), *new = values_of(after, name);
    gboolean ok = TRUE;
    /* Deletions from the last occurrence down, so indexes stay valid. */
    for (guint i = old->len; ok && i > new->len; i--)
        ok = smfi_chgheader(ctx, (char *) name, (int) i, NULL) == MI_SUCCESS;
    for (guint i = 0; ok && i < old->len && i < new->len; i++)
        if (strcmp(g_ptr_array_index(old, i), g_ptr_array_index(new, i)) != 0)
            ok = smfi_chgheader(ctx, (char *) name, (int) i + 1,
                                g_ptr_array_index(new, i)) == MI_SUCCESS;
    for (guint i = old->len; ok && i < new->len; i++)
        ok = smfi_addheader(ctx, (char *) name, g_ptr_array_index(new, i)) == MI_SUCCESS;
    g_ptr_array_free(old, TRUE);
    g_ptr_array_free(new, TRUE);
    return ok;
}

static gboolean apply_headers(SMFICTX *ctx, const GPtrArray *before, const GPtrArray *after)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean ok = TRUE;
    const GPtrArray *lists[] = { before, after };
    for (int l = 0; l < 2 && ok; l++)
        for (guint i = 0; i < lists[l]->len && ok; i++) {
            const header_field *h = g_ptr_array_index(lists[l], i);
            char *key = g_ascii_strdown(h->name, -1);
            if (g_hash_table_add(seen, key))
                ok = apply_one_name(ctx, before, after, h->name);
        }
    g_hash_table_destroy(seen);
    return ok;
}

/* A write-only GMimeStream that hands what gmime writes to smfi_replacebody in chunks:
 * the rewritten body goes to the MTA without ever being whole in memory. */
typedef struct {
    GMimeStream parent;
    SMFICTX *ctx;
    char buf[BODY_CHUNK];
    size_t used;
    gboolean failed;
} body_stream;

typedef struct {
    GMimeStreamClass parent_class;
} body_streamClass;

G_DEFINE_TYPE(body_stream, body_stream, GMIME_TYPE_STREAM)

static int body_stream_flush(GMimeStream *stream)
{
    body_stream *bs = (body_stream *) stream;
    if (bs->used > 0 && !bs->failed &&
        smfi_replacebody(bs->ctx, (unsigned char *) bs->buf, (int) bs->used) != MI_SUCCESS)
        bs->failed = TRUE;
    bs->used = 0;
    return bs->failed ? -1 : 0;
}

static ssize_t body_stream_write(GMimeStream *stream, const char *data, size_t len)
{
    body_stream *bs = (body_stream *) stream;
    size_t done = 0;
    while (done < len) {
        size_t n = MIN(len - done, sizeof bs->buf - bs->used);
        memcpy(bs->buf + bs->used, data + done, n);
        bs->used += n;
        done += n;
        if (bs->used == sizeof bs->buf && body_stream_flush(stream) < 0)
            return -1;
    }
    stream->position += (gint64) len;
    return (ssize_t) len;
}

static ssize_t body_stream_read(GMimeStream *stream, char *buf, size_t len)
{
    (void) stream;
    (void) buf;
    (void) len;
    return -1;
}

static int body_stream_close(GMimeStream *stream)
{
    return body_stream_flush(stream);
}

static gboolean body_stream_eos(GMimeStream *stream)
{
    (void) stream;
    return TRUE;
}

static void body_stream_class_init(body_streamClass *klass)
{
    GMimeStreamClass *sc = GMIME_STREAM_CLASS(klass);
    sc->read = body_stream_read;
    sc->write = body_stream_write;
    sc->flush = body_stream_flush;
    sc->close = body_stream_close;
    sc->eos = body_stream_eos;
}

static void body_stream_init(body_stream *bs)
{
    (void) bs;
}

static gboolean apply_body(SMFICTX *ctx, GMimeMessage *msg, GMimeFormatOptions *opts)
{
    body_stream *bs = g_object_new(body_stream_get_type(), NULL);
    g_mime_stream_construct(GMIME_STREAM(bs), 0, -1);
    bs->ctx = ctx;
    gboolean ok = g_mime_object_write_content_to_stream(GMIME_OBJECT(msg), opts,
                                                        GMIME_STREAM(bs)) >= 0 &&
                  body_stream_flush(GMIME_STREAM(bs)) == 0;
    g_object_unref(bs);
    return ok;
}

/* The header block and the body are serialised apart (together they are what
 * g_mime_object_write_to_stream writes), so only the headers are ever held whole. */
gboolean apply_changes(SMFICTX *ctx, const GPtrArray *before, GMimeMessage *msg,
                       gboolean body_changed, char **err)
{
    GMimeFormatOptions *opts = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
    char *headers = g_mime_object_get_headers(GMIME_OBJECT(msg), opts);
    size_t body_at;
    GPtrArray *after = parse_header_block(headers, strlen(headers), &body_at);
    gboolean ok = apply_headers(ctx, before, after);
    if (ok && body_changed)
        ok = apply_body(ctx, msg, opts);
    if (!ok)
        *err = g_strdup("the MTA refused a header or body change");
    g_ptr_array_unref(after);
    g_free(headers);
    g_mime_format_options_free(opts);
    return ok;
}
