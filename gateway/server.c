/*
 * server — libmicrohttpd daemon, request bodies, routing, security headers, static files;
 * see server.h.
 *
 * Per request, libmicrohttpd calls on_access several times: first with the headers (we
 * decide the body cap and refuse a declared oversize body at once), then with body chunks
 * (buffered up to the cap), then once more with nothing left: we route and answer. A
 * request's state (req_state) is freed by on_completed, which also ends its "in flight"
 * count that server_stop waits on.
 *
 * Requests that wait on a PSP's API (the pay button, callbacks) are not answered on
 * libmicrohttpd's threads: the connection is suspended and the request goes to the PSP
 * threads (a GThreadPool, each thread with its own database connection like the others);
 * the answer waits in req_state until the connection is resumed and on_access called once
 * more. A slow or unreachable PSP so holds those threads only, never the payment pages;
 * and the requests in their hands, running or queued, hold at most half of the connection
 * limit: past it they are answered 503 at once (a PSP delivers its callback again, a client
 * clicks again), and the other half stays for the pages.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "page.h"

#define STATIC_MAX_BYTES (2 * 1024 * 1024)

/* ---- responses and requests ----------------------------------------------------------- */

void gw_response_set_body(gw_response *resp, unsigned status, const char *content_type,
                          char *body, size_t len)
{
    g_free(resp->body);
    g_free(resp->content_type);
    resp->status = status;
    resp->content_type = content_type ? g_strdup(content_type) : NULL;
    resp->body = body;
    resp->body_len = len;
}

void gw_response_add_header(gw_response *resp, const char *name, const char *value)
{
    if (!resp->headers)
        resp->headers = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(resp->headers, g_strdup(name));
    g_ptr_array_add(resp->headers, g_strdup(value));
}

static gboolean response_has_header(const gw_response *resp, const char *name)
{
    for (guint i = 0; resp->headers && i + 1 < resp->headers->len; i += 2)
        if (g_ascii_strcasecmp(g_ptr_array_index(resp->headers, i), name) == 0)
            return TRUE;
    return FALSE;
}

void gw_response_redirect(gw_response *resp, unsigned status, const char *location)
{
    char *escaped = g_markup_escape_text(location, -1);
    char *body = g_strdup_printf("<!DOCTYPE html><title>%u</title><a href=\"%s\">%s</a>\n",
                                 status, escaped, escaped);
    g_free(escaped);
    gw_response_set_body(resp, status, NULL, body, strlen(body));
    gw_response_add_header(resp, "Location", location);
}

void gw_response_clear(gw_response *resp)
{
    g_free(resp->content_type);
    g_free(resp->body);
    if (resp->headers)
        g_ptr_array_unref(resp->headers);
    memset(resp, 0, sizeof *resp);
}

const char *gw_request_header(const gw_request *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *gw_request_arg(const gw_request *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name)
                     : NULL;
}

