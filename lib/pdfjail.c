/*
 * pdfjail — poppler in a child process; see pdfjail.h.
 *
 * A child's answer: 'Y', the length (8 bytes, host order: one program on both ends) and the
 * bytes, or 'N' alone for "nothing found"; then it exits. Anything else (nothing, a cut
 * answer, too much, too late) is a failure. Requests to the server: on its control socket
 * (SOCK_SEQPACKET: one message per request, whichever thread sends it) one byte with the
 * request socket attached (SCM_RIGHTS); on the request socket, the job (a function pointer:
 * the server is a fork of this very program, never an exec, so it is valid there), the
 * PDF's length and its bytes. The child reads the request whole before it answers.
 */
#include "pdfjail.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct request_head {
    pdfjail_job job;
    guint64 len;
} request_head;

static int server_ctl = -1;     /* our end of the server's control socket; -1: no server */

/* All of len bytes sent (send: no SIGPIPE when the other end is gone) or received. */
static gboolean transfer_all(int fd, char *p, size_t len, gboolean sending)
{
    while (len > 0) {
        ssize_t n = sending ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (size_t) n;
    }
    return TRUE;
}

static gboolean send_all(int fd, const void *data, size_t len)
{
    return transfer_all(fd, (char *) data, len, TRUE);
}

static gboolean recv_all(int fd, void *data, size_t len)
{
    return transfer_all(fd, data, len, FALSE);
}

/* poppler's complaints about a broken file (and a sanitizer's report of its crash) would land
 * in the parent's log: the requester logs the outcome instead. */
static void quiet_stderr(void)
{
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDERR_FILENO);
        close(null);
    }
}

static int jail_timeout_s = PDFJAIL_TIMEOUT_S;

void pdfjail_set_timeout(int seconds)
{
    jail_timeout_s = CLAMP(seconds, 1, PDFJAIL_TIMEOUT_S * 10);
}

/* The child's work, wherever it was forked: run the job, answer on fd, exit. */
static G_NORETURN void child_answer(int fd, pdfjail_job job, const void *pdf, size_t len)
{
    quiet_stderr();
    /* The alarm must end the child whatever the parent made of SIGALRM (a handler inherited
     * from it would run instead: Check's, in the tests, kills the whole process group; a
     * blocked one would wait for the parent's deadline). */
    signal(SIGALRM, SIG_DFL);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    alarm((unsigned) jail_timeout_s);
    GBytes *answer = job(pdf, len);
    gsize n = 0;
    const void *data = answer ? g_bytes_get_data(answer, &n) : NULL;
    guint64 n64 = n;
    gboolean ok = answer ? send_all(fd, "Y", 1) && send_all(fd, &n64, sizeof n64) &&
                           send_all(fd, data, n)
                         : send_all(fd, "N", 1);
    _exit(ok ? 0 : 1);
}

/* In a child of the server: read the request, answer it. */
static G_NORETURN void serve_request(int fd)
{
    request_head head;
    if (!recv_all(fd, &head, sizeof head) || head.len > G_MAXSIZE / 2)
        _exit(1);
    void *pdf = g_malloc(head.len ? head.len : 1);
    if (!recv_all(fd, pdf, head.len))
        _exit(1);
    child_answer(fd, head.job, pdf, head.len);
}

/* The request socket handed over with one control message; -1 when the channel closed. */
static int receive_request(int ctl)
{
    char byte;
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    for (;;) {
        ssize_t n = recvmsg(ctl, &msg, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return fd;
        }
    }
}

/* The server: one child per request, reaped by the kernel (SIGCHLD ignored). It ends when
 * the channel closes (the requesting process is gone). */
static G_NORETURN void server_main(int ctl)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGCHLD, SIG_IGN);
    int fd;
    while ((fd = receive_request(ctl)) >= 0) {
        pid_t pid = fork();
        if (pid == 0) {
            close(ctl);
            serve_request(fd);
        }
        close(fd);
    }
    _exit(0);
}

/* warm_up with its stderr (poppler's noise) sent to /dev/null, the process's put back. */
static void warm_up_quietly(void (*warm_up)(void))
{
    int saved = dup(STDERR_FILENO);
    quiet_stderr();
    warm_up();
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
}

/*
 * The server's keeper, forked while the requesting process has one thread: it warms up,
 * forks the server, and forks it again should it be killed (it only forks, but the OOM
 * killer or a hand may still end it): a threaded process could not make a new one, and
 * without it every PDF would be unreadable until a restart. Requests sent meanwhile wait
 * in the channel, which the keeper holds open. A server that ends by itself (the channel
 * closed) ends the keeper.
 */
