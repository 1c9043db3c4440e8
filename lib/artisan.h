/*
 * artisan — the enrolled sender: lookup by address, enrolment and settings.
 * An artisan owns its strings; artisan_free() releases them.
 */
#ifndef REGLO_ARTISAN_H
#define REGLO_ARTISAN_H

#include <glib.h>
#include <libpq-fe.h>

typedef struct artisan {
    gint64 id;
    char *email;
    char *name;
    char *iban;               /* NULL when none */
    char *bic;
    char *locale;             /* "fr" or "en" */
    gboolean payment_enabled;
    gboolean link_default;    /* link in every invoice, or only with [lien] */
    char *reminders;          /* "7,15,30", "" for none */
    char *reminders_from;     /* "sent" or "due" */
    gboolean pause_on_client_reply;
    char *psp;                /* "" for the configured default */
    gboolean disabled;
} artisan;

typedef enum { ARTISAN_FOUND, ARTISAN_UNKNOWN, ARTISAN_DB_ERROR } artisan_lookup_result;

artisan_lookup_result artisan_lookup(PGconn *db, const char *email, artisan **out, char **err);
/* ARTISAN_FOUND when an artisan (enabled or not) has an address in this domain. */
artisan_lookup_result artisan_domain_lookup(PGconn *db, const char *domain, char **err);
/* Insert (id 0) or update (id set). */
gboolean artisan_save(PGconn *db, artisan *a, char **err);
/* All artisans (GPtrArray of artisan*, free with g_ptr_array_unref), NULL on error. */
GPtrArray *artisan_list(PGconn *db, char **err);
artisan *artisan_new_defaults(const char *email, const char *name);
artisan *artisan_dup(const artisan *a);
void artisan_free(artisan *a);
/* Reminder offsets list as typed by an operator ("7,15,30", "-3,7", ""); NULL when bad. */
char *artisan_parse_reminders(const char *text);

#endif
