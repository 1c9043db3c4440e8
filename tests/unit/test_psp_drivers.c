/*
 * test_psp_drivers — the Mollie and Stripe drivers against tests/psp-sim, the local PSP
 * emulator: create a checkout (and check the request the emulator recorded), fetch before
 * and after paying, pending/failed/cancelled/expired states, a paid amount that differs,
 * the callbacks the emulator signs, a closed port (PSP_ERR_NETWORK), a wrong key and an
 * unknown payment (PSP_ERR_PSP), an oversized answer.
 *
 * main() starts the emulator on a free loopback port and stops it (by pid) at the end.
 * Without python3 the suite is skipped with a visible notice.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "http.h"
#include "../../gateway/psp/mollie.h"
#include "../../gateway/psp/psp.h"
#include "../../gateway/psp/stripe.h"
#include "testutil.h"

#define SIM_PATH     "tests/psp-sim/psp-sim"
#define MOLLIE_KEY   "test_unit_mollie_key_0123456789"
#define STRIPE_KEY   "sk_test_unit_0123456789"
#define WHSEC        "whsec_unit_secret"

static GPid sim_pid;
static int sim_port;
static char *sim_dir;

/* ---- the emulator ---- */

static char *sim_url(const char *path)
{
    return g_strdup_printf("http://127.0.0.1:%d%s", sim_port, path);
}

/* One control/inspection call to the emulator: the HTTP status, *out its JSON answer. */
static long sim_call(const char *method, const char *path, json_t **out)
{
    char *url = sim_url(path), *err = NULL;
    http_req req = { .method = method, .url = url };
    http_resp resp;
    int rc = http_request(&req, &resp, &err);
    ck_assert_msg(rc == HTTP_OK, "%s %s: %s", method, path, err ? err : "");
    if (out) {
        *out = http_resp_json(&resp, &err);
        ck_assert_msg(*out != NULL, "%s %s: %s", method, path, err ? err : "");
    }
    long status = resp.status;
    http_resp_clear(&resp);
    g_free(url);
    return status;
}

/* The last API request the emulator recorded. */
static json_t *sim_last_request(void)
{
    json_t *list = NULL;
    ck_assert_int_eq(sim_call("GET", "/_sim/requests", &list), 200);
    ck_assert(json_array_size(list) > 0);
    json_t *last = json_incref(json_array_get(list, json_array_size(list) - 1));
    json_decref(list);
    return last;
}

/* The last webhook the emulator built for this payment/session, or NULL. */
static json_t *sim_last_webhook(const char *ref)
{
    json_t *list = NULL, *found = NULL, *w;
    size_t i;
    ck_assert_int_eq(sim_call("GET", "/_sim/webhooks", &list), 200);
    json_array_foreach(list, i, w)
        if (g_strcmp0(json_string_value(json_object_get(w, "object")), ref) == 0)
            found = w;
    json_incref(found);
    json_decref(list);
    return found;
}

static void sim_act(const char *ref, const char *action, const char *query)
{
    char *path = g_strdup_printf("/_sim/%s/%s%s", ref, action, query ? query : "");
    json_t *out = NULL;
    long status = sim_call("POST", path, &out);
    ck_assert_msg(status == 200, "%s -> %ld", path, status);
    json_decref(out);
    g_free(path);
}

static gboolean sim_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    gboolean ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A loopback port nobody listens on (bound, then released). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

static gboolean sim_start(const char *python)
{
    GError *gerr = NULL;
    sim_dir = g_dir_make_tmp("psp-sim-XXXXXX", &gerr);
    if (!sim_dir) {
        fprintf(stderr, "cannot make a temporary directory: %s\n", gerr->message);
        g_error_free(gerr);
        return FALSE;
    }
    char *port_file = g_build_filename(sim_dir, "port", NULL);
    char *argv[] = { (char *)python, SIM_PATH, "--port", "0", "--port-file", port_file,
                     "--mollie-key", MOLLIE_KEY, "--stripe-key", STRIPE_KEY,
                     "--stripe-webhook-secret", WHSEC, NULL };
    /* its one line per request goes to a file, shown when something fails */
    char *log_file = g_build_filename(sim_dir, "log", NULL);
    int log_fd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_free(log_file);
    gboolean started = log_fd >= 0
        && g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                  &sim_pid, -1, -1, log_fd, &gerr);
    if (log_fd >= 0)
        close(log_fd);
    if (!started) {
        fprintf(stderr, "cannot start %s: %s\n", SIM_PATH, gerr ? gerr->message : "no log file");
        g_clear_error(&gerr);
        g_free(port_file);
        return FALSE;
    }
    for (int i = 0; i < 200 && sim_port == 0; i++) {   /* up to 10 s */
        char *text = NULL;
        if (g_file_get_contents(port_file, &text, NULL, NULL))
            sim_port = atoi(text);
        g_free(text);
        if (sim_port == 0)
            g_usleep(50 * 1000);
    }
    g_free(port_file);
    return sim_port > 0 && sim_port_open(sim_port);
}

