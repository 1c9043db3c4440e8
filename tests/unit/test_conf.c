/*
 * test_conf — the configuration file: a complete good file, the defaults, psp sections, and
 * every kind of mistake reported as "FILE:LINE: message" with the line of the mistake (in
 * files with comments, as real ones have), plus a missing file.
 */
#include <check.h>
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "testutil.h"

static char *tmpdir;

static void setup(void)
{
    tmpdir = g_dir_make_tmp("test_conf-XXXXXX", NULL);
    ck_assert_ptr_nonnull(tmpdir);
}

static void teardown(void)
{
    GDir *dir = g_dir_open(tmpdir, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
        char *path = g_build_filename(tmpdir, name, NULL);
        g_unlink(path);
        g_free(path);
    }
    if (dir)
        g_dir_close(dir);
    g_rmdir(tmpdir);
    g_free(tmpdir);
    tmpdir = NULL;
}

/* Writes text into the temporary directory; returns the path (g_free). */
static char *write_conf(const char *name, const char *text)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static reglo_conf *load_ok(const char *text)
{
    char *path = write_conf("ok.conf", text);
    char *err = NULL;
    reglo_conf *conf = conf_load(path, &err);
    ck_assert_msg(conf != NULL, "load failed: %s", err ? err : "?");
    ck_assert_ptr_null(err);
    ck_assert_str_eq(conf->path, path);
    g_free(path);
    return conf;
}

/* Loads a bad file: the error must be "FILE:LINE: ..." and mention `expect`. */
static void load_bad(const char *text, int line, const char *expect)
{
    char *path = write_conf("bad.conf", text);
    char *err = NULL;
    reglo_conf *conf = conf_load(path, &err);
    ck_assert_msg(conf == NULL, "accepted a bad file (expected \"%s\" on line %d)", expect,
                  line);
    ck_assert_ptr_nonnull(err);
    char *prefix = g_strdup_printf("%s:%d: ", path, line);
    ck_assert_msg(g_str_has_prefix(err, prefix), "error \"%s\" does not start with \"%s\"",
                  err, prefix);
    ck_assert_msg(strstr(err, expect) != NULL, "error \"%s\" lacks \"%s\"", err, expect);
    g_free(prefix);
    g_free(err);
    g_unlink(path);
    g_free(path);
}

static gboolean trusts_v4(const reglo_conf *conf, const char *ip)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
    return cidr_list_match(conf->trusted_networks, (const struct sockaddr *) &sin);
}

static gboolean trusts_v6(const reglo_conf *conf, const char *ip)
{
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
    return cidr_list_match(conf->trusted_networks, (const struct sockaddr *) &sin6);
}

static const char GOOD[] =
    "# reglo configuration\n"
    "database {\n"
    "    # libpq connection string\n"
    "    conninfo = \"host=/run/postgresql dbname=reglo user=reglo\"\n"
    "    connect_timeout = 3        # seconds\n"
    "    pool_size = 4\n"
    "}\n"
    "\n"
    "milter {\n"
    "    socket = \"inet:8890@127.0.0.1\"\n"
    "    socket_mode = \"0640\"\n"
    "    trusted_networks = {\"10.0.0.0/8\", \"192.0.2.7\",\n"
    "                        \"2001:db8::/32\"}\n"
    "    on_error = \"tempfail\"\n"
    "    max_message_size = 1000000\n"
    "    memory_threshold = 4096\n"
    "    spool_dir = \"/srv/spool\"\n"
    "    quarantine_iban_mismatch = true\n"
    "    timeout = 30\n"
    "}\n"
    "gateway {\n"
    "    listen = \"0.0.0.0:9000\"\n"
    "    public_url = \"https://pay.example.fr//\"   // trailing slashes go\n"
    "    default_psp = \"stripe\"\n"
    "    threads = 6\n"
    "    psp_threads = 12\n"
    "    connections = 100\n"
    "}\n"
    "/* a block\n"
    "   comment */\n"
    "smtp { url = \"smtps://mail.example.fr:465\" from = \"factures@example.fr\" }\n"
    "secrets { link_key_file = \"/etc/reglo/k\" }\n"
    "templates { dir = \"/opt/reglo/templates\" }\n"
    "psp mollie {\n"
    "    api_base = \"https://api.mollie.com\"\n"
    "    api_key = \"test_abc\"\n"
    "}\n"
    "psp stripe {\n"
    "    api_base = \"https://api.stripe.com\"\n"
    "    secret_key = \"sk_test_1\"\n"
    "    webhook_secret = \"whsec_1\"\n"
    "}\n";

