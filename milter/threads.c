/*
 * threads — replies, commands and bounces in tracked invoice threads; see threads.h.
 *
 * Each action is one transaction: the thread_message row of the message that caused it (its
 * Message-ID, when it has one) goes in first, so a message seen twice acts once.
 */
#include "threads.h"

#include <string.h>

#include "db.h"
#include "dsn.h"
#include "invoice_act.h"
#include "log.h"
#include "mime.h"
#include "notify.h"
#include "record.h"
#include "rewrite.h"
#include "sqltext.h"

#define THREADS_MAX_HEADER 65536
#define THREADS_MAX_COMMANDS 8

/* ------------------------------------------------------------------ Message-IDs */

static gboolean threads_has(const GPtrArray *ids, const char *id)
{
    for (guint i = 0; i < ids->len; i++)
        if (strcmp(g_ptr_array_index(ids, i), id) == 0)
            return TRUE;
    return FALSE;
}

/* An id in invalid UTF-8 can match nothing we stored, and PostgreSQL would refuse the
 * lookup (a logged error and a dropped connection per message): left out. */
static void threads_add_id(GPtrArray *ids, const char *id)
{
    if (!id || !*id || strlen(id) > 250 || strpbrk(id, " \t\r\n") || ids->len >= THREADS_MAX_IDS ||
        !g_utf8_validate(id, -1, NULL) || threads_has(ids, id))
        return;
    g_ptr_array_add(ids, g_strdup(id));
}

/* In-Reply-To first, then References from the most recent (the last) backwards. */
static void threads_ids_from(GPtrArray *ids, const char *in_reply_to, const char *references)
{
    const char *values[] = { in_reply_to, references };
    for (int v = 0; v < 2; v++) {
        GMimeReferences *refs = values[v] ? g_mime_references_parse(NULL, values[v]) : NULL;
        if (!refs)
            continue;
        int n = g_mime_references_length(refs);
        for (int k = 0; k < n; k++)
            threads_add_id(ids, g_mime_references_get_message_id(refs, v == 0 ? k : n - 1 - k));
        g_mime_references_free(refs);
    }
}

static char *threads_join(const GPtrArray *ids)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < ids->len; i++) {
        if (i)
            g_string_append_c(s, ' ');
        g_string_append(s, g_ptr_array_index(ids, i));
    }
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------------ thread_heads */

struct thread_heads {
    char *in_reply_to;
    char *references;
    char *from;
    char *message_id;
    char *content_type;
    gboolean automatic;       /* auto-reply, list or bulk mail: never a client's own reply */
    GPtrArray *ids;           /* computed on first use */
};

thread_heads *thread_heads_new(void)
{
    return g_new0(thread_heads, 1);
}

void thread_heads_free(thread_heads *h)
{
    if (!h)
        return;
    g_free(h->in_reply_to);
    g_free(h->references);
    g_free(h->from);
    g_free(h->message_id);
    g_free(h->content_type);
    if (h->ids)
        g_ptr_array_unref(h->ids);
    g_free(h);
}

static void threads_keep(char **slot, const char *value)
{
    if (!*slot && strlen(value) <= THREADS_MAX_HEADER)
        *slot = g_strdup(value);
}

/* RFC 3834 and the older conventions of vacation programs and list servers. */
static gboolean threads_is_automatic(const char *name, const char *value)
{
    if (g_ascii_strcasecmp(name, "Auto-Submitted") == 0) {
        while (*value == ' ')
            value++;
        return g_ascii_strncasecmp(value, "no", 2) != 0;
    }
    if (g_ascii_strcasecmp(name, "Precedence") == 0) {
        static const char *const kinds[] = { "bulk", "junk", "list", "auto_reply", NULL };
        for (int i = 0; kinds[i]; i++)
            if (g_ascii_strncasecmp(value + strspn(value, " "), kinds[i], strlen(kinds[i])) == 0)
                return TRUE;
        return FALSE;
    }
    return g_ascii_strcasecmp(name, "X-Autoreply") == 0 ||
           g_ascii_strcasecmp(name, "X-Autorespond") == 0 ||
           g_ascii_strcasecmp(name, "List-Id") == 0;
}

/* Called for every header of every message the milter reads: the first letter of the name
 * dismisses most headers at once. */
