/*
 * test_usertmpl — the artisans' own templates: the editable kinds, every refusal of
 * usertmpl_validate with its line number (English and French), what is accepted (every
 * shipped default of the five kinds in templates/fr and templates/en: this proves the
 * variables lists complete), the sample invoice and the render of each default with it,
 * hostile sources (no crash), and the storage functions.
 *
 * The storage tests need PostgreSQL: they run only when $REGLO_TEST_CONNINFO names a migrated
 * database (tests/integration/usertmpl.sh sets it); without it a notice says they are left
 * out and they are not counted.
 *
 * Runs from the repository root (the shipped templates/).
 */
#include <check.h>
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "money.h"
#include "tmpl.h"
#include "usertmpl.h"
#include "testutil.h"

static const usertmpl_kind *kind(const char *name)
{
    const usertmpl_kind *k = usertmpl_kind_find(name);
    ck_assert_msg(k != NULL, "%s is not editable", name);
    return k;
}

/* src is refused for kind with exactly this message. */
static void refused(const char *name, const char *src, const char *locale, const char *want)
{
    char *got = usertmpl_validate(kind(name), src, locale);
    ck_assert_msg(got != NULL, "%s accepted: %s", name, src);
    ck_assert_msg(strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", name, got, want);
    g_free(got);
}

/* src is refused with a message starting with prefix (for long messages). */
static void refused_prefix(const char *name, const char *src, const char *locale,
                           const char *prefix)
{
    char *got = usertmpl_validate(kind(name), src, locale);
    ck_assert_msg(got != NULL, "%s accepted: %s", name, src);
    ck_assert_msg(g_str_has_prefix(got, prefix), "%s: got \"%s\", want \"%s...\"", name, got,
                  prefix);
    g_free(got);
}

static void accepted(const char *name, const char *src)
{
    char *got = usertmpl_validate(kind(name), src, "en");
    ck_assert_msg(got == NULL, "%s refused (%s): %s", name, got, src);
}

START_TEST(test_kinds)
{
    size_t n = 0;
    const usertmpl_kind *all = usertmpl_kinds(&n);
    ck_assert_uint_eq(n, 5);
    const char *names[] = { "block.txt", "block.html", "reminder.subject", "reminder.txt",
                            "reminder.html" };
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(all[i].name, names[i]);
        ck_assert_ptr_eq(usertmpl_kind_find(names[i]), &all[i]);
        ck_assert_ptr_nonnull(all[i].variables[0]);
    }
    ck_assert(kind("block.html")->html && !kind("block.txt")->html);
    ck_assert(kind("reminder.html")->html && !kind("reminder.subject")->html);
    ck_assert(!kind("block.txt")->per_step && kind("reminder.txt")->per_step);
    ck_assert(kind("block.txt")->needs_link && kind("block.html")->needs_link);
    ck_assert(!kind("reminder.subject")->needs_link);
    ck_assert_ptr_null(usertmpl_kind_find("page.html"));
    ck_assert_ptr_null(usertmpl_kind_find("paid.txt"));
    ck_assert_ptr_null(usertmpl_kind_find(""));
    ck_assert_ptr_null(usertmpl_kind_find(NULL));
}
END_TEST

/* Every shipped default of the five kinds passes, in both message locales. */
START_TEST(test_defaults_accepted)
{
    const char *locales[] = { "fr", "en" };
    size_t n = 0;
    const usertmpl_kind *all = usertmpl_kinds(&n);
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < n; i++) {
            char *src = tmpl_load("templates", locales[l], all[i].name);
            ck_assert_msg(src != NULL, "templates/%s/%s missing", locales[l], all[i].name);
            char *why = usertmpl_validate(&all[i], src, locales[l]);
            ck_assert_msg(why == NULL, "templates/%s/%s refused: %s", locales[l], all[i].name,
                          why);
            g_free(src);
        }
}
END_TEST

