/*
 * nullmilter — the benchmark's reference: what any milter costs Postfix, with no work done.
 *
 * It negotiates the same actions, skipped steps and no-reply steps as reglo-milter and gives
 * the same answers at the same steps, without a database or a parser: mail from anyone but
 * the artisan is accepted at DATA when no recipient is in the artisan's domain, else read up
 * to the end of its headers and accepted there (reglo-milter reads them for thread
 * tracking), the artisan's mail is received whole (headers, body) and let go
 * unchanged at end of message. Connect, MAIL, RCPT, header and body chunk steps get no reply
 * where the MTA offers that (SMFIP_NR_*), as in reglo-milter. So the difference between
 * this and reglo-milter is reglo's own work; the difference between this and no milter at
 * all is the milter protocol.
 *
 *   nullmilter unix:/path/to.sock ARTISAN_ADDRESS
 *
 * Built and started by bench/run; stopped with SIGTERM. Owns nothing but its socket.
 */
#include <libmilter/mfapi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *artisan;

/* The no-reply steps (SMFIP_NR_*) of reglo-milter; those negotiated are in the private
 * pointer (an integer, never dereferenced). */
#define NM_NO_REPLY (SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY)
/* Set in the private pointer while the message under way is not the artisan's, and when
 * one of its recipients is in the artisan's domain. */
#define NM_OTHER 1UL
#define NM_WATCHED 2UL

static unsigned long nm_flags(SMFICTX *ctx)
{
    return (unsigned long) (uintptr_t) smfi_getpriv(ctx);
}

static sfsistat nm_answer(SMFICTX *ctx, unsigned long step)
{
    return (nm_flags(ctx) & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
    const char *from = argv[0];
    while (*from == '<' || *from == ' ')
        from++;
    size_t n = strlen(artisan);
    int is_artisan = strncasecmp(from, artisan, n) == 0 && (from[n] == '>' || from[n] == '\0');
    unsigned long flags = nm_flags(ctx) & ~(NM_OTHER | NM_WATCHED);
    smfi_setpriv(ctx, (void *) (uintptr_t) (flags | (is_artisan ? 0 : NM_OTHER)));
    return nm_answer(ctx, SMFIP_NR_MAIL);
}

static sfsistat nm_continue(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

/* reglo-milter accepts mail that is not the artisan's at DATA, or at the end of its headers
 * when it may be in an invoice's thread. */
static sfsistat nm_data(SMFICTX *ctx)
{
    return (nm_flags(ctx) & (NM_OTHER | NM_WATCHED)) == NM_OTHER ? SMFIS_ACCEPT : SMFIS_CONTINUE;
}

static sfsistat nm_eoh(SMFICTX *ctx)
{
    return (nm_flags(ctx) & NM_OTHER) ? SMFIS_ACCEPT : SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void) host;
    (void) addr;
    return nm_answer(ctx, SMFIP_NR_CONN);
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
    const char *domain = strrchr(artisan, '@');
    const char *at = strrchr(argv[0], '@');
    size_t n = strlen(domain);
    if (at && strncasecmp(at, domain, n) == 0 && (at[n] == '>' || at[n] == '\0'))
        smfi_setpriv(ctx, (void *) (uintptr_t) (nm_flags(ctx) | NM_WATCHED));
    return nm_answer(ctx, SMFIP_NR_RCPT);
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
    (void) name;
    (void) value;
    return nm_answer(ctx, SMFIP_NR_HDR);
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    (void) chunk;
    (void) len;
    return nm_answer(ctx, SMFIP_NR_BODY);
}

/* reglo-milter's negotiation: header and body changes, no HELO or unknown commands,
 * no reply to the steps whose answer can wait. */
static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    (void) f2;
    (void) f3;
    *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE);
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_SKIP | NM_NO_REPLY);
    smfi_setpriv(ctx, (void *) (uintptr_t) (f1 & NM_NO_REPLY));
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "nullmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE,
    .xxfi_connect = nm_connect,
    .xxfi_envfrom = nm_envfrom,
    .xxfi_envrcpt = nm_envrcpt,
    .xxfi_data = nm_data,
    .xxfi_header = nm_header,
    .xxfi_eoh = nm_eoh,
    .xxfi_body = nm_body,
    .xxfi_eom = nm_continue,
    .xxfi_negotiate = nm_negotiate,
};

int main(int argc, char **argv)
{
    if (argc != 3 || strncmp(argv[1], "unix:", 5) != 0 || !strchr(argv[2], '@')) {
        fprintf(stderr, "usage: nullmilter unix:/path ARTISAN_ADDRESS\n");
        return 2;
    }
    artisan = argv[2];
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
        smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
        return 1;
    }
    chmod(argv[1] + 5, 0666);          /* Postfix's smtpd runs as the postfix user */
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
