/*
 * conf — libconfuse schema, validation with FILE:LINE errors, and the snapshot; see conf.h.
 */
#include "conf.h"

#include <confuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

/*
 * libconfuse's error hook has no user pointer, and sections do not always know their file:
 * parsing is per thread, so are the file name and the first error.
 */
static _Thread_local char *conf_first_error;
static _Thread_local const char *conf_parsing;

static void conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
    if (conf_first_error)
        return;
    char *msg = g_strdup_vprintf(fmt, ap);
    conf_first_error = g_strdup_printf("%s:%d: %s", conf_parsing, cfg ? cfg->line : 0, msg);
    g_free(msg);
}

static int validate_nonempty(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    const char *s = value;
    if (!s || !*s) {
        cfg_error(cfg, "option '%s' must not be empty", cfg_opt_name(opt));
        return -1;
    }
    return 0;
}

static int validate_positive(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    long v = *(long *) value;
    if (v <= 0) {
        cfg_error(cfg, "option '%s' must be a positive number", cfg_opt_name(opt));
        return -1;
    }
    return 0;
}

static int validate_not_negative(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    if (*(long *) value < 0) {
        cfg_error(cfg, "option '%s' must not be negative", cfg_opt_name(opt));
        return -1;
    }
    return 0;
}

static int validate_cidr(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    if (!cidr_valid(value)) {
        cfg_error(cfg, "option '%s': '%s' is not an address or network",
                  cfg_opt_name(opt), (const char *) value);
        return -1;
    }
    return 0;
}

static int validate_mode(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    const char *s = value;
    char *end;
    long mode = strtol(s, &end, 8);
    if (!*s || *end || mode < 0 || mode > 0777) {
        cfg_error(cfg, "option '%s': '%s' is not an octal file mode", cfg_opt_name(opt), s);
        return -1;
    }
    return 0;
}

static int validate_on_error(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    const char *s = value;
    if (strcmp(s, "accept") != 0 && strcmp(s, "tempfail") != 0) {
        cfg_error(cfg, "option '%s' must be 'accept' or 'tempfail', not '%s'",
                  cfg_opt_name(opt), s);
        return -1;
    }
    return 0;
}

static int validate_hours(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    int start, end;
    if (!schedule_parse_hours(value, &start, &end)) {
        cfg_error(cfg, "option '%s': '%s' is not a window like \"09:00-18:00\"",
                  cfg_opt_name(opt), (const char *) value);
        return -1;
    }
    return 0;
}

static int validate_days(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    guint days;
    if (!schedule_parse_days(value, &days)) {
        cfg_error(cfg, "option '%s': '%s' is not a list of days like \"mon-fri\"",
                  cfg_opt_name(opt), (const char *) value);
        return -1;
    }
    return 0;
}

static int validate_timezone(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    if (!schedule_timezone_valid(value)) {
        cfg_error(cfg, "option '%s': unknown time zone '%s'", cfg_opt_name(opt),
                  (const char *) value);
        return -1;
    }
    return 0;
}

static int validate_url(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
    const char *s = value;
    if (!g_str_has_prefix(s, "http://") && !g_str_has_prefix(s, "https://") &&
        !g_str_has_prefix(s, "smtp://") && !g_str_has_prefix(s, "smtps://")) {
        cfg_error(cfg, "option '%s': '%s' is not an http(s) or smtp(s) URL",
                  cfg_opt_name(opt), s);
        return -1;
    }
    return 0;
}

/*
 * libconfuse calls per-option validators (cfg_set_validate_func) while parsing, with the
 * line still current; these adapters run a per-value check over every value of the option.
 */
typedef int (*value_check)(cfg_t *cfg, cfg_opt_t *opt, void *value);

static int check_values(cfg_t *cfg, cfg_opt_t *opt, value_check check)
{
    for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
        long number = 0;
        void *value;
        if (opt->type == CFGT_INT) {
            number = cfg_opt_getnint(opt, i);
            value = &number;
        } else
            value = cfg_opt_getnstr(opt, i);
        if (check(cfg, opt, value) != 0)
            return -1;
    }
    return 0;
}

