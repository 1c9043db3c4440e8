/*
 * callbacks — the libmilter callbacks and the per-connection state behind smfi_setpriv.
 *
 * A conn_state lives from negotiation to close and owns the client address and, for the
 * message under way, a msg_state (sender, recipients, headers, spooled bytes) that is freed
 * at end of message, abort or close. Trust and sender are decided at MAIL FROM. An enrolled
 * artisan's message is read whole (MSG_ARTISAN). Other mail matters only when it may be a
 * client's reply or a bounce, i.e. when a recipient is in an enrolled artisan's domain
 * (policy_recipient_watched); the rest is accepted at DATA, before the MTA sends any of its
 * content. Watched mail (MSG_WATCH) is read up to the end of its headers only, never its
 * body: without thread headers it is accepted there, with them one lookup tells whether it
 * is a reply in a tracked invoice thread (threads.c). Null-sender mail to such a recipient
 * that looks like a bounce (MSG_BOUNCE) is read up to BOUNCE_MAX bytes. An MTA that does not
 * send DATA (Postfix's non-SMTP mail) gets the same decision at end of headers.
 * Only artisan mail is ever changed; thread tracking never delays or alters other mail,
 * whatever happens to the database.
 *
 * Protocol cost: every step that answers is a round trip in which the MTA and the milter both
 * wait. Where the MTA offers it, connect, MAIL, RCPT, header and body chunk steps are
 * negotiated without reply (SMFIP_NR_*): their callbacks answer SMFIS_NOREPLY, and a verdict
 * they reach (an error, the size cap) is kept and given at the next step that answers: DATA,
 * end of headers (which always answer: other mail is accepted there) or end of message.
 * libmilter turns any other answer of a no-reply step into "no reply" but still changes
 * its own state on ACCEPT/REJECT, which would then ignore the MTA's next commands: no such
 * answer may leave a no-reply step.
 */
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "apply.h"
#include "gate.h"
#include "log.h"
#include "mime.h"
#include "milter.h"
#include "policy.h"
#include "rewrite.h"
#include "spool.h"
#include "threads.h"

#define MAX_RCPTS 1000
/* A bounce's report and the head of the returned message come first: enough to read. */
#define BOUNCE_MAX (256 * 1024)
/* Why other mail was not read, in the log (bench/run counts these lines). */
#define NOT_WATCHED "no recipient in an artisan's domain"

/*
 * Large messages (past memory_threshold, spooled to a file) are parsed and rewritten two at
 * a time: the decoded attachments and poppler's document are what costs memory, and many
 * such messages can end at once. A waiting message tells the MTA it is alive every
 * BIG_PROGRESS_S seconds; after BIG_WAIT_MAX_S it goes on as on_error says (unchanged, by
 * default). Smaller messages never wait.
 */
#define BIG_AT_ONCE 2
#define BIG_WAIT_MAX_S 120
#define BIG_PROGRESS_S 10

typedef enum {
    MSG_ARTISAN,                   /* an enrolled artisan's message: read, maybe rewritten */
    MSG_WATCH,                     /* other mail: headers only, for thread tracking */
    MSG_BOUNCE,                    /* null sender: a possible bounce */
} msg_mode;

typedef struct msg_state {
    msg_mode mode;
    artisan *sender;               /* MSG_ARTISAN */
    char *mail_from;               /* MAIL FROM as given, for the log */
    char *envelope_from;           /* its address, lower-case; NULL for <> */
    const char *why;               /* static: why it is not artisan mail */
    thread_heads *heads;           /* MSG_WATCH, MSG_BOUNCE */
    gboolean rcpt_watched;         /* MSG_WATCH, MSG_BOUNCE: a recipient may be in a thread */
    gboolean capped;               /* MSG_BOUNCE: BOUNCE_MAX reached, the rest is skipped */
    GPtrArray *rcpts;              /* of char*, NULL-terminated for rewrite_ctx */
    GPtrArray *headers;            /* header_field, as the MTA gave them */
    spool *bytes;                  /* headers, blank line, body: the message as parsed */
    gboolean in_body;
    gboolean too_big;
    char *queue_id;
} msg_state;

