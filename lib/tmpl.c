/*
 * tmpl — a small mustache renderer; see tmpl.h.
 *
 * Shape: a one-pass parser turns the source into a tree of nodes (text, variable, section,
 * inverted section, partial); comments and set-delimiter tags leave no node, and the
 * spec's standalone-line rules are applied while parsing. The renderer walks the tree with
 * a stack of borrowed json_t contexts. Partials are fetched through the caller's loader
 * when first rendered, indented, parsed and cached for the rest of that render call.
 *
 * Ownership: a tree (GPtrArray of tmpl_node, free func set) owns its nodes and their
 * strings; the renderer owns the partial cache and the output GString until it returns.
 * Hostile templates and data are bounded: section nesting, partial nesting, nodes visited
 * and output size all have caps that end the render with an error, never a crash.
 */
#include "tmpl.h"

#include <string.h>

enum {
    TMPL_MAX_DEPTH = 100,           /* sections nested in one template */
    TMPL_MAX_RENDER_DEPTH = 200,    /* sections + partials nested while rendering */
    TMPL_MAX_DELIM = 16,
    TMPL_MAX_STEPS = 2000000,       /* nodes visited in one render */
    TMPL_MAX_OUTPUT = 16 << 20,     /* bytes of output */
};

typedef enum { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL } tmpl_kind;

typedef struct {
    tmpl_kind kind;
    int line;
    char *text;         /* N_TEXT: the text; otherwise the tag name */
    char **path;        /* name split on '.', NULL for "." (N_VAR, N_RAW, sections) */
    char *indent;       /* N_PARTIAL: standalone indentation, "" when inline */
    GPtrArray *children;/* sections */
} tmpl_node;

static void node_free(gpointer p)
{
    tmpl_node *n = p;
    g_free(n->text);
    g_strfreev(n->path);
    g_free(n->indent);
    if (n->children)
        g_ptr_array_unref(n->children);
    g_free(n);
}

static GPtrArray *tree_new(void)
{
    return g_ptr_array_new_with_free_func(node_free);
}

/* ---------------------------------------------------------------- parser */

typedef struct {
    const char *src;
    size_t len;
    char open[TMPL_MAX_DELIM + 1], close[TMPL_MAX_DELIM + 1];
    GPtrArray *lists[TMPL_MAX_DEPTH + 1];   /* lists[0] is the root */
    tmpl_node *sections[TMPL_MAX_DEPTH + 1];
    int depth;
    size_t line_pos;                        /* line counting is incremental: positions grow */
    int line;
    char *err;
} tmpl_parser;

static int parser_line(tmpl_parser *p, size_t pos)
{
    for (; p->line_pos < pos; p->line_pos++)
        if (p->src[p->line_pos] == '\n')
            p->line++;
    return p->line;
}