START_TEST(test_refused_bytes)
{
    refused("block.txt", "", "en", "line 1: the template is empty");
    refused("block.txt", NULL, "en", "line 1: the template is empty");
    refused("block.txt", " \n\t\r\n ", "fr", "ligne 1 : le modèle est vide");
    refused("reminder.subject", "Re: {{number}}\n\xff\xfe", "en",
            "line 2: invalid text encoding (UTF-8 expected)");
    refused("reminder.txt", "a\nb\n\x01 {{number}}", "fr",
            "ligne 3 : caractère de contrôle interdit");
    refused("reminder.txt", "a\x7f", "en", "line 1: control character not allowed");

    /* Longer than 65536 bytes: the line where the limit falls. */
    GString *big = g_string_new("{{link}}\n");
    while (big->len <= USERTMPL_MAX_BYTES)
        g_string_append(big, "x\n");
    int line = 1;
    for (size_t i = 0; i < USERTMPL_MAX_BYTES; i++)
        line += big->str[i] == '\n';
    char *want = g_strdup_printf("line %d: the template is longer than 65536 bytes", line);
    refused("block.txt", big->str, "en", want);
    g_free(want);
    want = g_strdup_printf("ligne %d : le modèle dépasse 65536 octets", line);
    refused("block.txt", big->str, "fr", want);
    g_free(want);
    /* Exactly the limit is fine. */
    g_string_truncate(big, USERTMPL_MAX_BYTES);
    accepted("block.txt", big->str);
    g_string_free(big, TRUE);
}
END_TEST

START_TEST(test_refused_tags)
{
    refused("block.html", "<a href=\"{{link}}\">x</a>\n\n<b>{{{number}}}</b>", "en",
            "line 3: {{{number}}} and {{&number}} are not allowed: invoice data must be "
            "escaped; write {{number}}");
    refused("block.txt", "{{link}}\n{{& amount }}", "fr",
            "ligne 2 : {{{amount}}} et {{&amount}} sont refusés : les données de la facture "
            "doivent être échappées ; écrivez {{amount}}");
    refused("reminder.txt", "Bonjour\n{{> block.txt}}", "en",
            "line 2: including templates ({{> block.txt}}) is not allowed");
    refused("reminder.txt", "Bonjour\n{{>x}}", "fr",
            "ligne 2 : l'inclusion de modèles ({{> x}}) est refusée");
    refused("block.txt", "{{link}}\n{{=<% %>=}}\n<%{number}%>", "en",
            "line 2: changing the delimiters ({{=...=}}) is not allowed");
    refused("block.txt", "{{link}}\n\n{{=<% %>", "fr",
            "ligne 3 : le changement de délimiteurs ({{=...=}}) est refusé");
    /* Raw output inside a section is found too. */
    refused_prefix("reminder.html", "<p>\n{{#due_date}}\n{{{due_date}}}\n{{/due_date}}", "en",
                   "line 3: {{{due_date}}}");
    /* A comment ends at the first }}: what it swallows is not a tag (and prints nothing). */
    accepted("block.txt", "{{link}} {{! {{{number}}} }}");
}
END_TEST

START_TEST(test_refused_parse)
{
    refused("block.txt", "{{link}}\n{{#number}}\n", "en",
            "line 2: section {{#number}} is never closed");
    refused("block.txt", "{{link}}\n{{^due_date}}x", "fr",
            "ligne 2 : la section {{^due_date}} n'est jamais fermée");
    refused("block.txt", "{{link}}\n{{#number}}x{{/amount}}", "fr",
            "ligne 2 : {{/amount}} trouvé là où {{/number}} était attendu");
    refused("block.txt", "{{link}}\n{{#number}}x{{/amount}}", "en",
            "line 2: {{/amount}} found where {{/number}} was expected");
    refused("block.txt", "{{link}}\n\n{{/number}}", "fr",
            "ligne 3 : {{/number}} ferme une section qui n'est pas ouverte");
    refused("block.txt", "{{link}}\n{{number", "fr", "ligne 2 : balise non fermée (}} manquant)");
    refused("block.txt", "{{link}}\n{{}}", "en", "line 2: empty tag {{}}");
    refused("block.txt", "{{link}}\n{{due date}}", "fr",
            "ligne 2 : espace dans un nom de variable");
    GString *deep = g_string_new("{{link}}\n");
    for (int i = 0; i < 150; i++)
        g_string_append(deep, "{{#number}}");
    refused("block.txt", deep->str, "en", "line 2: sections nested too deeply");
    g_string_free(deep, TRUE);
}
END_TEST

