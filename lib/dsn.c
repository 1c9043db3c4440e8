/*
 * dsn — bounce reading; see dsn.h.
 *
 * The report is read from the MIME tree only: the delivery-status part for the recipients,
 * the attached message (message/rfc822, message/global) or headers (text/rfc822-headers) for
 * the Message-ID. An old-style bounce without a report (qmail, some Exchange) is recognised
 * by its sender (MAILER-DAEMON, postmaster) and an attached original; its failed addresses
 * are the "<address>:" lines qmail writes, when there are some.
 */
#include "dsn.h"

#include <string.h>

#include "mime.h"

#define DSN_MAX_DEPTH 8

void dsn_report_init(dsn_report *r)
{
    memset(r, 0, sizeof *r);
    r->recipients = g_ptr_array_new_with_free_func(g_free);
    r->message_ids = g_ptr_array_new_with_free_func(g_free);
}

void dsn_report_clear(dsn_report *r)
{
    if (r->recipients)
        g_ptr_array_unref(r->recipients);
    if (r->message_ids)
        g_ptr_array_unref(r->message_ids);
    memset(r, 0, sizeof *r);
}

static gboolean dsn_has(const GPtrArray *list, const char *s)
{
    for (guint i = 0; i < list->len; i++)
        if (strcmp(g_ptr_array_index(list, i), s) == 0)
            return TRUE;
    return FALSE;
}

/* Keeps distinct values up to max; takes s. Invalid UTF-8 is dropped: it can match no stored
 * Message-ID or address, and PostgreSQL would refuse the lookup that carries it. */
static void dsn_add(GPtrArray *list, char *s, guint max)
{
    if (!s || !*s || list->len >= max || !g_utf8_validate(s, -1, NULL) || dsn_has(list, s))
        g_free(s);
    else
        g_ptr_array_add(list, s);
}

static void dsn_add_id(dsn_report *r, const char *id)
{
    if (!id)
        return;
    char *clean = g_strstrip(g_strdelimit(g_strdup(id), "<>", ' '));
    if (strlen(clean) > 250 || strpbrk(clean, " \t\r\n"))
        g_clear_pointer(&clean, g_free);
    dsn_add(r->message_ids, clean, DSN_MAX_IDS);
}

/* Every Message-ID of a header value such as References, in order. */
static void dsn_add_ids_of(dsn_report *r, const char *value)
{
    if (!value)
        return;
    GMimeReferences *refs = g_mime_references_parse(NULL, value);
    if (!refs)
        return;
    int n = g_mime_references_length(refs);
    for (int i = 0; i < n; i++)
        dsn_add_id(r, g_mime_references_get_message_id(refs, i));
    g_mime_references_free(refs);
}

/* ------------------------------------------------------------------ delivery-status */

/* "rfc822; <Jean@Example.fr>" -> "jean@example.fr"; NULL when no address. */
static char *dsn_address(const char *value)
{
    const char *semi = strchr(value, ';');
    const char *a = semi ? semi + 1 : value;
    char *addr = g_strstrip(g_strdelimit(g_strdup(a), "<>\"", ' '));
    if (!*addr || strlen(addr) > 320 || !strchr(addr, '@') || strpbrk(addr, " \t")) {
        g_free(addr);
        return NULL;
    }
    char *lower = g_ascii_strdown(addr, -1);
    g_free(addr);
    return lower;
}

typedef struct dsn_group {
    char *action;
    char *status;
    char *final;
    char *original;
    gboolean any;
} dsn_group;

static void dsn_group_reset(dsn_group *g)
{
    g_free(g->action);
    g_free(g->status);
    g_free(g->final);
    g_free(g->original);
    memset(g, 0, sizeof *g);
}

static void dsn_group_set(dsn_group *g, const char *name, const char *value)
{
    char **slot = g_ascii_strcasecmp(name, "Action") == 0 ? &g->action
                  : g_ascii_strcasecmp(name, "Status") == 0 ? &g->status
                  : g_ascii_strcasecmp(name, "Final-Recipient") == 0 ? &g->final
                  : g_ascii_strcasecmp(name, "Original-Recipient") == 0 ? &g->original
                                                                       : NULL;
    g->any = TRUE;
    if (slot && !*slot)
        *slot = g_strstrip(g_strdup(value));
}