void thread_heads_add(thread_heads *h, const char *name, const char *value)
{
    if (!name || !value)
        return;
    switch (g_ascii_tolower(name[0])) {
    case 'i':
        if (g_ascii_strcasecmp(name, "In-Reply-To") == 0)
            threads_keep(&h->in_reply_to, value);
        break;
    case 'r':
        if (g_ascii_strcasecmp(name, "References") == 0)
            threads_keep(&h->references, value);
        break;
    case 'f':
        if (g_ascii_strcasecmp(name, "From") == 0)
            threads_keep(&h->from, value);
        break;
    case 'm':
        if (g_ascii_strcasecmp(name, "Message-ID") == 0)
            threads_keep(&h->message_id, value);
        break;
    case 'c':
        if (g_ascii_strcasecmp(name, "Content-Type") == 0)
            threads_keep(&h->content_type, value);
        break;
    case 'a':       /* Auto-Submitted */
    case 'p':       /* Precedence */
    case 'x':       /* X-Autoreply, X-Autorespond */
    case 'l':       /* List-Id */
        if (!h->automatic && threads_is_automatic(name, value))
            h->automatic = TRUE;
        break;
    default:
        break;
    }
}

const GPtrArray *thread_heads_ids(thread_heads *h)
{
    if (!h->ids) {
        h->ids = g_ptr_array_new_with_free_func(g_free);
        threads_ids_from(h->ids, h->in_reply_to, h->references);
    }
    return h->ids;
}

gboolean thread_heads_maybe_bounce(const thread_heads *h)
{
    return dsn_maybe_bounce(h->content_type, h->from);
}

/* ------------------------------------------------------------------ the lookup */

typedef struct thread_hit {
    gint64 invoice_id;
    char *status;
    gboolean paused;
    char *number;
    char *subject;
    char *client_email;
    char *recipients;         /* space-separated */
    char *invoice_message_id;
    char *kind;               /* of the thread message that matched */
    char *matched;
    artisan owner;            /* id, email, name, locale, pause_on_client_reply */
} thread_hit;

static void thread_hit_clear(thread_hit *t)
{
    g_free(t->status);
    g_free(t->number);
    g_free(t->subject);
    g_free(t->client_email);
    g_free(t->recipients);
    g_free(t->invoice_message_id);
    g_free(t->kind);
    g_free(t->matched);
    g_free(t->owner.email);
    g_free(t->owner.name);
    g_free(t->owner.locale);
    memset(t, 0, sizeof *t);
}

/* 1: found, 0: not tracked, -1: database error. */
static int threads_lookup(PGconn *db, const GPtrArray *ids, thread_hit *t, char **err)
{
    memset(t, 0, sizeof *t);
    if (!ids->len)
        return 0;
    char *joined = threads_join(ids);
    const char *params[] = { joined };
    PGresult *res = db_exec(db, SQL_THREAD_LOOKUP, 1, params, err);
    g_free(joined);
    if (!res)
        return -1;
    int found = PQntuples(res) > 0;
    if (found) {
        t->invoice_id = db_int(res, 0, 0);
        t->status = g_strdup(db_str(res, 0, 1));
        t->paused = db_bool(res, 0, 2);
        t->number = g_strdup(db_str(res, 0, 3));
        t->subject = g_strdup(db_str(res, 0, 4));
        t->client_email = g_strdup(db_str(res, 0, 5));
        t->recipients = g_strdup(db_str(res, 0, 6));
        t->invoice_message_id = g_strdup(db_str(res, 0, 7));
        t->kind = g_strdup(db_str(res, 0, 8));
        t->matched = g_strdup(db_str(res, 0, 9));
        t->owner.id = db_int(res, 0, 10);
        t->owner.email = g_strdup(db_str(res, 0, 11));
        t->owner.name = g_strdup(db_str(res, 0, 12));
        t->owner.locale = g_strdup(db_str(res, 0, 13));
        t->owner.pause_on_client_reply = db_bool(res, 0, 14);
    }
    PQclear(res);
    return found;
}

/* ------------------------------------------------------------------ database steps */

static char *threads_id_text(gint64 id)
{
    return g_strdup_printf("%" G_GINT64_FORMAT, id);
}

/* The message's own row in the thread. 1: new, 0: seen before, -1: error. A message
 * without a Message-ID cannot be recognised again: always new. */
