/*
 * policy — who gets processed: trust (SASL-authenticated, local submission, or a client in
 * trusted_networks) and the sender (an enrolled, enabled artisan with payment on), decided
 * at MAIL FROM; for other mail, whether a recipient may be in an invoice's thread (decided
 * by DATA, so that the rest is accepted before its content is sent).
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

/*
 * Mail that is not an artisan's is read for thread tracking only when it may be a client's
 * reply or a bounce: it goes to an address in an enrolled artisan's domain. POLICY_PROCESS
 * for such a recipient (argument as RCPT TO gives it), POLICY_SKIP for any other (a
 * malformed one included), POLICY_ERROR when the database could not say.
 */
policy_verdict policy_recipient_watched(const reglo_conf *conf, db_pool *pool,
                                        const char *rcpt_arg, char **err);

/* "<Jean@Example.fr>" or "Jean@Example.fr" -> "jean@example.fr"; NULL for the null sender. */
char *policy_address(const char *arg);

#endif
