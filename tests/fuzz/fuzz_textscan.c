/*
 * fuzz_textscan — the invoice heuristics on text: the input as a PDF's text
 * (textscan_document) and its first line as a subject (textscan_subject).
 * Asserts: no crash/leak/UB; for valid UTF-8 input, the invoice is consistent
 * (fuzz_invoice.h); the number is only kept when the text looks like an invoice; for
 * invalid UTF-8 (what gmime or poppler never hand over) only the absence of crashes.
 */
#include "fuzz_common.h"
#include "fuzz_invoice.h"
#include "textscan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet();
    return 0;
}

static void check(gboolean found, const invoice_data *inv, gboolean utf8)
{
    FUZZ_CHECK(found == inv->invoice);
    if (!found)
        FUZZ_CHECK(inv->number == NULL && !inv->payable);
    if (utf8)
        fuzz_check_invoice(inv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    gboolean utf8 = g_utf8_validate(text, -1, NULL);
    invoice_data inv;
    invoice_data_init(&inv);
    check(textscan_document(text, &inv), &inv, utf8);
    invoice_data_clear(&inv);
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    invoice_data_init(&inv);
    check(textscan_subject(text, &inv), &inv, utf8);
    invoice_data_clear(&inv);
    g_free(text);
    return 0;
}