static void sim_show_log(void)
{
    char *log_file = g_build_filename(sim_dir, "log", NULL), *text = NULL;
    if (g_file_get_contents(log_file, &text, NULL, NULL))
        fprintf(stderr, "---- psp-sim log ----\n%s---- end of psp-sim log ----\n", text);
    g_free(text);
    g_free(log_file);
}

static void sim_stop(void)
{
    if (sim_pid > 0) {
        kill(sim_pid, SIGTERM);
        int status = 0, i;
        for (i = 0; i < 100 && waitpid(sim_pid, &status, WNOHANG) == 0; i++)
            g_usleep(50 * 1000);
        if (i == 100) {
            kill(sim_pid, SIGKILL);
            waitpid(sim_pid, &status, 0);
        }
        g_spawn_close_pid(sim_pid);
    }
    if (sim_dir) {
        static const char *const files[] = { "port", "log" };
        for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
            char *f = g_build_filename(sim_dir, files[i], NULL);
            unlink(f);
            g_free(f);
        }
        rmdir(sim_dir);
        g_free(sim_dir);
    }
}

/* ---- fixtures ---- */

static psp_conf mollie_conf(const char *base, const char *key)
{
    return (psp_conf){ .name = "mollie", .api_base = (char *)base, .api_key = (char *)key };
}

static psp_conf stripe_conf(const char *base, const char *key)
{
    return (psp_conf){ .name = "stripe", .api_base = (char *)base, .secret_key = (char *)key,
                       .webhook_secret = WHSEC };
}

static const psp_checkout_req checkout_req = {
    .invoice_id = 42,
    .invoice_number = "F-2026-0042",
    .amount_minor = 123456,
    .currency = "EUR",
    .description = "Facture F-2026-0042 \xe2\x80\x94 Plomberie Dupont",
    .customer_email = "client@example.org",
    .locale = "fr",
    .redirect_url = "http://127.0.0.1:1/p/TOKEN",
    .cancel_url = "http://127.0.0.1:1/p/TOKEN?cancelled=1",
    .webhook_url = "http://127.0.0.1:1/webhooks/mollie",
};

/* A new checkout at the emulator; its reference (g_malloc'ed). */
static char *create(const psp_driver *d, const psp_conf *conf)
{
    psp_checkout co;
    char *err = NULL;
    psp_result rc = d->create_checkout(conf, &checkout_req, &co, &err);
    ck_assert_msg(rc == PSP_OK, "%s create: %s", d->name, err ? err : "");
    ck_assert_ptr_null(err);
    char *checkout_path = g_strdup_printf("/checkout/%s", co.ref);
    ck_assert_msg(strstr(co.url, checkout_path) != NULL, "url %s", co.url);
    g_free(checkout_path);
    char *ref = g_strdup(co.ref);
    psp_checkout_clear(&co);
    return ref;
}

static void fetch_ok(const psp_driver *d, const psp_conf *conf, const char *ref, psp_payment *p)
{
    char *err = NULL;
    psp_result rc = d->fetch(conf, ref, p, &err);
    ck_assert_msg(rc == PSP_OK, "%s fetch: %s", d->name, err ? err : "");
    ck_assert_str_eq(p->ref, ref);
}

static psp_state fetch_state(const psp_driver *d, const psp_conf *conf, const char *ref)
{
    psp_payment p;
    fetch_ok(d, conf, ref, &p);
    psp_state s = p.state;
    psp_payment_clear(&p);
    return s;
}

static const char *json_path_str(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v);
}

/* ---- Mollie ---- */

