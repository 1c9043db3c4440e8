/*
 * mail — compose a simple notification or reminder email with gmime: text (and optional html
 * as multipart/alternative), UTF-8, quoted-printable when needed, RFC 2047 headers, 7-bit clean.
 *
 * g_mime_init() must have been called once by the program (or the test) before use.
 * Nothing in mail_spec is retained; the returned message (LF line ends, NUL-terminated) and
 * Message-IDs are g_malloc'ed and owned by the caller. smtp_submit() converts to CRLF.
 * Message-IDs are always given and returned without <>.
 */
#ifndef REGLO_MAIL_H
#define REGLO_MAIL_H

#include <stddef.h>

#include <gmime/gmime.h>

typedef struct {
    const char *name;            /* field name: printable ASCII, no ':' */
    const char *value;           /* UTF-8, encoded as needed; no line breaks */
} mail_header;

typedef struct {
    const char *from;            /* bare address, required */
    const char *from_name;       /* UTF-8 display name, or NULL */
    const char *const *to;       /* NULL-terminated, at least one bare address */
    const char *const *cc;       /* NULL-terminated, or NULL */
    const char *subject;         /* UTF-8 */
    const char *text;            /* UTF-8 text/plain body, required */
    const char *html;            /* UTF-8 text/html body, or NULL */
    const char *in_reply_to;     /* Message-ID, or NULL */
    const char *const *references; /* NULL-terminated Message-IDs, or NULL */
    const mail_header *headers;  /* extra fields, ended by { NULL, NULL }, or NULL */
    const char *message_id;      /* NULL: mail_message_id_new(from) */
} mail_spec;

/*
 * The serialized message, or NULL when a field is unusable (bad address, bad Message-ID,
 * text that is not UTF-8, bad header name, too many recipients or references).
 */
char *mail_compose(const mail_spec *spec, size_t *len);

/* The same message before it is written out, for a caller that edits it further (the
 * reminder's payment block goes in without a write and a parse); NULL as above. The caller
 * g_object_unref()s it. */
GMimeMessage *mail_compose_message(const mail_spec *spec);

/* msg written out (LF line ends, NUL-terminated, g_malloc'ed); *len its length. */
char *mail_to_string(GMimeMessage *msg, size_t *len);

/* What mail_compose accepts: a bare address needing no quoting; a Message-ID (no <>). */
int mail_address_ok(const char *addr);
int mail_message_id_ok(const char *id);

/* "<32 random hex>@<domain of from>" (without <>); NULL if from has no domain. Call it first
 * when the Message-ID must be stored before the message is sent. */
char *mail_message_id_new(const char *from);

#endif
