/*
 * test_qr — RF references, IBANs, the EPC payload, and a PNG decoded back with zbarimg.
 *
 * RF check digits were computed independently (python: 98 - int(digits of ref + "RF00") % 97).
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qr.h"
#include "testutil.h"

#define ZBARIMG "/usr/bin/zbarimg"

static void check_rf(const char *ref, const char *expect)
{
    char *rf = qr_rf_reference(ref);
    ck_assert_ptr_nonnull(rf);
    ck_assert_str_eq(rf, expect);
    ck_assert(qr_rf_valid(rf));
    g_free(rf);
}

START_TEST(test_rf_reference)
{
    check_rf("539007547034", "RF18539007547034");
    check_rf("000000000539007547034", "RF18000000000539007547034");
    check_rf("inv-2024/001", "RF78INV2024001");
    ck_assert_ptr_null(qr_rf_reference(""));
    ck_assert_ptr_null(qr_rf_reference("--//"));
    ck_assert_ptr_null(qr_rf_reference("1234567890123456789012")); /* 22 characters */
    ck_assert_ptr_null(qr_rf_reference(NULL));
}
END_TEST

START_TEST(test_rf_valid)
{
    ck_assert(qr_rf_valid("RF18539007547034"));
    ck_assert(qr_rf_valid("RF18000000000539007547034"));
    ck_assert(!qr_rf_valid("RF19539007547034"));
    ck_assert(!qr_rf_valid("RF18539007547035"));
    ck_assert(!qr_rf_valid("rf18539007547034"));
    ck_assert(!qr_rf_valid("RF18 5390 0754 7034"));
    ck_assert(!qr_rf_valid("RF18"));
    ck_assert(!qr_rf_valid("RF1A539007547034"));
    ck_assert(!qr_rf_valid("RF180000000000539007547034")); /* 22-character reference */
    ck_assert(!qr_rf_valid(""));
    ck_assert(!qr_rf_valid(NULL));
}
END_TEST

START_TEST(test_iban)
{
    ck_assert(qr_iban_valid("FR7630006000011234567890189"));
    ck_assert(qr_iban_valid("DE89370400440532013000"));
    ck_assert(qr_iban_valid("GB82WEST12345698765432"));
    ck_assert(!qr_iban_valid("FR7630006000011234567890188"));
    ck_assert(!qr_iban_valid("DE89370400440532013001"));
    ck_assert(!qr_iban_valid("DE88370400440532013000"));
    ck_assert(!qr_iban_valid("de89370400440532013000"));
    ck_assert(!qr_iban_valid("DE89 3704 0044 0532 0130 00"));
    ck_assert(!qr_iban_valid("DE8937040044"));
    ck_assert(!qr_iban_valid("DE89370400440532013000000000000000000"));
    ck_assert(!qr_iban_valid("12DE370400440532013000"));
    ck_assert(!qr_iban_valid(""));
    ck_assert(!qr_iban_valid(NULL));

    char *n = qr_iban_normalise(" fr76 3000 6000 0112 3456 7890 189 ");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n, "FR7630006000011234567890189");
    g_free(n);
    n = qr_iban_normalise("IBAN: DE89 3704 0044 0532 0130 00");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n, "DE89370400440532013000");
    g_free(n);
    ck_assert_ptr_null(qr_iban_normalise("FR76 3000 6000 0112 3456 7890 188"));
    ck_assert_ptr_null(qr_iban_normalise("FR76-3000-6000-0112-3456-7890-189"));
    ck_assert_ptr_null(qr_iban_normalise(""));
}
END_TEST

START_TEST(test_epc_payload)
{
    char *p = qr_epc_payload("BNPAFRPP", "Plomberie Dupont", "FR76 3000 6000 0112 3456 7890 189",
                             123456, "RF18539007547034", "ignored when a reference is given");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, "BCD\n002\n1\nSCT\nBNPAFRPP\nPlomberie Dupont\n"
                        "FR7630006000011234567890189\nEUR1234.56\n\nRF18539007547034");
    g_free(p);

    p = qr_epc_payload(NULL, "Élodie Façades", "DE89370400440532013000", 5, NULL,
                       "Facture n° 12");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, "BCD\n002\n1\nSCT\n\nÉlodie Façades\nDE89370400440532013000\n"
                        "EUR0.05\n\n\nFacture n° 12");
    g_free(p);

    p = qr_epc_payload("", "X", "DE89370400440532013000", G_GINT64_CONSTANT(99999999999),
                       NULL, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, "BCD\n002\n1\nSCT\n\nX\nDE89370400440532013000\nEUR999999999.99");
    g_free(p);

    const char *iban = "DE89370400440532013000";
    char *long_name = g_strnfill(71, 'a');
    char *long_text = g_strnfill(141, 'a');
    ck_assert_ptr_null(qr_epc_payload(NULL, "X", iban, 0, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, "X", iban, -1, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, "X", iban, G_GINT64_CONSTANT(100000000000),
                                      NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, "X", "DE89370400440532013001", 100, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, "", iban, 100, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, NULL, iban, 100, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, long_name, iban, 100, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, "Two\nlines", iban, 100, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, "bad \xff utf8", iban, 100, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload(NULL, "X", iban, 100, NULL, long_text));
    ck_assert_ptr_null(qr_epc_payload(NULL, "X", iban, 100, "RF19539007547034", NULL));
    ck_assert_ptr_null(qr_epc_payload("BNPA", "X", iban, 100, NULL, NULL));
    ck_assert_ptr_null(qr_epc_payload("bnpafrpp", "X", iban, 100, NULL, NULL));
    g_free(long_name);
    g_free(long_text);
}
END_TEST