static gboolean parser_fail(tmpl_parser *p, int line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean parser_fail(tmpl_parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    p->err = g_strdup_printf("line %d: %s", line, msg);
    g_free(msg);
    return FALSE;
}

/* A tag name as shown in an error: short and printable whatever the input bytes. */
static char *shown_name(const char *name)
{
    GString *s = g_string_new(NULL);
    for (const char *c = name; *c && s->len < 40; c++)
        g_string_append_c(s, g_ascii_isprint(*c) ? *c : '?');
    if (strlen(name) > 40)
        g_string_append(s, "...");
    return g_string_free(s, FALSE);
}

static gboolean is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char *strip_dup(const char *s, size_t n)
{
    while (n && g_ascii_isspace(*s))
        s++, n--;
    while (n && g_ascii_isspace(s[n - 1]))
        n--;
    return g_strndup(s, n);
}

static void parser_add(tmpl_parser *p, tmpl_node *n)
{
    g_ptr_array_add(p->lists[p->depth], n);
}

static void parser_text(tmpl_parser *p, size_t from, size_t to, int line)
{
    if (to <= from)
        return;
    tmpl_node *n = g_new0(tmpl_node, 1);
    n->kind = N_TEXT;
    n->line = line;
    n->text = g_strndup(p->src + from, to - from);
    parser_add(p, n);
}

/*
 * A tag alone on its line (only blanks around it) vanishes with its line. On success
 * *indent_at is where the line's blanks start and *next is past the line's end.
 */
static gboolean parser_standalone(tmpl_parser *p, size_t start, size_t end,
                                  size_t *indent_at, size_t *next)
{
    size_t i = start;
    while (i > 0 && is_blank(p->src[i - 1]))
        i--;
    if (i > 0 && p->src[i - 1] != '\n')
        return FALSE;
    size_t j = end;
    while (j < p->len && is_blank(p->src[j]))
        j++;
    if (j < p->len && p->src[j] == '\n')
        j++;
    else if (j + 1 < p->len && p->src[j] == '\r' && p->src[j + 1] == '\n')
        j += 2;
    else if (j < p->len)
        return FALSE;
    *indent_at = i;
    *next = j;
    return TRUE;
}

/* "{{=<% %>=}}": content is "<% %>" (between the '=' signs). */
static gboolean parser_set_delims(tmpl_parser *p, const char *content, int line)
{
    char **parts = g_strsplit_set(content, " \t\r\n", -1);
    const char *found[3] = { NULL, NULL, NULL };
    int n = 0;
    for (char **s = parts; *s; s++)
        if (**s && n < 3)
            found[n++] = *s;
    gboolean ok = n == 2;
    for (int i = 0; ok && i < 2; i++)
        ok = strlen(found[i]) <= TMPL_MAX_DELIM && !strchr(found[i], '=');
    if (ok) {
        g_strlcpy(p->open, found[0], sizeof p->open);
        g_strlcpy(p->close, found[1], sizeof p->close);
    }
    g_strfreev(parts);
    if (!ok)
        return parser_fail(p, line, "bad delimiter change (want two delimiters without '=')");
    return TRUE;
}

static gboolean parser_open_section(tmpl_parser *p, tmpl_node *n)
{
    if (p->depth >= TMPL_MAX_DEPTH) {
        int line = n->line;
        node_free(n);
        return parser_fail(p, line, "sections nested deeper than %d", TMPL_MAX_DEPTH);
    }
    n->children = tree_new();
    parser_add(p, n);
    p->depth++;
    p->lists[p->depth] = n->children;
    p->sections[p->depth] = n;
    return TRUE;
}

static gboolean parser_close_section(tmpl_parser *p, const char *name, int line)
{
    if (p->depth == 0) {
        char *shown = shown_name(name);
        parser_fail(p, line, "close tag {{/%s}} without an open section", shown);
        g_free(shown);
        return FALSE;
    }
    const char *want = p->sections[p->depth]->text;
    if (strcmp(want, name) != 0) {
        char *shown = shown_name(name), *wanted = shown_name(want);
        parser_fail(p, line, "mismatched close tag {{/%s}}, expected {{/%s}}", shown, wanted);
        g_free(shown);
        g_free(wanted);
        return FALSE;
    }
    p->depth--;
    return TRUE;
}

/* Names are one run of non-blank bytes: "{{a b}}" is an error, not a lookup of "a b". */
static gboolean parser_check_name(tmpl_parser *p, const char *name, int line)
{
    if (!*name)
        return parser_fail(p, line, "empty tag");
    for (const char *c = name; *c; c++)
        if (g_ascii_isspace(*c))
            return parser_fail(p, line, "blank inside a tag name");
    return TRUE;
}

/* Handles one tag whose sigil and trimmed-or-raw content are known. */
static gboolean parser_tag(tmpl_parser *p, char sigil, const char *content, const char *indent,
                           int line)
{
    if (sigil == '!')
        return TRUE;
    if (sigil == '=')
        return parser_set_delims(p, content, line);
    char *name = strip_dup(content, strlen(content));
    if (!parser_check_name(p, name, line)) {
        g_free(name);
        return FALSE;
    }
    if (sigil == '/') {
        gboolean ok = parser_close_section(p, name, line);
        g_free(name);
        return ok;
    }
    tmpl_node *n = g_new0(tmpl_node, 1);
    n->line = line;
    n->text = name;
    switch (sigil) {
    case '#': n->kind = N_SECTION; break;
    case '^': n->kind = N_INVERTED; break;
    case '>': n->kind = N_PARTIAL; n->indent = g_strdup(indent); break;
    case '{': case '&': n->kind = N_RAW; break;
    default: n->kind = N_VAR; break;
    }
    if (n->kind != N_PARTIAL && strcmp(name, ".") != 0)
        n->path = g_strsplit(name, ".", -1);
    if (n->kind == N_SECTION || n->kind == N_INVERTED)
        return parser_open_section(p, n);
    parser_add(p, n);
    return TRUE;
}

/*
 * Finds the tag starting at src[start] (at the open delimiter): its sigil, its content
 * (copied) and the position just past it.
 */
static gboolean parser_scan_tag(tmpl_parser *p, size_t start, char *sigil, char **content,
                                size_t *end)
{
    int line = parser_line(p, start);
    size_t at = start + strlen(p->open);
    *sigil = at < p->len && strchr("#^/!=>&{", p->src[at]) ? p->src[at] : 0;
    if (*sigil)
        at++;
    /* "{{{x}}}" and "{{=a b=}}" end with their sigil's partner before the close delimiter. */
    char closer[TMPL_MAX_DELIM + 2];
    g_snprintf(closer, sizeof closer, "%s%s", *sigil == '{' ? "}" : *sigil == '=' ? "=" : "",
               p->close);
    const char *stop = memmem(p->src + at, p->len - at, closer, strlen(closer));
    if (!stop) {
        if (*sigil == '=')
            return parser_fail(p, line, "bad delimiter change (no closing '=%s')", p->close);
        return parser_fail(p, line, "unclosed tag");
    }
    *content = g_strndup(p->src + at, (size_t)(stop - (p->src + at)));
    *end = (size_t)(stop - p->src) + strlen(closer);
    return TRUE;
}

static gboolean parser_run(tmpl_parser *p)
{
    size_t text_from = 0, pos = 0;
    int text_line = 1;
    const char *hit;
    while ((hit = memmem(p->src + pos, p->len - pos, p->open, strlen(p->open)))) {
        size_t start = (size_t)(hit - p->src), end = start, indent_at = start, next = start;
        char sigil = 0, *content = NULL;
        if (!parser_scan_tag(p, start, &sigil, &content, &end))
            return FALSE;
        int line = parser_line(p, start);
        gboolean alone = sigil && strchr("#^/!=>", sigil)
                         && parser_standalone(p, start, end, &indent_at, &next);
        parser_text(p, text_from, indent_at, text_line);
        char *indent = g_strndup(p->src + indent_at, start - indent_at);
        gboolean ok = parser_tag(p, sigil, content, indent, line);
        g_free(indent);
        g_free(content);
        if (!ok)
            return FALSE;
        pos = text_from = alone ? next : end;
        text_line = parser_line(p, text_from);
    }
    parser_text(p, text_from, p->len, text_line);
    if (p->depth > 0) {
        char *shown = shown_name(p->sections[p->depth]->text);
        parser_fail(p, p->sections[p->depth]->line, "unclosed section {{%c%s}}",
                    p->sections[p->depth]->kind == N_SECTION ? '#' : '^', shown);
        g_free(shown);
        return FALSE;
    }
    return TRUE;
}

/* The tree of src, or NULL with *err set ("line N: reason"). */
static GPtrArray *tmpl_parse(const char *src, char **err)
{
    tmpl_parser p = { .src = src, .len = strlen(src), .open = "{{", .close = "}}", .line = 1 };
    GPtrArray *root = tree_new();
    p.lists[0] = root;
    if (parser_run(&p)) {
        *err = NULL;
        return root;
    }
    g_ptr_array_unref(root);
    *err = p.err;
    return NULL;
}

/* -------------------------------------------------------------- renderer */

typedef struct {
    GString *out;
    GPtrArray *ctx;             /* borrowed json_t *, top is last */
    tmpl_partial_fn partial;
    void *arg;
    tmpl_set *set;              /* with tmpl_set_render: partials come parsed from the set */
    const char *locale;
    gboolean escape;
    GHashTable *partials;       /* "indent\nname" -> tree (empty when missing) */
    int depth;
    long steps;
    char *err;
} tmpl_renderer;

static gboolean render_fail(tmpl_renderer *r, int line, const char *reason)
{
    r->err = g_strdup_printf("line %d: %s", line, reason);
    return FALSE;
}

/* Spec name resolution: the first part walks the stack, the rest must follow from it. */
static json_t *render_lookup(tmpl_renderer *r, char **path)
{
    if (r->ctx->len == 0)
        return NULL;
    if (!path)
        return g_ptr_array_index(r->ctx, r->ctx->len - 1);
    json_t *v = NULL;
    for (guint i = r->ctx->len; i-- > 0 && !v;)
        v = json_object_get(g_ptr_array_index(r->ctx, i), path[0]);
    for (char **part = path + 1; v && *part; part++)
        v = json_object_get(v, *part);
    return v;
}

/* Falsey: missing, null, false, [] and "" (so {{#iban}}…{{/iban}} hides an empty field). */
static gboolean value_truthy(json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return FALSE;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    return TRUE;
}

/* The shortest "%g" form that reads back as the same double: 1.21 stays "1.21". */
static void append_real(GString *out, double d)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (int prec = 15; prec <= 17; prec++) {
        char fmt[8];
        g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
        g_ascii_formatd(buf, sizeof buf, fmt, d);
        if (g_ascii_strtod(buf, NULL) == d)
            break;
    }
    g_string_append(out, buf);
}