START_TEST(test_good_file)
{
    reglo_conf *conf = load_ok(GOOD);
    ck_assert_str_eq(conf->db_conninfo, "host=/run/postgresql dbname=reglo user=reglo");
    ck_assert_int_eq(conf->db_connect_timeout, 3);
    ck_assert_int_eq(conf->db_pool_size, 4);
    ck_assert_str_eq(conf->milter_socket, "inet:8890@127.0.0.1");
    ck_assert_int_eq(conf->milter_socket_mode, 0640);
    ck_assert_int_eq(conf->on_error, ON_ERROR_TEMPFAIL);
    ck_assert_int_eq(conf->max_message_size, 1000000);
    ck_assert_int_eq(conf->memory_threshold, 4096);
    ck_assert_str_eq(conf->spool_dir, "/srv/spool");
    ck_assert(conf->quarantine_iban_mismatch);
    ck_assert_int_eq(conf->milter_timeout, 30);
    ck_assert_str_eq(conf->gateway_listen, "0.0.0.0:9000");
    ck_assert_str_eq(conf->public_url, "https://pay.example.fr");
    ck_assert_str_eq(conf->default_psp, "stripe");
    ck_assert_int_eq(conf->gateway_threads, 6);
    ck_assert_int_eq(conf->gateway_psp_threads, 12);
    ck_assert_int_eq(conf->gateway_connections, 100);
    ck_assert_str_eq(conf->smtp_url, "smtps://mail.example.fr:465");
    ck_assert_str_eq(conf->notify_from, "factures@example.fr");
    ck_assert_str_eq(conf->link_key_file, "/etc/reglo/k");
    ck_assert_str_eq(conf->templates_dir, "/opt/reglo/templates");

    ck_assert(trusts_v4(conf, "10.1.2.3"));
    ck_assert(trusts_v4(conf, "192.0.2.7"));
    ck_assert(!trusts_v4(conf, "192.0.2.8"));
    ck_assert(!trusts_v4(conf, "127.0.0.1"));   /* the list replaces the default */
    ck_assert(trusts_v6(conf, "2001:db8:1::5"));
    ck_assert(trusts_v6(conf, "::ffff:10.9.9.9"));
    ck_assert(!trusts_v6(conf, "::1"));
    conf_free(conf);
}
END_TEST

START_TEST(test_defaults)
{
    reglo_conf *conf = load_ok("# nothing but a comment\n");
    ck_assert_str_eq(conf->db_conninfo, "dbname=reglo");
    ck_assert_int_eq(conf->db_connect_timeout, 5);
    ck_assert_int_eq(conf->db_pool_size, 8);
    ck_assert_str_eq(conf->milter_socket, "unix:/run/reglo/milter.sock");
    ck_assert_int_eq(conf->milter_socket_mode, 0660);
    ck_assert_int_eq(conf->on_error, ON_ERROR_ACCEPT);
    ck_assert_int_eq(conf->max_message_size, 26214400);
    ck_assert_int_eq(conf->memory_threshold, 1048576);
    ck_assert_str_eq(conf->spool_dir, "/var/tmp");
    ck_assert(!conf->quarantine_iban_mismatch);
    ck_assert_int_eq(conf->milter_timeout, 60);
    ck_assert_str_eq(conf->gateway_listen, "127.0.0.1:8080");
    ck_assert_str_eq(conf->public_url, "http://127.0.0.1:8080");
    ck_assert_str_eq(conf->default_psp, "mollie");
    ck_assert_int_eq(conf->gateway_threads, 4);
    ck_assert_int_eq(conf->gateway_psp_threads, 4);
    ck_assert_int_eq(conf->gateway_connections, 512);
    ck_assert_str_eq(conf->smtp_url, "smtp://127.0.0.1:25");
    ck_assert_str_eq(conf->notify_from, "reglo@localhost");
    ck_assert_str_eq(conf->link_key_file, "/etc/reglo/link.key");
    ck_assert(g_str_has_suffix(conf->templates_dir, "/templates"));
    ck_assert(trusts_v4(conf, "127.0.0.1"));
    ck_assert(trusts_v4(conf, "127.255.0.9"));
    ck_assert(trusts_v6(conf, "::1"));
    ck_assert(trusts_v6(conf, "::ffff:127.0.0.1"));
    ck_assert(!trusts_v4(conf, "10.0.0.1"));
    ck_assert_ptr_nonnull(conf->psps);
    ck_assert_uint_eq(conf->psps->len, 0);
    ck_assert_ptr_null(conf_psp(conf, "stripe"));
    conf_free(conf);

    /* An empty file and an empty section are the defaults too. */
    conf = load_ok("");
    ck_assert_int_eq(conf->db_pool_size, 8);
    conf_free(conf);
    conf = load_ok("milter { }\n");
    ck_assert_int_eq(conf->milter_timeout, 60);
    ck_assert(trusts_v4(conf, "127.0.0.1"));
    conf_free(conf);
    conf_free(NULL);
}
END_TEST

