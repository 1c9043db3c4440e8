/*
 * webhook — POST /webhooks/{psp}: the PSP's callbacks, by the five rules. Verify over the
 * raw bytes where the PSP signs (constant time, timestamp tolerance), re-fetch the payment
 * from the PSP, and settle only what the PSP itself says (payment.c): the callback body is
 * never trusted for state or amount. The event id is stored under a unique key with the
 * settlement, so a replay is a no-op answered 200.
 *
 * Answers: 200 when handled or deliberately ignored (the PSP must stop retrying), 400 for a
 * callback that fails verification, 404 for an unknown PSP, 503 when the PSP or our
 * database cannot be reached (the PSP retries later).
 */
#include <string.h>
#include <time.h>

#include "gateway.h"
#include "log.h"
#include "payment.h"

#define WEBHOOK_PREFIX "/webhooks/"

static void answer(gw_response *resp, unsigned status, const char *text)
{
    gw_response_set_body(resp, status, "text/plain; charset=utf-8", g_strdup_printf("%s\n", text),
                         strlen(text) + 1);
}

/*
 * Mollie callbacks carry no event id: the payment id and the state we fetched make the
 * key, so each real change is handled once and replays of it are not.
 */
static char *event_key(const psp_driver *driver, const psp_callback *cb, const psp_payment *p)
{
    if (strcmp(driver->name, "mollie") == 0)
        return g_strdup_printf("%s:%s", cb->ref, psp_state_name(p->state));
    return g_strdup(cb->event_id);
}

static void settle(const gw_request *req, gw_response *resp, const psp_driver *driver,
                   const psp_callback *cb, const psp_payment *p)
{
    char *err = NULL;
    PGconn *db = gw_db(req->snap->conf, &err);
    if (!db) {
        log_error("webhook %s %s: %s", driver->name, cb->ref, err);
        answer(resp, MHD_HTTP_SERVICE_UNAVAILABLE, "database unavailable");
        g_free(err);
        return;
    }
    char *key = event_key(driver, cb, p);
    settle_outcome out = payment_settle(db, req->snap->conf, req->snap->templates, driver->name, key,
                                        p, &err);
    if (out == SETTLE_ERROR) {
        log_error("webhook %s %s: %s", driver->name, cb->ref, err);
        gw_db_check();
        answer(resp, MHD_HTTP_SERVICE_UNAVAILABLE, "try again");
    } else {
        log_info("webhook %s event=%s ref=%s state=%s invoice=%" G_GINT64_FORMAT " outcome=%s",
                 driver->name, key, cb->ref, psp_state_name(p->state), p->invoice_id,
                 settle_outcome_name(out));
        answer(resp, MHD_HTTP_OK, settle_outcome_name(out));
    }
    g_free(key);
    g_free(err);
}

void webhook_handle(const gw_request *req, gw_response *resp)
{
    const char *name = req->path + strlen(WEBHOOK_PREFIX);
    const psp_driver *driver = psp_driver_find(name);
    const psp_conf *conf = driver ? conf_psp(req->snap->conf, driver->name) : NULL;
    if (!conf) {
        answer(resp, MHD_HTTP_NOT_FOUND, "unknown payment provider");
        return;
    }
    const char *signature = driver->signature_header
                            ? gw_request_header(req, driver->signature_header) : NULL;
    psp_callback cb = { 0 };
    psp_payment p = { 0 };
    char *err = NULL;
    psp_result rc = driver->parse_callback(conf, signature, req->body, req->body_len,
                                           time(NULL), &cb, &err);
    if (rc != PSP_OK) {
        log_warn("webhook %s from %s rejected: %s", driver->name, req->client_ip,
                 err ? err : "invalid");
        answer(resp, MHD_HTTP_BAD_REQUEST, "rejected");
    } else if ((rc = driver->fetch(conf, cb.ref, &p, &err)) != PSP_OK) {
        /* Even when the PSP says it does not know the payment (404): that is also what a
         * wrong api_base or key looks like, and a 200 would make the PSP stop retrying a
         * real payment. Only forged callbacks name unknown payments; 503 costs them nothing. */
        log_error("webhook %s %s: cannot fetch the payment: %s", driver->name, cb.ref, err);
        answer(resp, MHD_HTTP_SERVICE_UNAVAILABLE, "payment provider unavailable");
    } else
        settle(req, resp, driver, &cb, &p);
    g_free(err);
    psp_callback_clear(&cb);
    psp_payment_clear(&p);
}
