/*
 * stripe — the Stripe driver: Checkout Sessions (POST /v1/checkout/sessions, form-encoded,
 * bearer secret key), callbacks signed with Stripe-Signature (HMAC-SHA256), re-fetch of the
 * session with its PaymentIntent expanded.
 *
 * Configuration: psp stripe { api_base secret_key webhook_secret payment_method_types }
 * (payment methods {"card"} when none are given).
 *
 * Callbacks handled: checkout.session.completed, .async_payment_succeeded,
 * .async_payment_failed and .expired; any other event type is PSP_ERR_REJECTED (subscribe
 * the endpoint to those four only). The event's own content is never trusted: fetch()
 * reads the session again, and its state comes from it alone:
 *   status open                                   → OPEN
 *   status expired                                → EXPIRED
 *   complete + payment_status paid                → PAID
 *   complete + unpaid, PaymentIntent processing   → PENDING (async debit under way)
 *   complete + unpaid, PaymentIntent requires_payment_method or canceled → FAILED
 *     (what Stripe shows after checkout.session.async_payment_failed)
 *   complete + unpaid otherwise                   → PENDING
 *   complete + no_payment_required                → FAILED (we never create a zero-amount
 *                                                   checkout: nothing was collected)
 */
#ifndef REGLO_PSP_STRIPE_H
#define REGLO_PSP_STRIPE_H

#include <stddef.h>
#include <time.h>

#include <glib.h>

#include "psp.h"

#define STRIPE_TOLERANCE_S 300

extern const psp_driver stripe_driver;

/*
 * Stripe-Signature check: header "t=TIMESTAMP,v1=HEX[,v1=HEX...][,v0=...]". TRUE when one
 * v1 equals HMAC-SHA256(secret, "TIMESTAMP." + body) (constant-time compare) and
 * |now - TIMESTAMP| <= tolerance_s. Otherwise FALSE with *err (g_malloc'ed) saying why.
 */
gboolean stripe_signature_verify(const char *header, const char *body, size_t len,
                                 const char *secret, time_t now, int tolerance_s, char **err);

#endif
