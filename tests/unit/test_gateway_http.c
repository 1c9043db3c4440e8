/*
 * Unit tests of reglo-gateway's HTTP side without a database or a socket: listen address
 * parsing, the Content-Security-Policy, form fields, Accept-Language, token paths, and
 * server_dispatch's routing, methods, static files and headers (requests whose answer
 * needs no database: malformed tokens, static files, unknown paths).
 */
#include <check.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>

#include "../../gateway/page.h"
#include "../../gateway/server.h"
#include "testutil.h"

static char *tmpdir;
static gw_snapshot snap;

/* A configuration whose templates are the repository's, with two PSPs. */
static void setup(void)
{
    tmpdir = g_dir_make_tmp("reglo-gw-XXXXXX", NULL);
    char *cwd = g_get_current_dir();
    char *conf_path = g_build_filename(tmpdir, "reglo.conf", NULL);
    char *text = g_strdup_printf(
        "gateway { public_url = \"https://pay.example.fr/\" }\n"
        "templates { dir = \"%s/templates\" }\n"
        "psp mollie { api_base = \"https://api.mollie.com/v2\" api_key = \"k\" }\n"
        "psp stripe { api_base = \"http://127.0.0.1:9999\" secret_key = \"s\" }\n"
        "psp other { api_base = \"https://api.mollie.com\" }\n", cwd);
    ck_assert(g_file_set_contents(conf_path, text, -1, NULL));
    char *err = NULL;
    snap.conf = conf_load(conf_path, &err);
    ck_assert_msg(snap.conf != NULL, "%s", err);
    snap.templates = tmpl_set_new(snap.conf->templates_dir);
    snap.refs = 1;
    g_free(text);
    g_free(conf_path);
    g_free(cwd);
}

static void teardown(void)
{
    tmpl_set_free(snap.templates);
    conf_free(snap.conf);
    char *conf_path = g_build_filename(tmpdir, "reglo.conf", NULL);
    g_unlink(conf_path);
    g_rmdir(tmpdir);
    g_free(conf_path);
    g_free(tmpdir);
}

static void dispatch(const char *method, const char *path, const char *body, gw_response *resp)
{
    gw_request req = { .method = method, .path = path, .body = body ? body : "",
                       .body_len = body ? strlen(body) : 0, .client_ip = "127.0.0.1",
                       .snap = &snap };
    memset(resp, 0, sizeof *resp);
    server_dispatch(&req, resp);
}

static const char *header_of(const gw_response *resp, const char *name)
{
    for (guint i = 0; resp->headers && i + 1 < resp->headers->len; i += 2)
        if (g_ascii_strcasecmp(g_ptr_array_index(resp->headers, i), name) == 0)
            return g_ptr_array_index(resp->headers, i + 1);
    return NULL;
}

START_TEST(listen_addresses)
{
    struct sockaddr_storage addr;
    socklen_t len;
    char *err = NULL;
    ck_assert(server_parse_listen("127.0.0.1:8080", &addr, &len, &err));
    ck_assert_int_eq(addr.ss_family, AF_INET);
    ck_assert_int_eq(ntohs(((struct sockaddr_in *) &addr)->sin_port), 8080);
    ck_assert(server_parse_listen("[::1]:443", &addr, &len, &err));
    ck_assert_int_eq(addr.ss_family, AF_INET6);
    ck_assert_int_eq(ntohs(((struct sockaddr_in6 *) &addr)->sin6_port), 443);
    ck_assert(server_parse_listen("*:8081", &addr, &len, &err));
    ck_assert_int_eq(addr.ss_family, AF_INET);
    const char *bad[] = { "", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
                          "127.0.0.1:65536", "127.0.0.1:80x", "::1:8080", "[::1]8080",
                          "[::1", "localhost:80", "1.2.3.4:-1", "1.2.3.4: 80" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        err = NULL;
        ck_assert_msg(!server_parse_listen(bad[i], &addr, &len, &err), "%s", bad[i]);
        ck_assert_ptr_nonnull(err);
        g_free(err);
    }
}
END_TEST