START_TEST(test_refused_names)
{
    refused_prefix("block.txt", "{{link}}\n{{nubmer}}", "en",
                   "line 2: unknown variable {{nubmer}} (available: number, amount,");
    refused_prefix("block.txt", "{{link}}\n{{nubmer}}", "fr",
                   "ligne 2 : variable inconnue {{nubmer}} (disponibles : number, amount,");
    /* Inside sections too, and section names, and dotted names. */
    refused_prefix("block.txt", "{{link}}\n{{#due_date}}\n{{dew_date}}\n{{/due_date}}", "en",
                   "line 3: unknown variable {{dew_date}}");
    refused_prefix("block.txt", "{{link}}\n{{^qr_onl}}x{{/qr_onl}}", "en",
                   "line 2: unknown variable {{qr_onl}}");
    refused_prefix("block.txt", "{{link}} {{number.length}}", "en",
                   "line 1: unknown variable {{number.length}}");
    /* A reminder's variable is not the block's (the invoice email has no days overdue). */
    refused_prefix("block.txt", "{{link}}\n\n\n{{days_overdue}}", "en",
                   "line 4: unknown variable {{days_overdue}}");
    refused_prefix("reminder.subject", "Re: {{seller_iban}}", "en",
                   "line 1: unknown variable {{seller_iban}}");
    /* A long name is shortened in the message. */
    char *src = g_strdup_printf("{{link}} {{%s}}",
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    refused_prefix("block.txt", src, "en",
                   "line 1: unknown variable {{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...}}");
    g_free(src);
    accepted("block.txt", "{{#amount}}{{.}}{{/amount}} {{link}}");
}
END_TEST

START_TEST(test_subject_one_line)
{
    refused("reminder.subject", "Rappel\n{{number}}", "fr",
            "ligne 2 : l'objet doit tenir sur une ligne");
    refused("reminder.subject", "Rappel {{number}}\r{{amount}}", "en",
            "line 2: the subject must fit on one line");
    refused("reminder.subject", "{{#original_subject}}\nRe: {{original_subject}}\n"
            "{{/original_subject}}", "en", "line 2: the subject must fit on one line");
    accepted("reminder.subject", "Rappel : facture {{number}}\r\n");
    accepted("reminder.subject", "\n  Rappel {{number}}  \n\n");
    /* Text and html may have several lines. */
    accepted("reminder.txt", "Bonjour,\n\n{{amount}}\n");
}
END_TEST

START_TEST(test_link)
{
    refused("block.txt", "Payez {{amount}}", "en", "line 1: the payment link {{link}} is missing");
    refused("block.html", "<p>{{amount}}</p>", "fr",
            "ligne 1 : le lien de paiement {{link}} manque");
    /* In a comment, it is not there. */
    refused("block.txt", "{{! {{link}} }}\nPayez {{amount}}", "en",
            "line 1: the payment link {{link}} is missing");
    /* Shown only for some invoices. */
    refused("block.txt", "Payez\n{{#due_date}}{{link}}{{/due_date}}", "en",
            "line 2: the payment link {{link}} is inside a condition: some invoices would not "
            "show it");
    refused("block.html", "x\n{{^qr_only}}\n<a href=\"{{link}}\">payer</a>\n{{/qr_only}}", "fr",
            "ligne 3 : le lien de paiement {{link}} est dans une condition : certaines "
            "factures ne l'afficheraient pas");
    refused_prefix("block.txt", "{{#qr_only}}{{link}}{{/qr_only}}", "en",
                   "line 1: the payment link {{link}} is inside a condition");
    refused_prefix("block.txt", "{{#artisan_name}}{{link}}{{/artisan_name}}", "en",
                   "line 1: the payment link {{link}} is inside a condition");
    /* Shown in both branches, or under a section that is always there: fine. */
    accepted("block.txt", "{{#qr_only}}Scannez : {{link}}{{/qr_only}}"
             "{{^qr_only}}Payez : {{link}}{{/qr_only}}");
    accepted("block.txt", "{{#link}}Payez : {{link}}{{/link}}");
    accepted("block.html", "<a href=\"{{ link }}\">{{amount}}</a><img src=\"cid:{{qr_cid}}\">");
    /* A reminder's own text need not carry it: the block goes into every reminder. */
    accepted("reminder.txt", "Bonjour, la facture {{number}} attend.");
    accepted("reminder.html", "<p>{{number}}</p>");
}
END_TEST

/* Whatever the bytes: an answer, no crash, bounded. */
START_TEST(test_hostile)
{
    static const char *const pieces[] = {
        "{{", "}}", "{{{", "}}}", "#", "^", "/", "!", "=", ">", "&", "link", "number", ".",
        "\n", "\r", " ", "x", "é", "\xff", "{{#number}}", "{{/number}}", "{{link}}", "<%", "%>",
    };
    GRand *rand = g_rand_new_with_seed(20260302);
    size_t n = 0;
    const usertmpl_kind *all = usertmpl_kinds(&n);
    for (int round = 0; round < 3000; round++) {
        GString *s = g_string_new(NULL);
        int len = g_rand_int_range(rand, 0, 40);
        for (int i = 0; i < len; i++)
            g_string_append(s, pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))]);
        const usertmpl_kind *k = &all[round % n];
        char *why = usertmpl_validate(k, s->str, round % 2 ? "fr" : "en");
        if (why) {
            ck_assert_msg(g_str_has_prefix(why, "line ") || g_str_has_prefix(why, "ligne "),
                          "%s", why);
            ck_assert(g_utf8_validate(why, -1, NULL));
        } else {
            /* Accepted: renders, with the link where one is needed. */
            json_t *ctx = usertmpl_sample("fr", "A", "a@example.fr", "https://x.example", 7);
            char *err = NULL, *out = usertmpl_render(k, s->str, ctx, &err);
            ck_assert_msg(out != NULL, "accepted but does not render: %s", s->str);
            ck_assert(!k->needs_link || strstr(out, "https://x.example/p/exemple"));
            g_free(out);
            json_decref(ctx);
        }
        g_free(why);
        g_string_free(s, TRUE);
    }
    g_rand_free(rand);
}
END_TEST

