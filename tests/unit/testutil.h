/*
 * testutil — helpers shared by the Check unit tests (header only: each test is one binary):
 * the suite runner every main() uses, and the external corpus.
 *
 * The external corpus is $REGLO_CORPUS when set and non-empty (a path that is not a
 * directory means "absent": no fallback), else ../shared/corpus from the repository root.
 * Tests that need it are registered only when corpus_present() says it is there; when it
 * is absent they are not run, a visible "SKIP" notice says so, and they do not count as
 * passed. Once the corpus is found, a file a test expects in it must be there:
 * corpus_path() fails the test otherwise. Strings returned by corpus_dir() belong to this
 * header; corpus_path() and read_file_or_die() return g_malloc'd memory for the caller.
 */
#ifndef REGLO_TESTUTIL_H
#define REGLO_TESTUTIL_H

#include <check.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Where the corpus is looked for, whether or not it is there. */
static inline const char *corpus_location(void)
{
    static char *dir;
    if (!dir) {
        const char *env = getenv("REGLO_CORPUS");
        dir = g_strdup(env && *env ? env : "../shared/corpus");
    }
    return dir;
}

/* The corpus directory, or NULL when absent. */
static inline const char *corpus_dir(void)
{
    const char *dir = corpus_location();
    return g_file_test(dir, G_FILE_TEST_IS_DIR) ? dir : NULL;
}

static inline void corpus_skip_notice(const char *what)
{
    fprintf(stderr, "SKIP: %s: corpus not found at %s (set REGLO_CORPUS or provide "
            "../shared/corpus); not run, not counted as passed\n", what, corpus_location());
}

/* Call where tests are registered, never inside a test (a test that returns early counts
 * as passed): TRUE when the corpus is there, else prints the SKIP notice for what. */
static inline gboolean corpus_present(const char *what)
{
    if (corpus_dir())
        return TRUE;
    corpus_skip_notice(what);
    return FALSE;
}

/* Path of a file or directory inside the corpus (elements as for g_build_filename, NULL
 * ends them), for a registered corpus test: the corpus was found, so a missing entry fails
 * the test instead of skipping it. */
static inline G_GNUC_NULL_TERMINATED char *corpus_path(const char *first, ...)
{
    const char *dir = corpus_dir();
    ck_assert_msg(dir != NULL, "corpus %s vanished during the run", corpus_location());
    va_list ap;
    va_start(ap, first);
    char *rel = g_build_filename_valist(first, &ap);
    va_end(ap);
    char *path = g_build_filename(dir, rel, NULL);
    g_free(rel);
    ck_assert_msg(g_file_test(path, G_FILE_TEST_EXISTS), "%s: missing from the corpus", path);
    return path;
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

/* Runs a suite as every test binary does; the number of failed tests. */
static inline int testutil_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed;
}

#endif
