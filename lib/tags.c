/*
 * tags — subject tags; see tags.h.
 */
#include "tags.h"
#include "money.h"

#include <string.h>

/* Lower case, accents folded, inner spaces collapsed: "Sans  Lien" -> "sans lien". */
static char *tag_fold(const char *s, size_t len)
{
    char *valid = g_utf8_make_valid(s, (gssize) len);
    char *down = g_utf8_strdown(valid, -1);
    char *ascii = g_str_to_ascii(down, "C");
    GString *out = g_string_new(NULL);
    for (const char *p = ascii; *p; p++) {
        if (g_ascii_isspace(*p) || *p == '_' || *p == '-') {
            if (out->len && out->str[out->len - 1] != ' ')
                g_string_append_c(out, ' ');
        } else
            g_string_append_c(out, *p);
    }
    g_strchomp(out->str);
    g_free(valid);
    g_free(down);
    g_free(ascii);
    return g_string_free(out, FALSE);
}

static gboolean tag_amount(subject_tags *out, const char *inner, size_t len)
{
    char *text = g_strndup(inner, len);
    char currency[4];
    size_t end = 0;
    gint64 minor;
    g_strstrip(text);
    gboolean ok = money_parse(text, &minor, currency, &end) && end == strlen(text) && minor > 0;
    g_free(text);
    if (ok) {
        out->has_amount = TRUE;
        out->amount_minor = minor;
    } else
        out->bad_amount = TRUE;
    return TRUE;
}

/* One bracketed word: TRUE when it is ours (and so removed). */
static gboolean tag_apply(subject_tags *out, const char *inner, size_t len)
{
    char *folded = tag_fold(inner, len);
    gboolean ours = TRUE;
    if (!strcmp(folded, "sans lien") || !strcmp(folded, "no link"))
        out->no_link = TRUE;
    else if (!strcmp(folded, "lien") || !strcmp(folded, "link"))
        out->link = TRUE;
    else if (!strcmp(folded, "qr"))
        out->qr = TRUE;
    else if (g_str_has_prefix(folded, "montant ") || g_str_has_prefix(folded, "amount ")) {
        /* The amount follows the keyword, whatever spacing surrounds them. */
        const char *p = inner, *end = inner + len;
        while (p < end && g_ascii_isspace(*p))
            p++;
        while (p < end && g_ascii_isalpha(*p))
            p++;
        tag_amount(out, p, (size_t) (end - p));
    } else
        ours = FALSE;
    g_free(folded);
    return ours;
}

void tags_parse(const char *subject, subject_tags *out)
{
    memset(out, 0, sizeof *out);
    GString *clean = g_string_new(NULL);
    const char *p = subject ? subject : "";
    while (*p) {
        const char *close = *p == '[' ? memchr(p, ']', strnlen(p, 65)) : NULL;
        if (close && close - p <= 64 && tag_apply(out, p + 1, (size_t) (close - p - 1))) {
            out->found = TRUE;
            p = close + 1;
            continue;
        }
        g_string_append_c(clean, *p++);
    }
    /* Removing a tag leaves double or edge spaces behind. */
    char **words = g_strsplit_set(clean->str, " \t", -1);
    GString *tidy = g_string_new(NULL);
    for (int i = 0; words[i]; i++)
        if (*words[i])
            g_string_append_printf(tidy, "%s%s", tidy->len ? " " : "", words[i]);
    g_strfreev(words);
    g_string_free(clean, TRUE);
    out->clean_subject = g_string_free(tidy, FALSE);
}

void tags_clear(subject_tags *tags)
{
    g_free(tags->clean_subject);
    memset(tags, 0, sizeof *tags);
}