static int threads_record(PGconn *db, const char *message_id, gint64 invoice_id,
                          const char *kind, char **err)
{
    if (!message_id || !*message_id)
        return 1;
    char *id = threads_id_text(invoice_id);
    const char *params[] = { message_id, id, kind };
    PGresult *res = db_exec(db, SQL_THREAD_MESSAGE_ADD_NEW, 3, params, err);
    g_free(id);
    if (!res)
        return -1;
    int fresh = PQntuples(res) > 0;
    PQclear(res);
    return fresh;
}

/* Run a statement on the invoice; *changed: it returned a row. */
static gboolean threads_update(PGconn *db, const char *sql, gint64 invoice_id, const char *arg,
                               gboolean *changed, char **err)
{
    char *id = threads_id_text(invoice_id);
    const char *params[] = { id, arg };
    PGresult *res = db_exec(db, sql, arg ? 2 : 1, params, err);
    g_free(id);
    if (!res)
        return FALSE;
    if (changed)
        *changed = PQntuples(res) > 0;
    PQclear(res);
    return TRUE;
}

static gboolean threads_commit(PGconn *db, gboolean ok, char **err)
{
    if (ok && db_commit(db, err))
        return TRUE;
    db_rollback(db);
    return FALSE;
}

/* ------------------------------------------------------------------ client replies */

static gboolean threads_listed(const char *list, const char *address)
{
    if (!list || !address || !*address)
        return FALSE;
    char **items = g_strsplit(list, " ", -1);
    gboolean found = FALSE;
    for (char **p = items; *p && !found; p++)
        found = g_ascii_strcasecmp(*p, address) == 0;
    g_strfreev(items);
    return found;
}

/* A recipient of the invoice, other than the artisan themself. */
static gboolean threads_is_client(const thread_hit *t, const char *address)
{
    if (!address || g_ascii_strcasecmp(address, t->owner.email) == 0)
        return FALSE;
    return g_ascii_strcasecmp(address, t->client_email) == 0 ||
           threads_listed(t->recipients, address);
}

/* The bare address of a From value, lower-case; NULL when there is none. */
static char *threads_from_address(const char *from)
{
    InternetAddressList *list = from ? internet_address_list_parse(NULL, from) : NULL;
    char *out = NULL;
    if (list && internet_address_list_length(list) > 0) {
        InternetAddress *a = internet_address_list_get_address(list, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
            if (addr && strchr(addr, '@'))
                out = g_ascii_strdown(addr, -1);
        }
    }
    if (list)
        g_object_unref(list);
    return out;
}

static char *threads_decode_id(const char *header)
{
    return header ? g_mime_utils_decode_message_id(header) : NULL;
}

static gboolean threads_record_reply(PGconn *db, const thread_hit *t, const char *who,
                                     const char *message_id, const char *queue_id, char **err)
{
    if (!db_begin(db, err))
        return FALSE;
    int fresh = threads_record(db, message_id, t->invoice_id, "reply", err);
    if (fresh <= 0) {
        db_rollback(db);
        if (fresh == 0)
            log_info("%s: invoice=%s: client reply %s already recorded", queue_id, t->number,
                     message_id);
        return fresh == 0;
    }
    gboolean pause = t->owner.pause_on_client_reply, ok = TRUE;
    if (pause)
        ok = threads_update(db, SQL_INVOICE_SET_REMINDERS_PAUSED, t->invoice_id, "t", NULL, err);
    ok = ok && record_event_take(db, t->invoice_id, "client_reply",
                                 json_pack("{s:s, s:s?, s:b}", "from", who, "message_id",
                                           message_id, "reminders_paused", pause),
                                 err);
    if (!threads_commit(db, ok, err))
        return FALSE;
    log_info("%s: invoice=%s: client reply from %s recorded%s", queue_id, t->number, who,
             pause ? ", reminders paused" : "");
    return TRUE;
}