/* One recipient group is complete: was it a failure, and for which address? The address the
 * sender wrote (Original-Recipient) is the one they know, when the MTA kept it. */
static void dsn_group_done(dsn_group *g, dsn_report *r, gboolean *seen_other)
{
    if (g->final || g->original) {
        gboolean failed = g->action ? g_ascii_strncasecmp(g->action, "failed", 6) == 0
                                    : (g->status && g->status[0] == '5');
        if (failed) {
            r->failed = TRUE;
            dsn_add(r->recipients, dsn_address(g->original ? g->original : g->final),
                    DSN_MAX_RECIPIENTS);
            if (r->recipients->len == 0 && g->original && g->final)
                dsn_add(r->recipients, dsn_address(g->final), DSN_MAX_RECIPIENTS);
        } else {
            *seen_other = TRUE;
        }
    }
    dsn_group_reset(g);
}

/* Fields are "Name: value", folded lines continue a field; blank lines end a group. */
void dsn_parse_status(const char *text, size_t len, dsn_report *r)
{
    dsn_group g = { 0 };
    gboolean seen_other = FALSE;
    GString *field = g_string_new(NULL);
    size_t pos = 0;
    while (pos <= len) {
        const char *line = text + pos;
        const char *nl = pos < len ? memchr(line, '\n', len - pos) : NULL;
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        while (n > 0 && line[n - 1] == '\r')
            n--;
        size_t indent = 0;
        while (indent < n && (line[indent] == ' ' || line[indent] == '\t'))
            indent++;
        gboolean blank = indent == n;
        if (!blank && indent > 0 && field->len) {
            g_string_append_c(field, ' ');
            g_string_append_len(field, line, (gssize)n);
            continue;
        }
        if (field->len) {
            char *colon = strchr(field->str, ':');
            if (colon) {
                *colon = '\0';
                dsn_group_set(&g, g_strstrip(field->str), colon + 1);
            }
            g_string_truncate(field, 0);
        }
        if (blank)
            dsn_group_done(&g, r, &seen_other);
        else if (n < 4096)
            g_string_append_len(field, line, (gssize)n);
    }
    dsn_group_done(&g, r, &seen_other);
    g_string_free(field, TRUE);
    /* Over every status part read so far: a failure in any of them ends "delayed only". */
    r->delayed_only = !r->failed && (r->delayed_only || seen_other);
}

/* ------------------------------------------------------------------ the MIME tree */

typedef struct dsn_walk {
    dsn_report *r;
    gboolean has_status;      /* a delivery-status part was read */
    gboolean has_original;    /* an attached message or headers */
    GString *text;            /* first text/plain of an old-style bounce, for qmail lines */
} dsn_walk;

static gboolean dsn_is(GMimeObject *obj, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

/* The Message-ID of attached headers (text/rfc822-headers): parsed as a message head. */
static void dsn_headers_part(GMimeObject *part, dsn_report *r)
{
    size_t len;
    guint8 *data = GMIME_IS_PART(part) ? mime_part_bytes(GMIME_PART(part), &len) : NULL;
    if (!data)
        return;
    GString *head = g_string_new_len((const char *)data, (gssize)len);
    g_string_append(head, "\n\n");
    GMimeMessage *msg = mime_parse_bytes(head->str, head->len);
    if (msg) {
        dsn_add_id(r, g_mime_message_get_message_id(msg));
        g_object_unref(msg);
    }
    g_string_free(head, TRUE);
    g_free(data);
}

static void dsn_status_part(GMimeObject *part, dsn_report *r)
{
    size_t len;
    guint8 *data = GMIME_IS_PART(part) ? mime_part_bytes(GMIME_PART(part), &len) : NULL;
    if (!data && GMIME_IS_MESSAGE_PART(part)) {
        /* should gmime ever parse it as a message: its "headers" are the fields */
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
        GMimeStream *mem = g_mime_stream_mem_new();
        if (inner && g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem) >= 0) {
            GByteArray *b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
            dsn_parse_status((const char *)b->data, b->len, r);
        }
        g_object_unref(mem);
        return;
    }
    if (data)
        dsn_parse_status((const char *)data, len, r);
    g_free(data);
}