START_TEST(test_mollie_pay)
{
    char *base = sim_url("");
    psp_conf conf = mollie_conf(base, MOLLIE_KEY);
    char *ref = create(&mollie_driver, &conf);
    ck_assert_msg(g_str_has_prefix(ref, "tr_"), "ref %s", ref);

    json_t *req = sim_last_request();
    ck_assert(json_is_true(json_object_get(req, "valid")));
    json_t *params = json_object_get(req, "params");
    ck_assert_str_eq(json_path_str(json_object_get(params, "amount"), "value", NULL), "1234.56");
    ck_assert_str_eq(json_path_str(json_object_get(params, "amount"), "currency", NULL), "EUR");
    ck_assert_str_eq(json_path_str(params, "metadata", "invoice_id"), "42");
    ck_assert_str_eq(json_path_str(params, "webhookUrl", NULL), checkout_req.webhook_url);
    ck_assert_str_eq(json_path_str(params, "description", NULL), checkout_req.description);
    ck_assert_str_eq(json_path_str(params, "locale", NULL), "fr_FR");
    json_decref(req);

    psp_payment p;
    fetch_ok(&mollie_driver, &conf, ref, &p);
    ck_assert_int_eq(p.state, PSP_STATE_OPEN);
    ck_assert_int_eq(p.amount_minor, 123456);
    ck_assert_str_eq(p.currency, "EUR");
    ck_assert_int_eq(p.invoice_id, 42);
    psp_payment_clear(&p);

    sim_act(ref, "pay", NULL);
    fetch_ok(&mollie_driver, &conf, ref, &p);
    ck_assert_int_eq(p.state, PSP_STATE_PAID);
    ck_assert_int_eq(p.amount_minor, 123456);
    ck_assert_str_eq(p.currency, "EUR");
    ck_assert_int_eq(p.invoice_id, 42);
    ck_assert_str_eq(p.payer_name, "Jeanne Client");
    psp_payment_clear(&p);

    /* the callback the emulator sent: unsigned form "id=tr_..." */
    json_t *hook = sim_last_webhook(ref);
    ck_assert_ptr_nonnull(hook);
    const char *body = json_path_str(hook, "body", NULL);
    psp_callback cb;
    char *err = NULL;
    ck_assert_int_eq(mollie_driver.parse_callback(&conf, NULL, body, strlen(body), time(NULL),
                                                  &cb, &err), PSP_OK);
    ck_assert_str_eq(cb.ref, ref);
    ck_assert_str_eq(cb.event_id, ref);
    psp_callback_clear(&cb);
    json_decref(hook);
    g_free(ref);
    g_free(base);
}
END_TEST

START_TEST(test_mollie_states)
{
    static const struct { const char *action; psp_state state; } cases[] = {
        { "pending", PSP_STATE_PENDING }, { "fail", PSP_STATE_FAILED },
        { "abandon", PSP_STATE_CANCELED }, { "expire", PSP_STATE_EXPIRED },
    };
    char *base = sim_url("");
    psp_conf conf = mollie_conf(base, MOLLIE_KEY);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *ref = create(&mollie_driver, &conf);
        sim_act(ref, cases[i].action, NULL);
        ck_assert_msg(fetch_state(&mollie_driver, &conf, ref) == cases[i].state, "%s",
                      cases[i].action);
        g_free(ref);
    }
    /* pending, then paid */
    char *ref = create(&mollie_driver, &conf);
    sim_act(ref, "pending", NULL);
    sim_act(ref, "pay", NULL);
    ck_assert_int_eq(fetch_state(&mollie_driver, &conf, ref), PSP_STATE_PAID);
    g_free(ref);
    g_free(base);
}
END_TEST

START_TEST(test_mollie_other_amount)
{
    char *base = sim_url("");
    psp_conf conf = mollie_conf(base, MOLLIE_KEY);
    char *ref = create(&mollie_driver, &conf);
    sim_act(ref, "pay", "?amount=100005");
    psp_payment p;
    fetch_ok(&mollie_driver, &conf, ref, &p);
    ck_assert_int_eq(p.state, PSP_STATE_PAID);
    ck_assert_int_eq(p.amount_minor, 100005);
    psp_payment_clear(&p);
    g_free(ref);
    g_free(base);
}
END_TEST

