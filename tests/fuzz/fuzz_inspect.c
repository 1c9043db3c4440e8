/*
 * fuzz_inspect — one file as `reglo inspect` reads it: invoice_extract_bytes sniffs an .eml
 * message, a PDF (Factur-X XML, else its text) or CII/UBL XML and extracts the invoice.
 * Asserts: no crash/leak/UB, bounded time; the invoice is consistent and its JSON line
 * parses (fuzz_invoice.h).
 */
#include <gmime/gmime.h>

#include "fuzz_common.h"
#include "fuzz_invoice.h"

FUZZ_INITIALIZE_GMIME

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    invoice_data inv;
    invoice_extract_bytes((const char *)data, size, &inv);
    fuzz_check_invoice(&inv);
    invoice_data_clear(&inv);
    return 0;
}
