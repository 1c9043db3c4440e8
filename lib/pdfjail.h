/*
 * pdfjail — poppler in a child process.
 *
 * poppler-glib 22.12 dereferences NULL on some malformed PDFs (an embedded-file entry that is
 * not a file specification, found by tests/fuzz), and no API call tells such a document
 * beforehand. In reglo-milter a crash would take every message in flight with it. So
 * whatever opens a PDF runs in a child process that sends its answer back: a crash, a hang
 * past PDFJAIL_TIMEOUT_S or an answer over the caller's cap costs that PDF only (treated as
 * unreadable, logged once here), never the process.
 *
 * A multi-threaded process must not fork to run library code (a lock another thread held at
 * fork time stays held in the child forever: GObject's type lock, glib's log lock...). So a
 * threaded program calls pdfjail_start() first, while it has one thread: that forks a small
 * single-threaded keeper, which forks the server (again, should it be killed), which forks
 * one child per PDF on request (the requester hands it a socket; the PDF and the answer go
 * over that socket). A program that never calls it (the CLI, tests) forks its children
 * itself.
 *
 * A child uses only what it was given (the PDF bytes, poppler), answers, and leaves with
 * _exit; its stderr goes to /dev/null (the requester logs what became of it).
 */
#ifndef REGLO_PDFJAIL_H
#define REGLO_PDFJAIL_H

#include <stddef.h>
#include <glib.h>

#define PDFJAIL_TIMEOUT_S 20

/* Runs in the child: the answer (g_bytes), or NULL for "nothing found". */
typedef GBytes *(*pdfjail_job)(const void *pdf, size_t len);

/*
 * Starts the fork server (and its keeper); call while the process has a single thread. They
 * live until the process ends (they die with it). warm_up (may be NULL) runs once in the
 * keeper before the server starts: what it sets up (poppler's globals) every server and
 * child inherits instead of making it again. FALSE (logged) when it cannot: children are
 * then forked by the requesting thread.
 */
gboolean pdfjail_start(void (*warm_up)(void));

/* The hang limit of the children forked from now on (PDFJAIL_TIMEOUT_S unless set; call it
 * before pdfjail_start for the server's children): tests make a hang end sooner. */
void pdfjail_set_timeout(int seconds);

/*
 * The job's answer (the caller unrefs it), NULL when it found nothing or failed; *failed
 * (may be NULL) tells the two apart. what names the job in the log.
 */
GBytes *pdfjail_run(const char *what, pdfjail_job job, const void *pdf, size_t len,
                    size_t max_answer, gboolean *failed);

#endif