START_TEST(test_mollie_bad_callbacks)
{
    psp_conf conf = mollie_conf("http://127.0.0.1:1", MOLLIE_KEY);
    static const char *const bodies[] = {
        "", "id=", "id=foo", "id=tr_", "id=tr_a%2F..", "id=tr_abc&id=tr_def", "ID=tr_abc",
        "id=tr_abc%00", "id=tr_0123456789012345678901234567890123456789012345678901234567890123456789",
        "\xff\xfe",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        psp_callback cb;
        char *err = NULL;
        ck_assert_msg(mollie_driver.parse_callback(&conf, NULL, bodies[i], strlen(bodies[i]),
                                                   0, &cb, &err) == PSP_ERR_REJECTED,
                      "accepted '%s'", bodies[i]);
        ck_assert_ptr_null(cb.ref);
        g_free(err);
    }
    /* other fields are ignored; an embedded NUL ends the body */
    const char body[] = "foo=1&id=tr_Ab12\0&id=tr_other";
    psp_callback cb;
    char *err = NULL;
    ck_assert_int_eq(mollie_driver.parse_callback(&conf, NULL, body, sizeof body - 1, 0, &cb,
                                                  &err), PSP_OK);
    ck_assert_str_eq(cb.ref, "tr_Ab12");
    psp_callback_clear(&cb);
    char *big = g_strnfill(5000, 'a');
    ck_assert_int_eq(mollie_driver.parse_callback(&conf, NULL, big, strlen(big), 0, &cb, &err),
                     PSP_ERR_REJECTED);
    g_free(err);
    g_free(big);
}
END_TEST

