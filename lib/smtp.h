/*
 * smtp — submit one message by SMTP with libcurl ("smtp://host:port", "smtps://...").
 *
 * libcurl must be initialised once per process by the program's main(), before any thread
 * starts: curl_global_init(CURL_GLOBAL_DEFAULT) (and curl_global_cleanup() at exit). smtp
 * never calls it, so it is safe to use from several threads, one call per thread at a time.
 *
 * The message is sent as given except for line ends: LF, CR and CRLF all become CRLF (bare
 * CR/LF in SMTP DATA is not allowed and is a smuggling vector). libcurl adds the dot-stuffing
 * and the final ".". Timeouts: 10 s to connect, 60 s in all.
 *
 * *err, when set, is g_malloc'ed and owned by the caller; it is set on every failure.
 */
#ifndef REGLO_SMTP_H
#define REGLO_SMTP_H

#include <stddef.h>

enum {
    SMTP_OK = 0,
    SMTP_TEMPFAIL = 1,   /* network error, timeout, 4xx: try again later */
    SMTP_PERMFAIL = 2,   /* 5xx, or unusable addresses: retrying will not help */
};

/* rcpts: NULL-terminated list of bare addresses (no <>), at least one. */
int smtp_submit(const char *url, const char *from, const char *const *rcpts, const char *msg,
                size_t len, char **err);

/*
 * A session submits several messages one after the other over one connection (MAIL FROM
 * again after each "250"), for senders with many messages: no connection, greeting and
 * EHLO per message. The connection opens with the first message, is dropped after any
 * failure, and reopened when the server closed it meanwhile. One thread at a time.
 */
typedef struct smtp_session smtp_session;
smtp_session *smtp_session_new(void);
int smtp_session_submit(smtp_session *s, const char *url, const char *from,
                        const char *const *rcpts, const char *msg, size_t len, char **err);
void smtp_session_free(smtp_session *s);   /* closes the connection (QUIT) */

#endif