START_TEST(test_psp_sections)
{
    reglo_conf *conf = load_ok(GOOD);
    ck_assert_uint_eq(conf->psps->len, 2);
    const psp_conf *mollie = conf_psp(conf, "mollie");
    const psp_conf *stripe = conf_psp(conf, "stripe");
    ck_assert_ptr_nonnull(mollie);
    ck_assert_ptr_nonnull(stripe);
    ck_assert_str_eq(mollie->name, "mollie");
    ck_assert_str_eq(mollie->api_base, "https://api.mollie.com");
    ck_assert_str_eq(mollie->api_key, "test_abc");
    ck_assert_ptr_null(mollie->secret_key);
    ck_assert_ptr_null(mollie->webhook_secret);
    ck_assert_str_eq(stripe->api_base, "https://api.stripe.com");
    ck_assert_str_eq(stripe->secret_key, "sk_test_1");
    ck_assert_str_eq(stripe->webhook_secret, "whsec_1");
    ck_assert_ptr_null(stripe->api_key);
    ck_assert_ptr_null(conf_psp(conf, "paypal"));
    ck_assert_ptr_null(conf_psp(conf, "Stripe"));
    conf_free(conf);

    conf = load_ok("psp mollie { }\n");
    ck_assert_uint_eq(conf->psps->len, 1);
    mollie = conf_psp(conf, "mollie");
    ck_assert_ptr_nonnull(mollie);
    ck_assert_ptr_null(mollie->api_base);
    ck_assert_ptr_null(mollie->api_key);
    conf_free(conf);
}
END_TEST

START_TEST(test_unknown_option)
{
    load_bad("# header\n"
             "database {\n"
             "    conninfo = \"dbname=x\"   # comment\n"
             "}\n"
             "\n"
             "milter {\n"
             "    # a comment line\n"
             "    bogus = 1\n"
             "}\n", 8, "bogus");
    load_bad("database { conninfo = \"x\" }\ncolour = \"blue\"\n", 2, "colour");
}
END_TEST

START_TEST(test_unknown_section)
{
    load_bad("# header\n"
             "database { }\n"
             "# more\n"
             "logging {\n"
             "    level = 3\n"
             "}\n", 4, "logging");
}
END_TEST

START_TEST(test_bad_on_error)
{
    load_bad("# reglo\n"
             "milter {\n"
             "    socket = \"unix:/x\"\n"
             "    # accept or tempfail\n"
             "    on_error = \"reject\"\n"
             "}\n", 5, "reject");
    load_bad("milter {\n    on_error = \"\"\n}\n", 2, "on_error");
}
END_TEST

START_TEST(test_bad_trusted_networks)
{
    load_bad("# header\n"
             "milter {\n"
             "    trusted_networks = {\"127.0.0.0/8\",\n"
             "                        \"10.0.0.0/33\"}\n"
             "}\n", 4, "10.0.0.0/33");
    load_bad("milter {\n    trusted_networks = {\"::1\", \"localhost\"}\n}\n", 2, "localhost");
    load_bad("milter {\n\n    trusted_networks = {\"192.0.2.1/\"}\n}\n", 3, "192.0.2.1/");
    load_bad("milter { trusted_networks = {\"\"} }\n", 1, "trusted_networks");
}
END_TEST

