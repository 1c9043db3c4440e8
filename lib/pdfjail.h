/*
 * pdfjail — poppler in a child process.
 *
 * poppler-glib 22.12 dereferences NULL on some malformed PDFs (an embedded-file entry that is
 * not a file specification, found by tests/fuzz; tests/fuzz/known/), and no API call tells
 * such a document beforehand. In reglo-milter a crash would take every message in flight
 * with it. So whatever opens a PDF runs in a forked child that writes its answer to a pipe:
 * a crash, a hang past PDFJAIL_TIMEOUT_S or an answer over the caller's cap costs that PDF
 * only (treated as unreadable, logged once here), never the process.
 *
 * The child uses only what it inherited (the PDF bytes, poppler), writes, and leaves with
 * _exit: no handler, no database, no log of the parent's runs there; its stderr goes to
 * /dev/null (the parent logs what became of it).
 */
#ifndef REGLO_PDFJAIL_H
#define REGLO_PDFJAIL_H

#include <stddef.h>
#include <glib.h>

#define PDFJAIL_TIMEOUT_S 20

/* Runs in the child: the answer (g_bytes), or NULL for "nothing found". */
typedef GBytes *(*pdfjail_job)(const void *pdf, size_t len);

/*
 * The job's answer (the caller unrefs it), NULL when it found nothing or failed; *failed
 * (may be NULL) tells the two apart. what names the job in the log.
 */
GBytes *pdfjail_run(const char *what, pdfjail_job job, const void *pdf, size_t len,
                    size_t max_answer, gboolean *failed);

#endif
