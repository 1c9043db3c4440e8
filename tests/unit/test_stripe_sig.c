/*
 * test_stripe_sig — Stripe-Signature verification (stripe_signature_verify): a good
 * signature, a tampered body, a wrong secret, timestamps too old and in the future, several
 * v1 of which one is good, no timestamp, garbage, v0 only, random headers, and the driver's
 * parse_callback on top of it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../gateway/psp/stripe.h"
#include "testutil.h"

#define SECRET "whsec_test_5ecret"
#define NOW ((time_t)1700000000)

static const char body[] =
    "{\"id\":\"evt_1Abc\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
    "\"data\":{\"object\":{\"id\":\"cs_test_a1B2\",\"object\":\"checkout.session\"}}}";

/* Hex HMAC-SHA256(secret, "t." + payload), computed here independently of stripe.c. */
static char *sign_hex(const char *secret, long t, const char *payload)
{
    char *msg = g_strdup_printf("%ld.%s", t, payload);
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg), mac, &n);
    g_free(msg);
    GString *hex = g_string_new(NULL);
    for (unsigned i = 0; i < n; i++)
        g_string_append_printf(hex, "%02x", mac[i]);
    return g_string_free(hex, FALSE);
}

static char *header_for(const char *secret, long t, const char *payload)
{
    char *hex = sign_hex(secret, t, payload);
    char *h = g_strdup_printf("t=%ld,v1=%s", t, hex);
    g_free(hex);
    return h;
}

static gboolean verify(const char *header, const char *payload, char **err)
{
    return stripe_signature_verify(header, payload, strlen(payload), SECRET, NOW,
                                   STRIPE_TOLERANCE_S, err);
}

static void expect_reject(const char *header, const char *payload, const char *why)
{
    char *err = NULL;
    ck_assert_msg(!verify(header, payload, &err), "accepted: %s", header ? header : "(null)");
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, why) != NULL, "error '%s' lacks '%s'", err, why);
    ck_assert_msg(strstr(err, SECRET) == NULL, "error quotes the secret");
    g_free(err);
}

START_TEST(test_good)
{
    char *h = header_for(SECRET, NOW - 10, body), *err = NULL;
    ck_assert(verify(h, body, &err));
    ck_assert_ptr_null(err);
    g_free(h);
    /* at the edges of the tolerance, both ways */
    h = header_for(SECRET, NOW - STRIPE_TOLERANCE_S, body);
    ck_assert(verify(h, body, &err));
    g_free(h);
    h = header_for(SECRET, NOW + STRIPE_TOLERANCE_S, body);
    ck_assert(verify(h, body, &err));
    g_free(h);
    /* upper-case hex is the same signature */
    char *hex = sign_hex(SECRET, NOW, body);
    for (char *p = hex; *p; p++)
        *p = g_ascii_toupper(*p);
    h = g_strdup_printf("t=%ld,v1=%s", (long)NOW, hex);
    ck_assert(verify(h, body, &err));
    g_free(h);
    g_free(hex);
}
END_TEST

START_TEST(test_tampered_body)
{
    char *h = header_for(SECRET, NOW, body);
    char *tampered = g_strdup(body);
    tampered[strlen(tampered) - 5] = 'X';
    expect_reject(h, tampered, "no v1 signature matches");
    /* a body cut short, and one with a byte added */
    char *shorter = g_strndup(body, strlen(body) - 1);
    expect_reject(h, shorter, "no v1 signature matches");
    char *longer = g_strdup_printf("%s ", body);
    expect_reject(h, longer, "no v1 signature matches");
    g_free(h);
    g_free(tampered);
    g_free(shorter);
    g_free(longer);
}
END_TEST

START_TEST(test_wrong_secret)
{
    char *h = header_for("whsec_other", NOW, body);
    expect_reject(h, body, "no v1 signature matches");
    g_free(h);
    char *err = NULL;
    h = header_for(SECRET, NOW, body);
    ck_assert(!stripe_signature_verify(h, body, strlen(body), "", NOW, 300, &err));
    ck_assert(strstr(err, "webhook_secret") != NULL);
    g_free(err);
    err = NULL;
    ck_assert(!stripe_signature_verify(h, body, strlen(body), NULL, NOW, 300, &err));
    g_free(err);
    g_free(h);
}
END_TEST