START_TEST(test_mollie_amount_value)
{
    static const struct { gint64 minor; const char *cur, *want; } cases[] = {
        { 123456, "EUR", "1234.56" }, { 5, "EUR", "0.05" }, { 100, "eur", "1.00" },
        { 1000, "JPY", "1000" }, { 1, "KWD", "0.001" }, { -150, "EUR", "-1.50" },
        { G_MAXINT64, "EUR", "92233720368547758.07" },
        { G_MININT64, "EUR", "-92233720368547758.08" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *v = mollie_amount_value(cases[i].minor, cases[i].cur);
        ck_assert_str_eq(v, cases[i].want);
        g_free(v);
    }
}
END_TEST

/* ---- Stripe ---- */

/* parse_callback on the event the emulator signed for ref; returns the event id. */
static char *stripe_callback_from_sim(const psp_conf *conf, const char *ref, const char *type)
{
    json_t *hook = sim_last_webhook(ref);
    ck_assert_ptr_nonnull(hook);
    ck_assert_str_eq(json_path_str(hook, "kind", NULL), type);
    const char *body = json_path_str(hook, "body", NULL);
    const char *sig = json_path_str(hook, "headers", "Stripe-Signature");
    ck_assert_ptr_nonnull(sig);
    psp_callback cb;
    char *err = NULL;
    psp_result rc = stripe_driver.parse_callback(conf, sig, body, strlen(body), time(NULL),
                                                 &cb, &err);
    ck_assert_msg(rc == PSP_OK, "parse_callback: %s", err ? err : "");
    ck_assert_str_eq(cb.ref, ref);
    ck_assert(g_str_has_prefix(cb.event_id, "evt_"));
    char *event_id = g_strdup(cb.event_id);
    psp_callback_clear(&cb);

    /* the same event with a byte changed, or checked with another secret: rejected */
    char *tampered = g_strdup(body);
    char *amount = strstr(tampered, "\"amount_total\": ");
    ck_assert_ptr_nonnull(amount);
    amount[strlen("\"amount_total\": ")] = '9';
    ck_assert_int_eq(stripe_driver.parse_callback(conf, sig, tampered, strlen(tampered),
                                                  time(NULL), &cb, &err), PSP_ERR_REJECTED);
    g_free(err);
    err = NULL;
    psp_conf other = *conf;
    other.webhook_secret = "whsec_not_this_one";
    ck_assert_int_eq(stripe_driver.parse_callback(&other, sig, body, strlen(body), time(NULL),
                                                  &cb, &err), PSP_ERR_REJECTED);
    g_free(err);
    err = NULL;
    ck_assert_int_eq(stripe_driver.parse_callback(conf, sig, body, strlen(body),
                                                  time(NULL) + 3600, &cb, &err),
                     PSP_ERR_REJECTED);
    g_free(err);
    g_free(tampered);
    json_decref(hook);
    return event_id;
}

START_TEST(test_stripe_pay)
{
    char *base = sim_url("");
    psp_conf conf = stripe_conf(base, STRIPE_KEY);
    char *ref = create(&stripe_driver, &conf);
    ck_assert_msg(g_str_has_prefix(ref, "cs_"), "ref %s", ref);

    json_t *req = sim_last_request();
    ck_assert_msg(json_is_true(json_object_get(req, "valid")), "%s",
                  json_dumps(json_object_get(req, "errors"), 0));
    json_t *params = json_object_get(req, "params");
    ck_assert_str_eq(json_path_str(params, "mode", NULL), "payment");
    ck_assert_str_eq(json_path_str(params, "line_items[0][price_data][unit_amount]", NULL),
                     "123456");
    ck_assert_str_eq(json_path_str(params, "line_items[0][price_data][currency]", NULL), "eur");
    ck_assert_str_eq(json_path_str(params, "line_items[0][price_data][product_data][name]",
                                   NULL), checkout_req.description);
    ck_assert_str_eq(json_path_str(params, "line_items[0][quantity]", NULL), "1");
    ck_assert_str_eq(json_path_str(params, "client_reference_id", NULL), "42");
    ck_assert_str_eq(json_path_str(params, "metadata[invoice_id]", NULL), "42");
    ck_assert_str_eq(json_path_str(params, "payment_method_types[0]", NULL), "card");
    ck_assert_str_eq(json_path_str(params, "success_url", NULL), checkout_req.redirect_url);
    ck_assert_str_eq(json_path_str(params, "cancel_url", NULL), checkout_req.cancel_url);
    json_decref(req);

    psp_payment p;
    fetch_ok(&stripe_driver, &conf, ref, &p);
    ck_assert_int_eq(p.state, PSP_STATE_OPEN);
    ck_assert_int_eq(p.amount_minor, 123456);
    ck_assert_str_eq(p.currency, "EUR");
    ck_assert_int_eq(p.invoice_id, 42);
    psp_payment_clear(&p);

    sim_act(ref, "pay", NULL);
    fetch_ok(&stripe_driver, &conf, ref, &p);
    ck_assert_int_eq(p.state, PSP_STATE_PAID);
    ck_assert_int_eq(p.amount_minor, 123456);
    ck_assert_str_eq(p.currency, "EUR");
    ck_assert_int_eq(p.invoice_id, 42);
    ck_assert_str_eq(p.payer_name, "Jeanne Client");
    psp_payment_clear(&p);

    /* a resent event keeps its id (the caller's idempotency key) and verifies again */
    char *first = stripe_callback_from_sim(&conf, ref, "checkout.session.completed");
    char *path = g_strdup_printf("/_sim/resend/%s", ref);
    json_t *out = NULL;
    ck_assert_int_eq(sim_call("POST", path, &out), 200);
    json_decref(out);
    g_free(path);
    char *again = stripe_callback_from_sim(&conf, ref, "checkout.session.completed (resent)");
    ck_assert_str_eq(again, first);
    g_free(again);
    g_free(first);
    g_free(ref);
    g_free(base);
}
END_TEST

START_TEST(test_stripe_async)
{
    char *base = sim_url("");
    psp_conf conf = stripe_conf(base, STRIPE_KEY);

    /* async debit under way, then it fails */
    char *ref = create(&stripe_driver, &conf);
    sim_act(ref, "pending", NULL);
    ck_assert_int_eq(fetch_state(&stripe_driver, &conf, ref), PSP_STATE_PENDING);
    g_free(stripe_callback_from_sim(&conf, ref, "checkout.session.completed"));
    sim_act(ref, "fail", NULL);
    ck_assert_int_eq(fetch_state(&stripe_driver, &conf, ref), PSP_STATE_FAILED);
    g_free(stripe_callback_from_sim(&conf, ref, "checkout.session.async_payment_failed"));
    g_free(ref);

    /* async debit under way, then it succeeds */
    ref = create(&stripe_driver, &conf);
    sim_act(ref, "pending", NULL);
    sim_act(ref, "pay", NULL);
    ck_assert_int_eq(fetch_state(&stripe_driver, &conf, ref), PSP_STATE_PAID);
    g_free(stripe_callback_from_sim(&conf, ref, "checkout.session.async_payment_succeeded"));
    g_free(ref);
    g_free(base);
}
END_TEST

START_TEST(test_stripe_expired)
{
    char *base = sim_url("");
    psp_conf conf = stripe_conf(base, STRIPE_KEY);
    char *ref = create(&stripe_driver, &conf);
    sim_act(ref, "abandon", NULL);
    ck_assert_int_eq(fetch_state(&stripe_driver, &conf, ref), PSP_STATE_EXPIRED);
    ck_assert_ptr_null(sim_last_webhook(ref));
    g_free(ref);

    ref = create(&stripe_driver, &conf);
    sim_act(ref, "expire", NULL);
    ck_assert_int_eq(fetch_state(&stripe_driver, &conf, ref), PSP_STATE_EXPIRED);
    g_free(stripe_callback_from_sim(&conf, ref, "checkout.session.expired"));
    g_free(ref);
    g_free(base);
}
END_TEST

START_TEST(test_stripe_other_amount)
{
    char *base = sim_url("");
    psp_conf conf = stripe_conf(base, STRIPE_KEY);
    char *ref = create(&stripe_driver, &conf);
    sim_act(ref, "pay", "?amount=99");
    psp_payment p;
    fetch_ok(&stripe_driver, &conf, ref, &p);
    ck_assert_int_eq(p.state, PSP_STATE_PAID);
    ck_assert_int_eq(p.amount_minor, 99);
    psp_payment_clear(&p);
    g_free(ref);
    g_free(base);
}
END_TEST

/* ---- errors ---- */

static void expect_error(const psp_driver *d, const psp_conf *conf, const char *ref,
                         psp_result want, const char *text, const char *secret)
{
    psp_checkout co;
    psp_payment p;
    char *err = NULL;
    if (!ref) {
        ck_assert_int_eq(d->create_checkout(conf, &checkout_req, &co, &err), want);
        ck_assert_ptr_null(co.ref);
    } else {
        ck_assert_int_eq(d->fetch(conf, ref, &p, &err), want);
        ck_assert_ptr_null(p.ref);
    }
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, text) != NULL, "'%s' lacks '%s'", err, text);
    ck_assert_msg(!secret || strstr(err, secret) == NULL, "'%s' quotes the secret", err);
    g_free(err);
}