/* Decodes a PNG file with zbarimg; the decoded text (g_free) or NULL. */
static char *zbar_decode(const char *path)
{
    const char *argv[] = { ZBARIMG, "--nodbus", "--quiet", "--raw", path, NULL };
    char *out = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                      NULL, &status, NULL))
        return NULL;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_free(out);
        return NULL;
    }
    g_strchomp(out);
    return out;
}

START_TEST(test_png_round_trip)
{
    const char *text = "https://pay.example.com/p/k1.GpQ-1CAiDTa_65LAfXnBqw?utm=reglo&lang=fr"
                       "&ref=INV-2024-001&x=abcdefghijk";
    ck_assert_int_eq(strlen(text), 100);
    size_t len = 0;
    guint8 *png = qr_png(text, 4, &len);
    ck_assert_ptr_nonnull(png);
    ck_assert_uint_gt(len, 8);
    ck_assert_int_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    /* make check installs zbar-tools (make deps): without it the test fails, not passes. */
    ck_assert_msg(g_file_test(ZBARIMG, G_FILE_TEST_IS_EXECUTABLE),
                  "%s not installed (make deps: zbar-tools)", ZBARIMG);
    char *path = NULL;
    int fd = g_file_open_tmp("test_qr-XXXXXX.png", &path, NULL);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert(g_file_set_contents(path, (const char *)png, (gssize)len, NULL));
    char *decoded = zbar_decode(path);
    g_unlink(path);
    ck_assert_ptr_nonnull(decoded);
    ck_assert_str_eq(decoded, text);
    g_free(decoded);
    g_free(path);
    g_free(png);
}
END_TEST

START_TEST(test_png_limits)
{
    size_t len = 0;
    char *big = g_strnfill(2049, 'a');
    ck_assert_ptr_null(qr_png(big, 4, &len));
    big[2048] = '\0';
    guint8 *png = qr_png(big, 1, &len); /* 2 KB of bytes still fits a version-40 code at M */
    ck_assert_ptr_nonnull(png);
    g_free(png);
    g_free(big);
    ck_assert_ptr_null(qr_png("", 4, &len));
    ck_assert_ptr_null(qr_png(NULL, 4, &len));
    ck_assert_ptr_null(qr_png("x", 0, &len));
    ck_assert_ptr_null(qr_png("x", 1000, &len));
}
END_TEST

/* Random bytes through every parser: no crash, and anything accepted is really valid. */
START_TEST(test_garbage)
{
    GRand *r = g_rand_new_with_seed(42);
    char buf[300];
    const char alphabet[] = "RFDE0123456789 abcxyzXYZ-/\xc3\xa9\n";
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)g_rand_int_range(r, 0, sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = round % 2 ? (char)g_rand_int_range(r, 1, 256)
                               : alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
        buf[n] = '\0';
        char *rf = qr_rf_reference(buf);
        ck_assert(!rf || qr_rf_valid(rf));
        g_free(rf);
        char *iban = qr_iban_normalise(buf);
        ck_assert(!iban || qr_iban_valid(iban));
        g_free(iban);
        qr_rf_valid(buf);
        char *p = qr_epc_payload(NULL, buf, "DE89370400440532013000", 100, NULL, buf);
        ck_assert(!p || strlen(p) <= 331);
        g_free(p);
    }
    g_rand_free(r);
}
END_TEST

START_TEST(test_content_id)
{
    char *cid = qr_content_id("F-2026.042");
    ck_assert_str_eq(cid, "qr-F-2026.042@reglo.invalid");
    g_free(cid);
    /* Hostile numbers: spaces, brackets, CR LF, UTF-8 bytes, all made '-'. */
    cid = qr_content_id("F 12<>\r\n\xc3\xa9");
    ck_assert_str_eq(cid, "qr-F-12------@reglo.invalid");
    g_free(cid);
}
END_TEST

static Suite *qr_suite(void)
{
    Suite *s = suite_create("qr");
    TCase *tc = tcase_create("qr");
    tcase_add_test(tc, test_rf_reference);
    tcase_add_test(tc, test_rf_valid);
    tcase_add_test(tc, test_iban);
    tcase_add_test(tc, test_epc_payload);
    tcase_add_test(tc, test_png_round_trip);
    tcase_add_test(tc, test_png_limits);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_content_id);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(qr_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