START_TEST(csp)
{
    char *csp = server_csp(snap.conf);
    ck_assert_str_eq(csp, "default-src 'none'; style-src 'self'; img-src 'self'; "
                          "form-action 'self' https://api.mollie.com http://127.0.0.1:9999 "
                          "https:; frame-ancestors 'none'; base-uri 'none'");
    g_free(csp);
}
END_TEST

START_TEST(form_fields)
{
    const char body[] = "lang=en&x=a+b%20c%41&empty=&flag&lang=fr&bad=%zz%4";
    gw_request req = { .body = body, .body_len = sizeof body - 1 };
    char *v;
    ck_assert_str_eq(v = gw_form_field(&req, "lang"), "en");
    g_free(v);
    ck_assert_str_eq(v = gw_form_field(&req, "x"), "a b cA");
    g_free(v);
    ck_assert_str_eq(v = gw_form_field(&req, "empty"), "");
    g_free(v);
    ck_assert_str_eq(v = gw_form_field(&req, "flag"), "");
    g_free(v);
    ck_assert_str_eq(v = gw_form_field(&req, "bad"), "%zz%4");
    g_free(v);
    ck_assert_ptr_null(gw_form_field(&req, "missing"));
    ck_assert_ptr_null(gw_form_field(&req, "la"));
    /* bytes after a NUL are still the body's */
    const char nul[] = "a=1\0&lang=en";
    gw_request req2 = { .body = nul, .body_len = sizeof nul - 1 };
    ck_assert_str_eq(v = gw_form_field(&req2, "lang"), "en");
    g_free(v);
    gw_request empty = { .body = "", .body_len = 0 };
    ck_assert_ptr_null(gw_form_field(&empty, "lang"));
}
END_TEST

START_TEST(accept_language)
{
    ck_assert_str_eq(page_accept_language("en-GB,en;q=0.9,fr;q=0.8"), "en");
    ck_assert_str_eq(page_accept_language("de-DE, en;q=0.5, fr;q=0.7"), "fr");
    ck_assert_str_eq(page_accept_language("fr-CA"), "fr");
    ck_assert_str_eq(page_accept_language("EN"), "en");
    ck_assert_str_eq(page_accept_language("en;q=0, fr;q=0.001"), "fr");
    ck_assert_str_eq(page_accept_language("en;q=0.5, fr;q=0.5"), "en");
    ck_assert_ptr_null(page_accept_language("en;q=0, de"));
    ck_assert_ptr_null(page_accept_language("fra, eng, *"));
    ck_assert_ptr_null(page_accept_language(""));
    ck_assert_ptr_null(page_accept_language(NULL));
    ck_assert_ptr_null(page_accept_language(";;;,,,q=,=;"));
}
END_TEST

START_TEST(token_paths)
{
    char *t;
    ck_assert_str_eq(t = page_token("/p/k1.abc", ""), "k1.abc");
    g_free(t);
    ck_assert_str_eq(t = page_token("/p/k1.abc/qr.png", "/qr.png"), "k1.abc");
    g_free(t);
    ck_assert_ptr_null(page_token("/p/k1.abc/qr.png", ""));
    ck_assert_ptr_null(page_token("/p/", ""));
    ck_assert_ptr_null(page_token("/p/qr.png", "/qr.png"));
    ck_assert_ptr_null(page_token("/p//pay", "/pay"));
    ck_assert_ptr_null(page_token("/q/k1.abc", ""));
    ck_assert_ptr_null(page_token("/p/a/b/pay", "/pay"));
}
END_TEST

