/*
 * pdfjail — poppler in a child process; see pdfjail.h.
 *
 * The child writes one byte ('Y' an answer follows, 'N' nothing found) and the answer, then
 * exits 0. The parent reads to end of file within the deadline, then reaps the child: only a
 * child that exited 0 after a complete answer counts.
 */
#include "pdfjail.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static gboolean write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (size_t) n;
    }
    return TRUE;
}

/* poppler's complaints about a broken file (and a sanitizer's report of its crash) would land
 * in the parent's log: the parent logs the outcome instead. */
static void quiet_stderr(void)
{
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDERR_FILENO);
        close(null);
    }
}

static G_NORETURN void child_main(int fd, pdfjail_job job, const void *pdf, size_t len)
{
    quiet_stderr();
    GBytes *answer = job(pdf, len);
    gsize n = 0;
    const void *data = answer ? g_bytes_get_data(answer, &n) : NULL;
    gboolean ok = write_all(fd, answer ? "Y" : "N", 1) && (!answer || write_all(fd, data, n));
    _exit(ok ? 0 : 1);
}

/* Everything the child writes until it closes, the deadline passes or max bytes are
 * exceeded; FALSE in the last two cases. */
static gboolean read_answer(int fd, GByteArray *into, size_t max, gint64 deadline)
{
    guint8 buf[65536];
    for (;;) {
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        if (left_ms <= 0)
            return FALSE;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, (int) MIN(left_ms, G_MAXINT));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return FALSE;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0;
        if ((size_t) n > max + 1 - into->len)
            return FALSE;
        g_byte_array_append(into, buf, (guint) n);
    }
}

static int reap(pid_t pid, gboolean kill_first)
{
    int status = 0;
    if (kill_first)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

static void log_failure(const char *what, gboolean complete, int status)
{
    if (!complete)
        log_warn("%s: poppler did not answer in %d s (or answered too much); PDF treated "
                    "as unreadable", what, PDFJAIL_TIMEOUT_S);
    else if (WIFSIGNALED(status))
        log_warn("%s: poppler crashed on this PDF (signal %d); PDF treated as unreadable",
                    what, WTERMSIG(status));
    else
        log_warn("%s: the PDF reader failed (exit %d); PDF treated as unreadable", what,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

GBytes *pdfjail_run(const char *what, pdfjail_job job, const void *pdf, size_t len,
                    size_t max_answer, gboolean *failed)
{
    int fds[2];
    if (failed)
        *failed = TRUE;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        log_warn("%s: pipe: %s; PDF treated as unreadable", what, g_strerror(errno));
        return NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("%s: fork: %s; PDF treated as unreadable", what, g_strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(fds[1], job, pdf, len);
    }
    close(fds[1]);
    GByteArray *got = g_byte_array_new();
    gboolean complete = read_answer(fds[0], got, max_answer,
                                    g_get_monotonic_time() + PDFJAIL_TIMEOUT_S * G_USEC_PER_SEC);
    close(fds[0]);
    int status = reap(pid, !complete);
    gboolean ok = complete && WIFEXITED(status) && WEXITSTATUS(status) == 0 && got->len >= 1;
    GBytes *answer = NULL;
    if (!ok)
        log_failure(what, complete, status);
    else if (got->data[0] == 'Y')
        answer = g_bytes_new(got->data + 1, got->len - 1);
    g_byte_array_unref(got);
    if (failed)
        *failed = !ok;
    return answer;
}
