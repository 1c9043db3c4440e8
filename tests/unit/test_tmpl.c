/*
 * test_tmpl — the mustache renderer: the official spec files from the corpus (skipped with a
 * notice when absent), reglo's own cases in the same format (tests/fixtures/tmpl/cases.json),
 * errors with line numbers, nesting and work caps, hostile input, and tmpl_load.
 */
#include "tmpl.h"
#include "testutil.h"

#include <check.h>
#include <string.h>

#define FIXTURES "tests/fixtures/tmpl"

/* Loader over a spec test's "partials" object. */
static char *json_partial(const char *name, void *arg)
{
    const char *s = json_string_value(json_object_get(arg, name));
    return s ? g_strdup(s) : NULL;
}

/* Runs every test of a spec-format file; returns the number of failures (printed). */
static int run_spec_file(const char *path, int *count)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    ck_assert_msg(doc, "%s: %s", path, jerr.text);
    int failures = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "tests"), i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *want = json_string_value(json_object_get(t, "expected"));
        char *err = NULL;
        char *got = tmpl_render(json_string_value(json_object_get(t, "template")),
                                json_object_get(t, "data"), json_partial,
                                json_object_get(t, "partials"), TRUE, &err);
        if (!got || strcmp(got, want) != 0) {
            fprintf(stderr, "FAIL %s: %s\n  want: %s\n  got:  %s\n", path, name, want,
                    got ? got : err);
            failures++;
        }
        (*count)++;
        g_free(got);
        g_free(err);
    }
    json_decref(doc);
    return failures;
}

static const char *const spec_files[] = {
    "comments.json", "delimiters.json", "interpolation.json",
    "inverted.json", "partials.json", "sections.json",
};

/* Registered only when the corpus is present. */
START_TEST(test_spec)
{
    char *path = corpus_path("specs", "mustache", spec_files[_i], NULL);
    int count = 0;
    int failures = run_spec_file(path, &count);
    ck_assert_msg(failures == 0, "%s: %d of %d spec tests failed", path, failures, count);
    ck_assert_int_gt(count, 0);
    g_free(path);
}
END_TEST

START_TEST(test_project_cases)
{
    int count = 0;
    ck_assert_int_eq(run_spec_file(FIXTURES "/cases.json", &count), 0);
    ck_assert_int_gt(count, 10);
}
END_TEST

/* Renders with a context given as JSON text; returns the output or the error text. */
static char *render_json(const char *src, const char *data, gboolean escape)
{
    json_t *ctx = json_loads(data, 0, NULL);
    ck_assert_ptr_nonnull(ctx);
    char *err = NULL;
    char *out = tmpl_render(src, ctx, NULL, NULL, escape, &err);
    json_decref(ctx);
    if (!out)
        return err;
    ck_assert_ptr_null(err);
    return out;
}

static void assert_render(const char *src, const char *data, gboolean escape, const char *want)
{
    char *got = render_json(src, data, escape);
    ck_assert_str_eq(got, want);
    g_free(got);
}

START_TEST(test_escape_modes)
{
    assert_render("{{x}}", "{\"x\": \"<a href='#'>&\\\"</a>\"}", TRUE,
                  "&lt;a href=&#39;#&#39;&gt;&amp;&quot;&lt;/a&gt;");
    assert_render("{{x}} {{{x}}}", "{\"x\": \"a < b & c\"}", FALSE, "a < b & c a < b & c");
    assert_render("{{n}} {{r}}", "{\"n\": 1234567890123, \"r\": 1.5}", FALSE, "1234567890123 1.5");
}
END_TEST

START_TEST(test_null_context)
{
    char *err = NULL;
    char *out = tmpl_render("a{{x}}{{#s}}b{{/s}}{{^s}}c{{/s}}{{.}}", NULL, NULL, NULL, TRUE, &err);
    ck_assert_str_eq(out, "ac");
    ck_assert_ptr_null(err);
    g_free(out);
}
END_TEST

static void assert_error(const char *src, const char *want_prefix)
{
    char *err = tmpl_check(src);
    ck_assert_msg(err && g_str_has_prefix(err, want_prefix), "%s: got %s, want %s...", src,
                  err ? err : "(null)", want_prefix);
    char *out = tmpl_render(src, NULL, NULL, NULL, TRUE, NULL);
    ck_assert_ptr_null(out);
    char *err2 = NULL;
    out = tmpl_render(src, NULL, NULL, NULL, TRUE, &err2);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err2, err);
    g_free(err2);
    g_free(err);
}

