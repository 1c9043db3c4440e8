/*
 * fuzz_usertmpl — an artisan's template as the portal receives it: usertmpl_validate for
 * the kind chosen by the first byte's low 7 bits (block.txt, block.html,
 * reminder.subject/txt/html) and the locale by its high bit, on the rest of the input; then, for an accepted template,
 * usertmpl_render over the sample invoice the preview uses. No database.
 * Asserts: no crash/leak/UB; a refusal is a "line N: ..." / "ligne N : ..." message in valid
 * UTF-8; an accepted template renders without error, into valid UTF-8, and when the kind
 * needs the payment link the rendering shows it; a subject renders on one line.
 */
#include <jansson.h>

#include "fuzz_common.h"
#include "usertmpl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet();
    return 0;
}

static void check_accepted(const usertmpl_kind *kind, const char *src, const char *locale)
{
    json_t *sample = usertmpl_sample(locale, "Plomberie <Dupont> & fils", "contact@dupont.fr",
                                     "https://pay.example/", kind->per_step ? 2 : 0);
    char *err = NULL;
    char *out = usertmpl_render(kind, src, sample, &err);
    FUZZ_CHECK(out != NULL && err == NULL);
    FUZZ_CHECK(fuzz_utf8(out));
    if (kind->needs_link)
        FUZZ_CHECK(strstr(out, "https://pay.example/p/exemple") != NULL);
    if (g_str_has_suffix(kind->name, ".subject"))
        FUZZ_CHECK(strpbrk(out, "\r\n") == NULL);
    g_free(out);
    json_decref(sample);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n;
    const usertmpl_kind *kinds = usertmpl_kinds(&n);
    const usertmpl_kind *kind = &kinds[(data[0] & 0x7f) % n];
    const char *locale = (data[0] & 0x80) ? "en" : "fr";
    char *src = fuzz_strndup(data + 1, size - 1);
    char *refused = usertmpl_validate(kind, src, locale);
    if (refused)
        FUZZ_CHECK(fuzz_utf8(refused) &&
                   (g_str_has_prefix(refused, "line ") || g_str_has_prefix(refused, "ligne ")));
    else
        check_accepted(kind, src, locale);
    g_free(refused);
    g_free(src);
    return 0;
}
