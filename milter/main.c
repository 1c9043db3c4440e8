/*
 * reglo-milter — main: arguments, configuration, link keys, database pool, the outbox
 * sender thread, and libmilter's loop. libmilter handles SIGTERM/SIGINT (smfi_main returns).
 *
 *   reglo-milter -c FILE [-f] [-v]
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "daemon.h"
#include "log.h"
#include "milter.h"
#include "outbox.h"
#include "pdfjail.h"
#include "pdftext.h"

milter_globals milter;

/* Notices to artisans are queued in the outbox; the sender thread submits them. */
static PGconn *outbox_db(void *arg, char **smtp_url, char **err)
{
    (void) arg;
    *smtp_url = g_strdup(milter.conf->smtp_url);
    return db_acquire(milter.pool, err);
}

static void outbox_db_done(void *arg, PGconn *db, gboolean broken)
{
    (void) arg;
    db_release(milter.pool, db, broken);
}

static const char *socket_path(const char *spec)
{
    const char *path = NULL;
    if (g_str_has_prefix(spec, "unix:"))
        path = spec + 5;
    else if (g_str_has_prefix(spec, "local:"))
        path = spec + 6;
    else if (spec[0] == '/')
        path = spec;
    return path;
}

/* A unix socket left by a previous run would make bind fail. */
static void remove_stale_socket(const char *spec)
{
    const char *path = socket_path(spec);
    struct stat st;
    if (path && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
}

static int setup(const char *conf_path)
{
    char *err = NULL;
    milter.conf = conf_load(conf_path, &err);
    if (!milter.conf) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    milter.keys = keyring_load(milter.conf->link_key_file, &err);
    if (!milter.keys) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    milter.pool = db_pool_new(milter.conf->db_conninfo, milter.conf->db_pool_size,
                              milter.conf->db_connect_timeout, 5000);
    return 0;
}

int main(int argc, char **argv)
{
    /* A fixed threshold: buffers of 128 KiB and more (spools, decoded PDFs) are mapped and
     * unmapped, not left in one of the per-thread arenas that glibc's sliding threshold
     * would fill, so RSS falls back after big messages. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    daemon_args args;
    daemon_start(argc, argv, "reglo-milter", "one line per accepted message too", &args);
    const char *conf_path = args.conf_path;
    pdfjail_start(pdftext_warm_up);     /* while we have one thread: it forks */
    int rc = setup(conf_path);
    if (rc != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    g_mime_init();
    xmlInitParser();            /* once, before libmilter's threads */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    remove_stale_socket(milter.conf->milter_socket);
    if (smfi_setconn(milter.conf->milter_socket) != MI_SUCCESS ||
        smfi_settimeout(milter.conf->milter_timeout) != MI_SUCCESS ||
        smfi_register(milter_desc) != MI_SUCCESS) {
        log_error("cannot set up the milter on %s", milter.conf->milter_socket);
        return 1;
    }
    if (smfi_opensocket(1) != MI_SUCCESS) {
        log_error("cannot open the milter socket %s", milter.conf->milter_socket);
        return 1;
    }
    const char *path = socket_path(milter.conf->milter_socket);
    if (path && chmod(path, (mode_t) milter.conf->milter_socket_mode) != 0)
        log_warn("cannot set the mode of %s: %s", path, g_strerror(errno));
    /* libmilter's signal thread takes SIGTERM, SIGINT and SIGHUP with sigwait; every thread
     * must block them, ours too, or the kernel may hand one to a thread that does not, and
     * the milter dies of it instead of stopping cleanly. */
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stops, NULL);
    outbox_sender *sender = outbox_sender_start(outbox_db, outbox_db_done, NULL, NULL);
    log_info("listening on %s", milter.conf->milter_socket);
    rc = smfi_main() == MI_SUCCESS ? 0 : 1;
    outbox_sender_stop(sender);
    log_info("stopped");
    db_pool_free(milter.pool);
    keyring_free(milter.keys);
    conf_free(milter.conf);
    g_mime_shutdown();
    curl_global_cleanup();
    return rc;
}