static void append_escaped(GString *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':  g_string_append(out, "&amp;"); break;
        case '<':  g_string_append(out, "&lt;"); break;
        case '>':  g_string_append(out, "&gt;"); break;
        case '"':  g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&#39;"); break;
        default:   g_string_append_c(out, s[i]); break;
        }
    }
}

/* Strings, numbers and booleans interpolate; null, objects and arrays give nothing. */
static void render_value(tmpl_renderer *r, json_t *v, gboolean escape)
{
    if (json_is_string(v)) {
        if (escape)
            append_escaped(r->out, json_string_value(v), json_string_length(v));
        else
            g_string_append_len(r->out, json_string_value(v), (gssize)json_string_length(v));
    } else if (json_is_integer(v)) {
        g_string_append_printf(r->out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        append_real(r->out, json_real_value(v));
    } else if (json_is_boolean(v)) {
        g_string_append(r->out, json_is_true(v) ? "true" : "false");
    }
}

static gboolean render_list(tmpl_renderer *r, GPtrArray *nodes);

static gboolean render_pushed(tmpl_renderer *r, GPtrArray *nodes, json_t *v)
{
    g_ptr_array_add(r->ctx, v);
    gboolean ok = render_list(r, nodes);
    g_ptr_array_set_size(r->ctx, r->ctx->len - 1);
    return ok;
}

static gboolean render_section(tmpl_renderer *r, tmpl_node *n)
{
    json_t *v = render_lookup(r, n->path);
    if (n->kind == N_INVERTED)
        return value_truthy(v) ? TRUE : render_list(r, n->children);
    if (!value_truthy(v))
        return TRUE;
    if (!json_is_array(v))
        return render_pushed(r, n->children, v);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!render_pushed(r, n->children, json_array_get(v, i)))
            return FALSE;
    return TRUE;
}

