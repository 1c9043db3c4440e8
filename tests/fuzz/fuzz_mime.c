/*
 * fuzz_mime — a whole outgoing message, as reglo-milter sees it: gmime parse, the safety
 * check, invoice extraction (Factur-X, CII/UBL attachments, X-Invoice-* headers, PDF text,
 * subject), the artisan's own lines, command-line removal and the payment-block injection
 * (what lib/rewrite.c does, without the database).
 * Asserts: no crash/leak/UB; the extracted invoice is consistent (fuzz_invoice.h); own lines
 * and body texts are valid UTF-8; an injection into a touchable message serializes into a
 * message gmime parses again, and the safety check of the result still passes.
 */
#include <gmime/gmime.h>

#include "fuzz_common.h"
#include "fuzz_invoice.h"
#include "mime.h"

static const char block_text[] = "REGLO-PAY: réglez en ligne (120,00 €)  \n"
                                 "  https://pay.example/p/abc\n>quote?\nFrom me\n\n";
static const char block_html[] = "<table id=\"reglo\"><tr><td>Réglez : 120,00 € "
                                 "<a href=\"https://pay.example/p/abc\">payer</a></td>"
                                 "<td><img src=\"cid:qr@reglo.example\"></td></tr></table>\n";
static const guint8 qr_png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0,
                                0,    0,   'I', 'E', 'N',  'D',  0xae, 'B',  0x60, 0x82};

FUZZ_INITIALIZE_GMIME

static gboolean is_command(const char *line, void *arg)
{
    (void)arg;
    FUZZ_CHECK(fuzz_utf8(line));
    return line[0] == '#';
}

static void check_lines(GMimeMessage *msg)
{
    char **lines = mime_own_lines(msg);
    for (size_t i = 0; lines && lines[i]; i++)
        FUZZ_CHECK(fuzz_utf8(lines[i]));
    g_strfreev(lines);
    char *plain = mime_body_text(msg, "plain");
    char *html = mime_body_text(msg, "html");
    FUZZ_CHECK(fuzz_utf8(plain) && fuzz_utf8(html));
    g_free(plain);
    g_free(html);
}

static void check_reparse(GMimeMessage *msg)
{
    char *out = g_mime_object_to_string(GMIME_OBJECT(msg), NULL);
    GMimeMessage *again = mime_parse_bytes(out, strlen(out));
    FUZZ_CHECK(again != NULL);
    FUZZ_CHECK(mime_safety_check(again) == MIME_TOUCHABLE);
    g_object_unref(again);
    g_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GMimeMessage *msg = mime_parse_bytes((const char *)data, size);
    if (msg == NULL)
        return 0;
    mime_safety safety = mime_safety_check(msg);
    FUZZ_CHECK(mime_safety_name(safety) != NULL);
    invoice_data inv;
    invoice_extract_message(msg, &inv);
    fuzz_check_invoice(&inv);
    invoice_data_clear(&inv);
    check_lines(msg);
    if (safety == MIME_TOUCHABLE) {
        FUZZ_CHECK(mime_remove_lines(msg, is_command, NULL) >= 0);
        mime_block block = {block_text, block_html, qr_png, sizeof qr_png, "qr@reglo.example",
                            "paiement-qr.png"};
        int changed = mime_inject_block(msg, &block);
        FUZZ_CHECK(changed >= 0 && changed <= 2);
        if (changed > 0)
            check_reparse(msg);
    }
    g_object_unref(msg);
    return 0;
}