START_TEST(routing)
{
    gw_response r;
    dispatch("GET", "/nowhere", NULL, &r);
    ck_assert_uint_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "Page introuvable"));
    ck_assert_str_eq(header_of(&r, "X-Frame-Options"), "DENY");
    ck_assert_str_eq(header_of(&r, "Cache-Control"), "no-store");
    ck_assert_str_eq(header_of(&r, "Strict-Transport-Security"), "max-age=31536000");
    ck_assert_ptr_nonnull(strstr(header_of(&r, "Content-Security-Policy"), "base-uri 'none'"));
    char *notfound = g_strdup(r.body);
    gw_response_clear(&r);

    /* malformed tokens: the same 404, without the database */
    const char *malformed[] = { "/p/x", "/p/k1.short", "/p/x/qr.png", "/p/x/epc.png",
                                "/p/..%2f..", "/p/k1.AAAAAAAAAAAAAAAAAAAAA!" };
    for (size_t i = 0; i < G_N_ELEMENTS(malformed); i++) {
        dispatch("GET", malformed[i], NULL, &r);
        ck_assert_uint_eq(r.status, 404);
        ck_assert_str_eq(r.body, notfound);
        gw_response_clear(&r);
    }
    dispatch("POST", "/p/x/pay", "lang=fr", &r);
    ck_assert_uint_eq(r.status, 404);
    gw_response_clear(&r);

    dispatch("GET", "/p/x/pay", NULL, &r);
    ck_assert_uint_eq(r.status, 405);
    ck_assert_str_eq(header_of(&r, "Allow"), "POST");
    gw_response_clear(&r);
    dispatch("POST", "/p/x", NULL, &r);
    ck_assert_uint_eq(r.status, 405);
    ck_assert_str_eq(header_of(&r, "Allow"), "GET, HEAD");
    gw_response_clear(&r);
    dispatch("DELETE", "/static/reglo.css", NULL, &r);
    ck_assert_uint_eq(r.status, 405);
    gw_response_clear(&r);
    dispatch("GET", "/webhooks/mollie", NULL, &r);
    ck_assert_uint_eq(r.status, 405);
    gw_response_clear(&r);
    dispatch("POST", "/webhooks/", NULL, &r);
    ck_assert_uint_eq(r.status, 404);
    gw_response_clear(&r);
    dispatch("POST", "/webhooks/a/b", NULL, &r);
    ck_assert_uint_eq(r.status, 404);
    gw_response_clear(&r);
    g_free(notfound);
}
END_TEST

START_TEST(static_files)
{
    gw_response r;
    dispatch("GET", "/static/reglo.css", NULL, &r);
    ck_assert_uint_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/css; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(r.body, "box-sizing"));
    ck_assert_str_eq(header_of(&r, "Cache-Control"), "public, max-age=3600");
    ck_assert_str_eq(header_of(&r, "X-Content-Type-Options"), "nosniff");
    gw_response_clear(&r);
    const char *refused[] = { "/static/", "/static/../reglo.conf", "/static/..",
                              "/static/fr/page.html", "/static/.hidden.css", "/static/REGLO.css",
                              "/static/reglo.css/", "/static/none.css", "/static/page.html",
                              "/static/a..css", "/static/reglo.css\n" };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        dispatch("GET", refused[i], NULL, &r);
        ck_assert_msg(r.status == 404, "%s: %u", refused[i], r.status);
        gw_response_clear(&r);
    }
}
END_TEST

START_TEST(helpers)
{
    gw_response r = { 0 };
    gw_response_redirect(&r, 303, "https://x.test/a?b=1&c=\"2\"");
    ck_assert_uint_eq(r.status, 303);
    ck_assert_str_eq(header_of(&r, "Location"), "https://x.test/a?b=1&c=\"2\"");
    ck_assert_ptr_nonnull(strstr(r.body, "b=1&amp;c=&quot;2&quot;"));
    gw_response_clear(&r);
    gw_request req = { 0 };
    ck_assert_ptr_null(gw_request_header(&req, "Accept-Language"));
    ck_assert_ptr_null(gw_request_arg(&req, "lang"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gateway_http");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, listen_addresses);
    tcase_add_test(tc, csp);
    tcase_add_test(tc, form_fields);
    tcase_add_test(tc, accept_language);
    tcase_add_test(tc, token_paths);
    tcase_add_test(tc, routing);
    tcase_add_test(tc, static_files);
    tcase_add_test(tc, helpers);
    suite_add_tcase(s, tc);
    int failed = testutil_run(s);
    return failed ? 1 : 0;
}