START_TEST(test_sample)
{
    json_t *ctx = usertmpl_sample("fr", "Plomberie Dupont", "jean@plomberie.example",
                                  "https://pay.example.fr/", 15);
    size_t n = 0;
    const usertmpl_kind *all = usertmpl_kinds(&n);
    for (size_t i = 0; i < n; i++)
        for (int v = 0; all[i].variables[v]; v++)
            ck_assert_msg(json_object_get(ctx, all[i].variables[v]) != NULL, "%s: no %s",
                          all[i].name, all[i].variables[v]);
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "link")),
                     "https://pay.example.fr/p/exemple");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "number")), "F-2026-042");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "due_date")), "01/04/2026");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "client_email")), "client@example.fr");
    ck_assert_int_eq(json_integer_value(json_object_get(ctx, "days_overdue")), 15);
    ck_assert_int_eq(json_integer_value(json_object_get(ctx, "step")), 15);
    char *amount = money_format(123450, "EUR", "fr");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "amount")), amount);
    g_free(amount);
    json_decref(ctx);

    /* Before the due date: no days overdue; English dates and amount; no artisan given. */
    ctx = usertmpl_sample("en", NULL, "", "https://pay.example.fr", -3);
    ck_assert_ptr_null(json_object_get(ctx, "days_overdue"));
    ck_assert_ptr_null(json_object_get(ctx, "artisan_name"));
    ck_assert_ptr_null(json_object_get(ctx, "artisan_email"));
    ck_assert_int_eq(json_integer_value(json_object_get(ctx, "step")), -3);
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "due_date")), "2026-04-01");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "original_subject")),
                     "Invoice F-2026-042");
    amount = money_format(123450, "EUR", "en");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "amount")), amount);
    g_free(amount);
    json_decref(ctx);
}
END_TEST

