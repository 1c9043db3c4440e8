/*
 * fuzz_tmpl — mustache templates (lib/tmpl.c): tmpl_check, tmpl_variables and tmpl_render
 * (html-escaped and raw) of the input over a fixed context with nested objects, lists,
 * numbers, booleans and markup; partial "self" is the input again (recursion), any other
 * partial a small fixed template.
 * Asserts: no crash/leak/UB/hang (the renderer's caps bound nesting, work and output);
 * tmpl_check, tmpl_variables and rendering agree on whether the template parses; every
 * error reads "line N: ..."; escaped output of a valid UTF-8 template is valid UTF-8 and
 * never carries the context's raw markup unless the template asks for it ({{{ }}} / {{& }}
 * or a delimiter change are then possible: only checked when neither appears).
 */
#include <jansson.h>

#include "fuzz_common.h"
#include "tmpl.h"

static json_t *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet();
    ctx = json_loads("{\"x\": \"<b>&amp;\\\"'</b>\", \"n\": 42, \"r\": 1.5, \"t\": true,"
                     " \"f\": false, \"z\": null, \"e\": \"\", \"l\": [1, \"<i>\", {\"x\": \"y\"}],"
                     " \"o\": {\"a\": {\"b\": \"<c>\"}, \"l\": [[], [1, 2]]},"
                     " \"invoice\": {\"number\": \"F-1\", \"amount\": \"12,50 €\"}}",
                     0, NULL);
    FUZZ_CHECK(ctx != NULL);
    return 0;
}

static char *partial(const char *name, void *arg)
{
    if (strcmp(name, "self") == 0)
        return g_strdup(arg);
    return g_strdup("[{{x}}{{#l}}{{.}}{{/l}}]\n");
}

static void check_err(const char *err)
{
    FUZZ_CHECK(err != NULL && g_str_has_prefix(err, "line ") && fuzz_utf8(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = fuzz_strndup(data, size);
    gboolean utf8 = g_utf8_validate(src, -1, NULL);
    char *perr = tmpl_check(src);
    GPtrArray *names = tmpl_variables(src);
    FUZZ_CHECK((perr == NULL) == (names != NULL));
    if (perr)
        check_err(perr);
    for (guint i = 0; names && i < names->len; i++)
        FUZZ_CHECK(*(const char *)g_ptr_array_index(names, i) != '\0');
    for (int escape = 0; escape <= 1; escape++) {
        char *err = NULL;
        char *out = tmpl_render(src, ctx, partial, src, escape, &err);
        FUZZ_CHECK((out == NULL) != (err == NULL));
        if (perr)
            FUZZ_CHECK(out == NULL);
        if (!out)
            check_err(err);
        gboolean raw_asked = strstr(src, "{{{") || strstr(src, "{{&") || strstr(src, "{{=") ||
                             strstr(src, "{{>");
        if (out && escape && !raw_asked && !strchr(src, '<'))
            FUZZ_CHECK(strchr(out, '<') == NULL);
        if (out && utf8)
            FUZZ_CHECK(fuzz_utf8(out));
        g_free(out);
        g_free(err);
    }
    if (names)
        g_ptr_array_unref(names);
    g_free(perr);
    g_free(src);
    return 0;
}
