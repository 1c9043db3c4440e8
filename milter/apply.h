/*
 * apply — hand the rewritten message back to the MTA through the milter protocol: the
 * header edits first (change, delete, add, computed against the headers the MTA gave us),
 * then the new body in chunks. Nothing is sent unless the whole edit is ready.
 */
#ifndef REGLO_APPLY_H
#define REGLO_APPLY_H

#include <glib.h>
#include <gmime/gmime.h>
#include <libmilter/mfapi.h>

typedef struct header_field {
    char *name;
    char *value;              /* unfolded */
} header_field;

/* A list of header_field (owned); free with g_ptr_array_unref. */
GPtrArray *header_list_new(void);
void header_list_add(GPtrArray *list, const char *name, const char *value);

/*
 * Send to the MTA what turns `before` (the headers it gave us) into msg, and the body when
 * body_changed. FALSE with *err when serialising or a libmilter call fails.
 */
gboolean apply_changes(SMFICTX *ctx, const GPtrArray *before, GMimeMessage *msg,
                       gboolean body_changed, char **err);

#endif