/* Each default, rendered with the sample: its values are there, html escaped where it is. */
START_TEST(test_render_defaults)
{
    const char *locales[] = { "fr", "en" };
    size_t n = 0;
    const usertmpl_kind *all = usertmpl_kinds(&n);
    for (size_t l = 0; l < 2; l++) {
        json_t *ctx = usertmpl_sample(locales[l], "Dupont & Fils", "jean@plomberie.example",
                                      "https://pay.example.fr", 15);
        for (size_t i = 0; i < n; i++) {
            char *src = tmpl_load("templates", locales[l], all[i].name), *err = NULL;
            char *out = usertmpl_render(&all[i], src, ctx, &err);
            ck_assert_msg(out != NULL, "%s/%s: %s", locales[l], all[i].name, err);
            ck_assert_msg(strstr(out, "F-2026-042"), "%s/%s: no number", locales[l], all[i].name);
            if (all[i].needs_link)
                ck_assert(strstr(out, "https://pay.example.fr/p/exemple"));
            if (strcmp(all[i].name, "reminder.subject") == 0)
                ck_assert(!strchr(out, '\n') && !g_ascii_isspace(out[strlen(out) - 1]));
            if (strcmp(all[i].name, "reminder.txt") == 0)
                ck_assert(strstr(out, "Dupont & Fils"));
            if (strcmp(all[i].name, "reminder.html") == 0)
                ck_assert(strstr(out, "Dupont &amp; Fils"));
            if (strcmp(all[i].name, "block.html") == 0)
                ck_assert(strstr(out, "Dupont &amp; Fils") && strstr(out, "cid:qr-F-2026-042@"));
            g_free(out);
            g_free(src);
        }
        json_decref(ctx);
    }
}
END_TEST

START_TEST(test_render_escaping)
{
    json_t *ctx = json_pack("{s:s, s:s}", "number", "<b>\"1\"</b>", "link", "https://x/p/a&b");
    char *err = NULL;
    char *html = usertmpl_render(kind("block.html"), "{{number}} {{link}}", ctx, &err);
    ck_assert_str_eq(html, "&lt;b&gt;&quot;1&quot;&lt;/b&gt; https://x/p/a&amp;b");
    char *text = usertmpl_render(kind("block.txt"), "{{number}} {{link}}", ctx, &err);
    ck_assert_str_eq(text, "<b>\"1\"</b> https://x/p/a&b");
    char *subject = usertmpl_render(kind("reminder.subject"), "  Re: {{number}}\n", ctx, &err);
    ck_assert_str_eq(subject, "Re: <b>\"1\"</b>");
    ck_assert_ptr_null(usertmpl_render(kind("block.txt"), "{{#x}}", ctx, &err));
    ck_assert_ptr_nonnull(err);
    g_free(err);
    g_free(html);
    g_free(text);
    g_free(subject);
    json_decref(ctx);
}
END_TEST

/* ---------------------------------------------------------------- storage */

static PGconn *db;
static gint64 artisan_id;

static void db_setup(void)
{
    char *err = NULL;
    db = db_connect(getenv("REGLO_TEST_CONNINFO"), 5, 30000, &err);
    ck_assert_msg(db != NULL, "%s", err);
    PGresult *res = PQexec(db, "INSERT INTO artisan (email, name) "
                               "VALUES ('usertmpl-unit@artisan.test', 'Unit') "
                               "ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name "
                               "RETURNING id");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    artisan_id = db_int(res, 0, 0);
    PQclear(res);
    char id[24];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, artisan_id);
    const char *params[] = { id };
    res = PQexecParams(db, "DELETE FROM template WHERE artisan_id = $1", 1, NULL, params, NULL,
                       NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
}

