/*
 * rewrite_cmd — `reglo rewrite [--dry-run] [--rcpt ADDR]... < in.eml > out.eml`: what
 * reglo-milter would deliver for the sender in the message's From. Non-artisan or
 * untouchable messages come out byte for byte as they went in.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

#include "artisan.h"
#include "cli.h"
#include "log.h"
#include "mime.h"
#include "rewrite.h"

static GByteArray *read_stdin(void)
{
    GByteArray *buf = g_byte_array_new();
    guint8 chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        g_byte_array_append(buf, chunk, (guint) n);
    return buf;
}

static char *sender_of(GMimeMessage *msg)
{
    InternetAddressList *from = g_mime_message_get_from(msg);
    InternetAddress *first = from && internet_address_list_length(from) > 0
                             ? internet_address_list_get_address(from, 0) : NULL;
    if (!first || !INTERNET_ADDRESS_IS_MAILBOX(first))
        return NULL;
    return g_ascii_strdown(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(first)), -1);
}

/* Recipients from To and Cc when none are given on the command line. */
static void recipients_of(GMimeMessage *msg, GPtrArray *rcpts)
{
    GMimeAddressType types[] = { GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC };
    for (size_t t = 0; t < G_N_ELEMENTS(types); t++) {
        InternetAddressList *list = g_mime_message_get_addresses(msg, types[t]);
        for (int i = 0; list && i < internet_address_list_length(list); i++) {
            InternetAddress *a = internet_address_list_get_address(list, i);
            if (INTERNET_ADDRESS_IS_MAILBOX(a))
                g_ptr_array_add(rcpts, g_strdup(internet_address_mailbox_get_addr(
                                                 INTERNET_ADDRESS_MAILBOX(a))));
        }
    }
}

static void write_message(GMimeMessage *msg)
{
    GMimeStream *out = g_mime_stream_pipe_new(1);
    g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(out), FALSE);
    g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, out);
    g_mime_stream_flush(out);
    g_object_unref(out);
}

static int rewrite_run(cli_env *env, GMimeMessage *msg, const artisan *sender, gboolean dry_run,
                       GPtrArray *rcpts, const GByteArray *original)
{
    char *err = NULL;
    const reglo_conf *conf = cli_conf(env);
    keyring *keys = keyring_load(conf->link_key_file, &err);
    if (!keys) {
        fprintf(stderr, "reglo: %s\n", err);
        return EXIT_USAGE;
    }
    if (rcpts->len == 0)
        recipients_of(msg, rcpts);
    g_ptr_array_add(rcpts, NULL);
    rewrite_ctx ctx = { conf, keys, cli_db(env), dry_run, sender, "rewrite",
                        (const char *const *) rcpts->pdata };
    rewrite_result res;
    rewrite_message(&ctx, msg, &res);
    fprintf(stderr, "reglo: action=%s decision=%s invoice=%s source=%s%s%s\n",
            rewrite_action_name(res.action), res.decision ? res.decision : "-",
            res.inv.number ? res.inv.number : "-", invoice_source_name(res.inv.source),
            res.inv.reason ? " reason=" : "", res.inv.reason ? res.inv.reason : "");
    if (res.action == REWRITE_ERROR)
        fprintf(stderr, "reglo: %s (the milter would pass the message unchanged)\n", res.error);
    if (res.action == REWRITE_CHANGED || res.action == REWRITE_QUARANTINE)
        write_message(msg);
    else
        fwrite(original->data, 1, original->len, stdout);
    int rc = res.action == REWRITE_ERROR ? EXIT_FAIL : EXIT_OK;
    rewrite_result_clear(&res);
    keyring_free(keys);
    return rc;
}

int cmd_rewrite(cli_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        { "dry-run", no_argument, NULL, 'n' }, { "rcpt", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 }
    };
    gboolean dry_run = FALSE;
    GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'n')
            dry_run = TRUE;
        else if (opt == 'r')
            g_ptr_array_add(rcpts, g_ascii_strdown(optarg, -1));
        else {
            g_ptr_array_unref(rcpts);
            return EXIT_USAGE;
        }
    }
    GByteArray *original = read_stdin();
    GMimeMessage *msg = mime_parse_bytes((const char *) original->data, original->len);
    char *from = msg ? sender_of(msg) : NULL;
    artisan *sender = NULL;
    char *err = NULL;
    int rc = EXIT_OK;
    artisan_lookup_result found = from ? artisan_lookup(cli_db(env), from, &sender, &err)
                                       : ARTISAN_UNKNOWN;
    if (found == ARTISAN_DB_ERROR) {
        fprintf(stderr, "reglo: %s\n", err);
        rc = EXIT_FAIL;
    } else if (found == ARTISAN_FOUND && sender->payment_enabled && !sender->disabled)
        rc = rewrite_run(env, msg, sender, dry_run, rcpts, original);
    else {
        fprintf(stderr, "reglo: action=pass decision=%s\n", msg ? "not-an-artisan" : "unparsable");
        fwrite(original->data, 1, original->len, stdout);
    }
    artisan_free(sender);
    g_free(from);
    g_free(err);
    if (msg)
        g_object_unref(msg);
    g_byte_array_free(original, TRUE);
    g_ptr_array_unref(rcpts);
    return rc;
}
