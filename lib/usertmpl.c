/*
 * usertmpl — the artisans' own templates; see usertmpl.h.
 *
 * Validation reads the tags itself, the way tmpl.c's parser finds them, for what tmpl.h does
 * not tell: the sigils (so {{{x}}}, partials and delimiter changes are refused before they
 * mean anything), every variable name with its line (tmpl_variables leaves out names inside
 * sections, and gives no line). Since delimiter changes are refused at the first one, every
 * tag before it uses {{ }}: the reading is exact. Parsing proper is tmpl_check's, and whether
 * the link shows for every invoice is found by rendering sample invoices.
 */
#include "usertmpl.h"

#include <string.h>

#include "db.h"
#include "reminder_mail.h"
#include "sqltext.h"
#include "tmpl.h"

/* ---------------------------------------------------------------- kinds */

static const char *const block_variables[] = {
    "number", "amount", "currency", "issue_date", "due_date", "link", "qr_cid", "qr_only",
    "artisan_name", "artisan_email", NULL
};

static const char *const reminder_variables[] = {
    "number", "amount", "currency", "issue_date", "due_date", "sent_date", "days_overdue",
    "step", "link", "qr_cid", "artisan_name", "artisan_email", "client_email",
    "original_subject", NULL
};

/* The reminder's own text and html need no link: the block (which does) goes into every
 * reminder, and the shipped reminder.txt/html rightly have none. */
static const usertmpl_kind kinds[] = {
    { "block.txt", FALSE, FALSE, TRUE, block_variables },
    { "block.html", TRUE, FALSE, TRUE, block_variables },
    { "reminder.subject", FALSE, TRUE, FALSE, reminder_variables },
    { "reminder.txt", FALSE, TRUE, FALSE, reminder_variables },
    { "reminder.html", TRUE, TRUE, FALSE, reminder_variables },
};

const usertmpl_kind *usertmpl_kinds(size_t *n)
{
    *n = G_N_ELEMENTS(kinds);
    return kinds;
}

