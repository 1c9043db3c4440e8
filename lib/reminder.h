/*
 * reminder — the reminder schedule in PostgreSQL (DESIGN.md flow step 9): rows for the
 * steps that fell due, each claimed by one sender (FOR UPDATE SKIP LOCKED, so several
 * gateways share one database), composed (reminder_mail.c), submitted by SMTP (smtp.c)
 * and recorded with its timeline entry; and what will go out next, for the operator.
 *
 * "now" is always a parameter (clock.h), never the database's now(). Business hours, due
 * times and lateness come from schedule.c with the configuration's window.
 *
 * Each (invoice, step) row is created once (UNIQUE) and sent at most once: a sender claims
 * a few due rows in one short statement (FOR UPDATE SKIP LOCKED, status 'sending', the
 * claim naming its database session), then checks, submits and records them one by one
 * (each one's record goes to the database with the next one's check: one statement per
 * reminder), no transaction open while it talks SMTP. If the sender dies in between, its
 * session ends and the next planning pass (any gateway) puts its claims back to 'pending';
 * a message the MTA had already accepted is then submitted a second time with the same
 * deterministic Message-ID, so the duplicate is visible (and dropped by mail clients that
 * de-duplicate). Returned lists and strings are the caller's.
 */
#ifndef REGLO_REMINDER_H
#define REGLO_REMINDER_H

#include <glib.h>
#include <libpq-fe.h>

#include "conf.h"
#include "reminder_mail.h"
#include "smtp.h"
#include "token.h"

/*
 * Put back the claims of senders that are gone, create the rows of the steps that fell
 * due by now (from each artisan's current schedule) and cancel pending ones that may no
 * longer go out. One gateway at a time: returns the number of rows created, 0 also when
 * another one is planning, -1 with *err.
 */
int reminder_plan(PGconn *db, const reglo_conf *conf, gint64 now, char **err);

/* A sender: how reminders are written, and a connection to the MTA kept from batch to
 * batch, so that one connection carries many reminders. All borrowed. */
typedef struct reminder_sender {
    reminder_writer writer;       /* conf, link keys, parsed template files */
    smtp_session *smtp;
    const gint *stop;             /* non-zero: stop after the reminder in hand; may be NULL */
} reminder_sender;

/*
 * Claim up to reminders.batch due reminders, then for each: skip it (too late), send it,
 * put it back for a retry (temporary SMTP failure) or record its failure (permanent:
 * timeline + notice to the artisan). Stops early when *stop becomes non-zero, releasing
 * the claims left. Returns how many were handled, 0 when nothing is due or now is
 * outside business hours, -1 on a database error (*err; the rest are left for later).
 */
int reminder_send(PGconn *db, const reminder_sender *s, gint64 now, char **err);

typedef enum {
    REMINDER_SCHEDULED,   /* a step of the schedule, not due yet */
    REMINDER_DUE,         /* due: goes out at the next business-hours instant */
    REMINDER_RETRY,       /* a temporary failure: tried again at send_at */
    REMINDER_TOO_LATE,    /* will be skipped and recorded, not sent */
    REMINDER_SENDING,     /* claimed by a sender, going out now */
} reminder_state;

typedef struct reminder_next {
    gint64 invoice_id;
    char *number;
    char *artisan;        /* the artisan's address */
    int step;
    gint64 due_at;        /* when the step fell (or falls) due */
    gint64 send_at;       /* when it goes out (or is skipped) */
    reminder_state state;
    int attempts;
    char *last_error;     /* "" when none */
} reminder_next;

/* Every reminder still to go out, soonest first (GPtrArray of reminder_next*, freeing its
 * elements), or NULL with *err. */
GPtrArray *reminder_upcoming(PGconn *db, const reglo_conf *conf, gint64 now, char **err);
const char *reminder_state_name(reminder_state state);

#endif