typedef struct conn_state {
    struct sockaddr_storage client;
    gboolean local;                /* no client address: the MTA's local submission */
    gboolean can_skip;             /* SMFIS_SKIP works for body chunks (not in no_reply) */
    unsigned long no_reply;        /* the SMFIP_NR_* steps negotiated (see the top) */
    sfsistat deferred;             /* a verdict of a no-reply step, for the next answer */
    msg_state *msg;
} conn_state;

static void msg_state_free(msg_state *m)
{
    if (!m)
        return;
    artisan_free(m->sender);
    g_free(m->mail_from);
    g_free(m->envelope_from);
    thread_heads_free(m->heads);
    if (m->rcpts)
        g_ptr_array_unref(m->rcpts);
    if (m->headers)
        g_ptr_array_unref(m->headers);
    spool_free(m->bytes);
    g_free(m->queue_id);
    g_free(m);
}

static conn_state *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static void msg_end(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    if (c) {
        msg_state_free(c->msg);
        c->msg = NULL;
    }
}

/*
 * The answer of a step: as is when the step has a reply; else SMFIS_NOREPLY, the first
 * verdict other than CONTINUE being kept for the next step that answers (take_deferred).
 */
static sfsistat step_reply(conn_state *c, unsigned long step, sfsistat st)
{
    if (!c || !(c->no_reply & step))
        return st;
    if (st != SMFIS_CONTINUE && c->deferred == SMFIS_CONTINUE)
        c->deferred = st;
    return SMFIS_NOREPLY;
}

/* A verdict a no-reply step reached ends the message at this step, which answers. */
static gboolean take_deferred(SMFICTX *ctx, conn_state *c, sfsistat *st)
{
    if (!c || c->deferred == SMFIS_CONTINUE)
        return FALSE;
    *st = c->deferred;
    c->deferred = SMFIS_CONTINUE;
    msg_end(ctx);
    return TRUE;
}

static const char *queue_id_of(SMFICTX *ctx)
{
    const char *id = smfi_getsymval(ctx, "i");
    return id && *id ? id : "NOQUEUE";
}

/* Our failure: the message goes on unchanged, or is retried later if so configured. */
static sfsistat on_error(SMFICTX *ctx, const char *queue_id, const char *what, const char *err)
{
    gboolean tempfail = milter.conf->on_error == ON_ERROR_TEMPFAIL;
    log_error("%s: %s: %s; message %s", queue_id, what, err,
              tempfail ? "deferred (on_error=tempfail)" : "passed unchanged (on_error=accept)");
    msg_end(ctx);
    return tempfail ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
}

/* Made at negotiation (which learns whether SKIP works), or at connect without one. */
static conn_state *conn_new(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    if (!c) {
        c = g_new0(conn_state, 1);
        smfi_setpriv(ctx, c);
    }
    return c;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
    (void) hostname;
    conn_state *c = conn_new(ctx);
    if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
        memcpy(&c->client, addr, addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                            : sizeof(struct sockaddr_in6));
    else
        c->local = TRUE;
    return step_reply(c, SMFIP_NR_CONN, SMFIS_CONTINUE);
}

/* Not artisan mail: watched for thread tracking (see the top of this file). address: the
 * MAIL FROM address (policy_address), taken over. */
static msg_state *msg_watch_new(SMFICTX *ctx, const char *mail_from, char *address,
                                const char *why)
{
    msg_state *m = g_new0(msg_state, 1);
    m->envelope_from = address;
    m->mode = m->envelope_from ? MSG_WATCH : MSG_BOUNCE;
    m->mail_from = g_strdup(mail_from);
    m->why = why;
    m->heads = thread_heads_new();
    m->queue_id = g_strdup(queue_id_of(ctx));
    if (m->mode == MSG_BOUNCE)
        m->bytes = spool_new(BOUNCE_MAX, milter.conf->spool_dir);
    return m;
}