START_TEST(test_old_timestamp)
{
    char *h = header_for(SECRET, NOW - STRIPE_TOLERANCE_S - 1, body);
    expect_reject(h, body, "too old");
    g_free(h);
    h = header_for(SECRET, 1, body);
    expect_reject(h, body, "too old");
    g_free(h);
}
END_TEST

START_TEST(test_future_timestamp)
{
    char *h = header_for(SECRET, NOW + STRIPE_TOLERANCE_S + 1, body);
    expect_reject(h, body, "future");
    g_free(h);
}
END_TEST

START_TEST(test_several_v1)
{
    char *good = sign_hex(SECRET, NOW, body), *bad = sign_hex("whsec_old", NOW, body);
    char *h = g_strdup_printf("t=%ld,v1=%s,v1=%s,v0=%s", (long)NOW, bad, good, bad);
    char *err = NULL;
    ck_assert(verify(h, body, &err));
    g_free(h);
    h = g_strdup_printf("t=%ld,v1=%s,v1=%s", (long)NOW, good, bad);
    ck_assert(verify(h, body, &err));
    g_free(h);
    h = g_strdup_printf("t=%ld,v1=%s,v1=%s,v1=short", (long)NOW, bad, bad);
    expect_reject(h, body, "no v1 signature matches");
    g_free(h);
    /* spaces after the commas are tolerated */
    h = g_strdup_printf("t=%ld, v1=%s", (long)NOW, good);
    ck_assert(verify(h, body, &err));
    g_free(h);
    g_free(good);
    g_free(bad);
}
END_TEST

START_TEST(test_missing_t)
{
    char *hex = sign_hex(SECRET, NOW, body);
    char *h = g_strdup_printf("v1=%s", hex);
    expect_reject(h, body, "timestamp");
    g_free(h);
    h = g_strdup_printf("t=,v1=%s", hex);
    expect_reject(h, body, "timestamp");
    g_free(h);
    h = g_strdup_printf("t=-5,v1=%s", hex);
    expect_reject(h, body, "timestamp");
    g_free(h);
    h = g_strdup_printf("t=1700000000x,v1=%s", hex);
    expect_reject(h, body, "timestamp");
    g_free(h);
    h = g_strdup_printf("t=%ld,t=%ld,v1=%s", (long)NOW, (long)NOW, hex);
    expect_reject(h, body, "two timestamps");
    g_free(h);
    h = g_strdup_printf("t=99999999999999999999,v1=%s", hex);
    expect_reject(h, body, "timestamp");
    g_free(h);
    g_free(hex);
}
END_TEST

START_TEST(test_garbage_header)
{
    expect_reject(NULL, body, "no Stripe-Signature");
    expect_reject("", body, "no Stripe-Signature");
    expect_reject("garbage", body, "timestamp");
    expect_reject(",,,,=,=,", body, "timestamp");
    expect_reject("t=1700000000", body, "no v1");
    expect_reject("t=1700000000,v1=", body, "no v1 signature matches");
    expect_reject("t=1700000000,v1=zz", body, "no v1 signature matches");
    char *nonhex = g_strnfill(64, 'g');
    char *h = g_strdup_printf("t=1700000000,v1=%s", nonhex);
    expect_reject(h, body, "no v1 signature matches");
    g_free(h);
    g_free(nonhex);
    /* oversized header, and one with very many items */
    char *big = g_strnfill(10000, 'a');
    expect_reject(big, body, "too long");
    g_free(big);
    GString *many = g_string_new("t=1700000000");
    for (int i = 0; i < 200; i++)
        g_string_append(many, ",v1=00");
    expect_reject(many->str, body, "too many");
    g_string_free(many, TRUE);
    /* binary bytes in the header */
    expect_reject("t=\x01\xff,v1=\x80", body, "timestamp");
}
END_TEST

START_TEST(test_v0_only)
{
    char *hex = sign_hex(SECRET, NOW, body);
    char *h = g_strdup_printf("t=%ld,v0=%s", (long)NOW, hex);
    expect_reject(h, body, "no v1");
    g_free(h);
    g_free(hex);
}
END_TEST

