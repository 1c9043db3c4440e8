/*
 * fuzz_einvoice — CII (UN/CEFACT, ZUGFeRD 1.0) and UBL Invoice/CreditNote XML bytes through
 * einvoice_parse, as read from an XML attachment; also the date parser on the input's text.
 * Asserts: no crash/leak/UB; FALSE leaves out empty; TRUE gives a consistent invoice with
 * source CII or UBL (fuzz_invoice.h); einvoice_date only writes real dates.
 */
#include "fuzz_common.h"
#include "fuzz_invoice.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet();
    return 0;
}

static void check_date(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size < 64 ? size : 64);
    char out[11];
    if (einvoice_date(s, out))
        fuzz_check_date(out);
    g_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    invoice_data inv;
    if (einvoice_parse((const char *)data, size, &inv)) {
        FUZZ_CHECK(inv.source == INVOICE_SRC_CII || inv.source == INVOICE_SRC_UBL);
        fuzz_check_invoice(&inv);
    } else {
        FUZZ_CHECK(inv.number == NULL && !inv.payable && inv.seller_iban == NULL);
    }
    invoice_data_clear(&inv);
    check_date(data, size);
    return 0;
}
