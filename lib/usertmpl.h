/*
 * usertmpl — the artisans' own email templates: which ones may be edited, the checks a
 * version must pass before it is stored or used, a sample invoice to preview it with, and
 * its storage (table `template`).
 *
 * Editable: block.txt and block.html (the payment block of the invoice email, also put into
 * each reminder), and per reminder step reminder.subject, reminder.txt, reminder.html.
 * Templates are mustache (tmpl.h) restricted so that an artisan's text cannot print invoice
 * data unescaped nor get around the checks: no {{{x}}} / {{&x}}, no partials, no delimiter
 * changes, known variable names only, and the payment link where one is needed.
 *
 * Ownership: kinds are static. Every char * and json_t * returned is the caller's (g_free,
 * json_decref); error strings (*err) are g_malloc'ed and never logged here. Nothing in the
 * inputs is retained.
 */
#ifndef REGLO_USERTMPL_H
#define REGLO_USERTMPL_H

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>

/* Longest template accepted, in bytes (the table's CHECK counts characters: stricter here). */
#define USERTMPL_MAX_BYTES 65536

typedef struct usertmpl_kind {
    const char *name;               /* "block.txt", "reminder.subject"... */
    gboolean html;                  /* variables are HTML-escaped */
    gboolean per_step;              /* may be stored for one reminder step */
    gboolean needs_link;            /* {{link}} must be printed, whatever the invoice */
    const char *const *variables;   /* NULL-terminated, in display order */
} usertmpl_kind;

/* The editable kinds, in display order; *n set to their number. */
const usertmpl_kind *usertmpl_kinds(size_t *n);
/* NULL when name is not editable. */
const usertmpl_kind *usertmpl_kind_find(const char *name);

/*
 * NULL when src is acceptable for kind; else "line N: reason" (fr: "ligne N : ...") in
 * locale ("en", anything else is French). Refused: empty, longer than USERTMPL_MAX_BYTES,
 * invalid UTF-8 or control characters, {{{x}}} and {{&x}}, partials, delimiter changes,
 * parse errors, variables not in kind->variables (also inside sections, also dotted), a
 * subject on more than one line, and for needs_link kinds no {{link}} or a {{link}} that
 * some invoices would not show (checked by rendering sample invoices: with and without the
 * optional dates and names, QR-only or not). A NULL kind is refused too.
 */
char *usertmpl_validate(const usertmpl_kind *kind, const char *src, const char *locale);

/*
 * A sample invoice for previews, with every variable of every kind: number F-2026-042,
 * amount and dates written for locale, link public_url + "/p/exemple", the given artisan
 * (NULL or "" leaves the name/address out), client client@example.fr, step. days_overdue is
 * step when step > 0 and absent otherwise, as in a real reminder. Caller json_decref's.
 */
json_t *usertmpl_sample(const char *locale, const char *artisan_name, const char *artisan_email,
                        const char *public_url, int step);

/* Render src with ctx as kind (not NULL) is rendered for real (html escaping; a subject is
 * stripped). NULL with *err ("line N: reason", English) when src does not render. */
char *usertmpl_render(const usertmpl_kind *kind, const char *src, json_t *ctx, char **err);

/*
 * Storage. has_step FALSE is the version for every step (SQL NULL); block kinds never have
 * a step, and locale is "fr" or "en": other calls fail with *err. Every call returns with
 * *err NULL unless it failed.
 */
/* The stored body of exactly that row (no fallback), NULL when none or on error. */
char *usertmpl_get(PGconn *db, gint64 artisan_id, const char *name, gboolean has_step, int step,
                   const char *locale, char **err);
/* Insert or replace. The body must pass usertmpl_validate (else FALSE, *err its message). */
gboolean usertmpl_save(PGconn *db, gint64 artisan_id, const char *name, gboolean has_step,
                       int step, const char *locale, const char *body, char **err);
/* Delete (back to the default); deleting a row that is not there is fine. */
gboolean usertmpl_reset(PGconn *db, gint64 artisan_id, const char *name, gboolean has_step,
                        int step, const char *locale, char **err);
/* The artisan's block.txt and block.html for locale (each NULL when none), in one query.
 * FALSE with *err on a database error (*text and *html then NULL). */
gboolean usertmpl_get_block(PGconn *db, gint64 artisan_id, const char *locale, char **text,
                            char **html, char **err);
/* What the artisan has stored: a list of {"name", "step" (integer or null), "locale",
 * "updated_at" (ISO 8601 UTC)}, by name, step, locale; NULL with *err. */
json_t *usertmpl_list(PGconn *db, gint64 artisan_id, char **err);

#endif
