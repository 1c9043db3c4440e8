/*
 * testutil — helpers shared by the Check unit tests (header only: each test is one binary).
 *
 * corpus_dir(): the external corpus (../shared/corpus from the repository root, or
 * $REGLO_CORPUS). Tests that need it print a visible "SKIP" notice when it is absent and
 * do not count as passed.
 */
#ifndef REGLO_TESTUTIL_H
#define REGLO_TESTUTIL_H

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

static inline const char *corpus_dir(void)
{
    static char *dir;
    if (!dir) {
        const char *env = getenv("REGLO_CORPUS");
        dir = g_strdup(env && *env ? env : "../shared/corpus");
    }
    return g_file_test(dir, G_FILE_TEST_IS_DIR) ? dir : NULL;
}

static inline void corpus_skip_notice(const char *what)
{
    fprintf(stderr, "SKIP: %s: corpus not found (set REGLO_CORPUS or provide ../shared/corpus)\n",
            what);
}

/* Whole file, NUL-terminated (not counted in *len); aborts the test on failure. */
static inline char *read_file_or_die(const char *path, size_t *len)
{
    char *data = NULL;
    gsize n = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &data, &n, &err)) {
        fprintf(stderr, "cannot read %s: %s\n", path, err->message);
        abort();
    }
    if (len)
        *len = n;
    return data;
}

#endif
