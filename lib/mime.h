/*
 * mime — what the rewrite needs from a MIME tree (gmime): is the message safe to touch,
 * where are the body parts, and the injection of the payment block and its QR image.
 *
 * Works on a GMimeMessage owned by the caller; objects it creates are owned by the tree.
 * Invariant: every original leaf part other than the body text parts it edits keeps its
 * exact content and transfer encoding, so it decodes to the same bytes as before.
 */
#ifndef REGLO_MIME_H
#define REGLO_MIME_H

#include <glib.h>
#include <gmime/gmime.h>

typedef enum {
    MIME_TOUCHABLE = 0,
    MIME_SIGNED,        /* multipart/signed, application/pkcs7-mime signed-data */
    MIME_ENCRYPTED,     /* multipart/encrypted, application/pkcs7-mime enveloped */
    MIME_PGP_INLINE,    /* -----BEGIN PGP ... in a body text part */
    MIME_TNEF,          /* application/ms-tnef, winmail.dat */
    MIME_UNPARSABLE,    /* no usable structure (e.g. multipart with no parts) */
} mime_safety;

/*
 * Parse a message from a stream (kept referenced by the message's parts when persist is
 * TRUE, so large contents stay in the stream instead of memory) or from bytes (copied).
 * NULL when gmime finds no message.
 */
GMimeMessage *mime_parse_stream(GMimeStream *stream, gboolean persist);
GMimeMessage *mime_parse_bytes(const char *data, size_t len);

mime_safety mime_safety_check(GMimeMessage *msg);
const char *mime_safety_name(mime_safety s);

typedef struct mime_block {
    const char *text;        /* UTF-8 plain-text block, lines end with "\n" */
    const char *html;        /* UTF-8 HTML fragment (a table), references cid:<qr_cid> */
    const guint8 *qr_png;    /* QR image bytes */
    size_t qr_png_len;
    const char *qr_cid;      /* Content-ID without <> */
    const char *qr_filename; /* e.g. "paiement-qr.png" */
} mime_block;

/*
 * Insert the block at the top of the first body text/plain and the first body text/html
 * (the ones a mail client displays; never inside attachments, message/rfc822, calendar
 * parts). The html gets the QR as a multipart/related sibling (cid:), the plain-text-only
 * message gets the QR as an inline image part. Keeps charsets (converting the block to
 * the part's charset, or the part to UTF-8 only when that is lossless; in HTML, characters
 * the charset lacks become &#N; references) and re-encodes 8-bit text as quoted-printable
 * (base64 stays base64); format=flowed is respected. Does nothing unless
 * mime_safety_check() says MIME_TOUCHABLE.
 * Returns the number of text parts changed (0: nothing suitable, message untouched).
 */
int mime_inject_block(GMimeMessage *msg, const mime_block *block);

/* Every leaf part in tree order (body text parts included, inside related/alternative
 * too); a message/rfc822 part is reported as one leaf, never entered. parent is the
 * enclosing multipart, or the message itself for the top-level part. */
typedef void (*mime_leaf_fn)(GMimeObject *parent, GMimeObject *part, void *arg);
void mime_foreach_leaf(GMimeMessage *msg, mime_leaf_fn fn, void *arg);

/* Decoded content of a leaf part (g_malloc'ed, *len set, NUL-terminated beyond *len);
 * NULL when none or larger than 32 MB. */
guint8 *mime_part_bytes(GMimePart *part, size_t *len);

/* First body text part of the given subtype ("plain" or "html") decoded to UTF-8, or NULL. */
char *mime_body_text(GMimeMessage *msg, const char *subtype);

/*
 * The author's own text of a reply: the lines of the first body text/plain part (of the
 * text/html part when there is none, one line per block or <br>, tags dropped, entities
 * decoded), in UTF-8 without line ends. Quoted text is left out: "> " lines, attributions
 * such as "Le ... a écrit :" and <blockquote>s are skipped (a bottom-posted reply is read
 * too), and the own text ends where an original follows unquoted (a "-----Original
 * Message-----" or Outlook separator, an Outlook or Yahoo quote container). NULL-terminated,
 * g_strfreev(); NULL when there is no body text.
 */
char **mime_own_lines(GMimeMessage *msg);

/* TRUE when the line (UTF-8, no line end) is one to remove. */
typedef gboolean (*mime_line_fn)(const char *line, void *arg);

/*
 * Remove every own-text line (as mime_own_lines sees them) that match accepts, from the
 * first body text/plain and the first body text/html parts; in html, the text of the line
 * goes (with the <br> that ended it), the elements stay. Charsets are kept (the part is
 * relabelled UTF-8 only if converting back fails), the part is re-encoded as 7bit, QP or
 * base64 like an injected block. Does nothing unless mime_safety_check() says
 * MIME_TOUCHABLE. Returns the number of parts changed.
 */
int mime_remove_lines(GMimeMessage *msg, mime_line_fn match, void *arg);

#endif