const usertmpl_kind *usertmpl_kind_find(const char *name)
{
    for (size_t i = 0; name && i < G_N_ELEMENTS(kinds); i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

static gboolean kind_knows(const usertmpl_kind *kind, const char *name)
{
    if (strcmp(name, ".") == 0)     /* a section's own value: harmless */
        return TRUE;
    for (int i = 0; kind->variables[i]; i++)
        if (strcmp(kind->variables[i], name) == 0)
            return TRUE;
    return FALSE;
}

/* ------------------------------------------------------------- messages */

typedef enum {
    M_KIND, M_EMPTY, M_TOO_LONG, M_UTF8, M_CONTROL, M_RAW, M_PARTIAL, M_DELIMS, M_UNKNOWN,
    M_SUBJECT, M_NO_LINK, M_LINK_HIDDEN, M_UNCLOSED_TAG, M_EMPTY_TAG, M_BLANK_NAME,
    M_CLOSE_NOT_OPEN, M_CLOSE_MISMATCH, M_UNCLOSED_SECTION, M_TOO_DEEP, M_OTHER,
} msg_id;

/* { English, French }: the French one follows French typography (" : "). */
static const char *const messages[][2] = {
    [M_KIND] = { "this template cannot be edited", "ce modèle n'est pas modifiable" },
    [M_EMPTY] = { "the template is empty", "le modèle est vide" },
    [M_TOO_LONG] = { "the template is longer than %d bytes", "le modèle dépasse %d octets" },
    [M_UTF8] = { "invalid text encoding (UTF-8 expected)", "texte mal encodé (UTF-8 attendu)" },
    [M_CONTROL] = { "control character not allowed", "caractère de contrôle interdit" },
    [M_RAW] = { "{{{%s}}} and {{&%s}} are not allowed: invoice data must be escaped; write {{%s}}",
                "{{{%s}}} et {{&%s}} sont refusés : les données de la facture doivent être "
                "échappées ; écrivez {{%s}}" },
    [M_PARTIAL] = { "including templates ({{> %s}}) is not allowed",
                    "l'inclusion de modèles ({{> %s}}) est refusée" },
    [M_DELIMS] = { "changing the delimiters ({{=...=}}) is not allowed",
                   "le changement de délimiteurs ({{=...=}}) est refusé" },
    [M_UNKNOWN] = { "unknown variable {{%s}} (available: %s)",
                    "variable inconnue {{%s}} (disponibles : %s)" },
    [M_SUBJECT] = { "the subject must fit on one line", "l'objet doit tenir sur une ligne" },
    [M_NO_LINK] = { "the payment link {{link}} is missing",
                    "le lien de paiement {{link}} manque" },
    [M_LINK_HIDDEN] = { "the payment link {{link}} is inside a condition: some invoices would "
                        "not show it",
                        "le lien de paiement {{link}} est dans une condition : certaines "
                        "factures ne l'afficheraient pas" },
    [M_UNCLOSED_TAG] = { "unclosed tag (}} missing)", "balise non fermée (}} manquant)" },
    [M_EMPTY_TAG] = { "empty tag {{}}", "balise vide {{}}" },
    [M_BLANK_NAME] = { "space inside a variable name", "espace dans un nom de variable" },
    [M_CLOSE_NOT_OPEN] = { "{{/%s}} closes a section that is not open",
                           "{{/%s}} ferme une section qui n'est pas ouverte" },
    [M_CLOSE_MISMATCH] = { "{{/%s}} found where {{/%s}} was expected",
                           "{{/%s}} trouvé là où {{/%s}} était attendu" },
    [M_UNCLOSED_SECTION] = { "section {{%s}} is never closed",
                             "la section {{%s}} n'est jamais fermée" },
    [M_TOO_DEEP] = { "sections nested too deeply", "sections imbriquées trop profondément" },
    [M_OTHER] = { "%s", "erreur de modèle : %s" },
};

static gboolean is_french(const char *locale)
{
    return g_strcmp0(locale, "en") != 0;
}

/* "line N: reason" or "ligne N : raison"; the format's arguments are strings or one int. */
static char *message(const char *locale, int line, msg_id id, ...)
{
    gboolean fr = is_french(locale);
    va_list ap;
    va_start(ap, id);
    char *reason = g_strdup_vprintf(messages[id][fr], ap);
    va_end(ap);
    char *out = g_strdup_printf(fr ? "ligne %d : %s" : "line %d: %s", line, reason);
    g_free(reason);
    return out;
}

/* A name from the template as shown in a message: at most 40 characters. The source is
 * valid UTF-8 without control characters by then. */
static char *shown(const char *name)
{
    if (g_utf8_strlen(name, -1) <= 40)
        return g_strdup(name);
    char *cut = g_utf8_substring(name, 0, 40);
    char *out = g_strconcat(cut, "...", NULL);
    g_free(cut);
    return out;
}

/* The text between prefix and suffix of s, or NULL when s is not shaped so. */
static char *between(const char *s, const char *prefix, const char *suffix)
{
    size_t n = strlen(s), p = strlen(prefix), q = strlen(suffix);
    if (n < p + q || strncmp(s, prefix, p) != 0 || strcmp(s + n - q, suffix) != 0)
        return NULL;
    return g_strndup(s + p, n - p - q);
}

/* tmpl.c's "line N: reason" in the locale. */
static char *parse_message(const char *terr, const char *locale)
{
    int line = 1, used = 0;
    if (sscanf(terr, "line %d: %n", &line, &used) < 1 || used == 0)
        return message(locale, 1, M_OTHER, terr);
    const char *why = terr + used;
    char *a = NULL, *b = NULL, *out;
    if (strcmp(why, "unclosed tag") == 0)
        out = message(locale, line, M_UNCLOSED_TAG);
    else if (strcmp(why, "empty tag") == 0)
        out = message(locale, line, M_EMPTY_TAG);
    else if (strcmp(why, "blank inside a tag name") == 0)
        out = message(locale, line, M_BLANK_NAME);
    else if (g_str_has_prefix(why, "bad delimiter change"))
        out = message(locale, line, M_DELIMS);
    else if (g_str_has_prefix(why, "sections nested deeper than"))
        out = message(locale, line, M_TOO_DEEP);
    else if ((a = between(why, "close tag {{/", "}} without an open section")))
        out = message(locale, line, M_CLOSE_NOT_OPEN, a);
    else if ((a = between(why, "unclosed section {{", "}}")))
        out = message(locale, line, M_UNCLOSED_SECTION, a);
    else if ((a = between(why, "mismatched close tag {{/", "}}")) &&
             (b = strstr(a, "}}, expected {{/"))) {
        *b = '\0';
        out = message(locale, line, M_CLOSE_MISMATCH, a, b + strlen("}}, expected {{/"));
    } else
        out = message(locale, line, M_OTHER, why);
    g_free(a);
    return out;
}

/* ------------------------------------------------------------ the source */

static int line_at(const char *src, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        line += src[i] == '\n';
    return line;
}

/* Empty, too long, not UTF-8, control characters. len is strnlen'ed by the caller. */
static char *check_bytes(const char *src, size_t len, const char *locale)
{
    if (len > USERTMPL_MAX_BYTES)
        return message(locale, line_at(src, USERTMPL_MAX_BYTES), M_TOO_LONG, USERTMPL_MAX_BYTES);
    const char *end = NULL;
    if (!g_utf8_validate(src, (gssize) len, &end))
        return message(locale, line_at(src, (size_t) (end - src)), M_UTF8);
    gboolean blank = TRUE;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) src[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return message(locale, line_at(src, i), M_CONTROL);
        blank = blank && g_ascii_isspace(c);
    }
    return blank ? message(locale, 1, M_EMPTY) : NULL;
}

/* A subject is one line once the blanks around it go (as the reminder strips them). */
static char *check_one_line(const char *src, size_t len, const char *locale)
{
    size_t from = 0, to = len;
    while (from < to && g_ascii_isspace(src[from]))
        from++;
    while (to > from && g_ascii_isspace(src[to - 1]))
        to--;
    for (size_t i = from; i < to; i++)
        if (src[i] == '\n' || src[i] == '\r')
            return message(locale, line_at(src, i) + 1, M_SUBJECT);
    return NULL;
}

/* ---------------------------------------------------------------- tags */

typedef struct tag {
    char sigil;         /* 0 for a variable, else one of #^/!=>&{ */
    int line;
    char *name;         /* the content, blanks around removed */
} tag;

static void tag_clear(gpointer p)
{
    g_free(((tag *) p)->name);
}

/*
 * The tags of src in order, found as tmpl.c's parser finds them with {{ }}. Stops after a
 * delimiter change (what follows is read with other delimiters) and at an unclosed tag
 * (tmpl_check reports it).
 */
static GArray *scan_tags(const char *src, size_t len)
{
    GArray *tags = g_array_new(FALSE, FALSE, sizeof(tag));
    g_array_set_clear_func(tags, tag_clear);
    size_t pos = 0, counted = 0;
    int line = 1;
    const char *hit;
    while ((hit = memmem(src + pos, len - pos, "{{", 2))) {
        size_t at = (size_t) (hit - src) + 2;
        for (; counted < (size_t) (hit - src); counted++)
            line += src[counted] == '\n';
        char sigil = at < len && strchr("#^/!=>&{", src[at]) ? src[at] : 0;
        at += sigil != 0;
        const char *closer = sigil == '{' ? "}}}" : sigil == '=' ? "=}}" : "}}";
        const char *stop = memmem(src + at, len - at, closer, strlen(closer));
        if (!stop)
            break;
        char *content = g_strndup(src + at, (size_t) (stop - (src + at)));
        tag t = { sigil, line, g_strdup(g_strstrip(content)) };
        g_free(content);
        g_array_append_val(tags, t);
        if (sigil == '=')
            break;
        pos = (size_t) (stop - src) + strlen(closer);
    }
    return tags;
}

static char *check_refused_tags(const GArray *tags, const char *locale)
{
    for (guint i = 0; i < tags->len; i++) {
        const tag *t = &g_array_index(tags, tag, i);
        char *name = shown(t->name), *out = NULL;
        if (t->sigil == '{' || t->sigil == '&')
            out = message(locale, t->line, M_RAW, name, name, name);
        else if (t->sigil == '>')
            out = message(locale, t->line, M_PARTIAL, name);
        else if (t->sigil == '=')
            out = message(locale, t->line, M_DELIMS);
        g_free(name);
        if (out)
            return out;
    }
    return NULL;
}

/* Every name, also inside sections: our values are never lists or objects, so a name in a
 * section is looked up at the top like any other, and a typo there is as wrong. */
static char *check_names(const usertmpl_kind *kind, const GArray *tags, const char *locale)
{
    for (guint i = 0; i < tags->len; i++) {
        const tag *t = &g_array_index(tags, tag, i);
        if ((t->sigil && !strchr("#^", t->sigil)) || kind_knows(kind, t->name))
            continue;
        char *name = shown(t->name);
        char *known = g_strjoinv(", ", (char **) kind->variables);
        char *out = message(locale, t->line, M_UNKNOWN, name, known);
        g_free(known);
        g_free(name);
        return out;
    }
    return NULL;
}

/* ---------------------------------------------------------------- link */

#define SAMPLE_URL "https://reglo.invalid"
#define SAMPLE_LINK SAMPLE_URL "/p/exemple"

/* Optional in a real context: an invoice may lack them. */
static const char *const optional_variables[] = {
    "issue_date", "due_date", "sent_date", "days_overdue", "artisan_name", "client_email",
    "original_subject", NULL
};

/* The link the check looks for: one the template's own text does not contain, so that only
 * {{link}} can print it (a template that writes the sample URL out must not pass). */
static char *sample_link(const char *src)
{
    char *link = g_strdup(SAMPLE_LINK);
    for (unsigned n = 1; strstr(src, link); n++) {
        g_free(link);
        link = g_strdup_printf(SAMPLE_LINK "-%u", n);
    }
    return link;
}

/* The invoices the link must show for: full, QR-only, and with every optional field gone. */
static json_t *link_context(const char *locale, int variant, const char *link)
{
    json_t *ctx = usertmpl_sample(locale, "Artisan", "artisan@example.fr", SAMPLE_URL, 7);
    json_object_set_new(ctx, "link", json_string(link));
    if (variant == 1)
        json_object_set_new(ctx, "qr_only", json_true());
    for (int i = 0; variant == 2 && optional_variables[i]; i++)
        json_object_del(ctx, optional_variables[i]);
    return ctx;
}

/* src parses and uses only known names by now. */
static char *check_link(const usertmpl_kind *kind, const GArray *tags, const char *src,
                        const char *locale)
{
    int line = 0;
    for (guint i = 0; i < tags->len && !line; i++) {
        const tag *t = &g_array_index(tags, tag, i);
        if (t->sigil == 0 && strcmp(t->name, "link") == 0)
            line = t->line;
    }
    if (!line)
        return message(locale, 1, M_NO_LINK);
    char *out = NULL, *link = sample_link(src);
    for (int variant = 0; variant < 3 && !out; variant++) {
        json_t *ctx = link_context(locale, variant, link);
        char *terr = NULL, *text = usertmpl_render(kind, src, ctx, &terr);
        if (!text)
            out = parse_message(terr, locale);
        else if (!strstr(text, link))
            out = message(locale, line, M_LINK_HIDDEN);
        g_free(text);
        g_free(terr);
        json_decref(ctx);
    }
    g_free(link);
    return out;
}

/* ----------------------------------------------------------- validation */

static char *check_template(const usertmpl_kind *kind, const char *src, size_t len,
                            const char *locale)
{
    GArray *tags = scan_tags(src, len);
    char *out = check_refused_tags(tags, locale);
    if (!out) {
        char *terr = tmpl_check(src);
        if (terr)
            out = parse_message(terr, locale);
        g_free(terr);
    }
    if (!out)
        out = check_names(kind, tags, locale);
    if (!out && !kind->html && g_str_has_suffix(kind->name, ".subject"))
        out = check_one_line(src, len, locale);
    if (!out && kind->needs_link)
        out = check_link(kind, tags, src, locale);
    g_array_unref(tags);
    return out;
}

char *usertmpl_validate(const usertmpl_kind *kind, const char *src, const char *locale)
{
    if (!kind)
        return message(locale, 1, M_KIND);
    if (!src)
        return message(locale, 1, M_EMPTY);
    size_t len = strnlen(src, USERTMPL_MAX_BYTES + 1);
    char *out = check_bytes(src, len, locale);
    return out ? out : check_template(kind, src, len, locale);
}

/* --------------------------------------------------------- sample, render */

json_t *usertmpl_sample(const char *locale, const char *artisan_name, const char *artisan_email,
                        const char *public_url, int step)
{
    gboolean fr = is_french(locale);
    char *base = g_strdup(public_url ? public_url : "");
    for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
        base[n - 1] = '\0';
    char *link = g_strconcat(base, "/p/exemple", NULL);
    /* A reminder's own context (reminder_mail.c), for an invoice that is made up. */
    reminder_invoice inv = {
        .invoice_id = 42, .step = step, .number = "F-2026-042", .amount_due_minor = 123450,
        .currency = "EUR", .issue_date = "2026-03-02", .due_date = "2026-04-01",
        .sent_date = "2026-03-02", .days_overdue = step > 0 ? step : 0,
        .client_email = "client@example.fr",
        .subject = fr ? "Facture F-2026-042" : "Invoice F-2026-042",
        .artisan_email = artisan_email ? artisan_email : "",
        .artisan_name = artisan_name ? artisan_name : "", .locale = fr ? "fr" : "en",
    };
    json_t *obj = reminder_mail_context(&inv, link, "qr-F-2026-042@reglo.invalid");
    g_free(link);
    g_free(base);
    return obj;
}

char *usertmpl_render(const usertmpl_kind *kind, const char *src, json_t *ctx, char **err)
{
    char *out = tmpl_render(src, ctx, NULL, NULL, kind->html, err);
    if (out && g_str_has_suffix(kind->name, ".subject"))
        g_strstrip(out);
    return out;
}

/* -------------------------------------------------------------- storage */

/* The key of one row as text parameters; FALSE with *err for calls no row can match. */
typedef struct row_key {
    char artisan[24];
    char step[16];
    const char *params[4];          /* artisan, name, step or NULL, locale */
} row_key;

static gboolean row_key_make(row_key *k, gint64 artisan_id, const char *name, gboolean has_step,
                             int step, const char *locale, char **err)
{
    const usertmpl_kind *kind = usertmpl_kind_find(name);
    *err = NULL;
    if (!kind)
        *err = g_strdup_printf("'%s' is not an editable template", name ? name : "(null)");
    else if (has_step && !kind->per_step)
        *err = g_strdup_printf("%s has no per-step version", name);
    else if (g_strcmp0(locale, "fr") != 0 && g_strcmp0(locale, "en") != 0)
        *err = g_strdup("locale must be fr or en");
    if (*err)
        return FALSE;
    g_snprintf(k->artisan, sizeof k->artisan, "%" G_GINT64_FORMAT, artisan_id);
    g_snprintf(k->step, sizeof k->step, "%d", step);
    k->params[0] = k->artisan;
    k->params[1] = name;
    k->params[2] = has_step ? k->step : NULL;
    k->params[3] = locale;
    return TRUE;
}

char *usertmpl_get(PGconn *db, gint64 artisan_id, const char *name, gboolean has_step, int step,
                   const char *locale, char **err)
{
    row_key k;
    if (!row_key_make(&k, artisan_id, name, has_step, step, locale, err))
        return NULL;
    PGresult *res = db_exec(db, SQL_USERTMPL_GET, 4, k.params, err);
    char *body = res && PQntuples(res) > 0 ? g_strdup(db_str(res, 0, 0)) : NULL;
    PQclear(res);
    return body;
}

gboolean usertmpl_save(PGconn *db, gint64 artisan_id, const char *name, gboolean has_step,
                       int step, const char *locale, const char *body, char **err)
{
    row_key k;
    if (!row_key_make(&k, artisan_id, name, has_step, step, locale, err))
        return FALSE;
    if ((*err = usertmpl_validate(usertmpl_kind_find(name), body, locale)))
        return FALSE;
    const char *params[] = { k.params[0], k.params[1], k.params[2], k.params[3], body };
    return db_run(db, SQL_USERTMPL_SAVE, 5, params, err);
}

gboolean usertmpl_reset(PGconn *db, gint64 artisan_id, const char *name, gboolean has_step,
                        int step, const char *locale, char **err)
{
    row_key k;
    if (!row_key_make(&k, artisan_id, name, has_step, step, locale, err))
        return FALSE;
    return db_run(db, SQL_USERTMPL_RESET, 4, k.params, err);
}

static char *str_or_null(const PGresult *res, int col)
{
    return db_null(res, 0, col) ? NULL : g_strdup(db_str(res, 0, col));
}

gboolean usertmpl_get_block(PGconn *db, gint64 artisan_id, const char *locale, char **text,
                            char **html, char **err)
{
    char artisan[24];
    g_snprintf(artisan, sizeof artisan, "%" G_GINT64_FORMAT, artisan_id);
    const char *params[] = { artisan, locale };
    *text = *html = NULL;
    *err = NULL;
    PGresult *res = db_exec(db, SQL_USERTMPL_BLOCK, 2, params, err);
    if (!res)
        return FALSE;
    if (PQntuples(res) > 0) {
        *text = str_or_null(res, 0);
        *html = str_or_null(res, 1);
    }
    PQclear(res);
    return TRUE;
}

json_t *usertmpl_list(PGconn *db, gint64 artisan_id, char **err)
{
    char artisan[24];
    g_snprintf(artisan, sizeof artisan, "%" G_GINT64_FORMAT, artisan_id);
    const char *params[] = { artisan };
    *err = NULL;
    PGresult *res = db_exec(db, SQL_USERTMPL_LIST, 1, params, err);
    if (!res)
        return NULL;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, json_pack("{s:s, s:o, s:s, s:s}",
                                              "name", db_str(res, i, 0),
                                              "step", db_null(res, i, 1) ? json_null()
                                                      : json_integer(db_int(res, i, 1)),
                                              "locale", db_str(res, i, 2),
                                              "updated_at", db_str(res, i, 3)));
    PQclear(res);
    return list;
}
