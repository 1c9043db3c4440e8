/*
 * mail — compose one message with gmime; see mail.h.
 *
 * Everything is validated before gmime sees it: addresses and Message-IDs must be plain
 * printable ASCII without the characters that would let them escape their header, texts
 * must be UTF-8, and line breaks in one-line fields become spaces. gmime does the RFC 2047
 * encoding, the folding and the quoted-printable bodies. mail_compose's GMimeMessage lives
 * only inside it; mail_compose_message hands it to a caller that edits it further.
 */
#include "mail.h"

#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>
#include <openssl/rand.h>

#define MAIL_ADDR_MAX    254
#define MAIL_MSGID_MAX   250
#define MAIL_RCPTS_MAX   100
#define MAIL_REFS_MAX    50
#define MAIL_FIELD_MAX   2000   /* bytes of a one-line field (subject, name, extra value) */
#define MAIL_HNAME_MAX   76

/* ---- validation ---- */

/* Printable ASCII except space and the characters in `forbidden`, 1..max bytes. */
static gboolean mail_ascii_ok(const char *s, size_t max, const char *forbidden)
{
    if (!s)
        return FALSE;
    size_t len = strnlen(s, max + 1);
    if (len == 0 || len > max)
        return FALSE;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~' || strchr(forbidden, s[i]))
            return FALSE;
    return TRUE;
}

/* local@domain, one '@', nothing that needs quoting. */
static gboolean mail_addr_ok(const char *a)
{
    if (!mail_ascii_ok(a, MAIL_ADDR_MAX, "<>()[]\\,;:\""))
        return FALSE;
    const char *at = strchr(a, '@');
    return at && at != a && at[1] && !strchr(at + 1, '@');
}

static gboolean mail_msgid_ok(const char *id)
{
    return mail_ascii_ok(id, MAIL_MSGID_MAX, "<>()\\,;:\"");
}

static gboolean mail_addrs_ok(const char *const *list, int *count)
{
    for (; list && *list; list++)
        if (++*count > MAIL_RCPTS_MAX || !mail_addr_ok(*list))
            return FALSE;
    return TRUE;
}

/* Fields gmime builds itself: an extra header must not duplicate or contradict them. */
static gboolean mail_header_name_ok(const char *name)
{
    static const char *const reserved[] = {
        "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To",
        "References", "MIME-Version", "Sender", "Reply-To",
    };
    if (!mail_ascii_ok(name, MAIL_HNAME_MAX, ":") ||
        g_ascii_strncasecmp(name, "Content-", 8) == 0)
        return FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(reserved); i++)
        if (g_ascii_strcasecmp(name, reserved[i]) == 0)
            return FALSE;
    return TRUE;
}

/* A copy of a one-line UTF-8 field with control characters as spaces; NULL if unusable. */
static char *mail_field(const char *s)
{
    if (!s || strnlen(s, MAIL_FIELD_MAX + 1) > MAIL_FIELD_MAX || !g_utf8_validate(s, -1, NULL))
        return NULL;
    char *copy = g_strdup(s);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = ' ';
    return g_strstrip(copy);
}

static gboolean mail_spec_ok(const mail_spec *spec)
{
    int n = 0;
    if (!mail_addr_ok(spec->from) || !spec->to || !spec->to[0] ||
        !mail_addrs_ok(spec->to, &n) || !mail_addrs_ok(spec->cc, &n))
        return FALSE;
    if (!spec->text || !g_utf8_validate(spec->text, -1, NULL) ||
        (spec->html && !g_utf8_validate(spec->html, -1, NULL)))
        return FALSE;
    if ((spec->in_reply_to && !mail_msgid_ok(spec->in_reply_to)) ||
        (spec->message_id && !mail_msgid_ok(spec->message_id)))
        return FALSE;
    for (n = 0; spec->references && spec->references[n]; n++)
        if (n == MAIL_REFS_MAX || !mail_msgid_ok(spec->references[n]))
            return FALSE;
    for (const mail_header *h = spec->headers; h && h->name; h++)
        if (!mail_header_name_ok(h->name) || !h->value)
            return FALSE;
    return TRUE;
}

int mail_address_ok(const char *addr)
{
    return mail_addr_ok(addr);
}

int mail_message_id_ok(const char *id)
{
    return mail_msgid_ok(id);
}

/* ---- building ---- */

char *mail_message_id_new(const char *from)
{
    const char *at = from ? strrchr(from, '@') : NULL;
    if (!at || !mail_msgid_ok(at + 1))
        return NULL;
    guint8 rnd[16];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        g_error("mail: no randomness for a Message-ID");
    GString *id = g_string_new(NULL);
    for (size_t i = 0; i < sizeof rnd; i++)
        g_string_append_printf(id, "%02x", rnd[i]);
    g_string_append(id, at);
    return g_string_free(id, FALSE);
}

