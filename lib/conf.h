/*
 * conf — the one configuration file (libconfuse) shared by reglo-milter, reglo-gateway and
 * reglo, loaded into an immutable snapshot. A reload builds a new snapshot; the old one is
 * freed by whoever held it (conf_free). Every key is documented in conf/reglo.conf.example.
 */
#ifndef REGLO_CONF_H
#define REGLO_CONF_H

#include <glib.h>
#include "cidr.h"
#include "schedule.h"

typedef enum { ON_ERROR_ACCEPT = 0, ON_ERROR_TEMPFAIL } on_error_action;

typedef struct psp_conf {
    char *name;              /* "stripe", "mollie" */
    char *api_base;
    char *secret_key;        /* stripe */
    char *webhook_secret;    /* stripe */
    char *api_key;           /* mollie */
    char **payment_method_types; /* stripe, NULL-terminated; {"card"} by default */
} psp_conf;

typedef struct reglo_conf {
    char *path;

    char *db_conninfo;
    int db_connect_timeout;      /* seconds */
    int db_pool_size;

    char *milter_socket;
    int milter_socket_mode;      /* permissions of a unix socket, e.g. 0660 */
    cidr_list *trusted_networks;
    on_error_action on_error;
    gint64 max_message_size;     /* bytes; larger messages pass untouched */
    gint64 memory_threshold;     /* body bytes kept in memory before spooling to a file */
    char *spool_dir;
    gboolean quarantine_iban_mismatch;
    int milter_timeout;          /* seconds, the MTA's wait for us */
    int sender_cache_ttl;        /* seconds an enrolment answer is remembered; 0: never */

    char *gateway_listen;
    char *public_url;            /* no trailing slash */
    char *default_psp;
    int gateway_threads;         /* HTTP worker threads, one database connection each */
    int gateway_psp_threads;     /* threads for requests that wait on a PSP, the same */
    int gateway_connections;     /* client connections at once; the PSPs' routes hold half */

    char *smtp_url;
    char *notify_from;           /* From of the emails reglo writes to artisans */

    char *link_key_file;
    char *templates_dir;

    gboolean reminders_enabled;  /* reglo-gateway runs the reminder scheduler */
    schedule_window *reminders_window; /* business hours, in reminders_timezone */
    char *reminders_timezone;
    int reminders_interval;      /* seconds between scheduler passes */
    int reminders_workers;       /* reminders submitted at once by one gateway */
    int reminders_batch;         /* reminders one sender claims at a time */
    int reminders_max_late_days; /* a step later than this is skipped, not sent */

    GPtrArray *psps;             /* of psp_conf* */
} reglo_conf;

/* NULL on error with *err = "FILE:LINE: message" (g_malloc'ed). */
reglo_conf *conf_load(const char *path, char **err);
void conf_free(reglo_conf *conf);
const psp_conf *conf_psp(const reglo_conf *conf, const char *name);

/* Default path when -c is not given. */
#define REGLO_CONF_DEFAULT "/etc/reglo/reglo.conf"

#endif
