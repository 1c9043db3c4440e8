/*
 * policy — who gets processed: trust (SASL-authenticated, local submission, or a client in
 * trusted_networks) and the sender (an enrolled, enabled artisan with payment on).
 * Decided at MAIL FROM so that all other mail is accepted at once.
 */
#ifndef REGLO_POLICY_H
#define REGLO_POLICY_H

#include <sys/socket.h>

#include "artisan.h"
#include "conf.h"
#include "db.h"

typedef enum {
    POLICY_PROCESS,           /* *sender is set: an artisan's message to read */
    POLICY_SKIP,              /* not ours: accept untouched */
    POLICY_ERROR,             /* database trouble: apply on_error */
} policy_verdict;

/*
 * client: the SMTP client address, NULL for local submission (sendmail/pickup).
 * auth_authen: the {auth_authen} macro, NULL when not authenticated.
 * *address receives the sender's address as policy_address() gives it, whatever the verdict
 * (the caller frees it); why, a short static word for the log.
 */
policy_verdict policy_decide(const reglo_conf *conf, db_pool *pool, const struct sockaddr *client,
                             const char *auth_authen, const char *mail_from, artisan **sender,
                             char **address, const char **why, char **err);

/* "<Jean@Example.fr>" or "Jean@Example.fr" -> "jean@example.fr"; NULL for the null sender. */
char *policy_address(const char *arg);

#endif
