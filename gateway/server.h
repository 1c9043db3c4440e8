/*
 * server — reglo-gateway's HTTP side on libmicrohttpd: the listening daemon (thread pool),
 * request bodies with size caps, routing to the handlers of gateway.h, the security
 * headers every response carries, and the static files under templates_dir/static/.
 *
 * The daemon belongs to the caller of server_start (server_stop frees it). Strings
 * returned here are g_malloc'ed and belong to the caller.
 */
#ifndef REGLO_SERVER_H
#define REGLO_SERVER_H

#include <sys/socket.h>

#include "gateway.h"

#define SERVER_FORM_MAX     (64 * 1024)     /* request body cap, but for callbacks */
#define SERVER_WEBHOOK_MAX  (1024 * 1024)   /* request body cap of POST /webhooks/ */
/* The portal's forms: a 64 KiB email template, URL-encoded (up to three bytes a byte). */
#define SERVER_PORTAL_MAX   (256 * 1024)

typedef struct server_options {
    unsigned threads;            /* worker threads, each with its database connection */
    unsigned psp_threads;        /* threads for the PSP's routes, the same; 0: none */
    unsigned connection_limit;   /* concurrent connections; the PSP threads' requests, running
                                  * or waiting, at most half of them */
    unsigned timeout_s;          /* idle connection timeout */
} server_options;

/* Listen on conf->gateway_listen. NULL with *err when the address is bad or busy. */
struct MHD_Daemon *server_start(const reglo_conf *conf, const server_options *opts, char **err);

/* Stop accepting, give the requests in flight up to grace_ms to finish, then stop the
 * workers (their database connections close with them) and free the daemon. */
void server_stop(struct MHD_Daemon *daemon, unsigned grace_ms);

/* "127.0.0.1:8080", "[::1]:8080", "*:8080" (any IPv4 address) into addr. */
gboolean server_parse_listen(const char *spec, struct sockaddr_storage *addr, socklen_t *len,
                             char **err);

/* The Content-Security-Policy for this configuration (form-action admits the PSPs). */
char *server_csp(const reglo_conf *conf);

/* Route one complete request (body read) to its handler; fills resp, security headers
 * included. Needs no connection: unit tests call it with req->conn NULL. */
void server_dispatch(const gw_request *req, gw_response *resp);

/* Release what a response holds (the server calls it after sending). */
void gw_response_clear(gw_response *resp);

#endif
