/*
 * psp — the table of PSP drivers and the out-structure helpers; see psp.h. The drivers
 * themselves live in stripe.c and mollie.c, their shared helpers in driver.c.
 */
#include "psp.h"

#include <string.h>

#include "mollie.h"
#include "stripe.h"

static const psp_driver *const psp_drivers[] = { &stripe_driver, &mollie_driver };

const psp_driver *psp_driver_find(const char *name)
{
    for (size_t i = 0; name && i < G_N_ELEMENTS(psp_drivers); i++)
        if (strcmp(psp_drivers[i]->name, name) == 0)
            return psp_drivers[i];
    return NULL;
}

const char *psp_state_name(psp_state state)
{
    switch (state) {
    case PSP_STATE_OPEN:     return "open";
    case PSP_STATE_PENDING:  return "pending";
    case PSP_STATE_PAID:     return "paid";
    case PSP_STATE_FAILED:   return "failed";
    case PSP_STATE_CANCELED: return "canceled";
    case PSP_STATE_EXPIRED:  return "expired";
    }
    return "unknown";
}

void psp_checkout_clear(psp_checkout *c)
{
    g_free(c->ref);
    g_free(c->url);
    memset(c, 0, sizeof *c);
}

void psp_payment_clear(psp_payment *p)
{
    g_free(p->ref);
    g_free(p->payer_name);
    memset(p, 0, sizeof *p);
}

void psp_callback_clear(psp_callback *c)
{
    g_free(c->event_id);
    g_free(c->ref);
    memset(c, 0, sizeof *c);
}
