/*
 * reminders — reglo-gateway's reminder scheduler (lib/reminder.c does the work): a few
 * threads, each with its own database connection (gw_db). Every reminders.interval seconds
 * the first one plans (rows for the steps that fell due, claims of dead senders put back)
 * and wakes the others; all of them then claim and send what is due, reminders.batch at a
 * time, until nothing is left. Each pass
 * reads the current snapshot: a SIGHUP may switch reminders.enabled, the window or the
 * SMTP URL; the number of threads (reminders.workers) is read at start only.
 *
 * Several gateways may run this on one database: the rows are claimed with SKIP LOCKED.
 */
#ifndef REGLO_GATEWAY_REMINDERS_H
#define REGLO_GATEWAY_REMINDERS_H

typedef struct reminders reminders;

reminders *reminders_start(void);
/* Stops the threads (a submission in flight finishes first), joins them, frees. */
void reminders_stop(reminders *r);

#endif