/* Standalone partials get their indentation on every line of their source. */
static char *indent_source(const char *src, const char *indent)
{
    if (!*indent)
        return g_strdup(src);
    GString *s = g_string_new(NULL);
    for (const char *line = src; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        g_string_append(s, indent);
        g_string_append_len(s, line, (gssize)n);
        line += n;
    }
    return g_string_free(s, FALSE);
}

static GPtrArray *set_tree(tmpl_set *set, const char *locale, const char *name,
                           const char *indent, gboolean required, char **err);

/* {{> name}} in a set: templates/<locale>/name.html ("name" alone gets ".html"). */
static GPtrArray *set_partial(tmpl_renderer *r, tmpl_node *n)
{
    char *file = strchr(n->text, '.') ? g_strdup(n->text) : g_strconcat(n->text, ".html", NULL);
    char *err = NULL;
    GPtrArray *tree = set_tree(r->set, r->locale, file, n->indent, FALSE, &err);
    if (!tree) {
        char *shown = shown_name(n->text);
        r->err = g_strdup_printf("line %d: in partial %s: %s", n->line, shown, err);
        g_free(shown);
        g_free(err);
    }
    g_free(file);
    return tree;
}

/* The parsed partial for this tag, loaded once per render; NULL with r->err on error. */
static GPtrArray *render_get_partial(tmpl_renderer *r, tmpl_node *n)
{
    char *key = g_strconcat(n->indent, "\n", n->text, NULL);
    GPtrArray *tree = g_hash_table_lookup(r->partials, key);
    if (tree) {
        g_free(key);
        return tree;
    }
    if (r->set) {
        tree = set_partial(r, n);
        if (tree)
            g_hash_table_insert(r->partials, key, tree);
        else
            g_free(key);
        return tree;
    }
    char *src = r->partial ? r->partial(n->text, r->arg) : NULL;
    if (!src) {
        tree = tree_new();
    } else {
        char *indented = indent_source(src, n->indent), *err;
        tree = tmpl_parse(indented, &err);
        if (!tree) {
            char *shown = shown_name(n->text);
            r->err = g_strdup_printf("line %d: in partial %s: %s", n->line, shown, err);
            g_free(shown);
            g_free(err);
        }
        g_free(indented);
        g_free(src);
    }
    if (tree)
        g_hash_table_insert(r->partials, key, tree);
    else
        g_free(key);
    return tree;
}

