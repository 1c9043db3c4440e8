/*
 * threads — the invoice threads reglo-milter tracks (DESIGN.md flow step 9). A message whose
 * In-Reply-To/References name a Message-ID of thread_message (an invoice, its reminders,
 * replies) is, depending on who sends it:
 *   - a client's reply (inbound, from one of the invoice's recipients): a timeline entry,
 *     and the reminders pause when the artisan wants it (pause_on_client_reply); the
 *     message is never changed;
 *   - the artisan's own reply: the commands on lines of their own (#payée/#paid, #stop,
 *     #reprendre/#resume) are applied and removed before the message leaves;
 *   - a bounce of the invoice or of a reminder: the invoice becomes undelivered, its
 *     pending reminders are cancelled and the artisan is told which address failed.
 * One indexed lookup per message that has thread headers; nothing for the others.
 *
 * thread_heads collects, header by header, the few fields these decisions need; it owns its
 * strings (thread_heads_free). Every function logs its own decision once, with the queue id.
 * Database functions return FALSE with *err on a database error (the connection may be
 * broken) and have then changed nothing.
 */
#ifndef REGLO_THREADS_H
#define REGLO_THREADS_H

#include <glib.h>
#include <gmime/gmime.h>
#include <libpq-fe.h>

#include "artisan.h"
#include "conf.h"
#include "token.h"

/* Message-IDs taken from a message's thread headers (In-Reply-To first, then References
 * from the most recent): older ones add nothing once these are unknown. */
#define THREADS_MAX_IDS 20

typedef struct thread_heads thread_heads;

thread_heads *thread_heads_new(void);
void thread_heads_free(thread_heads *h);
/* Keep the header if it is one threads needs (others are ignored at once). */
void thread_heads_add(thread_heads *h, const char *name, const char *value);
/* The Message-IDs of In-Reply-To and References, best first (owned by h; empty when none). */
const GPtrArray *thread_heads_ids(thread_heads *h);
/* Could this message be a bounce (a report, or from MAILER-DAEMON)? */
gboolean thread_heads_maybe_bounce(const thread_heads *h);

/*
 * Inbound mail (not an artisan's own) with thread headers, at end of headers: when it is a
 * client's reply in a tracked thread, record it and pause reminders as configured.
 * envelope_from: the MAIL FROM address (lower-case), may be NULL.
 */
gboolean threads_inbound(PGconn *db, thread_heads *h, const char *envelope_from,
                         const char *queue_id, char **err);

/*
 * A null-sender message, parsed (possibly truncated): when it is a bounce of a tracked
 * invoice or reminder, mark the invoice undelivered, cancel its reminders, tell the artisan.
 */
gboolean threads_bounce(PGconn *db, const reglo_conf *conf, GMimeMessage *msg,
                        const char *queue_id, char **err);

typedef enum {
    THREADS_NOT_REPLY,        /* not in a tracked thread of this artisan: rewrite as usual */
    THREADS_OURS,             /* carries our valid marker (a reminder...): rewrite as usual */
    THREADS_REPLY,            /* the artisan's reply in one of their invoice threads */
} threads_verdict;

typedef struct threads_result {
    threads_verdict verdict;
    gboolean body_changed;    /* command lines were removed */
    gboolean headers_changed; /* a forged marker was removed */
    gboolean may_be_invoice;  /* a reply that carries files or X-Invoice-* headers: the
                               * invoice rewrite still runs on it */
    char commands[64];        /* applied, for the log: "paid,stop" */
    char number[64];          /* the invoice's number, for the log */
} threads_result;

/*
 * The enrolled artisan's outgoing message, parsed: when it replies in a thread of one of
 * their invoices (and is not one of ours, such as a reminder), apply and remove its
 * commands. The message is edited in place.
 */
gboolean threads_artisan(PGconn *db, const keyring *keys, const artisan *sender,
                         GMimeMessage *msg, const char *queue_id, threads_result *res,
                         char **err);

/* The command a line holds ("paid", "stop", "resume"), or NULL: a line of its own, any case,
 * accents optional, white space around allowed. */
const char *threads_command(const char *line);

#endif
