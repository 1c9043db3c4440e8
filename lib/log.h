/*
 * log — one line per decision, to syslog (mail facility) or to stderr in the foreground.
 *
 * Owns the process-wide log destination. Never log a token, a key or a password.
 * All memory in this project comes from glib (g_malloc, g_strdup, GString...), which aborts
 * on allocation failure like Postfix's mymalloc: no caller checks for NULL from an allocator.
 */
#ifndef REGLO_LOG_H
#define REGLO_LOG_H

#include <stdarg.h>

void log_open(const char *ident, int to_stderr);
void log_set_verbose(int verbose);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
