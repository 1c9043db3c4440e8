/*
 * log — syslog or stderr sink; see log.h.
 */
#include "log.h"

#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <pthread.h>

#include <glib.h>

static int log_to_stderr = 1;
static int log_verbose;
static const char *log_ident = "reglo";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_open(const char *ident, int to_stderr)
{
    log_ident = ident;
    log_to_stderr = to_stderr;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_verbose(int verbose)
{
    log_verbose = verbose;
}

static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
    if (!log_to_stderr) {
        vsyslog(prio, fmt, ap);
        return;
    }
    /* One fprintf, one write(2) on the unbuffered stderr: a line costs one system call
     * instead of three, and lines of several threads or processes cannot interleave. */
    char *line = g_strdup_vprintf(fmt, ap);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s: %s%s\n", log_ident, tag, line);
    pthread_mutex_unlock(&log_lock);
    g_free(line);
}

#define LOG_BODY(prio, tag) \
    va_list ap; va_start(ap, fmt); log_emit(prio, tag, fmt, ap); va_end(ap)

void log_info(const char *fmt, ...)  { LOG_BODY(LOG_INFO, ""); }
void log_warn(const char *fmt, ...)  { LOG_BODY(LOG_WARNING, "warning: "); }
void log_error(const char *fmt, ...) { LOG_BODY(LOG_ERR, "error: "); }

void log_debug(const char *fmt, ...)
{
    if (!log_verbose)
        return;
    LOG_BODY(LOG_DEBUG, "debug: ");
}