gboolean threads_inbound(PGconn *db, thread_heads *h, const char *envelope_from,
                         const char *queue_id, char **err)
{
    thread_hit t;
    int found = threads_lookup(db, thread_heads_ids(h), &t, err);
    if (found <= 0) {
        if (found == 0)
            log_debug("%s: from=%s: thread not tracked, accepted untouched", queue_id,
                      envelope_from ? envelope_from : "<>");
        return found == 0;
    }
    gboolean ok = TRUE;
    char *from = threads_from_address(h->from);
    const char *who = threads_is_client(&t, envelope_from) ? envelope_from
                      : threads_is_client(&t, from)       ? from
                                                          : NULL;
    /* A read receipt (multipart/report) is no more the client's word than a vacation notice. */
    if (h->automatic || dsn_maybe_bounce(h->content_type, NULL))
        log_info("%s: invoice=%s: automatic reply from %s, not a client's reply", queue_id,
                 t.number, from ? from : "?");
    else if (!who)
        log_debug("%s: invoice=%s: reply from %s, not a recipient of the invoice: ignored",
                 queue_id, t.number, from ? from : envelope_from ? envelope_from : "?");
    else {
        char *message_id = threads_decode_id(h->message_id);
        ok = threads_record_reply(db, &t, who, message_id, queue_id, err);
        g_free(message_id);
    }
    g_free(from);
    thread_hit_clear(&t);
    return ok;
}

/* ------------------------------------------------------------------ bounces */

/* The failed addresses worth telling: not the artisan's own (a reminder's Cc). */
static char *threads_failed_list(const dsn_report *r, const thread_hit *t, gboolean *only_own)
{
    GString *s = g_string_new(NULL);
    *only_own = r->recipients->len > 0;
    for (guint i = 0; i < r->recipients->len; i++) {
        const char *a = g_ptr_array_index(r->recipients, i);
        if (g_ascii_strcasecmp(a, t->owner.email) == 0)
            continue;
        *only_own = FALSE;
        if (s->len)
            g_string_append(s, ", ");
        g_string_append(s, a);
    }
    /* A bounce that names no address failed for the invoice's client. */
    if (!s->len && !*only_own)
        g_string_append(s, *t->client_email ? t->client_email : t->recipients);
    return g_string_free(s, FALSE);
}

static void threads_tell_bounce(PGconn *db, const reglo_conf *conf, const thread_hit *t,
                                const char *failed, const char *queue_id)
{
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:s}", "artisan_name", t->owner.name,
                            "number", t->number, "subject", t->subject, "recipient", failed,
                            "client_email", t->client_email);
    char *err = NULL;
    if (!notify_artisan(db, conf, &t->owner, "bounce", ctx,
                        *t->invoice_message_id ? t->invoice_message_id : NULL, t->invoice_id,
                        &err)) {
        log_error("%s: cannot queue the bounce notice to %s: %s", queue_id, t->owner.email, err);
        g_free(err);
    }
    json_decref(ctx);
}

static gboolean threads_record_bounce(PGconn *db, const reglo_conf *conf, const thread_hit *t,
                                      const char *failed, const char *bounce_id,
                                      const char *queue_id, char **err)
{
    if (!db_begin(db, err))
        return FALSE;
    int fresh = threads_record(db, bounce_id, t->invoice_id, "bounce", err);
    if (fresh <= 0) {
        db_rollback(db);
        return fresh == 0;
    }
    gboolean undelivered = FALSE;
    gboolean ok = threads_update(db, SQL_INVOICE_MARK_UNDELIVERED, t->invoice_id, NULL,
                                 &undelivered, err) &&
                  threads_update(db, SQL_REMINDER_CANCEL_PENDING, t->invoice_id, NULL, NULL,
                                 err) &&
                  (strcmp(t->kind, "reminder") != 0 ||
                   threads_update(db, SQL_REMINDER_MARK_UNDELIVERED, t->invoice_id, t->matched,
                                  NULL, err)) &&
                  record_event_take(db, t->invoice_id, "bounce",
                                    json_pack("{s:s, s:s, s:s}", "recipient", failed,
                                              "message_id", t->matched, "of", t->kind),
                                    err);
    /* The artisan hears once, when the invoice becomes undelivered. */
    if (ok && undelivered)
        threads_tell_bounce(db, conf, t, failed, queue_id);
    if (!threads_commit(db, ok, err))
        return FALSE;
    log_info("%s: invoice=%s: bounce of the %s for %s%s", queue_id, t->number, t->kind, failed,
             undelivered ? ": undelivered, reminders stopped, artisan told" : "");
    return TRUE;
}

