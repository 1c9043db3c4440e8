/*
 * fuzz_pdf — PDF bytes as attached to a message: facturx_extract (the invoice XML embedded
 * in the PDF, then einvoice) and pdftext_extract (the text of the first pages, for the
 * heuristics), both through poppler with pdftext's limits (5 pages, 512 KiB of text).
 * Asserts: no crash/leak/UB, each input within -timeout; FALSE from facturx leaves out
 * empty, TRUE gives source FACTURX and a consistent invoice; the text is valid UTF-8 and
 * at most 512 KiB; a NULL text for anything that does not start like a PDF.
 */
#include "facturx.h"
#include "fuzz_common.h"
#include "fuzz_invoice.h"
#include "pdftext.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    invoice_data inv;
    if (facturx_extract(data, size, &inv)) {
        FUZZ_CHECK(inv.source == INVOICE_SRC_FACTURX);
        fuzz_check_invoice(&inv);
    } else {
        FUZZ_CHECK(inv.number == NULL && !inv.payable);
    }
    invoice_data_clear(&inv);
    char *text = pdftext_extract(data, size);
    if (!pdftext_is_pdf(data, size))
        FUZZ_CHECK(text == NULL);
    if (text) {
        FUZZ_CHECK(fuzz_utf8(text));
        FUZZ_CHECK(strlen(text) <= 512 * 1024);
    }
    g_free(text);
    return 0;
}