START_TEST(test_network_error)
{
    char *base = g_strdup_printf("http://127.0.0.1:%d", closed_port());
    psp_conf m = mollie_conf(base, MOLLIE_KEY), s = stripe_conf(base, STRIPE_KEY);
    expect_error(&mollie_driver, &m, NULL, PSP_ERR_NETWORK, "mollie: create payment",
                 MOLLIE_KEY);
    expect_error(&mollie_driver, &m, "tr_abc", PSP_ERR_NETWORK, "mollie: fetch payment",
                 MOLLIE_KEY);
    expect_error(&stripe_driver, &s, NULL, PSP_ERR_NETWORK, "stripe: create session",
                 STRIPE_KEY);
    expect_error(&stripe_driver, &s, "cs_test_abc", PSP_ERR_NETWORK, "stripe: fetch session",
                 STRIPE_KEY);
    g_free(base);
}
END_TEST

START_TEST(test_psp_error)
{
    char *base = sim_url("");
    psp_conf m = mollie_conf(base, "test_wrong_key"), s = stripe_conf(base, "sk_test_wrong");
    expect_error(&mollie_driver, &m, NULL, PSP_ERR_PSP, "HTTP 401", "test_wrong_key");
    expect_error(&mollie_driver, &m, "tr_abc", PSP_ERR_PSP, "HTTP 401", "test_wrong_key");
    expect_error(&stripe_driver, &s, NULL, PSP_ERR_PSP, "HTTP 401", "sk_test_wrong");
    expect_error(&stripe_driver, &s, "cs_test_abc", PSP_ERR_PSP, "HTTP 401", "sk_test_wrong");

    json_t *req = sim_last_request();
    ck_assert(json_is_false(json_object_get(req, "valid")));
    json_decref(req);

    /* unknown payment / session */
    m = mollie_conf(base, MOLLIE_KEY);
    s = stripe_conf(base, STRIPE_KEY);
    expect_error(&mollie_driver, &m, "tr_unknown1", PSP_ERR_PSP, "HTTP 404", NULL);
    expect_error(&stripe_driver, &s, "cs_test_unknown", PSP_ERR_PSP, "resource_missing", NULL);

    /* refused before any request: bad references, no api_base, no key, bad request */
    expect_error(&mollie_driver, &m, "tr_../../x", PSP_ERR_PSP, "invalid payment id", NULL);
    expect_error(&stripe_driver, &s, "cs_a?b=c", PSP_ERR_PSP, "invalid session id", NULL);
    psp_conf nobase = mollie_conf(NULL, MOLLIE_KEY), nokey = stripe_conf(base, NULL);
    expect_error(&mollie_driver, &nobase, NULL, PSP_ERR_PSP, "api_base", NULL);
    expect_error(&stripe_driver, &nokey, "cs_test_abc", PSP_ERR_PSP, "secret_key", NULL);
    psp_checkout_req bad = checkout_req;
    bad.amount_minor = 0;
    psp_checkout co;
    char *err = NULL;
    ck_assert_int_eq(stripe_driver.create_checkout(&s, &bad, &co, &err), PSP_ERR_PSP);
    g_free(err);
    err = NULL;
    bad = checkout_req;
    bad.currency = "EURO";
    ck_assert_int_eq(mollie_driver.create_checkout(&m, &bad, &co, &err), PSP_ERR_PSP);
    g_free(err);
    err = NULL;
    bad = checkout_req;
    bad.webhook_url = NULL;
    ck_assert_int_eq(mollie_driver.create_checkout(&m, &bad, &co, &err), PSP_ERR_PSP);
    g_free(err);
    err = NULL;
    bad = checkout_req;
    bad.redirect_url = "javascript:alert(1)";
    ck_assert_int_eq(stripe_driver.create_checkout(&s, &bad, &co, &err), PSP_ERR_PSP);
    g_free(err);
    g_free(base);
}
END_TEST

