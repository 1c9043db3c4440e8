/*
 * reminder_mail — one reminder email, written as the artisan: From the artisan, To the
 * invoice's recipients, Cc the artisan, a reply in the invoice's thread (In-Reply-To the
 * invoice, References the invoice and the reminders already sent), Subject "Re: ..." by
 * default, a deterministic Message-ID per (invoice, step), the signed "reminder" marker
 * header for reglo-milter, and a body from the artisan's templates (or the files
 * templates/<locale>/reminder.{subject,txt,html}) with the payment block of the invoice
 * email (the artisan's own or block.txt/block.html: the link, and the QR code inline beside
 * the html). The same message, with templates/<locale>/link.*, sends the payment link
 * again when the artisan asks for it from the portal (kind "link").
 *
 * Templates are mustache (tmpl.h); their variables: number, amount, currency, issue_date,
 * due_date, sent_date, days_overdue (only when overdue), step, link, qr_cid, artisan_name,
 * artisan_email, client_email, original_subject.
 *
 * Nothing in the inputs is retained. A reminder_mail owns its strings (reminder_mail_clear).
 * g_mime_init() must have been called by the program.
 */
#ifndef REGLO_REMINDER_MAIL_H
#define REGLO_REMINDER_MAIL_H

#include <glib.h>

#include "conf.h"
#include "tmpl.h"
#include "token.h"

typedef struct reminder_invoice {
    const char *kind;              /* NULL or "reminder"; "link": the payment link sent again
                                    * at the artisan's request (templates link.*) */
    gint64 invoice_id;
    int step;                      /* offset in days: 7, 15, 30, -3...; for "link", the how
                                    * many-th time the link is sent again (Message-ID) */
    const char *number;
    gint64 amount_due_minor;
    const char *currency;
    const char *issue_date;        /* "YYYY-MM-DD" or "" (also due_date, sent_date) */
    const char *due_date;
    const char *sent_date;
    int days_overdue;
    const char *client_email;      /* "" when unknown */
    const char *const *recipients; /* the invoice's recipients, NULL-terminated, or NULL */
    const char *subject;           /* the invoice email's subject, "" when none */
    const char *message_id;        /* the invoice email's, without <>; "" when unknown */
    const char *const *earlier;    /* Message-IDs of the reminders already sent, or NULL */
    const char *key_id;            /* link key of the invoice's token */
    const char *artisan_email;
    const char *artisan_name;
    const char *locale;            /* "fr", "en" */
} reminder_invoice;

/* The artisan's own templates; NULL (or one that usertmpl_validate refuses or that does not
 * render) means the file's. block_text/block_html are the payment block (block.txt/html). */
typedef struct reminder_templates {
    const char *subject;
    const char *text;
    const char *html;
    const char *block_text;
    const char *block_html;
} reminder_templates;

typedef struct reminder_mail {
    char *data;                    /* the message, LF line ends */
    size_t len;
    char *message_id;              /* without <> */
    char **to;                     /* To: addresses, NULL-terminated */
    char **envelope;               /* RCPT TO: the To addresses, then the artisan */
} reminder_mail;

/* Who a reminder goes To: the invoice's recipients but the artisan (who is in Cc), once
 * each, else the client's address; NULL-terminated, possibly empty (g_strfreev). */
char **reminder_mail_to(const reminder_invoice *inv);

/* "reminder-<invoice id>-<step>@<artisan's domain>" (a negative step as m3); NULL when the
 * artisan's address has no domain. */
char *reminder_message_id(gint64 invoice_id, int step, const char *artisan_email);

/* The templates' context for inv (json_decref): what the header comment lists. */
json_t *reminder_mail_context(const reminder_invoice *inv, const char *link, const char *cid);

/* What writing a reminder takes, borrowed: public_url from conf, the link key, and the
 * templates directory's files parsed once (tmpl_set_new(conf->templates_dir)). */
typedef struct reminder_writer {
    const reglo_conf *conf;
    const keyring *keys;
    tmpl_set *files;
} reminder_writer;

/* FALSE with *err (g_malloc'ed) when the reminder cannot be written: no recipient, link
 * key gone, a file template missing or broken, an unusable address. */
gboolean reminder_mail_build(const reminder_writer *w, const reminder_invoice *inv,
                             const reminder_templates *own, reminder_mail *out, char **err);
void reminder_mail_clear(reminder_mail *m);

#endif
