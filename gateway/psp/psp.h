/*
 * psp — the payment service provider driver interface: create a checkout for an invoice,
 * verify and parse a callback, fetch a payment's state. One driver per provider
 * (stripe.c, mollie.c); each talks to the API base URL of its `psp NAME { ... }` section,
 * so tests point it at tests/psp-sim.
 *
 * Strings in the out-structures are g_malloc'ed and belong to the caller
 * (psp_checkout_clear, psp_payment_clear, psp_callback_clear). Errors come back in *err
 * (g_malloc'ed, never containing a secret) for the caller to log once.
 */
#ifndef REGLO_PSP_H
#define REGLO_PSP_H

#include <glib.h>
#include <time.h>

#include "conf.h"

typedef enum {
    PSP_OK = 0,
    PSP_ERR_NETWORK,          /* could not reach the PSP, timeout: try again later */
    PSP_ERR_PSP,              /* the PSP answered with an error or something unreadable */
    PSP_ERR_REJECTED,         /* a callback that fails verification: bad signature, too old,
                                 malformed; answer 400 and do nothing */
} psp_result;

typedef struct psp_checkout_req {
    gint64 invoice_id;
    const char *invoice_number;
    gint64 amount_minor;
    const char *currency;     /* ISO 4217 */
    const char *description;  /* "Facture F-2026-0042 — Plomberie Dupont" */
    const char *customer_email;   /* may be NULL */
    const char *locale;           /* "fr" or "en" */
    const char *redirect_url;     /* back to the payment page after paying */
    const char *cancel_url;       /* back to the payment page after abandoning */
    const char *webhook_url;      /* where the PSP calls back (Mollie: per payment) */
} psp_checkout_req;

typedef struct psp_checkout {
    char *ref;                /* tr_... (Mollie payment id), cs_... (Stripe session id) */
    char *url;                /* where to send the client's browser */
} psp_checkout;

typedef enum {
    PSP_STATE_OPEN = 0,       /* created, client not done */
    PSP_STATE_PENDING,        /* client authorised, bank settlement pending */
    PSP_STATE_PAID,
    PSP_STATE_FAILED,
    PSP_STATE_CANCELED,
    PSP_STATE_EXPIRED,
} psp_state;

typedef struct psp_payment {
    char *ref;
    psp_state state;
    gint64 amount_minor;      /* what was paid (or is to be paid) */
    char currency[4];
    gint64 invoice_id;        /* from the metadata we set at creation; 0 when absent */
    char *payer_name;         /* may be NULL */
} psp_payment;

typedef struct psp_callback {
    char *event_id;           /* idempotency key of this callback */
    char *ref;                /* the payment/session it is about */
} psp_callback;

typedef struct psp_driver {
    const char *name;
    /* Request header carrying the callback signature, or NULL when the PSP does not sign. */
    const char *signature_header;
    psp_result (*create_checkout)(const psp_conf *conf, const psp_checkout_req *req,
                                  psp_checkout *out, char **err);
    /* body is the raw request body (len bytes, not NUL-terminated); signature may be NULL. */
    psp_result (*parse_callback)(const psp_conf *conf, const char *signature,
                                 const char *body, size_t len, time_t now,
                                 psp_callback *out, char **err);
    psp_result (*fetch)(const psp_conf *conf, const char *ref, psp_payment *out, char **err);
} psp_driver;

/* The driver called name ("stripe", "mollie"), or NULL. */
const psp_driver *psp_driver_find(const char *name);
const char *psp_state_name(psp_state state);

void psp_checkout_clear(psp_checkout *c);
void psp_payment_clear(psp_payment *p);
void psp_callback_clear(psp_callback *c);

#endif
