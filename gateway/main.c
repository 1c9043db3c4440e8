/*
 * reglo-gateway — main: arguments, the configuration snapshot, the HTTP daemon, the outbox
 * sender thread, the reminder scheduler (reminders.c), the page cache's listener
 * (pagecache.c), and the signals: SIGTERM/SIGINT stop gracefully (exit 0), SIGHUP reloads
 * the configuration and link keys (the listening address and the thread counts need a
 * restart).
 *
 *   reglo-gateway [-c FILE] [-f] [-v]
 *
 * Signals are blocked in every thread and taken synchronously by the main thread
 * (sigwait), so no work happens in a signal handler.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "context.h"
#include "gateway.h"
#include "daemon.h"
#include "log.h"
#include "outbox.h"
#include "pagecache.h"
#include "portal/portal.h"
#include "reminders.h"
#include "server.h"

#define GW_CONNECTION_TIMEOUT_S 30
#define GW_STOP_GRACE_MS 10000     /* requests in flight may finish on SIGTERM */

/* The outbox sender runs on its own thread, with its own worker connection (gw_db). */
static PGconn *outbox_db(void *arg, char **smtp_url, char **err)
{
    (void) arg;
    gw_snapshot *snap = gw_snapshot_get();
    PGconn *db = gw_db(snap->conf, err);
    *smtp_url = g_strdup(snap->conf->smtp_url);
    gw_snapshot_put(snap);
    return db;
}

/* Before each pass the outbox thread turns the portal's sign-in requests into mail. */
static gboolean outbox_fill(void *arg, PGconn *db, char **err)
{
    (void) arg;
    gw_snapshot *snap = gw_snapshot_get();
    gboolean ok = portal_signin_handle(snap->conf, db, err);
    gw_snapshot_put(snap);
    return ok;
}

static void outbox_db_done(void *arg, PGconn *db, gboolean broken)
{
    (void) arg;
    (void) db;
    if (broken)
        gw_db_check();
}

static void reload(const char *conf_path)
{
    gw_snapshot *before = gw_snapshot_get();
    char *listen = g_strdup(before->conf->gateway_listen), *err = NULL;
    int threads = before->conf->gateway_threads, psp_threads = before->conf->gateway_psp_threads,
        connections = before->conf->gateway_connections;
    gw_snapshot_put(before);
    if (!gw_snapshot_reload(conf_path, &err)) {
        log_error("reload failed, keeping the current configuration: %s", err);
        g_free(err);
        g_free(listen);
        return;
    }
    gw_snapshot *now = gw_snapshot_get();
    if (strcmp(listen, now->conf->gateway_listen) != 0)
        log_warn("reload: gateway.listen changed to %s; still listening on %s until a restart",
                 now->conf->gateway_listen, listen);
    if (threads != now->conf->gateway_threads || psp_threads != now->conf->gateway_psp_threads ||
        connections != now->conf->gateway_connections)
        log_warn("reload: gateway.threads / psp_threads / connections changed to %d / %d / %d; "
                 "still %d / %d / %d until a restart", now->conf->gateway_threads,
                 now->conf->gateway_psp_threads, now->conf->gateway_connections, threads,
                 psp_threads, connections);
    gw_snapshot_put(now);
    g_free(listen);
    log_info("configuration reloaded from %s", conf_path);
}

/* Wait for signals until SIGTERM or SIGINT. */
static void signal_loop(const sigset_t *set, const char *conf_path)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(conf_path);
            continue;
        }
        log_info("%s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
    }
}

static struct MHD_Daemon *start_server(void)
{
    gw_snapshot *snap = gw_snapshot_get();
    server_options opts = { (unsigned) snap->conf->gateway_threads,
                            (unsigned) snap->conf->gateway_psp_threads,
                            (unsigned) snap->conf->gateway_connections,
                            GW_CONNECTION_TIMEOUT_S };
    char *err = NULL;
    struct MHD_Daemon *daemon = server_start(snap->conf, &opts, &err);
    if (daemon)
        log_info("listening on %s (%u workers, %u for the PSPs), links on %s",
                 snap->conf->gateway_listen, opts.threads, opts.psp_threads,
                 snap->conf->public_url);
    else {
        log_error("%s", err);
        g_free(err);
    }
    gw_snapshot_put(snap);
    return daemon;
}

int main(int argc, char **argv)
{
    daemon_args args;
    daemon_start(argc, argv, "reglo-gateway", "one line per request too", &args);
    const char *conf_path = args.conf_path;
    char *err = NULL;
    if (!gw_snapshot_reload(conf_path, &err)) {
        if (!args.foreground)       /* else log_error writes to stderr already */
            fprintf(stderr, "%s\n", err);
        log_error("%s", err);
        g_free(err);
        return 2;
    }
    /* Before any thread: every thread inherits the mask, only sigwait sees these. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_mime_init();
    xmlInitParser();
    curl_global_init(CURL_GLOBAL_DEFAULT);

    int rc = 0;
    struct MHD_Daemon *daemon = start_server();
    if (daemon) {
        outbox_sender *sender = outbox_sender_start(outbox_db, outbox_db_done, outbox_fill, NULL);
        reminders *scheduler = reminders_start();
        pagecache_listen_start();
        signal_loop(&set, conf_path);
        server_stop(daemon, GW_STOP_GRACE_MS);
        pagecache_listen_stop();
        reminders_stop(scheduler);
        outbox_sender_stop(sender);
        log_info("stopped");
    } else
        rc = 1;
    gw_snapshot_shutdown();
    curl_global_cleanup();
    xmlCleanupParser();
    g_mime_shutdown();
    return rc;
}
