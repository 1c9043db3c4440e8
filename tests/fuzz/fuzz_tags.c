/*
 * fuzz_tags — a subject line through tags_parse (the artisan's [sans lien] [montant 12,50]
 * [qr] tags, removed before delivery).
 * Asserts: no crash/leak/UB; the clean subject is never longer than the subject, is valid
 * UTF-8 when the subject is, has no leading, trailing or double spaces; an amount read is
 * positive; found whenever a flag or an amount was set.
 */
#include "fuzz_common.h"
#include "tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *subject = fuzz_strndup(data, size);
    subject_tags t;
    tags_parse(subject, &t);
    FUZZ_CHECK(t.clean_subject != NULL);
    size_t n = strlen(t.clean_subject);
    FUZZ_CHECK(n <= strlen(subject));
    if (g_utf8_validate(subject, -1, NULL))
        FUZZ_CHECK(g_utf8_validate(t.clean_subject, -1, NULL));
    if (n) {
        FUZZ_CHECK(t.clean_subject[0] != ' ' && t.clean_subject[n - 1] != ' ');
        FUZZ_CHECK(strstr(t.clean_subject, "  ") == NULL);
    }
    if (t.has_amount)
        FUZZ_CHECK(t.amount_minor > 0);
    if (t.no_link || t.link || t.qr || t.has_amount || t.bad_amount)
        FUZZ_CHECK(t.found);
    tags_clear(&t);
    g_free(subject);
    return 0;
}
