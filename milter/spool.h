/*
 * spool — a message's bytes as the MTA hands them over: in memory up to a threshold, then
 * in an unlinked temporary file, so a large message costs little memory. A spool owns its
 * buffer and file descriptor (spool_free).
 */
#ifndef REGLO_SPOOL_H
#define REGLO_SPOOL_H

#include <glib.h>
#include <gmime/gmime.h>

typedef struct spool spool;

spool *spool_new(gint64 memory_threshold, const char *dir);
void spool_free(spool *sp);
/* FALSE when the temporary file cannot be written (the caller passes the message on). */
gboolean spool_write(spool *sp, const void *data, size_t len);
gint64 spool_size(const spool *sp);
/* A stream over the whole content, positioned at its start; the caller unrefs it. */
GMimeStream *spool_stream(spool *sp);

#endif