gboolean threads_bounce(PGconn *db, const reglo_conf *conf, GMimeMessage *msg,
                        const char *queue_id, char **err)
{
    dsn_report r;
    dsn_report_init(&r);
    gboolean ok = TRUE;
    if (!dsn_parse(msg, &r)) {
        log_debug("%s: from=<>: %s, accepted untouched", queue_id,
                  r.delayed_only ? "delay notice" : "not a failure report");
        dsn_report_clear(&r);
        return TRUE;
    }
    thread_hit t;
    int found = threads_lookup(db, r.message_ids, &t, err);
    if (found == 0)
        log_debug("%s: from=<>: bounce of an untracked message, accepted untouched", queue_id);
    if (found > 0) {
        gboolean only_own;
        char *failed = threads_failed_list(&r, &t, &only_own);
        if (only_own)
            log_info("%s: invoice=%s: only the artisan's own address bounced: ignored", queue_id,
                     t.number);
        else
            ok = threads_record_bounce(db, conf, &t, failed, g_mime_message_get_message_id(msg),
                                       queue_id, err);
        g_free(failed);
        thread_hit_clear(&t);
    }
    dsn_report_clear(&r);
    return found >= 0 && ok;
}

/* ------------------------------------------------------------------ artisan commands */

/* White space around a command, the no-break space of html editors included. */
static const char *threads_skip_space(const char *s, const char *end)
{
    while (s < end) {
        if (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        else if (end - s >= 2 && (guchar)s[0] == 0xC2 && (guchar)s[1] == 0xA0)
            s += 2;
        else
            break;
    }
    return s;
}

const char *threads_command(const char *line)
{
    static const struct { const char *word; const char *command; } words[] = {
        { "#payee", "paid" }, { "#paid", "paid" }, { "#stop", "stop" },
        { "#reprendre", "resume" }, { "#resume", "resume" },
    };
    if (!line)
        return NULL;
    const char *end = line + strlen(line);
    const char *s = threads_skip_space(line, end);
    while (end > s) {       /* trailing space, NBSP included */
        if (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')
            end--;
        else if (end - s >= 2 && (guchar)end[-2] == 0xC2 && (guchar)end[-1] == 0xA0)
            end -= 2;
        else
            break;
    }
    size_t n = (size_t)(end - s);
    if (n < 2 || n > 40 || *s != '#' || !g_utf8_validate(s, (gssize)n, NULL))
        return NULL;
    char *composed = g_utf8_normalize(s, (gssize)n, G_NORMALIZE_DEFAULT_COMPOSE);
    char *ascii = composed ? g_str_to_ascii(composed, "C") : NULL;
    const char *command = NULL;
    for (size_t i = 0; ascii && i < G_N_ELEMENTS(words) && !command; i++)
        if (g_ascii_strcasecmp(ascii, words[i].word) == 0)
            command = words[i].command;
    g_free(ascii);
    g_free(composed);
    return command;
}

static gboolean threads_is_command_line(const char *line, void *arg)
{
    (void)arg;
    return threads_command(line) != NULL;
}

/* The commands of the artisan's own text, in order; how many. */
static int threads_commands_of(GMimeMessage *msg, const char *out[THREADS_MAX_COMMANDS])
{
    char **lines = mime_own_lines(msg);
    int n = 0;
    for (char **l = lines; l && *l && n < THREADS_MAX_COMMANDS; l++) {
        const char *c = threads_command(*l);
        if (c)
            out[n++] = c;
    }
    g_strfreev(lines);
    return n;
}

/* The command's action (lib/invoice_act.c, shared with the portal), with its event. */
static gboolean threads_apply_one(PGconn *db, const thread_hit *t, const char *command,
                                  const char *message_id, char **err)
{
    invoice_act act = strcmp(command, "paid") == 0 ? INVOICE_ACT_PAID
                      : strcmp(command, "stop") == 0 ? INVOICE_ACT_PAUSE : INVOICE_ACT_RESUME;
    json_t *detail = json_pack("{s:s, s:s?}", "by", "artisan", "message_id", message_id);
    gboolean ok = invoice_act_apply(db, t->invoice_id, act, detail, NULL, err);
    json_decref(detail);
    return ok;
}

static gboolean threads_apply(PGconn *db, const thread_hit *t, const char *const *commands,
                              int n, const char *message_id, char **err)
{
    if (!db_begin(db, err))
        return FALSE;
    int fresh = threads_record(db, message_id, t->invoice_id, "artisan", err);
    gboolean ok = fresh >= 0;
    /* Seen before (a copy, a retry): the commands were applied then. */
    for (int i = 0; ok && fresh > 0 && i < n; i++)
        ok = threads_apply_one(db, t, commands[i], message_id, err);
    return threads_commit(db, ok, err);
}

/* Our own marker, valid for this Message-ID: a reminder or a message already processed. */
static gboolean threads_marked_by_us(const keyring *keys, GMimeMessage *msg)
{
    const char *marker = g_mime_object_get_header(GMIME_OBJECT(msg), REWRITE_MARKER_HEADER);
    const char *message_id = g_mime_message_get_message_id(msg);
    char kind[16];
    gint64 id;
    return marker && message_id && token_marker_verify(keys, marker, message_id, kind, &id);
}

static void threads_invoice_leaf(GMimeObject *parent, GMimeObject *part, void *arg)
{
    (void)parent;
    gboolean *found = arg;
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    const char *fn = GMIME_IS_PART(part) ? g_mime_part_get_filename(GMIME_PART(part)) : NULL;
    if ((ct && (g_mime_content_type_is_type(ct, "application", "pdf") ||
                g_mime_content_type_is_type(ct, "application", "xml") ||
                g_mime_content_type_is_type(ct, "text", "xml"))) ||
        (fn && (g_str_has_suffix(fn, ".pdf") || g_str_has_suffix(fn, ".PDF") ||
                g_str_has_suffix(fn, ".xml") || g_str_has_suffix(fn, ".XML"))))
        *found = TRUE;
}

/* A reply is no invoice, unless it carries one (a PDF, an XML, invoicing software headers). */
static gboolean threads_may_be_invoice(GMimeMessage *msg)
{
    if (g_mime_object_get_header(GMIME_OBJECT(msg), "X-Invoice-Number") ||
        g_mime_object_get_header(GMIME_OBJECT(msg), "X-Invoice-Amount"))
        return TRUE;
    gboolean found = FALSE;
    mime_foreach_leaf(msg, threads_invoice_leaf, &found);
    return found;
}

static void threads_note_commands(threads_result *res, const char *const *commands, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            g_strlcat(res->commands, ",", sizeof res->commands);
        g_strlcat(res->commands, commands[i], sizeof res->commands);
    }
}

gboolean threads_artisan(PGconn *db, const keyring *keys, const artisan *sender,
                         GMimeMessage *msg, const char *queue_id, threads_result *res,
                         char **err)
{
    memset(res, 0, sizeof *res);
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    threads_ids_from(ids, g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"),
                     g_mime_object_get_header(GMIME_OBJECT(msg), "References"));
    if (!ids->len) {
        g_ptr_array_unref(ids);
        return TRUE;
    }
    if (threads_marked_by_us(keys, msg)) {
        res->verdict = THREADS_OURS;
        g_ptr_array_unref(ids);
        return TRUE;
    }
    thread_hit t;
    int found = threads_lookup(db, ids, &t, err);
    g_ptr_array_unref(ids);
    if (found <= 0 || t.owner.id != sender->id) {
        if (found > 0)
            log_info("%s: %s replies in a thread of another artisan's invoice: no command "
                     "applied", queue_id, sender->email);
        thread_hit_clear(&t);
        return found >= 0;
    }
    res->verdict = THREADS_REPLY;
    g_strlcpy(res->number, t.number, sizeof res->number);
    res->may_be_invoice = threads_may_be_invoice(msg);
    /* Not handed to the rewrite, which would remove a marker we did not sign: do it here. */
    if (!res->may_be_invoice)
        while (g_mime_object_remove_header(GMIME_OBJECT(msg), REWRITE_MARKER_HEADER))
            res->headers_changed = TRUE;
    const char *commands[THREADS_MAX_COMMANDS];
    int n = threads_commands_of(msg, commands);
    gboolean ok = threads_apply(db, &t, commands, n, g_mime_message_get_message_id(msg), err);
    if (ok && n > 0) {
        threads_note_commands(res, commands, n);
        res->body_changed = mime_remove_lines(msg, threads_is_command_line, NULL) > 0;
        log_info("%s: invoice=%s: artisan's command %s applied%s", queue_id, t.number,
                 res->commands, res->body_changed ? " and removed from the message"
                                                  : ", left in the message (not editable)");
    }
    thread_hit_clear(&t);
    return ok;
}