static sfsistat envfrom(SMFICTX *ctx, conn_state *c, const char *mail_from)
{
    artisan *sender = NULL;
    char *address = NULL, *err = NULL;
    const char *why = NULL;
    policy_verdict v = policy_decide(milter.conf, milter.pool,
                                     c->local ? NULL : (struct sockaddr *) &c->client,
                                     smfi_getsymval(ctx, "{auth_authen}"), mail_from, &sender,
                                     &address, &why, &err);
    if (v == POLICY_SKIP) {
        c->msg = msg_watch_new(ctx, mail_from, address, why);
        return SMFIS_CONTINUE;
    }
    g_free(address);
    if (v == POLICY_ERROR) {
        sfsistat st = on_error(ctx, queue_id_of(ctx), "sender lookup", err);
        g_free(err);
        return st;
    }
    msg_state *m = g_new0(msg_state, 1);
    m->mode = MSG_ARTISAN;
    m->sender = sender;
    m->rcpts = g_ptr_array_new_with_free_func(g_free);
    m->headers = header_list_new();
    m->bytes = spool_new(milter.conf->memory_threshold, milter.conf->spool_dir);
    m->queue_id = g_strdup(queue_id_of(ctx));
    c->msg = m;
    return SMFIS_CONTINUE;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    conn_state *c = conn_of(ctx);
    if (!c)
        return SMFIS_ACCEPT;        /* no negotiation, hence no no-reply step */
    msg_end(ctx);
    c->deferred = SMFIS_CONTINUE;
    return step_reply(c, SMFIP_NR_MAIL, envfrom(ctx, c, argv[0]));
}

/* how: what spared the rest of the message, for the log. */
static sfsistat pass_untouched(SMFICTX *ctx, msg_state *m, const char *how)
{
    log_debug("%s: from=%s: %s, %s, accepted untouched", m->queue_id, m->mail_from, m->why, how);
    msg_end(ctx);
    return SMFIS_ACCEPT;
}

/* A database failure here costs only speed: the message is read as if the recipient were
 * watched. */
static void watch_recipient(SMFICTX *ctx, msg_state *m, const char *rcpt_arg)
{
    char *err = NULL;
    policy_verdict v = policy_recipient_watched(milter.conf, milter.pool, rcpt_arg, &err);
    if (v == POLICY_ERROR)
        log_error("%s: from=%s: recipient lookup: %s; headers read for thread tracking",
                  queue_id_of(ctx), m->mail_from, err);
    m->rcpt_watched = v != POLICY_SKIP;
    g_free(err);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    conn_state *c = conn_of(ctx);
    if (!c || !c->msg)
        return step_reply(c, SMFIP_NR_RCPT, SMFIS_ACCEPT);
    if (c->msg->mode == MSG_ARTISAN) {
        char *address = policy_address(argv[0]);
        if (address && c->msg->rcpts->len < MAX_RCPTS)
            g_ptr_array_add(c->msg->rcpts, address);
        else
            g_free(address);
    } else if (!c->msg->rcpt_watched)
        watch_recipient(ctx, c->msg, argv[0]);
    return step_reply(c, SMFIP_NR_RCPT, SMFIS_CONTINUE);
}

/*
 * What DATA and end of headers answer before looking at the message: a verdict kept from a
 * no-reply step, or ACCEPT for mail whose recipients are all outside the artisans' domains
 * (it can be no reply in an invoice's thread and no bounce of ours). At DATA that spares
 * the MTA sending its content; an MTA without the DATA step (non-SMTP mail) gets the same
 * answer at end of headers. FALSE when the message goes on.
 */
static gboolean answered_early(SMFICTX *ctx, conn_state *c, sfsistat *st)
{
    if (take_deferred(ctx, c, st))
        return TRUE;
    *st = SMFIS_ACCEPT;
    if (!c || !c->msg)
        return TRUE;
    msg_state *m = c->msg;
    g_free(m->queue_id);
    m->queue_id = g_strdup(queue_id_of(ctx));
    if (m->mode != MSG_ARTISAN && !m->rcpt_watched) {
        *st = pass_untouched(ctx, m, NOT_WATCHED);
        return TRUE;
    }
    return FALSE;
}

static sfsistat cb_data(SMFICTX *ctx)
{
    sfsistat st;
    return answered_early(ctx, conn_of(ctx), &st) ? st : SMFIS_CONTINUE;
}

/* Past the size cap the message passes untouched; we stop buffering at once. */
static sfsistat spool_or_pass(SMFICTX *ctx, msg_state *m, const void *data, size_t len)
{
    if (spool_size(m->bytes) + (gint64) len > milter.conf->max_message_size) {
        log_info("%s: from=%s: larger than %" G_GINT64_FORMAT " bytes, passed untouched",
                 m->queue_id, m->sender->email, milter.conf->max_message_size);
        msg_end(ctx);
        return SMFIS_ACCEPT;
    }
    if (!spool_write(m->bytes, data, len))
        return on_error(ctx, m->queue_id, "spool", "cannot write the temporary file");
    return SMFIS_CONTINUE;
}