static G_NORETURN void keeper_main(int ctl, void (*warm_up)(void))
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (warm_up)
        warm_up_quietly(warm_up);
    for (;;) {
        gint64 started = g_get_monotonic_time();
        pid_t pid = fork();
        if (pid == 0)
            server_main(ctl);
        int status = 0;
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (pid > 0 && WIFEXITED(status))
            _exit(0);
        if (pid > 0)
            log_warn("PDF reader: its server was killed (signal %d); starting it again",
                     WTERMSIG(status));
        else
            log_warn("PDF reader: cannot start its server: %s", g_strerror(errno));
        /* never a fork loop: at most one new server a second */
        if (g_get_monotonic_time() - started < G_USEC_PER_SEC)
            g_usleep(G_USEC_PER_SEC);
    }
}

gboolean pdfjail_start(void (*warm_up)(void))
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        log_error("PDF reader: socketpair: %s", g_strerror(errno));
        return FALSE;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error("PDF reader: fork: %s", g_strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return FALSE;
    }
    if (pid == 0) {
        close(sv[0]);
        keeper_main(sv[1], warm_up);
    }
    close(sv[1]);
    server_ctl = sv[0];
    return TRUE;
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
        if ((size_t) n > max - MIN(max, into->len))
            return FALSE;
        g_byte_array_append(into, buf, (guint) n);
    }
}

/* The answer in got, if it is a whole one: *answer set (NULL for 'N'); FALSE otherwise. */
static gboolean parse_answer(const GByteArray *got, GBytes **answer)
{
    *answer = NULL;
    if (got->len == 1 && got->data[0] == 'N')
        return TRUE;
    guint64 n;
    if (got->len < 1 + sizeof n || got->data[0] != 'Y')
        return FALSE;
    memcpy(&n, got->data + 1, sizeof n);
    if (n != got->len - 1 - sizeof n)
        return FALSE;
    *answer = g_bytes_new(got->data + 1 + sizeof n, n);
    return TRUE;
}

/* The child's end of a request (a socket to the server's child, or a pipe from ours), and
 * for our own child its pid; -1 when none could be made. */
static int open_request(pdfjail_job job, const void *pdf, size_t len, pid_t *child)
{
    int sv[2];
    *child = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    if (server_ctl < 0) {
        pid_t pid = fork();
        if (pid == 0) {
            close(sv[0]);
            child_answer(sv[1], job, pdf, len);
        }
        close(sv[1]);
        if (pid < 0) {
            close(sv[0]);
            return -1;
        }
        *child = pid;
        return sv[0];
    }
    char byte = 'R';
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
    request_head head = { job, len };
    gboolean sent = sendmsg(server_ctl, &msg, MSG_NOSIGNAL) == 1;
    close(sv[1]);
    if (!sent || !send_all(sv[0], &head, sizeof head) || !send_all(sv[0], pdf, len)) {
        close(sv[0]);
        return -1;
    }
    shutdown(sv[0], SHUT_WR);
    return sv[0];
}

GBytes *pdfjail_run(const char *what, pdfjail_job job, const void *pdf, size_t len,
                    size_t max_answer, gboolean *failed)
{
    pid_t child;
    int fd = open_request(job, pdf, len, &child);
    if (fd < 0) {
        log_warn("%s: the PDF reader cannot be reached (%s); PDF treated as unreadable", what,
                 g_strerror(errno));
        if (failed)
            *failed = TRUE;
        return NULL;
    }
    GByteArray *got = g_byte_array_new();
    /* A little past the child's own alarm, which normally ends a hang first. */
    gint64 deadline = g_get_monotonic_time() + (gint64) (jail_timeout_s + 2) * G_USEC_PER_SEC;
    gboolean complete = read_answer(fd, got, max_answer + 1 + sizeof(guint64), deadline);
    close(fd);
    if (child > 0) {
        if (!complete)
            kill(child, SIGKILL);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    GBytes *answer = NULL;
    gboolean ok = complete && parse_answer(got, &answer);
    if (!ok)
        log_warn("%s: %s; PDF treated as unreadable", what,
                 complete ? "the PDF reader stopped without a whole answer (poppler crashed?)"
                          : "the PDF reader did not answer in time, or answered too much");
    g_byte_array_unref(got);
    if (failed)
        *failed = !ok;
    return answer;
}