START_TEST(test_errors)
{
    assert_error("a\n{{#s}}\nb\n", "line 2: unclosed section {{#s}}");
    assert_error("a\n\n{{^s}}", "line 3: unclosed section {{^s}}");
    assert_error("{{#a}}\n{{#b}}\n{{/a}}\n", "line 3: mismatched close tag {{/a}}, expected {{/b}}");
    assert_error("x\n{{/a}}", "line 2: close tag {{/a}} without an open section");
    assert_error("one\ntwo {{x\nthree", "line 2: unclosed tag");
    assert_error("{{{x}}", "line 1: unclosed tag");
    assert_error("\n\n\n{{=<% %>}}", "line 4: bad delimiter change");
    assert_error("{{=<%=}}", "line 1: bad delimiter change");
    assert_error("{{=a b c=}}", "line 1: bad delimiter change");
    assert_error("{{= =}}", "line 1: bad delimiter change");
    assert_error("{{=a= b=}}", "line 1: bad delimiter change");
    assert_error("{{=<% %>=}}\n<%x", "line 2: unclosed tag");
    assert_error("{{}}", "line 1: empty tag");
    assert_error("{{# }}", "line 1: empty tag");
    assert_error("{{a b}}", "line 1: blank inside a tag name");
}
END_TEST

START_TEST(test_check_good)
{
    const char *good[] = {
        "", "plain", "{{x}}", "{{#a}}{{^b}}{{c.d}}{{/b}}{{/a}}", "{{! {{ }}", "{{>p}}",
        "{{=<% %>=}}<%x%>", "{ } }} {",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        char *err = tmpl_check(good[i]);
        ck_assert_msg(err == NULL, "%s: %s", good[i], err);
    }
}
END_TEST

START_TEST(test_variables)
{
    GPtrArray *v = tmpl_variables("{{a}} {{b.c}} {{{a}}} {{#list}}{{inner}}{{/list}}"
                                  "{{^paid}}{{link}}{{/paid}} {{&raw}} {{.}} {{>part}} {{!x}}");
    ck_assert_ptr_nonnull(v);
    const char *want[] = { "a", "b", "list", "paid", "link", "raw" };
    ck_assert_uint_eq(v->len, G_N_ELEMENTS(want));
    for (guint i = 0; i < v->len; i++)
        ck_assert_str_eq(g_ptr_array_index(v, i), want[i]);
    g_ptr_array_unref(v);
    ck_assert_ptr_null(tmpl_variables("{{#a}}"));
}
END_TEST

START_TEST(test_deep_nesting)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 10000; i++)
        g_string_append(s, "{{#a}}");
    char *err = tmpl_check(s->str);
    ck_assert_str_eq(err, "line 1: sections nested deeper than 100");
    g_free(err);
    g_string_truncate(s, 0);
    for (int i = 0; i < 100; i++)
        g_string_append(s, "{{#a}}");
    g_string_append(s, "x");
    for (int i = 0; i < 100; i++)
        g_string_append(s, "{{/a}}");
    assert_render(s->str, "{\"a\": true}", TRUE, "x");
    g_string_free(s, TRUE);
}
END_TEST

static char *bomb_partial(const char *name, void *arg)
{
    (void)arg;
    if (strcmp(name, "self") == 0)
        return g_strdup("{{>self}}");
    if (strcmp(name, "bomb") == 0)
        return g_strdup("{{>bomb}}{{>bomb}}");
    if (strcmp(name, "bad") == 0)
        return g_strdup("ok\n{{#x}}");
    return NULL;
}

static char *render_partial_error(const char *src)
{
    char *err = NULL;
    char *out = tmpl_render(src, NULL, bomb_partial, NULL, TRUE, &err);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(err);
    return err;
}

START_TEST(test_runaway_partials)
{
    char *err = render_partial_error("{{>self}}");
    ck_assert_str_eq(err, "line 1: sections and partials nested too deep");
    g_free(err);
    err = render_partial_error("x\n{{>bomb}}");
    ck_assert_msg(strstr(err, "nested too deep") || strstr(err, "too much work"), "%s", err);
    g_free(err);
    err = render_partial_error("\n{{>bad}}");
    ck_assert_str_eq(err, "line 2: in partial bad: line 2: unclosed section {{#x}}");
    g_free(err);
}
END_TEST

START_TEST(test_runaway_data)
{
    /* 200^4 iterations: the work cap stops it long before 1.6 billion node visits. */
    GString *data = g_string_new("{\"l\": [");
    for (int i = 0; i < 200; i++)
        g_string_append(data, i ? ",1" : "1");
    g_string_append(data, "]}");
    char *got = render_json("{{#l}}{{#l}}{{#l}}{{#l}}x{{/l}}{{/l}}{{/l}}{{/l}}", data->str, TRUE);
    ck_assert_str_eq(got, "line 1: template does too much work");
    g_free(got);
    g_string_free(data, TRUE);
}
END_TEST

static void render_hostile(const char *src)
{
    static const char data[] = "{\"a\": [1, {\"b\": \"x\"}], \"b\": true, \"c\": \"<\"}";
    char *out = render_json(src, data, TRUE);
    g_free(out);
    g_free(tmpl_check(src));
    GPtrArray *v = tmpl_variables(src);
    if (v)
        g_ptr_array_unref(v);
}