START_TEST(test_oversized_answer)
{
    char *base = sim_url("/_sim/big");
    psp_conf m = mollie_conf(base, MOLLIE_KEY);
    expect_error(&mollie_driver, &m, "tr_abc", PSP_ERR_PSP, "larger than", MOLLIE_KEY);
    g_free(base);
}
END_TEST

START_TEST(test_driver_table)
{
    ck_assert_ptr_eq(psp_driver_find("stripe"), &stripe_driver);
    ck_assert_ptr_eq(psp_driver_find("mollie"), &mollie_driver);
    ck_assert_ptr_null(psp_driver_find("paypal"));
    ck_assert_ptr_null(psp_driver_find(NULL));
    ck_assert_str_eq(stripe_driver.signature_header, "Stripe-Signature");
    ck_assert_ptr_null(mollie_driver.signature_header);
    ck_assert_str_eq(psp_state_name(PSP_STATE_OPEN), "open");
    ck_assert_str_eq(psp_state_name(PSP_STATE_PAID), "paid");
    ck_assert_str_eq(psp_state_name(PSP_STATE_EXPIRED), "expired");
    ck_assert_str_eq(psp_state_name((psp_state)99), "unknown");
}
END_TEST

static Suite *psp_drivers_suite(void)
{
    Suite *s = suite_create("psp_drivers");
    TCase *tc = tcase_create("sim");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_driver_table);
    tcase_add_test(tc, test_mollie_amount_value);
    tcase_add_test(tc, test_mollie_bad_callbacks);
    tcase_add_test(tc, test_mollie_pay);
    tcase_add_test(tc, test_mollie_states);
    tcase_add_test(tc, test_mollie_other_amount);
    tcase_add_test(tc, test_stripe_pay);
    tcase_add_test(tc, test_stripe_async);
    tcase_add_test(tc, test_stripe_expired);
    tcase_add_test(tc, test_stripe_other_amount);
    tcase_add_test(tc, test_network_error);
    tcase_add_test(tc, test_psp_error);
    tcase_add_test(tc, test_oversized_answer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char *python = g_find_program_in_path("python3");
    if (!python) {
        fprintf(stderr, "SKIP: test_psp_drivers: python3 not found, %s cannot run\n", SIM_PATH);
        return EXIT_SUCCESS;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = 1;
    if (sim_start(python)) {
        failed = testutil_run(psp_drivers_suite());
    } else {
        fprintf(stderr, "test_psp_drivers: %s did not start\n", SIM_PATH);
    }
    if (failed && sim_dir)
        sim_show_log();
    sim_stop();
    g_free(python);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