/* A bounce is kept up to BOUNCE_MAX bytes; what follows is not needed to read it. */
static sfsistat bounce_keep(SMFICTX *ctx, conn_state *c, const void *data, size_t len)
{
    msg_state *m = c->msg;
    if (m->capped)
        return c->can_skip && m->in_body ? SMFIS_SKIP : SMFIS_CONTINUE;
    gint64 room = BOUNCE_MAX - spool_size(m->bytes);
    if ((gint64) len > room) {
        len = (size_t) room;
        m->capped = TRUE;
    }
    if (!spool_write(m->bytes, data, len)) {
        log_error("%s: from=<>: cannot write the temporary file; passed unchanged", m->queue_id);
        msg_end(ctx);
        return SMFIS_ACCEPT;
    }
    return m->capped && c->can_skip && m->in_body ? SMFIS_SKIP : SMFIS_CONTINUE;
}

static sfsistat header(SMFICTX *ctx, conn_state *c, const char *name, const char *value)
{
    if (!c->msg)
        return SMFIS_ACCEPT;
    if (c->msg->mode == MSG_WATCH) {
        thread_heads_add(c->msg->heads, name, value);
        return SMFIS_CONTINUE;
    }
    char *line = g_strdup_printf("%s: %s\r\n", name, value);
    sfsistat st;
    if (c->msg->mode == MSG_BOUNCE) {
        thread_heads_add(c->msg->heads, name, value);
        st = bounce_keep(ctx, c, line, strlen(line));
    } else {
        header_list_add(c->msg->headers, name, value);
        st = spool_or_pass(ctx, c->msg, line, strlen(line));
    }
    g_free(line);
    return st;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    conn_state *c = conn_of(ctx);
    return c ? step_reply(c, SMFIP_NR_HDR, header(ctx, c, name, value)) : SMFIS_ACCEPT;
}

/*
 * Thread tracking of a watched message at the end of its headers. Whatever comes of it, the
 * message goes on unchanged: a database failure is logged, never imposed on the mail.
 */
static sfsistat watch_decide(SMFICTX *ctx, msg_state *m)
{
    if (thread_heads_ids(m->heads)->len == 0)
        return pass_untouched(ctx, m, "no thread headers");
    char *err = NULL;
    PGconn *db = db_acquire(milter.pool, &err);
    gboolean ok = db && threads_inbound(db, m->heads, m->envelope_from, m->queue_id, &err);
    db_release(milter.pool, db, !ok);
    if (!ok)
        log_error("%s: from=%s: thread tracking: %s; message passed unchanged", m->queue_id,
                  m->mail_from, err);
    g_free(err);
    msg_end(ctx);
    return SMFIS_ACCEPT;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    sfsistat st;
    if (answered_early(ctx, c, &st))
        return st;
    msg_state *m = c->msg;
    if (m->mode == MSG_WATCH)
        return watch_decide(ctx, m);
    if (m->mode == MSG_BOUNCE) {
        if (!thread_heads_maybe_bounce(m->heads))
            return pass_untouched(ctx, m, "not a bounce");
        st = bounce_keep(ctx, c, "\r\n", 2);
        m->in_body = TRUE;
        return st;
    }
    return spool_or_pass(ctx, m, "\r\n", 2);
}

static sfsistat body(SMFICTX *ctx, conn_state *c, const unsigned char *chunk, size_t len)
{
    if (!c->msg || c->msg->mode == MSG_WATCH)
        return SMFIS_ACCEPT;
    if (c->msg->mode == MSG_BOUNCE)
        return bounce_keep(ctx, c, chunk, len);
    return spool_or_pass(ctx, c->msg, chunk, len);
}

/* With no reply for body chunks, what comes after the size cap is received and dropped. */
static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    conn_state *c = conn_of(ctx);
    return c ? step_reply(c, SMFIP_NR_BODY, body(ctx, c, chunk, len)) : SMFIS_ACCEPT;
}

