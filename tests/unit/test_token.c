/*
 * test_token — keyring parsing, link token derivation (fixed vector), markers.
 *
 * The expected values were computed independently with the openssl command line:
 *   printf 'pay:42' | openssl dgst -sha256 -hmac "$KEY" -binary | head -c 16 \
 *     | openssl base64 -A | tr '+/' '-_' | tr -d '='
 *   printf 'k1.GpQ-1CAiDTa_65LAfXnBqw' | sha256sum
 *   printf 'processed:42:abc@example.com' | openssl dgst -sha256 -hmac "$KEY" -binary \
 *     | openssl base64 -A | tr '+/' '-_' | tr -d '='
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "testutil.h"

#define KEY1 "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define KEY0 "an-older-key-that-is-long-enough-0123456789"

static char *tmpdir;

/* Writes a keyring file with the given mode; returns its path (g_free). */
static char *write_keyring(const char *name, const char *text, int mode)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    ck_assert_int_eq(g_chmod(path, mode), 0);
    return path;
}

static keyring *load_ok(const char *text)
{
    char *path = write_keyring("ok.keys", text, 0600);
    char *err = NULL;
    keyring *kr = keyring_load(path, &err);
    ck_assert_msg(kr != NULL, "load failed: %s", err ? err : "?");
    g_free(path);
    return kr;
}

/* Loads a bad file and checks that the error contains `expect`. */
static void load_bad(const char *text, int mode, const char *expect)
{
    char *path = write_keyring("bad.keys", text, mode);
    char *err = NULL;
    keyring *kr = keyring_load(path, &err);
    ck_assert_ptr_null(kr);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, expect) != NULL, "error \"%s\" lacks \"%s\"", err, expect);
    ck_assert_msg(g_str_has_prefix(err, path), "error \"%s\" lacks the file name", err);
    g_free(err);
    g_unlink(path);
    g_free(path);
}

static void setup(void)
{
    tmpdir = g_dir_make_tmp("test_token-XXXXXX", NULL);
    ck_assert_ptr_nonnull(tmpdir);
}

static void teardown(void)
{
    char *path = g_build_filename(tmpdir, "ok.keys", NULL);
    g_unlink(path);
    g_free(path);
    g_rmdir(tmpdir);
    g_free(tmpdir);
}

START_TEST(test_vector)
{
    keyring *kr = load_ok("# link keys\n\nk1 " KEY1 "\n");
    ck_assert_str_eq(keyring_current_id(kr), "k1");
    char *t = token_derive(kr, NULL, 42);
    ck_assert_str_eq(t, "k1.GpQ-1CAiDTa_65LAfXnBqw");
    ck_assert(token_well_formed(t));
    char *h = token_hash(t);
    ck_assert_str_eq(h, "ae8885fbe82273502390e3f4edc85c0bc7efb3db0e9c1e2a825fc9ae08c09a9d");
    g_free(h);
    g_free(t);
    keyring_free(kr);
}
END_TEST

START_TEST(test_ids_differ)
{
    keyring *kr = load_ok("k1 " KEY1 "\n");
    char *a = token_derive(kr, NULL, 1);
    char *b = token_derive(kr, NULL, 2);
    char *a2 = token_derive(kr, "k1", 1);
    ck_assert_str_ne(a, b);
    ck_assert_str_eq(a, a2);
    ck_assert_ptr_null(token_derive(kr, "nope", 1));
    ck_assert_ptr_null(token_derive(kr, NULL, -1));
    g_free(a);
    g_free(b);
    g_free(a2);
    keyring_free(kr);
}
END_TEST