#define VALIDATOR(name, check) \
    static int name(cfg_t *cfg, cfg_opt_t *opt) { return check_values(cfg, opt, check); }
VALIDATOR(valid_nonempty, validate_nonempty)
VALIDATOR(valid_positive, validate_positive)
VALIDATOR(valid_cidr, validate_cidr)
VALIDATOR(valid_not_negative, validate_not_negative)
VALIDATOR(valid_mode, validate_mode)
VALIDATOR(valid_on_error, validate_on_error)
VALIDATOR(valid_url, validate_url)
VALIDATOR(valid_hours, validate_hours)
VALIDATOR(valid_days, validate_days)
VALIDATOR(valid_timezone, validate_timezone)

static cfg_t *conf_schema(void)
{
    static cfg_opt_t database_opts[] = {
        CFG_STR("conninfo", "dbname=reglo", CFGF_NONE),
        CFG_INT("connect_timeout", 5, CFGF_NONE),
        CFG_INT("pool_size", 8, CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t milter_opts[] = {
        CFG_STR("socket", "unix:/run/reglo/milter.sock", CFGF_NONE),
        CFG_STR("socket_mode", "0660", CFGF_NONE),
        CFG_STR_LIST("trusted_networks", "{127.0.0.0/8, ::1}", CFGF_NONE),
        CFG_STR("on_error", "accept", CFGF_NONE),
        CFG_INT("max_message_size", 26214400, CFGF_NONE),
        CFG_INT("memory_threshold", 1048576, CFGF_NONE),
        CFG_STR("spool_dir", "/var/tmp", CFGF_NONE),
        CFG_BOOL("quarantine_iban_mismatch", cfg_false, CFGF_NONE),
        CFG_INT("timeout", 60, CFGF_NONE),
        CFG_INT("sender_cache_ttl", 30, CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t gateway_opts[] = {
        CFG_STR("listen", "127.0.0.1:8080", CFGF_NONE),
        CFG_STR("public_url", "http://127.0.0.1:8080", CFGF_NONE),
        CFG_STR("default_psp", "mollie", CFGF_NONE),
        CFG_INT("threads", 4, CFGF_NONE),
        CFG_INT("psp_threads", 4, CFGF_NONE),
        CFG_INT("connections", 512, CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t smtp_opts[] = {
        CFG_STR("url", "smtp://127.0.0.1:25", CFGF_NONE),
        CFG_STR("from", "reglo@localhost", CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t secrets_opts[] = {
        CFG_STR("link_key_file", "/etc/reglo/link.key", CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t templates_opts[] = {
        CFG_STR("dir", REGLO_DATADIR "/templates", CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t reminders_opts[] = {
        CFG_BOOL("enabled", cfg_true, CFGF_NONE),
        CFG_STR("window", "09:00-18:00", CFGF_NONE),
        CFG_STR("days", "mon-fri", CFGF_NONE),
        CFG_STR("timezone", "Europe/Paris", CFGF_NONE),
        CFG_INT("interval", 30, CFGF_NONE),
        CFG_INT("workers", 2, CFGF_NONE),
        CFG_INT("batch", 25, CFGF_NONE),
        CFG_INT("max_late_days", 2, CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t psp_opts[] = {
        CFG_STR("api_base", NULL, CFGF_NODEFAULT),
        CFG_STR("secret_key", NULL, CFGF_NODEFAULT),
        CFG_STR("webhook_secret", NULL, CFGF_NODEFAULT),
        CFG_STR("api_key", NULL, CFGF_NODEFAULT),
        CFG_STR_LIST("payment_method_types", "{card}", CFGF_NONE),
        CFG_END()
    };
    static cfg_opt_t opts[] = {
        CFG_SEC("database", database_opts, CFGF_NONE),
        CFG_SEC("milter", milter_opts, CFGF_NONE),
        CFG_SEC("gateway", gateway_opts, CFGF_NONE),
        CFG_SEC("smtp", smtp_opts, CFGF_NONE),
        CFG_SEC("secrets", secrets_opts, CFGF_NONE),
        CFG_SEC("templates", templates_opts, CFGF_NONE),
        CFG_SEC("reminders", reminders_opts, CFGF_NONE),
        CFG_SEC("psp", psp_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
        CFG_END()
    };
    cfg_t *cfg = cfg_init(opts, CFGF_NONE);
    cfg_set_error_function(cfg, conf_errfunc);
    cfg_set_validate_func(cfg, "database|conninfo", valid_nonempty);
    cfg_set_validate_func(cfg, "database|connect_timeout", valid_positive);
    cfg_set_validate_func(cfg, "database|pool_size", valid_positive);
    cfg_set_validate_func(cfg, "milter|socket", valid_nonempty);
    cfg_set_validate_func(cfg, "milter|socket_mode", valid_mode);
    cfg_set_validate_func(cfg, "milter|trusted_networks", valid_cidr);
    cfg_set_validate_func(cfg, "milter|on_error", valid_on_error);
    cfg_set_validate_func(cfg, "milter|max_message_size", valid_positive);
    cfg_set_validate_func(cfg, "milter|memory_threshold", valid_positive);
    cfg_set_validate_func(cfg, "milter|spool_dir", valid_nonempty);
    cfg_set_validate_func(cfg, "milter|timeout", valid_positive);
    cfg_set_validate_func(cfg, "milter|sender_cache_ttl", valid_not_negative);
    cfg_set_validate_func(cfg, "gateway|listen", valid_nonempty);
    cfg_set_validate_func(cfg, "gateway|public_url", valid_url);
    cfg_set_validate_func(cfg, "gateway|threads", valid_positive);
    cfg_set_validate_func(cfg, "gateway|psp_threads", valid_positive);
    cfg_set_validate_func(cfg, "gateway|connections", valid_positive);
    cfg_set_validate_func(cfg, "smtp|url", valid_url);
    cfg_set_validate_func(cfg, "smtp|from", valid_nonempty);
    cfg_set_validate_func(cfg, "secrets|link_key_file", valid_nonempty);
    cfg_set_validate_func(cfg, "templates|dir", valid_nonempty);
    cfg_set_validate_func(cfg, "reminders|window", valid_hours);
    cfg_set_validate_func(cfg, "reminders|days", valid_days);
    cfg_set_validate_func(cfg, "reminders|timezone", valid_timezone);
    cfg_set_validate_func(cfg, "reminders|interval", valid_positive);
    cfg_set_validate_func(cfg, "reminders|workers", valid_positive);
    cfg_set_validate_func(cfg, "reminders|batch", valid_positive);
    cfg_set_validate_func(cfg, "reminders|max_late_days", valid_not_negative);
    return cfg;
}

static char *dup_or_null(const char *s)
{
    return s ? g_strdup(s) : NULL;
}

static void psp_conf_free(gpointer p)
{
    psp_conf *psp = p;
    g_free(psp->name);
    g_free(psp->api_base);
    g_free(psp->secret_key);
    g_free(psp->webhook_secret);
    g_free(psp->api_key);
    g_strfreev(psp->payment_method_types);
    g_free(psp);
}

static void conf_copy_psps(reglo_conf *conf, cfg_t *cfg)
{
    conf->psps = g_ptr_array_new_with_free_func(psp_conf_free);
    for (unsigned i = 0; i < cfg_size(cfg, "psp"); i++) {
        cfg_t *sec = cfg_getnsec(cfg, "psp", i);
        psp_conf *psp = g_new0(psp_conf, 1);
        psp->name = g_strdup(cfg_title(sec));
        psp->api_base = dup_or_null(cfg_getstr(sec, "api_base"));
        psp->secret_key = dup_or_null(cfg_getstr(sec, "secret_key"));
        psp->webhook_secret = dup_or_null(cfg_getstr(sec, "webhook_secret"));
        psp->api_key = dup_or_null(cfg_getstr(sec, "api_key"));
        unsigned n = cfg_size(sec, "payment_method_types");
        psp->payment_method_types = g_new0(char *, n + 1);
        for (unsigned t = 0; t < n; t++)
            psp->payment_method_types[t] = g_strdup(cfg_getnstr(sec, "payment_method_types", t));
        g_ptr_array_add(conf->psps, psp);
    }
}

/*
 * Values set in the file were validated while parsing; the default time zone was not (a
 * system without tzdata has no Europe/Paris): NULL window then, and conf_load says so.
 */
static void conf_copy_reminders(reglo_conf *conf, cfg_t *rem, char **err)
{
    conf->reminders_enabled = cfg_getbool(rem, "enabled");
    conf->reminders_timezone = g_strdup(cfg_getstr(rem, "timezone"));
    conf->reminders_window = schedule_window_new(cfg_getstr(rem, "window"),
                                                 cfg_getstr(rem, "days"),
                                                 conf->reminders_timezone, err);
    conf->reminders_interval = (int) MIN(cfg_getint(rem, "interval"), 86400);
    conf->reminders_workers = (int) MIN(cfg_getint(rem, "workers"), 64);
    conf->reminders_batch = (int) MIN(cfg_getint(rem, "batch"), 1000);
    conf->reminders_max_late_days = (int) MIN(cfg_getint(rem, "max_late_days"), 3650);
}

static reglo_conf *conf_copy(cfg_t *cfg, const char *path, char **err)
{
    reglo_conf *conf = g_new0(reglo_conf, 1);
    cfg_t *db = cfg_getsec(cfg, "database"), *m = cfg_getsec(cfg, "milter");
    cfg_t *gw = cfg_getsec(cfg, "gateway"), *smtp = cfg_getsec(cfg, "smtp");

    conf->path = g_strdup(path);
    conf->db_conninfo = g_strdup(cfg_getstr(db, "conninfo"));
    conf->db_connect_timeout = (int) cfg_getint(db, "connect_timeout");
    conf->db_pool_size = (int) cfg_getint(db, "pool_size");

    conf->milter_socket = g_strdup(cfg_getstr(m, "socket"));
    conf->milter_socket_mode = (int) strtol(cfg_getstr(m, "socket_mode"), NULL, 8);
    conf->trusted_networks = cidr_list_new();
    for (unsigned i = 0; i < cfg_size(m, "trusted_networks"); i++)
        cidr_list_add(conf->trusted_networks, cfg_getnstr(m, "trusted_networks", i));
    conf->on_error = strcmp(cfg_getstr(m, "on_error"), "tempfail") == 0
                     ? ON_ERROR_TEMPFAIL : ON_ERROR_ACCEPT;
    conf->max_message_size = cfg_getint(m, "max_message_size");
    conf->memory_threshold = cfg_getint(m, "memory_threshold");
    conf->spool_dir = g_strdup(cfg_getstr(m, "spool_dir"));
    conf->quarantine_iban_mismatch = cfg_getbool(m, "quarantine_iban_mismatch");
    conf->milter_timeout = (int) cfg_getint(m, "timeout");
    conf->sender_cache_ttl = (int) cfg_getint(m, "sender_cache_ttl");

    conf->gateway_listen = g_strdup(cfg_getstr(gw, "listen"));
    conf->public_url = g_strdup(cfg_getstr(gw, "public_url"));
    g_strchomp(conf->public_url);
    while (g_str_has_suffix(conf->public_url, "/"))
        conf->public_url[strlen(conf->public_url) - 1] = '\0';
    conf->default_psp = g_strdup(cfg_getstr(gw, "default_psp"));
    conf->gateway_threads = (int) cfg_getint(gw, "threads");
    conf->gateway_psp_threads = (int) cfg_getint(gw, "psp_threads");
    conf->gateway_connections = (int) cfg_getint(gw, "connections");

    conf->smtp_url = g_strdup(cfg_getstr(smtp, "url"));
    conf->notify_from = g_strdup(cfg_getstr(smtp, "from"));
    conf->link_key_file = g_strdup(cfg_getstr(cfg_getsec(cfg, "secrets"), "link_key_file"));
    conf->templates_dir = g_strdup(cfg_getstr(cfg_getsec(cfg, "templates"), "dir"));
    conf_copy_reminders(conf, cfg_getsec(cfg, "reminders"), err);
    conf_copy_psps(conf, cfg);
    return conf;
}

/*
 * libconfuse 3.3 counts a one-line comment (# or //) as three lines and the end of a block
 * comment twice, so FILE:LINE would point past the mistake; and it exits the process on a
 * file it cannot read (a directory). So we read the file, blank the comments out keeping
 * every newline, and give libconfuse the text. NULL with *err for an unterminated string.
 */
static char *conf_strip_comments(const char *path, const char *text, char **err)
{
    GString *out = g_string_sized_new(strlen(text));
    char quote = 0;
    int line = 1, quote_line = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            line++;
        if (quote) {
            g_string_append_c(out, *p);
            if (*p == '\\' && p[1]) {
                line += p[1] == '\n';
                g_string_append_c(out, *++p);
            } else if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
            quote_line = line;
            g_string_append_c(out, *p);
        } else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            while (p[1] && p[1] != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            const char *stop = end ? end + 2 : p + strlen(p);
            for (p += 2; p < stop; p++)
                if (*p == '\n') {
                    line++;
                    g_string_append_c(out, '\n');
                }
            p--;
        } else
            g_string_append_c(out, *p);
    }
    if (quote) {
        *err = g_strdup_printf("%s:%d: unterminated string", path, quote_line);
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

reglo_conf *conf_load(const char *path, char **err)
{
    char *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        *err = g_strdup_printf("%s: cannot read: %s", path, gerr->message);
        g_error_free(gerr);
        return NULL;
    }
    char *clean = conf_strip_comments(path, text, err);
    g_free(text);
    if (!clean)
        return NULL;
    cfg_t *cfg = conf_schema();
    g_free(conf_first_error);
    conf_first_error = NULL;
    conf_parsing = path;
    int rc = cfg_parse_buf(cfg, clean);
    conf_parsing = NULL;
    reglo_conf *conf = NULL;
    if (rc == CFG_SUCCESS) {
        char *why = NULL;
        conf = conf_copy(cfg, path, &why);
        if (!conf->reminders_window) {
            *err = g_strdup_printf("%s: reminders: %s (is tzdata installed?)", path, why);
            g_free(why);
            conf_free(conf);
            conf = NULL;
        }
    } else {
        *err = conf_first_error ? conf_first_error : g_strdup_printf("%s: parse error", path);
        conf_first_error = NULL;
    }
    cfg_free(cfg);
    g_free(clean);
    return conf;
}

void conf_free(reglo_conf *conf)
{
    if (!conf)
        return;
    g_free(conf->path);
    g_free(conf->db_conninfo);
    g_free(conf->milter_socket);
    cidr_list_free(conf->trusted_networks);
    g_free(conf->spool_dir);
    g_free(conf->gateway_listen);
    g_free(conf->public_url);
    g_free(conf->default_psp);
    g_free(conf->smtp_url);
    g_free(conf->notify_from);
    g_free(conf->link_key_file);
    g_free(conf->templates_dir);
    schedule_window_free(conf->reminders_window);
    g_free(conf->reminders_timezone);
    g_ptr_array_free(conf->psps, TRUE);
    g_free(conf);
}

const psp_conf *conf_psp(const reglo_conf *conf, const char *name)
{
    for (guint i = 0; i < conf->psps->len; i++) {
        const psp_conf *psp = g_ptr_array_index(conf->psps, i);
        if (strcmp(psp->name, name) == 0)
            return psp;
    }
    return NULL;
}