static GMimeMessage *parse_spool(msg_state *m)
{
    GMimeStream *stream = spool_stream(m->bytes);
    if (!stream)
        return NULL;
    GMimeMessage *msg = mime_parse_stream(stream, TRUE);
    g_object_unref(stream);
    return msg;
}

static void log_decision(const msg_state *m, const rewrite_result *res)
{
    log_info("%s: from=%s invoice=%s amount=%" G_GINT64_FORMAT " %s source=%s action=%s "
             "decision=%s%s%s",
             m->queue_id, m->sender->email, res->inv.number ? res->inv.number : "-",
             res->inv.amount_due_minor, res->inv.currency[0] ? res->inv.currency : "-",
             invoice_source_name(res->inv.source), rewrite_action_name(res->action),
             res->decision ? res->decision : "-", res->inv.reason ? " reason=" : "",
             res->inv.reason ? res->inv.reason : "");
}

static sfsistat deliver(SMFICTX *ctx, msg_state *m, GMimeMessage *msg, rewrite_action action,
                        gboolean body_changed)
{
    char *err = NULL;
    if (action == REWRITE_PASS)
        return SMFIS_CONTINUE;
    if (!apply_changes(ctx, m->headers, msg, body_changed, &err)) {
        /* Edits may be half sent; a tempfail lets the MTA try again from scratch. */
        log_error("%s: %s; message deferred", m->queue_id, err);
        g_free(err);
        return SMFIS_TEMPFAIL;
    }
    if (action == REWRITE_QUARANTINE)
        smfi_quarantine(ctx, "reglo: invoice IBAN differs from the registered one");
    return SMFIS_CONTINUE;
}

/* The artisan's reply in their invoice thread, commands removed: no invoice rewrite. */
static sfsistat deliver_thread_reply(SMFICTX *ctx, msg_state *m, GMimeMessage *msg,
                                     const threads_result *thr)
{
    rewrite_action action = thr->body_changed || thr->headers_changed ? REWRITE_CHANGED
                                                                       : REWRITE_PASS;
    log_info("%s: from=%s invoice=%s commands=%s action=%s decision=thread-reply", m->queue_id,
             m->sender->email, thr->number, thr->commands[0] ? thr->commands : "-",
             rewrite_action_name(action));
    return deliver(ctx, m, msg, action, thr->body_changed);
}

/* What the invoice rewrite decided, with the commands threads removed before it. */
static void merge_thread_edits(rewrite_result *res, const threads_result *thr)
{
    if (res->action == REWRITE_ERROR || !(thr->body_changed || thr->headers_changed))
        return;
    if (res->action == REWRITE_PASS)
        res->action = REWRITE_CHANGED;
    res->body_changed = res->body_changed || thr->body_changed;
}

static sfsistat process(SMFICTX *ctx, msg_state *m)
{
    GMimeMessage *msg = parse_spool(m);
    if (!msg) {
        log_info("%s: from=%s: unparsable, passed untouched", m->queue_id, m->sender->email);
        return SMFIS_CONTINUE;
    }
    char *err = NULL;
    PGconn *db = db_acquire(milter.pool, &err);
    if (!db) {
        g_object_unref(msg);
        sfsistat st = on_error(ctx, m->queue_id, "database", err);
        g_free(err);
        return st;
    }
    threads_result thr;
    if (!threads_artisan(db, milter.keys, m->sender, msg, m->queue_id, &thr, &err)) {
        db_release(milter.pool, db, TRUE);
        g_object_unref(msg);
        sfsistat st = on_error(ctx, m->queue_id, "thread lookup", err);
        g_free(err);
        return st;
    }
    if (thr.verdict == THREADS_REPLY && !thr.may_be_invoice) {
        db_release(milter.pool, db, FALSE);
        sfsistat st = deliver_thread_reply(ctx, m, msg, &thr);
        g_object_unref(msg);
        return st;
    }
    g_ptr_array_add(m->rcpts, NULL);
    rewrite_ctx rctx = {
        milter.conf, milter.keys, db, FALSE, m->sender, m->queue_id,
        (const char *const *) m->rcpts->pdata,
    };
    rewrite_result res;
    rewrite_message(&rctx, msg, &res);
    merge_thread_edits(&res, &thr);
    db_release(milter.pool, db, res.action == REWRITE_ERROR);
    log_decision(m, &res);
    sfsistat st = res.action == REWRITE_ERROR
                  ? on_error(ctx, m->queue_id, "rewrite", res.error)
                  : deliver(ctx, m, msg, res.action, res.body_changed);
    rewrite_result_clear(&res);
    g_object_unref(msg);
    return st;
}