START_TEST(test_rotation)
{
    keyring *old = load_ok("k0 " KEY0 "\n");
    char *before = token_derive(old, NULL, 7);
    keyring_free(old);

    keyring *kr = load_ok("  k1\t" KEY1 "  \r\n# retired but still verifiable\nk0 " KEY0 "\n");
    ck_assert_str_eq(keyring_current_id(kr), "k1");
    char *now = token_derive(kr, NULL, 7);
    char *again = token_derive(kr, "k0", 7);
    ck_assert(g_str_has_prefix(now, "k1."));
    ck_assert_str_eq(again, before);
    ck_assert_str_ne(now, before);
    g_free(before);
    g_free(now);
    g_free(again);
    keyring_free(kr);
}
END_TEST

START_TEST(test_bad_keyrings)
{
    load_bad("k1 short\n", 0600, ":1: secret shorter than 32 characters");
    load_bad("# c\nbad-id " KEY1 "\n", 0600, ":2: key id must be letters and digits");
    load_bad("toolongid " KEY1 "\n", 0600, ":1: key id longer than 8 characters");
    load_bad("k1\n", 0600, ":1: expected");
    load_bad("k1 " KEY1 " extra\n", 0600, ":1: unexpected text");
    load_bad("k1 " KEY1 "\nk1 " KEY0 "\n", 0600, ":2: duplicate key id");
    load_bad("k1 " KEY1 "\n", 0644, ": must not be readable by others");
    load_bad("", 0600, ": no key");
    load_bad("# only comments\n\n", 0600, ": no key");

    char *err = NULL;
    char *missing = g_build_filename(tmpdir, "missing", NULL);
    ck_assert_ptr_null(keyring_load(missing, &err));
    ck_assert_ptr_nonnull(err);
    g_free(err);
    g_free(missing);
}
END_TEST

START_TEST(test_well_formed)
{
    ck_assert(token_well_formed("k1.GpQ-1CAiDTa_65LAfXnBqw"));
    ck_assert(token_well_formed("abcdefgh.GpQ-1CAiDTa_65LAfXnBqw"));
    ck_assert(!token_well_formed(NULL));
    ck_assert(!token_well_formed(""));
    ck_assert(!token_well_formed(".GpQ-1CAiDTa_65LAfXnBqw"));
    ck_assert(!token_well_formed("abcdefghi.GpQ-1CAiDTa_65LAfXnBqw"));
    ck_assert(!token_well_formed("k1GpQ-1CAiDTa_65LAfXnBqw"));
    ck_assert(!token_well_formed("k1.GpQ-1CAiDTa_65LAfXnBq"));
    ck_assert(!token_well_formed("k1.GpQ-1CAiDTa_65LAfXnBqwA"));
    ck_assert(!token_well_formed("k1.GpQ-1CAiDTa_65LAfXnBq="));
    ck_assert(!token_well_formed("k1.GpQ+1CAiDTa_65LAfXnBqw"));
    ck_assert(!token_well_formed("k1.GpQ-1CAiDTa_65LAfXnBqx")); /* non-zero padding bits */
    ck_assert(!token_well_formed("k-1.GpQ-1CAiDTa_65LAfXnBqw"));
}
END_TEST

START_TEST(test_marker_round_trip)
{
    keyring *kr = load_ok("k1 " KEY1 "\n");
    char *m = token_marker(kr, "processed", 42, "abc@example.com");
    ck_assert_str_eq(m, "processed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ");
    char kind[16] = "";
    gint64 id = 0;
    ck_assert(token_marker_verify(kr, m, "abc@example.com", kind, &id));
    ck_assert_str_eq(kind, "processed");
    ck_assert_int_eq(id, 42);
    g_free(m);

    m = token_marker(kr, "reminder", 9000000000LL, "x.y@z");
    ck_assert(token_marker_verify(kr, m, "x.y@z", kind, &id));
    ck_assert_str_eq(kind, "reminder");
    ck_assert(id == 9000000000LL);
    g_free(m);

    ck_assert_ptr_null(token_marker(kr, "other", 1, "a@b"));
    keyring_free(kr);
}
END_TEST