static int hex_value(char c)
{
    return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

/* application/x-www-form-urlencoded decoding of s[0..len): '+' is a space, %XX a byte. */
static char *form_decode(const char *s, size_t len)
{
    GString *out = g_string_sized_new(len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+')
            g_string_append_c(out, ' ');
        else if (s[i] == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
                 hex_value(s[i + 2]) >= 0) {
            g_string_append_c(out, (char) (hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else
            g_string_append_c(out, s[i]);
    }
    return g_string_free(out, FALSE);
}

char *gw_form_field(const gw_request *req, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = req->body, *end = req->body + req->body_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t) (end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t) (stop - p));
        const char *key_end = eq ? eq : stop;
        char *key = form_decode(p, (size_t) (key_end - p));
        gboolean match = strlen(key) == nlen && memcmp(key, name, nlen) == 0;
        g_free(key);
        if (match)
            return eq ? form_decode(eq + 1, (size_t) (stop - eq - 1)) : g_strdup("");
        p = stop + 1;
    }
    return NULL;
}

/* ---- static files, health ------------------------------------------------------------- */

static const char *static_type(const char *name)
{
    static const char *const types[][2] = {
        { ".css", "text/css; charset=utf-8" }, { ".png", "image/png" },
        { ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" }, { ".woff2", "font/woff2" },
        { ".txt", "text/plain; charset=utf-8" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
        if (g_str_has_suffix(name, types[i][0]))
            return types[i][1];
    return NULL;
}

/* Only plain names: [a-z0-9.-], starting with a letter or digit, no "..". */
static gboolean static_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64 || !g_ascii_isalnum(name[0]) || strstr(name, ".."))
        return FALSE;
    for (size_t i = 0; i < len; i++)
        if (!(g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) || name[i] == '.' ||
              name[i] == '-'))
            return FALSE;
    return TRUE;
}

static void static_handle(const gw_request *req, gw_response *resp)
{
    const char *name = req->path + strlen("/static/");
    const char *type = static_name_ok(name) ? static_type(name) : NULL;
    char *path = type ? g_build_filename(req->snap->conf->templates_dir, "static", name, NULL)
                      : NULL;
    struct stat st;
    char *data = NULL;
    gsize len = 0;
    if (path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= STATIC_MAX_BYTES &&
        g_file_get_contents(path, &data, &len, NULL)) {
        gw_response_set_body(resp, 200, type, data, len);
        gw_response_add_header(resp, "Cache-Control", "public, max-age=3600");
    } else
        page_error(req, resp, 404, "notfound", NULL);
    g_free(path);
}

static void health_handle(const gw_request *req, gw_response *resp)
{
    char *err = NULL;
    PGconn *db = gw_db(req->snap->conf, &err);
    PGresult *res = db ? db_exec(db, "SELECT 1", 0, NULL, &err) : NULL;
    if (res) {
        PQclear(res);
        gw_response_set_body(resp, 200, "text/plain; charset=utf-8", g_strdup("ok\n"), 3);
        return;
    }
    log_warn("healthz: %s", err);
    g_free(err);
    gw_db_check();
    gw_response_set_body(resp, 503, "text/plain; charset=utf-8", g_strdup("unavailable\n"), 12);
}

/* ---- routing ---------------------------------------------------------------------------- */

typedef void (*route_fn)(const gw_request *, gw_response *);

typedef struct route {
    const char *name;         /* for the logs: paths carry tokens, never logged */
    route_fn handle;
    gboolean post;            /* POST only; else GET and HEAD */
    gboolean any;             /* GET, HEAD and POST: the handler tells them apart */
    gboolean psp;             /* waits on a PSP's API: runs on the PSP threads */
} route;

static const route ROUTE_PAGE = { "page", page_handle, FALSE, FALSE, FALSE };
static const route ROUTE_PAY = { "pay", pay_handle, TRUE, FALSE, TRUE };
static const route ROUTE_WEBHOOK = { "webhook", webhook_handle, TRUE, FALSE, TRUE };
static const route ROUTE_STATIC = { "static", static_handle, FALSE, FALSE, FALSE };
static const route ROUTE_HEALTH = { "healthz", health_handle, FALSE, FALSE, FALSE };
static const route ROUTE_PORTAL = { "portal", portal_handle, FALSE, TRUE, FALSE };

/* One non-empty path segment at s, ending at the string's end or at the suffix given. */
static gboolean segment_then(const char *s, const char *suffix)
{
    const char *slash = strchr(s, '/');
    size_t seg = slash ? (size_t) (slash - s) : strlen(s);
    return seg > 0 && strcmp(s + seg, suffix) == 0;
}

static const route *route_find(const char *path)
{
    if (g_str_has_prefix(path, "/p/")) {
        const char *rest = path + 3;
        if (segment_then(rest, "") || segment_then(rest, "/qr.png") ||
            segment_then(rest, "/epc.png"))
            return &ROUTE_PAGE;
        if (segment_then(rest, "/pay"))
            return &ROUTE_PAY;
        return NULL;
    }
    if (g_str_has_prefix(path, "/webhooks/"))
        return segment_then(path + 10, "") ? &ROUTE_WEBHOOK : NULL;
    if (g_str_has_prefix(path, "/static/"))
        return &ROUTE_STATIC;
    if (strcmp(path, "/healthz") == 0)
        return &ROUTE_HEALTH;
    if (strcmp(path, "/portal") == 0 || g_str_has_prefix(path, "/portal/"))
        return &ROUTE_PORTAL;
    return NULL;
}

static gboolean method_allowed(const route *r, const char *method)
{
    if (r->post || (r->any && strcmp(method, "POST") == 0))
        return strcmp(method, "POST") == 0;
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* ---- security headers ----------------------------------------------------------------- */

/* "scheme://host[:port]" of an http(s) URL, or NULL; only characters safe in a header. */
static char *url_origin(const char *url)
{
    GUri *uri = url ? g_uri_parse(url, G_URI_FLAGS_NONE, NULL) : NULL;
    char *origin = NULL;
    if (uri) {
        const char *scheme = g_uri_get_scheme(uri), *host = g_uri_get_host(uri);
        int port = g_uri_get_port(uri);
        gboolean safe = host && *host && strspn(host, "abcdefghijklmnopqrstuvwxyz"
                                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")
                                         == strlen(host);
        if (safe && (g_strcmp0(scheme, "http") == 0 || g_strcmp0(scheme, "https") == 0)) {
            gboolean v6 = strchr(host, ':') != NULL;
            char portstr[16] = "";
            if (port > 0)
                g_snprintf(portstr, sizeof portstr, ":%d", port);
            origin = g_strdup_printf("%s://%s%s%s%s", scheme, v6 ? "[" : "", host,
                                     v6 ? "]" : "", portstr);
        }
        g_uri_unref(uri);
    }
    return origin;
}

char *server_csp(const reglo_conf *conf)
{
    GString *csp = g_string_new("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'");
    GPtrArray *seen = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; conf->psps && i < conf->psps->len; i++) {
        const psp_conf *psp = g_ptr_array_index(conf->psps, i);
        char *origin = url_origin(psp->api_base);
        if (!origin)
            continue;
        if (g_ptr_array_find_with_equal_func(seen, origin, g_str_equal, NULL)) {
            g_free(origin);
            continue;
        }
        g_string_append_printf(csp, " %s", origin);
        g_ptr_array_add(seen, origin);
    }
    g_ptr_array_unref(seen);
    g_string_append(csp, " https:; frame-ancestors 'none'; base-uri 'none'");
    return g_string_free(csp, FALSE);
}

static void add_security_headers(const gw_request *req, gw_response *resp)
{
    if (!response_has_header(resp, "Content-Security-Policy")) {
        char *csp = req->snap->csp ? NULL : server_csp(req->snap->conf);
        gw_response_add_header(resp, "Content-Security-Policy", csp ? csp : req->snap->csp);
        g_free(csp);
    }
    gw_response_add_header(resp, "X-Content-Type-Options", "nosniff");
    if (!response_has_header(resp, "Referrer-Policy"))
        gw_response_add_header(resp, "Referrer-Policy", "no-referrer");
    gw_response_add_header(resp, "X-Frame-Options", "DENY");
    if (!response_has_header(resp, "Cache-Control"))
        gw_response_add_header(resp, "Cache-Control", "no-store");
    if (g_str_has_prefix(req->snap->conf->public_url, "https://"))
        gw_response_add_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

void server_dispatch(const gw_request *req, gw_response *resp)
{
    const route *r = route_find(req->path);
    if (!r)
        page_error(req, resp, 404, "notfound", NULL);
    else if (!method_allowed(r, req->method)) {
        page_error(req, resp, 405, "method", NULL);
        gw_response_add_header(resp, "Allow", r->any ? "GET, HEAD, POST"
                                              : r->post ? "POST" : "GET, HEAD");
    } else
        r->handle(req, resp);
    if (resp->status == 0)
        resp->status = 500;
    if (!resp->body)
        resp->body = g_strdup("");
    add_security_headers(req, resp);
    gw_db_check();
    log_debug("http %s %s %u %s", req->method, r ? r->name : "-", resp->status,
              req->client_ip);
}

/* ---- libmicrohttpd glue ------------------------------------------------------------------ */

typedef struct req_state {
    GByteArray *body;
    size_t cap;
    gboolean too_large;
    /* Handed to the PSP threads: what they need, then their answer (sent on resume). */
    struct MHD_Connection *conn;
    const char *url, *method;     /* libmicrohttpd's, valid until the request completes */
    gboolean answered;
    gw_response resp;
} req_state;

static gint in_flight;
static GThreadPool *psp_pool;     /* NULL: every request on libmicrohttpd's threads */
static gint stopping;             /* the PSP threads answer what is still queued with 503 */
static gint psp_held;             /* requests in the PSP threads' hands, running or queued */
static guint psp_held_max;
static gint psp_full_logged;      /* when "PSP threads full" was last logged (monotonic s) */

static void client_ip_of(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    g_strlcpy(buf, "-", size);
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf,
                  (socklen_t) size);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, gw_response *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
        resp->body_len, resp->body, g_free);
    resp->body = NULL;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type
                                               : "text/html; charset=utf-8");
    for (guint i = 0; resp->headers && i + 1 < resp->headers->len; i += 2) {
        const char *name = g_ptr_array_index(resp->headers, i);
        if (MHD_add_response_header(r, name, g_ptr_array_index(resp->headers, i + 1)) != MHD_YES)
            log_warn("http: header %s refused", name);
    }
    enum MHD_Result rc = MHD_queue_response(conn, resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

/* The request as handlers see it (its body NUL-terminated already); ip is the caller's
 * buffer of INET6_ADDRSTRLEN bytes; req->snap is the caller's to put back. */
static gw_request request_of(struct MHD_Connection *conn, const char *url, const char *method,
                             const req_state *st, char *ip)
{
    client_ip_of(conn, ip, INET6_ADDRSTRLEN);
    return (gw_request) {
        .conn = conn, .method = method, .path = url,
        .body = (const char *) st->body->data, .body_len = st->body->len - 1,
        .client_ip = ip, .snap = gw_snapshot_get(),
    };
}

/* 503 for a request the PSP threads do not take: the gateway stops, or they hold as many
 * as they may. A PSP delivers its callback again; a client clicks again. */
static void psp_refuse(const gw_request *req, gw_response *resp)
{
    page_error(req, resp, 503, "unavailable", NULL);
    gw_response_add_header(resp, "Retry-After", "30");
    add_security_headers(req, resp);
}

/* On a PSP thread. libmicrohttpd does not touch a suspended connection, so its headers can
 * be read from here; resuming it hands the answer back to on_access. */
static void psp_run(gpointer data, gpointer unused)
{
    (void) unused;
    req_state *st = data;
    char ip[INET6_ADDRSTRLEN];
    gw_request req = request_of(st->conn, st->url, st->method, st, ip);
    if (g_atomic_int_get(&stopping)) {
        psp_refuse(&req, &st->resp);
        log_info("http %s: stopping, answered 503 (%s)", st->method, ip);
    } else
        server_dispatch(&req, &st->resp);
    gw_snapshot_put(req.snap);
    st->answered = TRUE;
    g_atomic_int_add(&psp_held, -1);
    MHD_resume_connection(st->conn);
}

/* The PSP threads hold as many requests as they may: said at most once a minute (an outage
 * of the PSP brings them by the hundred). */
static void psp_full_log(void)
{
    gint now = (gint) (g_get_monotonic_time() / G_TIME_SPAN_SECOND) + 1;
    gint last = g_atomic_int_get(&psp_full_logged);
    if ((last == 0 || now - last > 60) &&
        g_atomic_int_compare_and_exchange(&psp_full_logged, last, now))
        log_warn("http: %u requests already wait on the PSPs (half the connections): "
                 "answering 503 until they drain", psp_held_max);
}

/* A complete request that waits on a PSP, if the PSP threads run: queued for them, or
 * refused at once when they are full (its answer then ready: st->answered). FALSE: not
 * theirs. */
static gboolean psp_handoff(struct MHD_Connection *conn, const char *url, const char *method,
                            req_state *st)
{
    const route *r = route_find(url);
    if (!psp_pool || st->too_large || !r || !r->psp || !method_allowed(r, method))
        return FALSE;
    if ((guint) g_atomic_int_add(&psp_held, 1) >= psp_held_max) {
        g_atomic_int_add(&psp_held, -1);
        char ip[INET6_ADDRSTRLEN];
        gw_request req = request_of(conn, url, method, st, ip);
        psp_refuse(&req, &st->resp);
        psp_full_log();
        gw_snapshot_put(req.snap);
        st->answered = TRUE;
        return TRUE;
    }
    st->conn = conn;
    st->url = url;
    st->method = method;
    MHD_suspend_connection(conn);
    g_thread_pool_push(psp_pool, st, NULL);
    return TRUE;
}

/* Build the request, route it and queue the answer; body may be empty. */
static enum MHD_Result answer(struct MHD_Connection *conn, const char *url, const char *method,
                              req_state *st)
{
    if (st->answered) {         /* resumed: the PSP thread's answer */
        enum MHD_Result rc = send_response(conn, &st->resp);
        gw_response_clear(&st->resp);
        return rc;
    }
    g_byte_array_append(st->body, (const guint8 *) "", 1);    /* a NUL after the body */
    if (psp_handoff(conn, url, method, st))
        return st->answered ? answer(conn, url, method, st) : MHD_YES;
    char ip[INET6_ADDRSTRLEN];
    gw_request req = request_of(conn, url, method, st, ip);
    gw_response resp = { 0 };
    if (st->too_large) {
        page_error(&req, &resp, 413, "toolarge", NULL);
        gw_response_add_header(&resp, "Connection", "close");
        add_security_headers(&req, &resp);
        log_info("http %s: request body over %zu bytes refused (%s)", method, st->cap, ip);
    } else
        server_dispatch(&req, &resp);
    enum MHD_Result rc = send_response(conn, &resp);
    gw_response_clear(&resp);
    gw_snapshot_put(req.snap);
    return rc;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **ptr)
{
    (void) cls;
    (void) version;
    req_state *st = *ptr;
    if (!st) {
        st = g_new0(req_state, 1);
        st->body = g_byte_array_new();
        st->cap = g_str_has_prefix(url, "/webhooks/") ? SERVER_WEBHOOK_MAX
                  : g_str_has_prefix(url, "/portal/") ? SERVER_PORTAL_MAX : SERVER_FORM_MAX;
        *ptr = st;
        g_atomic_int_inc(&in_flight);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && g_ascii_strtoull(cl, NULL, 10) > st->cap) {
            st->too_large = TRUE;       /* answered before the body is read */
            return answer(conn, url, method, st);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_large || st->body->len + n > st->cap) {
            /* A chunked body over the cap: nothing more is buffered, the connection ends. */
            if (!st->too_large)
                log_info("http %s: chunked request body over %zu bytes, connection closed",
                         method, st->cap);
            st->too_large = TRUE;
            g_byte_array_set_size(st->body, 0);
            return MHD_NO;
        }
        g_byte_array_append(st->body, (const guint8 *) upload_data, (guint) n);
        return MHD_YES;
    }
    return answer(conn, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ptr,
                         enum MHD_RequestTerminationCode toe)
{
    (void) cls;
    (void) conn;
    (void) toe;
    req_state *st = *ptr;
    if (!st)
        return;
    g_byte_array_unref(st->body);
    gw_response_clear(&st->resp);
    g_free(st);
    *ptr = NULL;
    g_atomic_int_add(&in_flight, -1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void) cls;
    char *msg = g_strdup_vprintf(fmt, ap);
    g_strchomp(msg);
    log_warn("microhttpd: %s", msg);
    g_free(msg);
}

gboolean server_parse_listen(const char *spec, struct sockaddr_storage *addr, socklen_t *len,
                             char **err)
{
    char *host = NULL;
    const char *port = NULL;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close && close[1] == ':') {
            host = g_strndup(spec + 1, (gsize) (close - spec - 1));
            port = close + 2;
        }
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon && !memchr(spec, ':', (size_t) (colon - spec))) {
            host = g_strndup(spec, (gsize) (colon - spec));
            port = colon + 1;
        }
    }
    char *end = NULL;
    unsigned long p = port ? strtoul(port, &end, 10) : 0;
    if (!host || !*port || *end || p == 0 || p > 65535 || !g_ascii_isdigit(*port)) {
        *err = g_strdup_printf("gateway.listen: '%s' is not IP:PORT or [IPv6]:PORT", spec);
        g_free(host);
        return FALSE;
    }
    if (strcmp(host, "*") == 0 || !*host) {
        g_free(host);
        host = g_strdup("0.0.0.0");
    }
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                              .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0 || !ai || ai->ai_addrlen > sizeof *addr) {
        *err = g_strdup_printf("gateway.listen: '%s': %s", spec,
                               rc ? gai_strerror(rc) : "no address");
        if (ai)
            freeaddrinfo(ai);
        g_free(host);
        return FALSE;
    }
    memset(addr, 0, sizeof *addr);
    memcpy(addr, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    g_free(host);
    return TRUE;
}