static gate big_gate = GATE_INIT(BIG_AT_ONCE);

typedef struct big_wait {
    SMFICTX *ctx;
    gboolean mta_gone;
} big_wait;

/* The MTA hears from us while the message waits; when it cannot, nobody waits for it. */
static gboolean tell_progress(void *arg)
{
    big_wait *w = arg;
    w->mta_gone = smfi_progress(w->ctx) != MI_SUCCESS;
    return !w->mta_gone;
}

/* A large message waits for one of the BIG_AT_ONCE slots (see there). */
static sfsistat process_big(SMFICTX *ctx, msg_state *m)
{
    if (spool_size(m->bytes) <= milter.conf->memory_threshold)
        return process(ctx, m);
    big_wait w = { ctx, FALSE };
    if (!gate_enter(&big_gate, BIG_WAIT_MAX_S * G_USEC_PER_SEC, BIG_PROGRESS_S * G_USEC_PER_SEC,
                    tell_progress, &w))
        return on_error(ctx, m->queue_id, "large message",
                        w.mta_gone ? "the MTA stopped listening while it waited"
                                   : "no processing slot within " G_STRINGIFY(BIG_WAIT_MAX_S)
                                     " s");
    sfsistat st = process(ctx, m);
    gate_leave(&big_gate);
    return st;
}

/* A possible bounce, read: thread tracking only, the message goes on unchanged. */
static void process_bounce(msg_state *m)
{
    GMimeMessage *msg = parse_spool(m);
    if (!msg) {
        log_debug("%s: from=<>: unparsable, accepted untouched", m->queue_id);
        return;
    }
    char *err = NULL;
    PGconn *db = db_acquire(milter.pool, &err);
    gboolean ok = db && threads_bounce(db, milter.conf, msg, m->queue_id, &err);
    db_release(milter.pool, db, !ok);
    if (!ok)
        log_error("%s: from=<>: bounce tracking: %s; message passed unchanged", m->queue_id, err);
    g_free(err);
    g_object_unref(msg);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    sfsistat st;
    if (take_deferred(ctx, c, &st))
        return st;
    if (!c || !c->msg)
        return SMFIS_CONTINUE;
    /* Postfix's smtpd gives the queue id only once the message is under way. */
    g_free(c->msg->queue_id);
    c->msg->queue_id = g_strdup(queue_id_of(ctx));
    st = SMFIS_CONTINUE;
    if (c->msg->mode == MSG_BOUNCE)
        process_bounce(c->msg);
    else if (c->msg->mode == MSG_ARTISAN)
        st = process_big(ctx, c->msg);
    msg_end(ctx);
    return st;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    if (c)
        c->deferred = SMFIS_CONTINUE;
    msg_end(ctx);
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    if (c) {
        msg_state_free(c->msg);
        g_free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

/*
 * Only the steps we use, and no reply where our answer can wait (see the top), so the MTA
 * spares those round trips. DATA and end of headers keep their answers: they accept other
 * mail.
 * No reply for body chunks costs SMFIS_SKIP (a capped bounce is received to its end).
 */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void) f2;
    (void) f3;
    const unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY |
                                       SMFIF_QUARANTINE;
    const unsigned long skip_steps = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_SKIP;
    const unsigned long no_reply = SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
                                   SMFIP_NR_HDR | SMFIP_NR_BODY;
    if ((f0 & want_actions) != want_actions) {
        log_error("the MTA does not offer header and body changes; reglo-milter needs them");
        return SMFIS_REJECT;
    }
    conn_state *c = conn_new(ctx);
    c->no_reply = f1 & no_reply;
    c->can_skip = (f1 & SMFIP_SKIP) && !(c->no_reply & SMFIP_NR_BODY);
    c->deferred = SMFIS_CONTINUE;
    *pf0 = want_actions;
    *pf1 = f1 & (skip_steps | no_reply);
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = "reglo",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE,
    .xxfi_connect = cb_connect,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_data = cb_data,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_negotiate = cb_negotiate,
};