START_TEST(test_marker_old_key)
{
    keyring *old = load_ok("k0 " KEY0 "\n");
    char *m = token_marker(old, "processed", 5, "m@x");
    keyring_free(old);
    keyring *kr = load_ok("k1 " KEY1 "\nk0 " KEY0 "\n");
    char kind[16];
    gint64 id;
    ck_assert(token_marker_verify(kr, m, "m@x", kind, &id));
    keyring_free(kr);
    kr = load_ok("k1 " KEY1 "\n");
    ck_assert(!token_marker_verify(kr, m, "m@x", kind, &id));
    keyring_free(kr);
    g_free(m);
}
END_TEST

START_TEST(test_marker_forged)
{
    keyring *kr = load_ok("k1 " KEY1 "\n");
    const char *good = "processed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ";
    const char *bad[] = {
        "processed; id=43; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "reminder; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "processed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeR",
        "processed; id=042; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "processed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLe",
        "processed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ ",
        "processed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ=",
        " processed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "processed;id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "processed; id=-42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "processed; id=; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "processed; id=99999999999999999999; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "processedprocessed; id=42; mac=g5UbdirKzN29iUFv3k40LYIzhAS_CbC2JL6jeU1LLeQ",
        "",
        "processed",
        "; id=42; mac=",
    };
    char kind[16];
    gint64 id;
    ck_assert(token_marker_verify(kr, good, "abc@example.com", kind, &id));
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(!token_marker_verify(kr, bad[i], "abc@example.com", kind, &id),
                      "accepted: %s", bad[i]);
    /* Wrong Message-ID, or one the caller failed to normalise. */
    ck_assert(!token_marker_verify(kr, good, "abd@example.com", kind, &id));
    ck_assert(!token_marker_verify(kr, good, "<abc@example.com>", kind, &id));
    ck_assert(!token_marker_verify(kr, good, "", kind, &id));
    ck_assert(!token_marker_verify(kr, good, NULL, kind, &id));
    ck_assert(!token_marker_verify(kr, NULL, "abc@example.com", kind, &id));
    keyring_free(kr);
}
END_TEST

START_TEST(test_garbage)
{
    keyring *kr = load_ok("k1 " KEY1 "\n");
    char kind[16];
    gint64 id;
    GRand *r = g_rand_new_with_seed(1234);
    char buf[200];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)g_rand_int_range(r, 0, sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)g_rand_int_range(r, 1, 256);
        buf[n] = '\0';
        /* Half the rounds start like a marker so the parser goes deeper. */
        if (round % 2 && n > 30)
            memcpy(buf, "processed; id=1; mac=", 21);
        ck_assert(!token_marker_verify(kr, buf, "m@x", kind, &id));
        ck_assert(!token_well_formed(buf));
    }
    g_rand_free(r);
    char *huge = g_strnfill(100000, 'a');
    ck_assert(!token_marker_verify(kr, huge, "m@x", kind, &id));
    ck_assert(!token_well_formed(huge));
    g_free(huge);
    keyring_free(kr);
}
END_TEST

START_TEST(test_random_shape)
{
    char *a = token_random(), *b = token_random();
    ck_assert(token_random_well_formed(a));
    ck_assert(token_random_well_formed(b));
    ck_assert_str_ne(a, b);
    static const char *const bad[] = {
        "", "short", "../../etc/passwd", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(!token_random_well_formed(bad[i]), "accepted '%s'", bad[i]);
    ck_assert(!token_random_well_formed(NULL));
    g_free(a);
    g_free(b);
}
END_TEST

static Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vector);
    tcase_add_test(tc, test_ids_differ);
    tcase_add_test(tc, test_rotation);
    tcase_add_test(tc, test_bad_keyrings);
    tcase_add_test(tc, test_well_formed);
    tcase_add_test(tc, test_marker_round_trip);
    tcase_add_test(tc, test_marker_old_key);
    tcase_add_test(tc, test_marker_forged);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_random_shape);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(token_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