static void dsn_leaf(GMimeObject *parent, GMimeObject *part, void *arg)
{
    (void)parent;
    dsn_walk *w = arg;
    if (dsn_is(part, "message", "delivery-status") ||
        dsn_is(part, "message", "global-delivery-status")) {
        w->has_status = TRUE;
        dsn_status_part(part, w->r);
    } else if (GMIME_IS_MESSAGE_PART(part)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
        if (inner) {
            w->has_original = TRUE;
            dsn_add_id(w->r, g_mime_message_get_message_id(inner));
        }
    } else if (dsn_is(part, "text", "rfc822-headers") || dsn_is(part, "text", "global-headers")) {
        w->has_original = TRUE;
        dsn_headers_part(part, w->r);
    } else if (!w->text && dsn_is(part, "text", "plain") && GMIME_IS_PART(part)) {
        size_t len;
        guint8 *data = mime_part_bytes(GMIME_PART(part), &len);
        if (data)
            w->text = g_string_new_len((const char *)data, (gssize)MIN(len, (size_t)65536));
        g_free(data);
    }
}

static gboolean dsn_line_starts(const char *line, size_t n, const char *prefix)
{
    size_t m = strlen(prefix);
    return n >= m && g_ascii_strncasecmp(line, prefix, m) == 0;
}

/*
 * An old-style bounce quotes the original in its text: its Message-ID line, and qmail's
 * "<address>:" lines name the failed recipients.
 */
static void dsn_scan_text(const GString *text, dsn_walk *w)
{
    size_t pos = 0;
    while (pos < text->len) {
        const char *line = text->str + pos;
        const char *nl = memchr(line, '\n', text->len - pos);
        size_t n = nl ? (size_t)(nl - line) : text->len - pos;
        pos += n + 1;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
            n--;
        if (dsn_line_starts(line, n, "Message-ID:") && n < 300) {
            char *v = g_strndup(line + 11, n - 11);
            dsn_add_ids_of(w->r, v);
            w->has_original = TRUE;
            g_free(v);
        } else if (n > 3 && n < 330 && line[0] == '<' && line[n - 1] == ':' && line[n - 2] == '>') {
            char *v = g_strndup(line + 1, n - 3);
            dsn_add(w->r->recipients, dsn_address(v), DSN_MAX_RECIPIENTS);
            g_free(v);
        }
    }
}

/* "MAILER-DAEMON@host", "Mail Delivery System <mailer-daemon@...>", "postmaster@..." */
static gboolean dsn_from_daemon(const char *from)
{
    if (!from)
        return FALSE;
    char *lower = g_ascii_strdown(from, -1);
    gboolean daemon = strstr(lower, "mailer-daemon") || strstr(lower, "postmaster@") ||
                      strstr(lower, "<postmaster");
    g_free(lower);
    return daemon;
}

gboolean dsn_maybe_bounce(const char *content_type, const char *from)
{
    if (content_type) {
        char *lower = g_ascii_strdown(content_type, -1);
        gboolean report = strstr(lower, "multipart/report") != NULL;
        g_free(lower);
        if (report)
            return TRUE;
    }
    return dsn_from_daemon(from);
}

static gboolean dsn_is_report(GMimeObject *top)
{
    if (!top || !dsn_is(top, "multipart", "report"))
        return FALSE;
    const char *type = g_mime_object_get_content_type_parameter(top, "report-type");
    return !type || g_ascii_strcasecmp(type, "delivery-status") == 0;
}

gboolean dsn_parse(GMimeMessage *msg, dsn_report *r)
{
    if (!msg)
        return FALSE;
    GMimeObject *top = g_mime_message_get_mime_part(msg);
    r->report = dsn_is_report(top);
    const char *from = g_mime_object_get_header(GMIME_OBJECT(msg), "From");
    if (!r->report && !dsn_from_daemon(from))
        return FALSE;
    dsn_walk w = { r, FALSE, FALSE, NULL };
    mime_foreach_leaf(msg, dsn_leaf, &w);
    if (!w.has_status && w.text)
        dsn_scan_text(w.text, &w);
    if (w.text)
        g_string_free(w.text, TRUE);
    dsn_add_ids_of(r, g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"));
    dsn_add_ids_of(r, g_mime_object_get_header(GMIME_OBJECT(msg), "References"));
    /* Without a delivery-status part, a daemon's message quoting the original is a bounce. */
    if (!w.has_status && w.has_original)
        r->failed = TRUE;
    return r->failed && r->message_ids->len > 0;
}