/* text/<subtype>; charset=utf-8, 7bit when it can be, quoted-printable otherwise. */
static GMimeObject *mail_text_part(const char *subtype, const char *text)
{
    GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeDataWrapper *content =
        g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(part), content);
    g_object_unref(content);
    g_object_unref(stream);
    g_mime_text_part_set_charset(part, "utf-8");
    GMimeContentEncoding best =
        g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT);
    /* gmime says DEFAULT when nothing forces an encoding, i.e. 7bit is fine. */
    gboolean plain = best == GMIME_CONTENT_ENCODING_DEFAULT || best == GMIME_CONTENT_ENCODING_7BIT;
    g_mime_part_set_content_encoding(GMIME_PART(part), plain
                                                       ? GMIME_CONTENT_ENCODING_7BIT
                                                       : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return GMIME_OBJECT(part);
}

static GMimeObject *mail_body(const mail_spec *spec)
{
    GMimeObject *text = mail_text_part("plain", spec->text);
    if (!spec->html)
        return text;
    GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
    GMimeObject *html = mail_text_part("html", spec->html);
    g_mime_multipart_add(alt, text);
    g_mime_multipart_add(alt, html);
    g_object_unref(text);
    g_object_unref(html);
    return GMIME_OBJECT(alt);
}

/* UTF-8 for encoded display names (gmime would otherwise pick a legacy charset if it fits). */
static void mail_add_mailbox(GMimeMessage *msg, GMimeAddressType type, const char *name,
                             const char *addr)
{
    InternetAddress *ia = internet_address_mailbox_new(name, addr);
    internet_address_set_charset(ia, "utf-8");
    internet_address_list_add(g_mime_message_get_addresses(msg, type), ia);
    g_object_unref(ia);
}

static void mail_add_addrs(GMimeMessage *msg, GMimeAddressType type, const char *const *list)
{
    for (; list && *list; list++)
        mail_add_mailbox(msg, type, NULL, *list);
}

/* "<a> <b> ..." for References. */
static char *mail_id_list(const char *const *ids)
{
    GString *s = g_string_new(NULL);
    for (; *ids; ids++)
        g_string_append_printf(s, "%s<%s>", s->len ? " " : "", *ids);
    return g_string_free(s, FALSE);
}

static void mail_set_field(GMimeMessage *msg, const char *name, const char *value)
{
    char *clean = mail_field(value);
    if (clean && *clean)
        g_mime_object_set_header(GMIME_OBJECT(msg), name, clean, "utf-8");
    g_free(clean);
}

/* The zone of Date: fields, read once: glib would look for the zone file again for every
 * message (a tenth of the cost of a composed notice). A process sees a zone change when it
 * restarts, as for its logs. */
static GTimeZone *mail_local_zone(void)
{
    static GTimeZone *zone;
    if (g_once_init_enter(&zone))
        g_once_init_leave(&zone, g_time_zone_new_local());
    return zone;
}

static void mail_set_headers(GMimeMessage *msg, const mail_spec *spec, const char *message_id)
{
    GMimeObject *obj = GMIME_OBJECT(msg);
    char *name = spec->from_name ? mail_field(spec->from_name) : NULL;
    mail_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, name && *name ? name : NULL, spec->from);
    g_free(name);
    mail_add_addrs(msg, GMIME_ADDRESS_TYPE_TO, spec->to);
    mail_add_addrs(msg, GMIME_ADDRESS_TYPE_CC, spec->cc);
    char *subject = mail_field(spec->subject ? spec->subject : "");
    g_mime_message_set_subject(msg, subject ? subject : "", "utf-8");
    g_free(subject);
    GDateTime *now = g_date_time_new_now(mail_local_zone());
    g_mime_message_set_date(msg, now);
    g_date_time_unref(now);
    g_mime_message_set_message_id(msg, message_id);
    if (spec->in_reply_to) {
        char *v = g_strdup_printf("<%s>", spec->in_reply_to);
        g_mime_object_set_header(obj, "In-Reply-To", v, NULL);
        g_free(v);
    }
    if (spec->references && spec->references[0]) {
        char *v = mail_id_list(spec->references);
        g_mime_object_set_header(obj, "References", v, NULL);
        g_free(v);
    }
    for (const mail_header *h = spec->headers; h && h->name; h++)
        mail_set_field(msg, h->name, h->value);
}

GMimeMessage *mail_compose_message(const mail_spec *spec)
{
    if (!spec || !mail_spec_ok(spec))
        return NULL;
    char *generated = spec->message_id ? NULL : mail_message_id_new(spec->from);
    /* Headers in the order they are set (From first): gmime's pre-made empty list of
     * "pretty" headers cost a tenth of a composed notice. */
    GMimeMessage *msg = g_mime_message_new(FALSE);
    mail_set_headers(msg, spec, spec->message_id ? spec->message_id : generated);
    GMimeObject *body = mail_body(spec);
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);
    g_free(generated);
    return msg;
}

char *mail_to_string(GMimeMessage *msg, size_t *len)
{
    char *out = g_mime_object_to_string(GMIME_OBJECT(msg), NULL);
    *len = strlen(out);
    return out;
}

char *mail_compose(const mail_spec *spec, size_t *len)
{
    GMimeMessage *msg = mail_compose_message(spec);
    if (!msg)
        return NULL;
    char *out = mail_to_string(msg, len);
    g_object_unref(msg);
    return out;
}
