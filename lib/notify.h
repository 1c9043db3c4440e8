/*
 * notify — short emails reglo writes to an artisan ("could not read", "IBAN differs"...):
 * rendered from templates/<locale>/<kind>.subject and <kind>.txt, composed with gmime and
 * queued in the outbox table, from which a sender process submits them by SMTP.
 */
#ifndef REGLO_NOTIFY_H
#define REGLO_NOTIFY_H

#include <jansson.h>
#include <libpq-fe.h>

#include "artisan.h"
#include "conf.h"
#include "tmpl.h"

/*
 * Queue one notification. ctx is the template context (borrowed). in_reply_to threads it
 * to the artisan's message (may be NULL). FALSE with *err on a template or database error.
 */
gboolean notify_artisan(PGconn *db, const reglo_conf *conf, const artisan *to, const char *kind,
                        json_t *ctx, const char *in_reply_to, gint64 invoice_id, char **err);

/* The same with the templates of a set (tmpl_set_new(conf->templates_dir)), parsed once
 * instead of read per notice; NULL: as notify_artisan. */
gboolean notify_artisan_with(tmpl_set *templates, PGconn *db, const reglo_conf *conf,
                             const artisan *to, const char *kind, json_t *ctx,
                             const char *in_reply_to, gint64 invoice_id, char **err);

/*
 * Only render and compose the notice (from conf->notify_from to to->email), for a caller
 * that queues it itself (outbox_text, in the statement that makes the change it tells of):
 * the message (g_free) and its length, or NULL with *err.
 */
char *notify_compose_with(tmpl_set *templates, const reglo_conf *conf, const artisan *to,
                          const char *kind, json_t *ctx, const char *in_reply_to, size_t *len,
                          char **err);

#endif