START_TEST(test_bad_sizes)
{
    load_bad("# header\n"
             "milter {\n"
             "    # bytes\n"
             "    max_message_size = -5\n"
             "}\n", 4, "max_message_size");
    load_bad("milter {\n    memory_threshold = 0\n}\n", 2, "memory_threshold");
    load_bad("database {\n    connect_timeout = -1\n}\n", 2, "connect_timeout");
    load_bad("database {\n    pool_size = 0\n}\n", 2, "pool_size");
    load_bad("milter {\n    timeout = -60\n}\n", 2, "timeout");
    load_bad("gateway {\n    threads = 0\n}\n", 2, "threads");
    load_bad("gateway {\n    psp_threads = 0\n}\n", 2, "psp_threads");
    load_bad("gateway {\n    connections = -1\n}\n", 2, "connections");
    load_bad("milter {\n    max_message_size = \"big\"\n}\n", 2, "max_message_size");
}
END_TEST

START_TEST(test_bad_socket_mode)
{
    load_bad("# header\n"
             "milter {\n"
             "    socket_mode = \"0999\"   # not octal\n"
             "}\n", 3, "0999");
    load_bad("milter {\n    socket_mode = \"rw-rw----\"\n}\n", 2, "socket_mode");
    load_bad("milter {\n    socket_mode = \"01777\"\n}\n", 2, "socket_mode");
    load_bad("milter {\n    socket_mode = \"\"\n}\n", 2, "socket_mode");
}
END_TEST

START_TEST(test_bad_url)
{
    load_bad("# header\n"
             "gateway {\n"
             "    listen = \"127.0.0.1:8080\"\n"
             "    # where links point\n"
             "    public_url = \"ftp://pay.example.fr\"\n"
             "}\n", 5, "ftp://pay.example.fr");
    load_bad("smtp {\n    url = \"mail.example.fr:25\"\n}\n", 2, "mail.example.fr:25");
    load_bad("gateway {\n    public_url = \"\"\n}\n", 2, "public_url");
}
END_TEST

START_TEST(test_empty_values)
{
    load_bad("database {\n    conninfo = \"\"\n}\n", 2, "conninfo");
    load_bad("milter {\n    spool_dir = \"\"\n}\n", 2, "spool_dir");
    load_bad("smtp {\n    from = \"\"\n}\n", 2, "from");
}
END_TEST

START_TEST(test_unterminated_string)
{
    load_bad("# header\n"
             "smtp {\n"
             "    url = \"smtp://127.0.0.1:25\"\n"
             "    from = \"reglo@example.fr\n"
             "}\n", 4, "");
}
END_TEST

START_TEST(test_syntax_errors)
{
    load_bad("milter {\n    on_error \"accept\"\n}\n", 2, "on_error");
    load_bad("}\n", 1, "");
    load_bad("milter {\n    quarantine_iban_mismatch = maybe\n}\n", 2, "quarantine_iban_mismatch");
    load_bad("psp stripe { }\n# again\npsp stripe { }\n", 3, "stripe");
}
END_TEST

START_TEST(test_missing_file)
{
    char *path = g_build_filename(tmpdir, "absent.conf", NULL);
    char *err = NULL;
    reglo_conf *conf = conf_load(path, &err);
    ck_assert_ptr_null(conf);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(g_str_has_prefix(err, path), "error \"%s\" lacks the file name", err);
    ck_assert_msg(strstr(err, "No such file") != NULL, "error \"%s\" lacks the cause", err);
    g_free(err);
    g_free(path);

    /* A directory is not a configuration file either. */
    err = NULL;
    conf = conf_load(tmpdir, &err);
    ck_assert_ptr_null(conf);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(g_str_has_prefix(err, tmpdir), "error \"%s\" lacks the file name", err);
    g_free(err);
}
END_TEST

/* An error must not leak into the next load, nor a good load leave one behind. */
START_TEST(test_reload)
{
    load_bad("milter {\n    bogus = 1\n}\n", 2, "bogus");
    reglo_conf *conf = load_ok(GOOD);
    conf_free(conf);
    load_bad("gateway {\n\n\n    public_url = \"gopher://x\"\n}\n", 4, "gopher://x");
    conf = load_ok("");
    conf_free(conf);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_file);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_psp_sections);
    tcase_add_test(tc, test_unknown_option);
    tcase_add_test(tc, test_unknown_section);
    tcase_add_test(tc, test_bad_on_error);
    tcase_add_test(tc, test_bad_trusted_networks);
    tcase_add_test(tc, test_bad_sizes);
    tcase_add_test(tc, test_bad_socket_mode);
    tcase_add_test(tc, test_bad_url);
    tcase_add_test(tc, test_empty_values);
    tcase_add_test(tc, test_unterminated_string);
    tcase_add_test(tc, test_syntax_errors);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_reload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(conf_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
