/*
 * dsn — read a bounce: an RFC 3464 delivery status notification (multipart/report with a
 * message/delivery-status part), or an older MAILER-DAEMON message with the original
 * message or its headers attached. Finds the recipients that failed and the Message-ID of
 * the message that bounced.
 *
 * Works on a GMimeMessage owned by the caller and never changes it. A dsn_report owns its
 * arrays and strings: dsn_report_clear() releases them. Bounded work: at most
 * DSN_MAX_RECIPIENTS addresses and DSN_MAX_IDS Message-IDs are kept.
 */
#ifndef REGLO_DSN_H
#define REGLO_DSN_H

#include <glib.h>
#include <gmime/gmime.h>

#define DSN_MAX_RECIPIENTS 50
#define DSN_MAX_IDS 20

typedef struct dsn_report {
    gboolean report;          /* multipart/report; report-type=delivery-status */
    gboolean failed;          /* a recipient failed (Action: failed, or a 5.x.x Status; an
                               * old-style MAILER-DAEMON bounce counts as failed) */
    gboolean delayed_only;    /* a report whose recipients were only delayed/delivered */
    GPtrArray *recipients;    /* char*: failed addresses, lower-case, without <> */
    GPtrArray *message_ids;   /* char*: Message-IDs of the bounced message, without <>,
                               * best first: the attached message's own, then the bounce's
                               * In-Reply-To and References (some MTAs thread their DSNs) */
} dsn_report;

void dsn_report_init(dsn_report *r);
void dsn_report_clear(dsn_report *r);

/*
 * TRUE when msg is a bounce that says delivery failed (r->failed), with r filled in; FALSE
 * otherwise (r may still hold what was found). r must have been initialised.
 */
gboolean dsn_parse(GMimeMessage *msg, dsn_report *r);

/* Read the fields of a message/delivery-status body (per-message group, then one group per
 * recipient) into r: failed recipients, failed/delayed_only. Any bytes are accepted. */
void dsn_parse_status(const char *text, size_t len, dsn_report *r);

/*
 * From the top-level headers alone: can this message be a bounce? content_type is the
 * Content-Type value (may be NULL), from the From value (may be NULL). Cheap: the milter
 * asks it at end of headers to decide whether to read the body.
 */
gboolean dsn_maybe_bounce(const char *content_type, const char *from);

#endif