START_TEST(test_binary_body)
{
    /* the signed payload is the raw bytes, NULs included */
    const char raw[] = { '{', '\0', '}', '\xff' };
    GString *msg = g_string_new("1700000000.");
    g_string_append_len(msg, raw, sizeof raw);
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)msg->str, msg->len, mac, &n);
    GString *h = g_string_new("t=1700000000,v1=");
    for (unsigned i = 0; i < n; i++)
        g_string_append_printf(h, "%02x", mac[i]);
    char *err = NULL;
    ck_assert(stripe_signature_verify(h->str, raw, sizeof raw, SECRET, NOW, 300, &err));
    ck_assert(!stripe_signature_verify(h->str, raw, 1, SECRET, NOW, 300, &err));
    g_free(err);
    g_string_free(msg, TRUE);
    g_string_free(h, TRUE);
}
END_TEST

/* Random headers built from the header's own alphabet: never accepted, never a crash. */
START_TEST(test_random_headers)
{
    static const char alphabet[] = "tv01=,; 9af\xff";
    GRand *r = g_rand_new_with_seed(20261127);
    for (int i = 0; i < 3000; i++) {
        int n = g_rand_int_range(r, 0, 120);
        char *h = g_malloc(n + 1);
        for (int k = 0; k < n; k++)
            h[k] = alphabet[g_rand_int_range(r, 0, (gint32)sizeof alphabet - 1)];
        h[n] = '\0';
        char *err = NULL;
        ck_assert(!verify(h, body, &err));
        ck_assert_ptr_nonnull(err);
        g_free(err);
        g_free(h);
    }
    g_rand_free(r);
}
END_TEST

/* The driver's callback parser: signature first, then the event's shape. */
START_TEST(test_parse_callback)
{
    psp_conf conf = { .name = "stripe", .webhook_secret = SECRET };
    psp_callback cb;
    char *err = NULL;
    char *h = header_for(SECRET, NOW, body);
    ck_assert_int_eq(stripe_driver.parse_callback(&conf, h, body, strlen(body), NOW, &cb, &err),
                     PSP_OK);
    ck_assert_str_eq(cb.event_id, "evt_1Abc");
    ck_assert_str_eq(cb.ref, "cs_test_a1B2");
    psp_callback_clear(&cb);
    g_free(h);

    ck_assert_int_eq(stripe_driver.parse_callback(&conf, NULL, body, strlen(body), NOW, &cb,
                                                  &err), PSP_ERR_REJECTED);
    ck_assert_ptr_null(cb.event_id);
    g_free(err);
    err = NULL;

    static const char *const bad_events[] = {
        "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
        "{\"id\":\"pi_1\"}}}",
        "{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\",\"data\":{\"object\":"
        "{\"id\":\"cs_../../x\"}}}",
        "{\"id\":\"nope\",\"type\":\"checkout.session.completed\",\"data\":{\"object\":"
        "{\"id\":\"cs_1\"}}}",
        "{\"id\":\"evt_1\",\"id\":\"evt_2\",\"type\":\"checkout.session.completed\","
        "\"data\":{\"object\":{\"id\":\"cs_1\"}}}",
        "[1,2]", "not json", "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad_events); i++) {
        h = header_for(SECRET, NOW, bad_events[i]);
        ck_assert_msg(stripe_driver.parse_callback(&conf, h, bad_events[i],
                                                   strlen(bad_events[i]), NOW, &cb, &err)
                      == PSP_ERR_REJECTED, "accepted %s", bad_events[i]);
        ck_assert_ptr_null(cb.ref);
        g_free(err);
        err = NULL;
        g_free(h);
    }
}
END_TEST

static Suite *stripe_sig_suite(void)
{
    Suite *s = suite_create("stripe_sig");
    TCase *tc = tcase_create("verify");
    tcase_add_test(tc, test_good);
    tcase_add_test(tc, test_tampered_body);
    tcase_add_test(tc, test_wrong_secret);
    tcase_add_test(tc, test_old_timestamp);
    tcase_add_test(tc, test_future_timestamp);
    tcase_add_test(tc, test_several_v1);
    tcase_add_test(tc, test_missing_t);
    tcase_add_test(tc, test_garbage_header);
    tcase_add_test(tc, test_v0_only);
    tcase_add_test(tc, test_binary_body);
    tcase_add_test(tc, test_random_headers);
    tcase_add_test(tc, test_parse_callback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(stripe_sig_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