static gboolean render_node(tmpl_renderer *r, tmpl_node *n)
{
    switch (n->kind) {
    case N_TEXT:
        g_string_append(r->out, n->text);
        return TRUE;
    case N_VAR:
    case N_RAW:
        render_value(r, render_lookup(r, n->path), n->kind == N_VAR && r->escape);
        return TRUE;
    case N_SECTION:
    case N_INVERTED:
        return render_section(r, n);
    case N_PARTIAL: {
        GPtrArray *tree = render_get_partial(r, n);
        return tree && render_list(r, tree);
    }
    }
    return TRUE;
}

static gboolean render_list(tmpl_renderer *r, GPtrArray *nodes)
{
    if (++r->depth > TMPL_MAX_RENDER_DEPTH)
        return render_fail(r, nodes->len ? ((tmpl_node *)nodes->pdata[0])->line : 0,
                           "sections and partials nested too deep");
    for (guint i = 0; i < nodes->len; i++) {
        tmpl_node *n = nodes->pdata[i];
        if (++r->steps > TMPL_MAX_STEPS)
            return render_fail(r, n->line, "template does too much work");
        if (!render_node(r, n))
            return FALSE;
        if (r->out->len > TMPL_MAX_OUTPUT)
            return render_fail(r, n->line, "output too large");
    }
    r->depth--;
    return TRUE;
}

static void set_err(char **err, char *msg)
{
    if (err)
        *err = msg;
    else
        g_free(msg);
}

/* Render a parsed tree; r carries the partial source (loader or set). */
static char *render_tree(tmpl_renderer *r, GPtrArray *tree, json_t *ctx, char **err)
{
    r->out = g_string_new(NULL);
    r->ctx = g_ptr_array_new();
    r->partials = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_ptr_array_unref);
    if (ctx)
        g_ptr_array_add(r->ctx, ctx);
    gboolean ok = render_list(r, tree);
    g_hash_table_destroy(r->partials);
    g_ptr_array_unref(r->ctx);
    set_err(err, r->err);
    return g_string_free(r->out, !ok);
}

char *tmpl_render(const char *src, json_t *ctx, tmpl_partial_fn partial, void *arg,
                  gboolean escape_html, char **err)
{
    char *msg;
    GPtrArray *tree = tmpl_parse(src, &msg);
    if (!tree) {
        set_err(err, msg);
        return NULL;
    }
    tmpl_renderer r = { .partial = partial, .arg = arg, .escape = escape_html };
    char *out = render_tree(&r, tree, ctx, err);
    g_ptr_array_unref(tree);
    return out;
}

/* ---------------------------------------------------------------- sets */

struct tmpl_set {
    char *dir;
    GMutex lock;
    GHashTable *trees;      /* "locale\nname\nindent" -> parsed tree (empty: missing partial) */
};

tmpl_set *tmpl_set_new(const char *dir)
{
    tmpl_set *set = g_new0(tmpl_set, 1);
    set->dir = g_strdup(dir);
    g_mutex_init(&set->lock);
    set->trees = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
    return set;
}

void tmpl_set_free(tmpl_set *set)
{
    if (!set)
        return;
    g_hash_table_destroy(set->trees);
    g_mutex_clear(&set->lock);
    g_free(set->dir);
    g_free(set);
}