static void db_teardown(void)
{
    db_close(db);
    db = NULL;
}

static void stored_is(const char *name, gboolean has_step, int step, const char *locale,
                      const char *want)
{
    char *err = NULL;
    char *got = usertmpl_get(db, artisan_id, name, has_step, step, locale, &err);
    ck_assert_msg(err == NULL, "%s", err);
    if (want)
        ck_assert_msg(got && strcmp(got, want) == 0, "%s: got %s", name, got ? got : "NULL");
    else
        ck_assert_msg(got == NULL, "%s: got %s", name, got);
    g_free(got);
}

static void save_ok(const char *name, gboolean has_step, int step, const char *locale,
                    const char *body)
{
    char *err = NULL;
    ck_assert_msg(usertmpl_save(db, artisan_id, name, has_step, step, locale, body, &err),
                  "%s: %s", name, err);
    ck_assert_ptr_null(err);
}

static void fails_with(gboolean ok, char *err, const char *want)
{
    ck_assert(!ok);
    ck_assert_msg(err && strstr(err, want), "got %s, want %s", err ? err : "NULL", want);
    g_free(err);
}

START_TEST(test_storage_roundtrip)
{
    stored_is("block.txt", FALSE, 0, "fr", NULL);
    save_ok("block.txt", FALSE, 0, "fr", "Payez : {{link}}\n");
    stored_is("block.txt", FALSE, 0, "fr", "Payez : {{link}}\n");
    stored_is("block.txt", FALSE, 0, "en", NULL);
    /* Saving again replaces: the NULL step is one key. */
    save_ok("block.txt", FALSE, 0, "fr", "Réglez : {{link}}\n");
    stored_is("block.txt", FALSE, 0, "fr", "Réglez : {{link}}\n");

    /* Per step, negative steps too, and the every-step version: exact rows, no fallback. */
    save_ok("reminder.subject", FALSE, 0, "fr", "Rappel {{number}}");
    save_ok("reminder.subject", TRUE, 7, "fr", "Rappel J+7 {{number}}");
    save_ok("reminder.subject", TRUE, -3, "fr", "Bientôt {{number}}");
    stored_is("reminder.subject", FALSE, 0, "fr", "Rappel {{number}}");
    stored_is("reminder.subject", TRUE, 7, "fr", "Rappel J+7 {{number}}");
    stored_is("reminder.subject", TRUE, -3, "fr", "Bientôt {{number}}");
    stored_is("reminder.subject", TRUE, 15, "fr", NULL);

    char *err = NULL, *text = NULL, *html = NULL;
    ck_assert(usertmpl_get_block(db, artisan_id, "fr", &text, &html, &err));
    ck_assert_str_eq(text, "Réglez : {{link}}\n");
    ck_assert_ptr_null(html);
    g_free(text);
    save_ok("block.html", FALSE, 0, "fr", "<a href=\"{{link}}\">payer</a>");
    ck_assert(usertmpl_get_block(db, artisan_id, "fr", &text, &html, &err));
    ck_assert_str_eq(text, "Réglez : {{link}}\n");
    ck_assert_str_eq(html, "<a href=\"{{link}}\">payer</a>");
    g_free(text);
    g_free(html);
    ck_assert(usertmpl_get_block(db, artisan_id, "en", &text, &html, &err));
    ck_assert(!text && !html && !err);

    json_t *list = usertmpl_list(db, artisan_id, &err);
    ck_assert_msg(list != NULL, "%s", err);
    ck_assert_uint_eq(json_array_size(list), 5);
    json_t *first = json_array_get(list, 0);
    ck_assert_str_eq(json_string_value(json_object_get(first, "name")), "block.html");
    ck_assert(json_is_null(json_object_get(first, "step")));
    ck_assert_str_eq(json_string_value(json_object_get(first, "locale")), "fr");
    ck_assert(g_str_has_suffix(json_string_value(json_object_get(first, "updated_at")), "Z"));
    json_t *step = json_object_get(json_array_get(list, 3), "step");
    ck_assert(json_is_integer(step) && json_integer_value(step) == -3);
    json_decref(list);

    ck_assert(usertmpl_reset(db, artisan_id, "reminder.subject", TRUE, 7, "fr", &err));
    stored_is("reminder.subject", TRUE, 7, "fr", NULL);
    stored_is("reminder.subject", FALSE, 0, "fr", "Rappel {{number}}");
    ck_assert(usertmpl_reset(db, artisan_id, "reminder.subject", TRUE, 7, "fr", &err));
    ck_assert(usertmpl_reset(db, artisan_id, "block.txt", FALSE, 0, "fr", &err));
    stored_is("block.txt", FALSE, 0, "fr", NULL);
    ck_assert_ptr_null(err);
}
END_TEST

