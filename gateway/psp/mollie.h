/*
 * mollie — the Mollie driver: Payments API v2 (POST /v2/payments in JSON with a bearer API
 * key; GET /v2/payments/{id}). Mollie's callbacks are unsigned form posts "id=tr_...": the
 * only thing taken from one is the payment id, and fetch() asks Mollie what happened.
 *
 * Configuration: psp mollie { api_base api_key }. No `method` is sent: Mollie's hosted page
 * offers the methods enabled on the profile (pay-by-bank for French clients).
 *
 * Status mapping: open → OPEN; pending, authorized → PENDING; paid → PAID; failed →
 * FAILED; canceled → CANCELED; expired → EXPIRED; anything else is a PSP error.
 * Callback: event_id = ref = the tr_ id (the caller adds the fetched state for idempotency).
 */
#ifndef REGLO_PSP_MOLLIE_H
#define REGLO_PSP_MOLLIE_H

#include <glib.h>

#include "psp.h"

extern const psp_driver mollie_driver;

/* Minor units → Mollie's amount value: 123456 EUR → "1234.56", 1000 JPY → "1000"
 * (g_malloc'ed). Negative amounts keep their sign. */
char *mollie_amount_value(gint64 minor, const char *currency);

#endif