/* Load and parse outside the lock; two threads racing keep the first tree stored. */
static GPtrArray *set_load(tmpl_set *set, const char *locale, const char *name,
                           const char *indent, gboolean required, char **err)
{
    char *src = tmpl_load(set->dir, locale, name);
    if (!src) {
        if (required) {
            *err = g_strdup_printf("template %s/%s/%s missing", set->dir, locale, name);
            return NULL;
        }
        return tree_new();      /* the spec: a missing partial renders as nothing */
    }
    char *indented = *indent ? indent_source(src, indent) : NULL;
    GPtrArray *tree = tmpl_parse(indented ? indented : src, err);
    g_free(indented);
    g_free(src);
    return tree;
}

/* The parsed template (a reference the caller drops), or NULL with *err. */
static GPtrArray *set_tree(tmpl_set *set, const char *locale, const char *name,
                           const char *indent, gboolean required, char **err)
{
    char *key = g_strjoin("\n", locale ? locale : "fr", name, indent, NULL);
    g_mutex_lock(&set->lock);
    GPtrArray *tree = g_hash_table_lookup(set->trees, key);
    if (tree)
        g_ptr_array_ref(tree);
    g_mutex_unlock(&set->lock);
    if (tree) {
        g_free(key);
        return tree;
    }
    tree = set_load(set, locale, name, indent, required, err);
    if (!tree) {
        g_free(key);
        return NULL;
    }
    g_mutex_lock(&set->lock);
    GPtrArray *stored = g_hash_table_lookup(set->trees, key);
    if (stored) {
        g_ptr_array_unref(tree);
        tree = stored;
        g_free(key);
    } else
        g_hash_table_insert(set->trees, key, tree);
    g_ptr_array_ref(tree);
    g_mutex_unlock(&set->lock);
    return tree;
}

char *tmpl_set_render(tmpl_set *set, const char *locale, const char *name, json_t *ctx,
                      gboolean escape_html, char **err)
{
    char *msg = NULL;
    GPtrArray *tree = set_tree(set, locale, name, "", TRUE, &msg);
    if (!tree) {
        set_err(err, msg);
        return NULL;
    }
    tmpl_renderer r = { .set = set, .locale = locale, .escape = escape_html };
    char *out = render_tree(&r, tree, ctx, err);
    g_ptr_array_unref(tree);
    return out;
}

char *tmpl_check(const char *src)
{
    char *err;
    GPtrArray *tree = tmpl_parse(src, &err);
    if (tree)
        g_ptr_array_unref(tree);
    return err;
}

/* Names looked up in the root context: outside sections, or inside inverted ones. */
static void collect_names(GPtrArray *nodes, GPtrArray *names)
{
    for (guint i = 0; i < nodes->len; i++) {
        tmpl_node *n = nodes->pdata[i];
        if (n->kind == N_TEXT || n->kind == N_PARTIAL || !n->path)
            continue;
        /* "{{.a}}" splits into "", "a": a lookup of "" that names nothing to list. */
        if (*n->path[0] && !g_ptr_array_find_with_equal_func(names, n->path[0], g_str_equal, NULL))
            g_ptr_array_add(names, g_strdup(n->path[0]));
        if (n->kind == N_INVERTED)
            collect_names(n->children, names);
    }
}

GPtrArray *tmpl_variables(const char *src)
{
    char *err;
    GPtrArray *tree = tmpl_parse(src, &err);
    if (!tree) {
        g_free(err);
        return NULL;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    collect_names(tree, names);
    g_ptr_array_unref(tree);
    return names;
}

static gboolean safe_component(const char *s)
{
    return s && *s && !strchr(s, '/') && !strstr(s, "..");
}

char *tmpl_load(const char *dir, const char *locale, const char *name)
{
    if (!locale || !*locale)
        locale = "fr";
    if (!dir || !safe_component(name) || !safe_component(locale))
        return NULL;
    const char *tries[] = { locale, "fr" };
    for (int i = 0; i < 2; i++) {
        char *path = g_build_filename(dir, tries[i], name, NULL), *data = NULL;
        gboolean ok = g_file_get_contents(path, &data, NULL, NULL);
        g_free(path);
        if (ok)
            return data;
    }
    return NULL;
}
