/*
 * smtp — one message, one libcurl SMTP transaction; see smtp.h.
 *
 * The message is copied once with normalised CRLF line ends and fed to libcurl from memory.
 * The last error reply line is captured (debug callback) so errors quote what the server
 * said. The URL never appears in an error: it may carry credentials.
 */
#include "smtp.h"

#include <string.h>

#include <curl/curl.h>
#include <glib.h>

#define SMTP_ADDR_MAX       254
#define SMTP_RCPTS_MAX      100
#define SMTP_CONNECT_TIMEOUT 10L
#define SMTP_TOTAL_TIMEOUT   60L

typedef struct {
    GString *data;           /* message with CRLF line ends */
    size_t pos;              /* bytes already handed to libcurl */
    char reply[256];         /* last 4xx/5xx reply line from the server */
} smtp_io;

/* Every line end (CRLF, LF, lone CR) becomes CRLF; the message ends with CRLF. */
static GString *smtp_crlf(const char *msg, size_t len)
{
    GString *out = g_string_sized_new(len + len / 32 + 2);
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\r' || msg[i] == '\n') {
            g_string_append(out, "\r\n");
            if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')
                i++;
        } else {
            g_string_append_c(out, msg[i]);
        }
    }
    if (out->len > 0 && out->str[out->len - 1] != '\n')
        g_string_append(out, "\r\n");
    return out;
}

static size_t smtp_read(char *buf, size_t size, size_t nitems, void *userdata)
{
    smtp_io *io = userdata;
    size_t n = MIN(size * nitems, io->data->len - io->pos);
    memcpy(buf, io->data->str + io->pos, n);
    io->pos += n;
    return n;
}

/* Keeps the last error reply (not the "221 Bye" that follows it) for the error message. */
static int smtp_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *userdata)
{
    (void)curl;
    smtp_io *io = userdata;
    if (type != CURLINFO_HEADER_IN)
        return 0;
    while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
        size--;
    const char *nl = g_strrstr_len(data, (gssize)size, "\n");
    const char *line = nl ? nl + 1 : data;
    if (line == data + size || (line[0] != '4' && line[0] != '5'))
        return 0;
    size_t n = MIN(size - (size_t)(line - data), sizeof io->reply - 1);
    for (size_t i = 0; i < n; i++)
        io->reply[i] = g_ascii_isprint(line[i]) ? line[i] : '?';
    io->reply[n] = '\0';
    return 0;
}

/* Bare address: no controls, no spaces, no angle brackets (they would forge the command). */
static gboolean smtp_addr_ok(const char *a, gboolean may_be_empty)
{
    if (!a)
        return FALSE;
    size_t len = strnlen(a, SMTP_ADDR_MAX + 1);
    if (len > SMTP_ADDR_MAX || (len == 0 && !may_be_empty))
        return FALSE;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
            return FALSE;
    }
    return TRUE;
}

/* "<addr>" list, or NULL with *err set when a recipient is unusable. */
static struct curl_slist *smtp_rcpt_list(const char *const *rcpts, char **err)
{
    struct curl_slist *list = NULL;
    int n = 0;
    for (; rcpts && rcpts[n]; n++) {
        if (n == SMTP_RCPTS_MAX || !smtp_addr_ok(rcpts[n], FALSE)) {
            *err = g_strdup(n == SMTP_RCPTS_MAX ? "too many recipients" : "invalid recipient");
            curl_slist_free_all(list);
            return NULL;
        }
        char *a = g_strdup_printf("<%s>", rcpts[n]);
        struct curl_slist *longer = curl_slist_append(list, a);
        g_free(a);
        if (!longer)
            g_error("smtp: out of memory");   /* fatal, like every allocation failure */
        list = longer;
    }
    if (n == 0)
        *err = g_strdup("no recipient");
    return list;
}

/* 5xx is permanent; everything else (4xx, no reply at all, network, timeout) is temporary. */
static int smtp_classify(long code, const smtp_io *io, const char *curlmsg, char **err)
{
    if (code >= 400 && code < 600 && io->reply[0])
        *err = g_strdup_printf("SMTP server replied: %s (%s)", io->reply, curlmsg);
    else if (code >= 400 && code < 600)
        *err = g_strdup_printf("SMTP server replied %ld (%s)", code, curlmsg);
    else
        *err = g_strdup_printf("SMTP: %s", curlmsg);
    return code >= 500 && code < 600 ? SMTP_PERMFAIL : SMTP_TEMPFAIL;
}

static void smtp_setopts(CURL *curl, const char *url, const char *from_br,
                         struct curl_slist *rcpts, smtp_io *io, char *errbuf)
{
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from_br);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, smtp_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, io);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)io->data->len);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, SMTP_TOTAL_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    /* VERBOSE only routes the protocol trace to smtp_debug; nothing is printed. */
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, smtp_debug);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, io);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
}

/* One transaction on curl; the handle keeps its connection for the next one. */
static int smtp_perform(CURL *curl, const char *url, const char *from,
                        const char *const *rcpts, const char *msg, size_t len, char **err)
{
    *err = NULL;
    if (!url || !msg || !smtp_addr_ok(from, TRUE)) {
        *err = g_strdup(!url || !msg ? "no URL or no message" : "invalid sender");
        return SMTP_PERMFAIL;
    }
    struct curl_slist *list = smtp_rcpt_list(rcpts, err);
    if (!list)
        return SMTP_PERMFAIL;
    if (!curl) {
        curl_slist_free_all(list);
        *err = g_strdup("SMTP: cannot initialise libcurl");
        return SMTP_TEMPFAIL;
    }
    smtp_io io = { .data = smtp_crlf(msg, len) };
    char *from_br = g_strdup_printf("<%s>", from);
    char errbuf[CURL_ERROR_SIZE] = "";
    smtp_setopts(curl, url, from_br, list, &io, errbuf);

    CURLcode rc = curl_easy_perform(curl);
    int result = SMTP_OK;
    if (rc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        result = smtp_classify(code, &io, errbuf[0] ? errbuf : curl_easy_strerror(rc), err);
    }
    /* Nothing of this transaction may outlive it in the handle. */
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(curl, CURLOPT_READDATA, NULL);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, NULL);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(list);
    g_free(from_br);
    g_string_free(io.data, TRUE);
    return result;
}

int smtp_submit(const char *url, const char *from, const char *const *rcpts, const char *msg,
                size_t len, char **err)
{
    CURL *curl = curl_easy_init();
    int result = smtp_perform(curl, url, from, rcpts, msg, len, err);
    if (curl)
        curl_easy_cleanup(curl);
    return result;
}

struct smtp_session {
    CURL *curl;               /* NULL until the first message, and after a failure */
};

smtp_session *smtp_session_new(void)
{
    return g_new0(smtp_session, 1);
}

int smtp_session_submit(smtp_session *s, const char *url, const char *from,
                        const char *const *rcpts, const char *msg, size_t len, char **err)
{
    if (!s->curl)
        s->curl = curl_easy_init();
    int result = smtp_perform(s->curl, url, from, rcpts, msg, len, err);
    /* After a failure the server's state is unknown: the next message gets a new
     * connection. */
    if (result != SMTP_OK && s->curl) {
        curl_easy_cleanup(s->curl);
        s->curl = NULL;
    }
    return result;
}

void smtp_session_free(smtp_session *s)
{
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    g_free(s);
}
