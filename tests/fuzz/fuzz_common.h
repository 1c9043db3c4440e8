/*
 * fuzz_common — helpers shared by the libFuzzer targets (header only): one-time library
 * set-up, a NUL-terminated copy of the input, and a check that aborts with a message (so
 * libFuzzer saves the reproducer) when a property the target asserts does not hold.
 *
 * fuzz_strndup's result is the caller's (g_free).
 */
#ifndef REGLO_FUZZ_COMMON_H
#define REGLO_FUZZ_COMMON_H

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called by libFuzzer once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The input as a C string (cut at the first NUL, as a C caller would see it). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    return g_strndup((const char *)data, size);
}

/* Warnings from libraries fed garbage are expected: keep them quiet. A critical is a
 * g_return_if_fail that caught a caller's mistake (a NULL where none is allowed...): a bug,
 * so it aborts like g_error. */
static void fuzz_quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                           gpointer arg)
{
    (void)arg;
    /* poppler-glib's own: poppler_document_get_attachments converts an attachment's
     * unreadable date with g_date_time_to_unix(NULL) (harmless: it returns -1). */
    if (msg && strstr(msg, "g_date_time_to_unix: assertion 'datetime != NULL'"))
        return;
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        fprintf(stderr, "glib %s: %s\n", domain ? domain : "", msg);
        abort();
    }
}

static inline void fuzz_quiet(void)
{
    g_log_set_default_handler(fuzz_quiet_log, NULL);
}

/* TRUE when s (len bytes) is valid UTF-8 without NUL. */
static inline gboolean fuzz_utf8(const char *s)
{
    return s == NULL || g_utf8_validate(s, -1, NULL);
}

/* The targets that parse mail: gmime set up once, glib's noise filtered. */
#define FUZZ_INITIALIZE_GMIME                                                              \
    int LLVMFuzzerInitialize(int *argc, char ***argv);                                     \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                      \
    {                                                                                      \
        (void)argc, (void)argv;                                                            \
        fuzz_quiet();                                                                      \
        g_mime_init();                                                                     \
        return 0;                                                                          \
    }

#endif
