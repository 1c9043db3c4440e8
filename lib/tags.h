/*
 * tags — the artisan's subject tags, removed before delivery:
 *   [sans lien] / [no link]          no link this time
 *   [lien] / [link]                  a link although the default is off
 *   [montant 1234,56] / [amount ..]  the amount due, overriding what was read
 *   [qr]                             "paiement immédiat": a large QR for the client on site
 * Matching ignores case, accents and spacing inside the brackets; unknown bracketed words
 * ([EXT], [SPAM]) are left alone. subject_tags owns clean_subject.
 */
#ifndef REGLO_TAGS_H
#define REGLO_TAGS_H

#include <glib.h>

typedef struct subject_tags {
    gboolean no_link;
    gboolean link;
    gboolean qr;
    gboolean has_amount;
    gint64 amount_minor;
    gboolean bad_amount;      /* an amount tag we could not read: we tell the artisan */
    gboolean found;           /* any tag was removed */
    char *clean_subject;      /* the subject without our tags */
} subject_tags;

void tags_parse(const char *subject, subject_tags *out);
void tags_clear(subject_tags *tags);

#endif