START_TEST(test_hostile)
{
    const char *fixed[] = {
        "{{", "{{{", "{{=", "{{#", "{{/", "{{!", "{{>", "{{&", "{{^", "}}", "{{{}}}", "{{=}}",
        "{{==}}", "{{= a b =}}", "{{=a b=}}a", "{{=a b=}}b", "{{=a b=}}ab", "{{=== ===}}",
        "{{.}}", "{{..}}", "{{a..b}}", "{{#.}}{{/.}}", "{{#a}}{{/a}}}}", "\r\n{{#a}}\r",
        "{{#a}}{{b}}{{.}}{{/a}}", "\xff\xfe{{\x01}}", "{{ \t }}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
        render_hostile(fixed[i]);
    /* Random templates over an alphabet that keeps hitting the tag syntax. */
    static const char alphabet[] = "{{{}}}#^/!=>&.ab \n\r\t<%\xc3";
    GRand *rand = g_rand_new_with_seed(42);
    for (int n = 0; n < 3000; n++) {
        char buf[64];
        int len = g_rand_int_range(rand, 0, sizeof buf);
        for (int i = 0; i < len; i++)
            buf[i] = n % 4 == 0 ? (char)g_rand_int_range(rand, 1, 256)
                                : alphabet[g_rand_int_range(rand, 0, sizeof alphabet - 1)];
        buf[len] = '\0';
        render_hostile(buf);
    }
    g_rand_free(rand);
}
END_TEST

START_TEST(test_load)
{
    char *s = tmpl_load(FIXTURES, "en", "greeting.txt");
    ck_assert_str_eq(s, "Hello {{name}},\n");
    g_free(s);
    s = tmpl_load(FIXTURES, "de", "greeting.txt");
    ck_assert_str_eq(s, "Bonjour {{name}},\n");
    g_free(s);
    s = tmpl_load(FIXTURES, "en", "only-fr.txt");
    ck_assert_str_eq(s, "Seulement en français.\n");
    g_free(s);
    s = tmpl_load(FIXTURES, NULL, "greeting.txt");
    ck_assert_str_eq(s, "Bonjour {{name}},\n");
    g_free(s);
    ck_assert_ptr_null(tmpl_load(FIXTURES, "en", "missing.txt"));
    ck_assert_ptr_null(tmpl_load(FIXTURES, "en", "../fr/greeting.txt"));
    ck_assert_ptr_null(tmpl_load(FIXTURES, "en", "fr/greeting.txt"));
    ck_assert_ptr_null(tmpl_load(FIXTURES, "..", "greeting.txt"));
    ck_assert_ptr_null(tmpl_load(FIXTURES, "fr/../en", "greeting.txt"));
    ck_assert_ptr_null(tmpl_load(FIXTURES, "en", ""));
    ck_assert_ptr_null(tmpl_load(FIXTURES, "en", NULL));
}
END_TEST

/* A set parses each file once and renders partials from its own directory, indented. */
START_TEST(test_set)
{
    tmpl_set *set = tmpl_set_new(FIXTURES);
    json_t *ctx = json_pack("{s:s, s:s, s:[s,s]}", "name", "Jean & fils", "email", "j@x.test",
                            "items", "a", "<b>");
    const char *want = "<p>Jean &amp; fils <j@x.test>\n</p>\n  - a\n  - &lt;b&gt;\n";
    for (int round = 0; round < 3; round++) {   /* the second and third come from the cache */
        char *err = NULL;
        char *out = tmpl_set_render(set, "en", "page.html", ctx, TRUE, &err);
        ck_assert_ptr_nonnull(out);
        ck_assert_str_eq(out, want);
        g_free(out);
    }
    char *err = NULL;
    ck_assert_ptr_null(tmpl_set_render(set, "fr", "missing.html", ctx, TRUE, &err));
    ck_assert_ptr_nonnull(strstr(err, "missing"));
    g_free(err);
    err = NULL;
    ck_assert_ptr_null(tmpl_set_render(set, "fr", "broken.html", ctx, TRUE, &err));
    ck_assert_ptr_nonnull(strstr(err, "line"));
    g_free(err);
    err = NULL;
    ck_assert_ptr_null(tmpl_set_render(set, "fr", "../fr/page.html", ctx, TRUE, &err));
    g_free(err);
    json_decref(ctx);
    tmpl_set_free(set);
}
END_TEST

static Suite *tmpl_suite(void)
{
    Suite *s = suite_create("tmpl");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    if (corpus_present("test_tmpl mustache spec"))
        tcase_add_loop_test(tc, test_spec, 0, G_N_ELEMENTS(spec_files));
    tcase_add_test(tc, test_project_cases);
    tcase_add_test(tc, test_escape_modes);
    tcase_add_test(tc, test_null_context);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_check_good);
    tcase_add_test(tc, test_variables);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_runaway_partials);
    tcase_add_test(tc, test_runaway_data);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_load);
    tcase_add_test(tc, test_set);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(tmpl_suite());
    return failed ? 1 : 0;
}
