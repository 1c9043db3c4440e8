/*
 * tmpl — a small mustache renderer: variables (HTML-escaped by default, {{{x}}} and {{&x}}
 * raw), dotted names, implicit iterator {{.}}, sections over lists/objects/booleans,
 * inverted sections, comments, partials (with standalone-line indentation), set
 * delimiters; standalone-tag whitespace rules of the spec. No lambdas.
 *
 * The context is a jansson value (borrowed, never modified). Partials come from a loader
 * callback. Output is g_malloc'ed; errors are returned, never printed.
 * Falsey for sections: missing, null, false, [] and "". Numbers render as JSON would (1.5,
 * 42); objects and lists interpolate as nothing. Nesting, work and output size are capped.
 */
#ifndef REGLO_TMPL_H
#define REGLO_TMPL_H

#include <glib.h>
#include <jansson.h>

/* Returns a g_malloc'ed template text for a partial name, or NULL when none. */
typedef char *(*tmpl_partial_fn)(const char *name, void *arg);

/*
 * Render src with ctx. On a parse error returns NULL and sets *err to
 * "line N: reason" (g_malloc'ed). escape_html FALSE renders {{x}} raw (text emails).
 */
char *tmpl_render(const char *src, json_t *ctx, tmpl_partial_fn partial, void *arg,
                  gboolean escape_html, char **err);

/* Parse only: NULL when fine, else "line N: reason" (g_malloc'ed). */
char *tmpl_check(const char *src);

/*
 * Names of top-level variables and sections used ({{x}}, {{#x}}), for editors: the first
 * part of dotted names, once each, in order; names inside {{#...}} sections are left out
 * (they may name the section's element), those inside {{^...}} are kept. NULL when the
 * template does not parse; else free with g_ptr_array_unref (elements are freed with it).
 */
GPtrArray *tmpl_variables(const char *src);

/*
 * Load templates/<locale>/<name> from dir, falling back to "fr". NULL when missing;
 * the caller frees.
 */
char *tmpl_load(const char *dir, const char *locale, const char *name);

/*
 * A template set: the files of one templates directory, loaded and parsed once (on first
 * use) and shared by threads; a reload makes a new set. Partials {{> name}} are
 * <locale>/name.html of the same directory. Rendering is as tmpl_render.
 */
typedef struct tmpl_set tmpl_set;

tmpl_set *tmpl_set_new(const char *dir);
void tmpl_set_free(tmpl_set *set);
char *tmpl_set_render(tmpl_set *set, const char *locale, const char *name, json_t *ctx,
                      gboolean escape_html, char **err);

#endif
