/*
 * callbacks — the libmilter callbacks and the per-connection state behind smfi_setpriv.
 *
 * A conn_state lives from connect to close and owns the client address and, for the
 * message under way, a msg_state (sender, recipients, headers, spooled bytes) that is freed
 * at end of message, abort or close. Trust and sender are decided at MAIL FROM; everything
 * else is accepted there, so it costs the MTA one round trip.
 */
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "apply.h"
#include "log.h"
#include "mime.h"
#include "milter.h"
#include "policy.h"
#include "rewrite.h"
#include "spool.h"

#define MAX_RCPTS 1000

typedef struct msg_state {
    artisan *sender;
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
    msg_state *msg;
} conn_state;

static void msg_state_free(msg_state *m)
{
    if (!m)
        return;
    artisan_free(m->sender);
    g_ptr_array_unref(m->rcpts);
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

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
    (void) hostname;
    conn_state *c = g_new0(conn_state, 1);
    if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
        memcpy(&c->client, addr, addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                            : sizeof(struct sockaddr_in6));
    else
        c->local = TRUE;
    smfi_setpriv(ctx, c);
    return SMFIS_CONTINUE;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    conn_state *c = conn_of(ctx);
    if (!c)
        return SMFIS_ACCEPT;
    msg_end(ctx);
    artisan *sender = NULL;
    const char *why = NULL;
    char *err = NULL;
    policy_verdict v = policy_decide(milter.conf, milter.pool,
                                     c->local ? NULL : (struct sockaddr *) &c->client,
                                     smfi_getsymval(ctx, "{auth_authen}"), argv[0], &sender,
                                     &why, &err);
    if (v == POLICY_ERROR) {
        sfsistat st = on_error(ctx, queue_id_of(ctx), "sender lookup", err);
        g_free(err);
        return st;
    }
    if (v == POLICY_SKIP) {
        log_debug("%s: from=%s: %s, accepted untouched", queue_id_of(ctx), argv[0], why);
        return SMFIS_ACCEPT;
    }
    msg_state *m = g_new0(msg_state, 1);
    m->sender = sender;
    m->rcpts = g_ptr_array_new_with_free_func(g_free);
    m->headers = header_list_new();
    m->bytes = spool_new(milter.conf->memory_threshold, milter.conf->spool_dir);
    m->queue_id = g_strdup(queue_id_of(ctx));
    c->msg = m;
    return SMFIS_CONTINUE;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    conn_state *c = conn_of(ctx);
    if (!c || !c->msg)
        return SMFIS_ACCEPT;
    char *address = policy_address(argv[0]);
    if (address && c->msg->rcpts->len < MAX_RCPTS)
        g_ptr_array_add(c->msg->rcpts, address);
    else
        g_free(address);
    return SMFIS_CONTINUE;
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

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    conn_state *c = conn_of(ctx);
    if (!c || !c->msg)
        return SMFIS_ACCEPT;
    header_list_add(c->msg->headers, name, value);
    char *line = g_strdup_printf("%s: %s\r\n", name, value);
    sfsistat st = spool_or_pass(ctx, c->msg, line, strlen(line));
    g_free(line);
    return st;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    if (!c || !c->msg)
        return SMFIS_ACCEPT;
    return spool_or_pass(ctx, c->msg, "\r\n", 2);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    conn_state *c = conn_of(ctx);
    if (!c || !c->msg)
        return SMFIS_ACCEPT;
    return spool_or_pass(ctx, c->msg, chunk, len);
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

static sfsistat deliver(SMFICTX *ctx, msg_state *m, GMimeMessage *msg, rewrite_result *res)
{
    char *err = NULL;
    if (res->action == REWRITE_PASS)
        return SMFIS_CONTINUE;
    if (!apply_changes(ctx, m->headers, msg, res->body_changed, &err)) {
        /* Edits may be half sent; a tempfail lets the MTA try again from scratch. */
        log_error("%s: %s; message deferred", m->queue_id, err);
        g_free(err);
        return SMFIS_TEMPFAIL;
    }
    if (res->action == REWRITE_QUARANTINE)
        smfi_quarantine(ctx, "reglo: invoice IBAN differs from the registered one");
    return SMFIS_CONTINUE;
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
    g_ptr_array_add(m->rcpts, NULL);
    rewrite_ctx rctx = {
        milter.conf, milter.keys, db, FALSE, m->sender, m->queue_id,
        (const char *const *) m->rcpts->pdata,
    };
    rewrite_result res;
    rewrite_message(&rctx, msg, &res);
    db_release(milter.pool, db, res.action == REWRITE_ERROR);
    log_decision(m, &res);
    sfsistat st = res.action == REWRITE_ERROR
                  ? on_error(ctx, m->queue_id, "rewrite", res.error)
                  : deliver(ctx, m, msg, &res);
    rewrite_result_clear(&res);
    g_object_unref(msg);
    return st;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    conn_state *c = conn_of(ctx);
    if (!c || !c->msg)
        return SMFIS_CONTINUE;
    /* Postfix's smtpd gives the queue id only once the message is under way. */
    g_free(c->msg->queue_id);
    c->msg->queue_id = g_strdup(queue_id_of(ctx));
    sfsistat st = process(ctx, c->msg);
    msg_end(ctx);
    return st;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
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

/* Only the steps we use, so the MTA spares the round trips of the others. */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void) ctx;
    (void) f2;
    (void) f3;
    const unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY |
                                       SMFIF_QUARANTINE;
    const unsigned long skip_steps = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA;
    if ((f0 & want_actions) != want_actions) {
        log_error("the MTA does not offer header and body changes; reglo-milter needs them");
        return SMFIS_REJECT;
    }
    *pf0 = want_actions;
    *pf1 = f1 & skip_steps;
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
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_negotiate = cb_negotiate,
};
