/*
 * test_ttlcache — answers kept and handed as copies, integer values, expiry, a zero ttl,
 * replacement, the cache emptied when full, and several threads at once.
 */
#include <check.h>
#include <string.h>

#include "ttlcache.h"
#include "testutil.h"

static ttl_cache strings = TTL_CACHE_INIT(100, (ttl_copy_fn) g_strdup, g_free);
static ttl_cache small = TTL_CACHE_INIT(4, (ttl_copy_fn) g_strdup, g_free);
static ttl_cache numbers = TTL_CACHE_INIT(100, NULL, NULL);

START_TEST(test_copy_handed)
{
    gpointer v = NULL;
    ck_assert(!ttl_cache_get(&strings, "a@x.test", &v));
    ttl_cache_put(&strings, "a@x.test", g_strdup("Jean"), 30);
    ck_assert(ttl_cache_get(&strings, "a@x.test", &v));
    ck_assert_str_eq(v, "Jean");
    char *first = v;
    ck_assert(ttl_cache_get(&strings, "a@x.test", &v));
    ck_assert_ptr_ne(first, v);           /* each get is the caller's own copy */
    g_free(first);
    g_free(v);
    ttl_cache_put(&strings, "nobody@x.test", NULL, 30);   /* a remembered "no" */
    ck_assert(ttl_cache_get(&strings, "nobody@x.test", &v));
    ck_assert_ptr_null(v);
    ttl_cache_put(&strings, "a@x.test", g_strdup("Marie"), 30);
    ck_assert(ttl_cache_get(&strings, "a@x.test", &v));
    ck_assert_str_eq(v, "Marie");
    g_free(v);
}
END_TEST

START_TEST(test_integers_and_expiry)
{
    gpointer v = NULL;
    ttl_cache_put(&numbers, "artisan.test", GINT_TO_POINTER(1), 1);
    ttl_cache_put(&numbers, "never.test", GINT_TO_POINTER(2), 0);
    ck_assert(ttl_cache_get(&numbers, "artisan.test", &v));
    ck_assert_int_eq(GPOINTER_TO_INT(v), 1);
    ck_assert(!ttl_cache_get(&numbers, "never.test", &v));
    g_usleep(1100 * 1000);
    ck_assert(!ttl_cache_get(&numbers, "artisan.test", &v));
}
END_TEST

START_TEST(test_full_is_emptied)
{
    gpointer v = NULL;
    for (int i = 0; i < 4; i++) {
        char *key = g_strdup_printf("k%d", i);
        ttl_cache_put(&small, key, g_strdup(key), 30);
        g_free(key);
    }
    ck_assert(ttl_cache_get(&small, "k0", &v));
    g_free(v);
    ttl_cache_put(&small, "k4", g_strdup("k4"), 30);   /* the fifth: the others go */
    ck_assert(!ttl_cache_get(&small, "k0", &v));
    ck_assert(ttl_cache_get(&small, "k4", &v));
    g_free(v);
}
END_TEST

static gpointer hammer(gpointer data)
{
    (void) data;
    for (int i = 0; i < 2000; i++) {
        char key[16];
        g_snprintf(key, sizeof key, "k%d", i % 7);
        gpointer v = NULL;
        if (ttl_cache_get(&strings, key, &v))
            ck_assert_str_eq(v, key);
        g_free(v);
        ttl_cache_put(&strings, key, g_strdup(key), 30);
    }
    return NULL;
}

START_TEST(test_threads)
{
    GThread *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = g_thread_new("hammer", hammer, NULL);
    for (int i = 0; i < 4; i++)
        g_thread_join(t[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ttlcache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_copy_handed);
    tcase_add_test(tc, test_integers_and_expiry);
    tcase_add_test(tc, test_full_is_emptied);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    int failed = testutil_run(s);
    return failed ? 1 : 0;
}
