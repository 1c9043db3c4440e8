/*
 * fuzz_invoice — the properties every extracted invoice_data must have, whatever the input
 * (header only, for the targets that extract invoices). Aborts through FUZZ_CHECK.
 */
#ifndef REGLO_FUZZ_INVOICE_H
#define REGLO_FUZZ_INVOICE_H

#include <jansson.h>

#include "einvoice.h"
#include "fuzz_common.h"
#include "invoice.h"

/* "" or a real date as einvoice_date writes it. */
static inline void fuzz_check_date(const char d[11])
{
    char again[11];
    FUZZ_CHECK(memchr(d, '\0', 11) != NULL);
    if (d[0] != '\0') {
        FUZZ_CHECK(strlen(d) == 10);
        FUZZ_CHECK(einvoice_date(d, again) && strcmp(again, d) == 0);
    }
}

/* Strings go to PostgreSQL (UTF-8) and into emails: valid UTF-8 only. A payable invoice has
 * what the link needs; the JSON `reglo inspect` prints parses back. */
static inline void fuzz_check_invoice(const invoice_data *inv)
{
    FUZZ_CHECK(fuzz_utf8(inv->number) && fuzz_utf8(inv->type_code) &&
               fuzz_utf8(inv->buyer_email) && fuzz_utf8(inv->buyer_name) &&
               fuzz_utf8(inv->seller_name) && fuzz_utf8(inv->seller_iban) &&
               fuzz_utf8(inv->reason));
    FUZZ_CHECK(memchr(inv->currency, '\0', 4) != NULL);
    size_t cl = strlen(inv->currency);
    FUZZ_CHECK(cl == 0 || cl == 3);
    for (size_t i = 0; i < cl; i++)
        FUZZ_CHECK(inv->currency[i] >= 'A' && inv->currency[i] <= 'Z');
    fuzz_check_date(inv->issue_date);
    fuzz_check_date(inv->due_date);
    if (inv->payable) {
        FUZZ_CHECK(inv->invoice);
        FUZZ_CHECK(inv->amount_due_minor > 0);
        FUZZ_CHECK(cl == 3);
        FUZZ_CHECK(inv->reason == NULL);
        FUZZ_CHECK(!inv->direct_debit);
    }
    FUZZ_CHECK(invoice_source_name(inv->source) != NULL);
    char *js = invoice_to_json(inv, "fuzz.eml");
    json_error_t jerr;
    json_t *back = json_loads(js, 0, &jerr);
    FUZZ_CHECK(back != NULL && json_is_object(back));
    json_decref(back);
    g_free(js);
}

#endif