struct MHD_Daemon *server_start(const reglo_conf *conf, const server_options *opts, char **err)
{
    struct sockaddr_storage addr;
    socklen_t len;
    if (!server_parse_listen(conf->gateway_listen, &addr, &len, err))
        return NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    else
        flags |= MHD_USE_POLL;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,      /* first, to catch everything */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) opts->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) opts->connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) opts->timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!d) {
        *err = g_strdup_printf("cannot listen on %s: %s", conf->gateway_listen,
                               g_strerror(errno));
        return NULL;
    }
    /* Exclusive: the threads, and the database connections they open, last. */
    GError *gerr = NULL;
    g_atomic_int_set(&stopping, 0);
    g_atomic_int_set(&psp_held, 0);
    psp_held_max = MAX(opts->connection_limit / 2, 1);
    if (opts->psp_threads > 0 &&
        !(psp_pool = g_thread_pool_new(psp_run, NULL, (gint) opts->psp_threads, TRUE, &gerr))) {
        *err = g_strdup_printf("cannot start the PSP threads: %s", gerr->message);
        g_error_free(gerr);
        MHD_stop_daemon(d);
        return NULL;
    }
    return d;
}

static void wait_in_flight(unsigned ms)
{
    for (unsigned waited = 0; g_atomic_int_get(&in_flight) > 0 && waited < ms; waited += 50)
        g_usleep(50 * 1000);
}

void server_stop(struct MHD_Daemon *daemon, unsigned grace_ms)
{
    MHD_socket listener = MHD_quiesce_daemon(daemon);
    wait_in_flight(grace_ms);
    /* Past the grace: what waits for a PSP thread is answered 503 (a PSP delivers its
     * callback again, a client clicks again); what runs finishes. Then the answers go out
     * before the daemon stops: a suspended connection must not outlive it. */
    g_atomic_int_set(&stopping, 1);
    if (psp_pool) {
        g_thread_pool_free(psp_pool, FALSE, TRUE);
        psp_pool = NULL;
        wait_in_flight(1000);
    }
    MHD_stop_daemon(daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
}