START_TEST(test_storage_refusals)
{
    char *err = NULL;
    /* What fails the checks is not stored, and the previous version stays. */
    save_ok("block.txt", FALSE, 0, "en", "Pay: {{link}}");
    gboolean ok = usertmpl_save(db, artisan_id, "block.txt", FALSE, 0, "en", "Pay {{{number}}}",
                                &err);
    fails_with(ok, err, "line 1: {{{number}}}");
    ok = usertmpl_save(db, artisan_id, "block.txt", FALSE, 0, "fr", "Payez", &err);
    fails_with(ok, err, "ligne 1 : le lien de paiement");
    stored_is("block.txt", FALSE, 0, "en", "Pay: {{link}}");
    stored_is("block.txt", FALSE, 0, "fr", NULL);
    ok = usertmpl_save(db, artisan_id, "block.txt", TRUE, 7, "fr", "{{link}}", &err);
    fails_with(ok, err, "no per-step version");
    ok = usertmpl_save(db, artisan_id, "page.html", FALSE, 0, "fr", "x", &err);
    fails_with(ok, err, "not an editable template");
    ok = usertmpl_save(db, artisan_id, "block.txt", FALSE, 0, "de", "{{link}}", &err);
    fails_with(ok, err, "locale");
    ck_assert_ptr_null(usertmpl_get(db, artisan_id, "../etc", FALSE, 0, "fr", &err));
    fails_with(FALSE, err, "not an editable template");
    ok = usertmpl_reset(db, artisan_id, "block.html", TRUE, 1, "fr", &err);
    fails_with(ok, err, "no per-step version");

    /* The largest accepted body fits the table. */
    GString *big = g_string_new("{{link}}\n");
    while (big->len < USERTMPL_MAX_BYTES)
        g_string_append_c(big, 'x');
    save_ok("block.txt", FALSE, 0, "en", big->str);
    stored_is("block.txt", FALSE, 0, "en", big->str);
    g_string_free(big, TRUE);
}
END_TEST

static Suite *usertmpl_suite(void)
{
    Suite *s = suite_create("usertmpl");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, test_kinds);
    tcase_add_test(tc, test_defaults_accepted);
    tcase_add_test(tc, test_refused_bytes);
    tcase_add_test(tc, test_refused_tags);
    tcase_add_test(tc, test_refused_parse);
    tcase_add_test(tc, test_refused_names);
    tcase_add_test(tc, test_subject_one_line);
    tcase_add_test(tc, test_link);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_sample);
    tcase_add_test(tc, test_render_defaults);
    tcase_add_test(tc, test_render_escaping);
    suite_add_tcase(s, tc);
    const char *conninfo = getenv("REGLO_TEST_CONNINFO");
    if (conninfo && *conninfo) {
        TCase *st = tcase_create("storage");
        tcase_add_checked_fixture(st, db_setup, db_teardown);
        tcase_add_test(st, test_storage_roundtrip);
        tcase_add_test(st, test_storage_refusals);
        suite_add_tcase(s, st);
    } else
        fprintf(stderr, "NOTICE: test_usertmpl: storage tests left out (REGLO_TEST_CONNINFO "
                        "unset; tests/integration/usertmpl.sh runs them on PostgreSQL)\n");
    return s;
}

int main(void)
{
    int failed = testutil_run(usertmpl_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
