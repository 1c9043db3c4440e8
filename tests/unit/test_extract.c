/*
 * test_extract — invoice extraction: einvoice (CII, ZUGFeRD 1.0, UBL), facturx (PDF
 * attachments), pdftext, and the dispatch in invoice.c (messages, bytes, JSON).
 *
 * Project fixtures are generated at start by tests/fixtures/mkinvoice into a temporary
 * directory (removed at the end). The corpus part checks every Factur-X PDF and XML of
 * ../shared/corpus/facturx against values read by hand from the XML (pdfdetach -saveall).
 */
#include "einvoice.h"
#include "facturx.h"
#include "invoice.h"
#include "pdftext.h"
#include "testutil.h"

#include <check.h>
#include <stdarg.h>
#include <string.h>
#include <glib/gstdio.h>

#define MKINVOICE "tests/fixtures/mkinvoice"

static char *tmpdir;

/* Fixture paths, generated in main() before the tests fork. */
static char *fx_normal, *fx_credit, *fx_zero, *fx_partial, *fx_dd, *fx_plain, *fx_cii,
            *fx_ubl, *fx_ubl_credit, *fx_orderx, *fx_both, *fx_zf1, *fx_second, *fx_big,
            *fx_secret;

/* The values of fx_normal (and fx_cii, fx_ubl), as given to mkinvoice. */
#define N_NUMBER "FA-2024/0042"
#define N_SELLER "\xc3\x89lectricit\xc3\xa9 Durand & Fils"
#define N_EMAIL  "claire.dupont@example.test"
#define N_IBAN   "FR7630006000011234567890189"
#define NORMAL_ARGS "--number", N_NUMBER, "--amount", "1234,56", "--issue", "20240305", \
    "--due", "20240404", "--buyer-email", N_EMAIL, "--iban", "FR76 3000 6000 0112 3456 7890 189", \
    "--seller", N_SELLER, "--buyer", "Claire Dupont"

/* ---- helpers ---- */

static char *gen(const char *name, ...)
{
    char *out = g_build_filename(tmpdir, name, NULL);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)MKINVOICE);
    va_list ap;
    va_start(ap, name);
    for (const char *a; (a = va_arg(ap, const char *));)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, (char *)"-o");
    g_ptr_array_add(argv, out);
    g_ptr_array_add(argv, NULL);
    int status = 0;
    GError *err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                      NULL, &status, &err) ||
        !g_spawn_check_wait_status(status, &err)) {
        fprintf(stderr, "mkinvoice %s failed: %s\n", name, err ? err->message : "?");
        abort();
    }
    g_ptr_array_free(argv, TRUE);
    return out;
}

static char *write_tmp(const char *name, const char *data, size_t len)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    if (!g_file_set_contents(path, data, (gssize)len, NULL))
        abort();
    return path;
}

static void extract_file(const char *path, invoice_data *inv)
{
    size_t len;
    char *data = read_file_or_die(path, &len);
    invoice_extract_bytes(data, len, inv);
    g_free(data);
}

static gboolean facturx_file(const char *path, invoice_data *inv)
{
    size_t len;
    char *data = read_file_or_die(path, &len);
    gboolean ok = facturx_extract(data, len, inv);
    g_free(data);
    return ok;
}

static gboolean einvoice_file(const char *path, invoice_data *inv)
{
    size_t len;
    char *data = read_file_or_die(path, &len);
    gboolean ok = einvoice_parse(data, len, inv);
    g_free(data);
    return ok;
}

static gboolean field_contains(const char *field, const char *needle)
{
    return field && strstr(field, needle);
}

static void assert_no_secret(const invoice_data *inv, const char *secret)
{
    const char *fields[] = { inv->number, inv->type_code, inv->buyer_email, inv->buyer_name,
                             inv->seller_name, inv->seller_iban, inv->reason };
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
        ck_assert_msg(!field_contains(fields[i], secret), "secret leaked into field %zu", i);
    char *json = invoice_to_json(inv, "x");
    ck_assert_msg(!strstr(json, secret), "secret leaked: %s", json);
    g_free(json);
}

/* All the fields of fx_normal (same values in the CII and UBL forms). */
static void assert_normal(const invoice_data *inv, invoice_source source)
{
    ck_assert(inv->invoice);
    ck_assert(inv->payable);
    ck_assert_int_eq(inv->source, source);
    ck_assert_pstr_eq(inv->number, N_NUMBER);
    ck_assert_int_eq(inv->amount_due_minor, 123456);
    ck_assert_str_eq(inv->currency, "EUR");
    ck_assert_str_eq(inv->issue_date, "2024-03-05");
    ck_assert_str_eq(inv->due_date, "2024-04-04");
    ck_assert_pstr_eq(inv->type_code, "380");
    ck_assert_pstr_eq(inv->buyer_email, N_EMAIL);
    ck_assert_pstr_eq(inv->buyer_name, "Claire Dupont");
    ck_assert_pstr_eq(inv->seller_name, N_SELLER);
    ck_assert_pstr_eq(inv->seller_iban, N_IBAN);
    ck_assert(!inv->direct_debit);
    ck_assert_ptr_null(inv->reason);
}

/* ---- messages built in the tests ---- */

typedef struct eml_part {
    const char *content_type;   /* full value, e.g. "application/pdf" */
    const char *filename;       /* NULL: inline */
    const char *path;           /* file content, base64 encoded */
    const char *text;           /* or literal 8-bit/7-bit text */
} eml_part;

static void append_base64(GString *out, const char *data, size_t len)
{
    char *b64 = g_base64_encode((const guchar *)data, len);
    for (size_t i = 0, n = strlen(b64); i < n; i += 76) {
        g_string_append_len(out, b64 + i, (gssize)MIN(76, n - i));
        g_string_append(out, "\n");
    }
    g_free(b64);
}

static void append_part(GString *out, const eml_part *p)
{
    g_string_append_printf(out, "Content-Type: %s", p->content_type);
    if (p->filename)
        g_string_append_printf(out, "; name=\"%s\"\nContent-Disposition: attachment; "
                               "filename=\"%s\"", p->filename, p->filename);
    if (p->path) {
        size_t len;
        char *data = read_file_or_die(p->path, &len);
        g_string_append(out, "\nContent-Transfer-Encoding: base64\n\n");
        append_base64(out, data, len);
        g_free(data);
    } else {
        g_string_append_printf(out, "\n\n%s\n", p->text);
    }
}

/* headers: complete header lines ("Subject: x\n..."); parts after a text/plain body. */
static char *make_eml(const char *headers, const eml_part *parts, int n)
{
    GString *out = g_string_new("From: artisan@example.test\nTo: client@example.test\n"
                                "Date: Mon, 15 Jan 2024 10:00:00 +0100\n"
                                "Message-ID: <t1@example.test>\nMIME-Version: 1.0\n");
    g_string_append(out, headers);
    g_string_append(out, "Content-Type: multipart/mixed; boundary=\"=_b1\"\n\n"
                         "--=_b1\nContent-Type: text/plain; charset=utf-8\n\n"
                         "Bonjour, veuillez trouver ci-joint votre facture.\n");
    for (int i = 0; i < n; i++) {
        g_string_append(out, "--=_b1\n");
        append_part(out, &parts[i]);
    }
    g_string_append(out, "--=_b1--\n");
    return g_string_free(out, FALSE);
}

static GMimeMessage *parse_eml(const char *text)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    ck_assert_ptr_nonnull(msg);
    return msg;
}

static void extract_eml(const char *text, invoice_data *inv)
{
    GMimeMessage *msg = parse_eml(text);
    invoice_extract_message(msg, inv);
    g_object_unref(msg);
}

/* ---- project fixtures: Factur-X PDF ---- */

START_TEST(test_facturx_normal)
{
    invoice_data inv;
    ck_assert(facturx_file(fx_normal, &inv));
    assert_normal(&inv, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);

    extract_file(fx_normal, &inv);
    assert_normal(&inv, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_facturx_padded)
{
    size_t len;
    g_free(read_file_or_die(fx_big, &len));
    ck_assert_uint_ge(len, 95 * 1024);
    ck_assert_uint_le(len, 105 * 1024);
    invoice_data inv;
    ck_assert(facturx_file(fx_big, &inv));
    ck_assert_int_eq(inv.amount_due_minor, 123456);
    ck_assert(inv.payable);
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_facturx_credit_note)
{
    invoice_data inv;
    ck_assert(facturx_file(fx_credit, &inv));
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_pstr_eq(inv.type_code, "381");
    ck_assert_pstr_eq(inv.number, "AV-2024-007");
    ck_assert_int_eq(inv.amount_due_minor, 25000);
    ck_assert_pstr_eq(inv.reason, "credit note");
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_facturx_nothing_due)
{
    invoice_data inv;
    ck_assert(facturx_file(fx_zero, &inv));
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_int_eq(inv.amount_due_minor, 0);
    ck_assert_pstr_eq(inv.reason, "nothing left to pay");
    invoice_data_clear(&inv);
}
END_TEST

/* Amount due (BT-115) is what the link asks for, not the grand total. */
START_TEST(test_facturx_partly_prepaid)
{
    invoice_data inv;
    ck_assert(facturx_file(fx_partial, &inv));
    ck_assert(inv.payable);
    ck_assert_int_eq(inv.amount_due_minor, 40000);
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_facturx_direct_debit)
{
    invoice_data inv;
    ck_assert(facturx_file(fx_dd, &inv));
    ck_assert(inv.invoice);
    ck_assert(inv.direct_debit);
    ck_assert(!inv.payable);
    ck_assert_pstr_eq(inv.reason, "collected by SEPA direct debit");
    /* the debtor's account is the buyer's, never the payee IBAN */
    ck_assert_ptr_null(inv.seller_iban);
    invoice_data_clear(&inv);
}
END_TEST

/* ZUGFeRD-invoice.xml (1.0) listed first, factur-x.xml (2.x) second: 2.x wins. */
START_TEST(test_facturx_prefers_2x)
{
    invoice_data inv;
    ck_assert(facturx_file(fx_both, &inv));
    ck_assert_pstr_eq(inv.number, "FX-NEW");
    invoice_data_clear(&inv);
}
END_TEST

/* An Order-X attachment is a purchase order: no e-invoice, the text decides. */
START_TEST(test_facturx_order_x)
{
    invoice_data inv;
    ck_assert(!facturx_file(fx_orderx, &inv));
    ck_assert(!inv.invoice);
    invoice_data_clear(&inv);
    extract_file(fx_orderx, &inv);
    ck_assert_int_ne(inv.source, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);
}
END_TEST

/* ---- PDF text ---- */

START_TEST(test_pdftext_plain)
{
    size_t len;
    char *pdf = read_file_or_die(fx_plain, &len);
    ck_assert(pdftext_is_pdf(pdf, len));
    char *text = pdftext_extract(pdf, len);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "FACTURE N\xc2\xb0 F-TXT-9"), "%s", text);
    ck_assert_msg(strstr(text, "Net \xc3\xa0 payer 987,65 \xe2\x82\xac"), "%s", text);
    ck_assert_msg(strstr(text, "\xc3\x89" "ch\xc3\xa9" "ance : "), "%s", text);
    g_free(text);

    invoice_data inv;
    ck_assert(!facturx_extract(pdf, len, &inv));
    invoice_data_clear(&inv);
    g_free(pdf);
}
END_TEST

START_TEST(test_pdftext_fallback)
{
    invoice_data inv;
    extract_file(fx_plain, &inv);
    ck_assert(inv.invoice);
    ck_assert_int_eq(inv.source, INVOICE_SRC_PDFTEXT);
    ck_assert_int_eq(inv.amount_due_minor, 98765);
    ck_assert_str_eq(inv.currency, "EUR");
    ck_assert_pstr_eq(inv.number, "F-TXT-9");
    ck_assert(inv.payable);
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_pdftext_is_pdf)
{
    ck_assert(pdftext_is_pdf("%PDF-1.4\n", 9));
    ck_assert(pdftext_is_pdf("\r\n\x00junk%PDF-1.7", 16));
    ck_assert(!pdftext_is_pdf("%PDF", 4));
    ck_assert(!pdftext_is_pdf("hello", 5));
    ck_assert(!pdftext_is_pdf(NULL, 0));
    ck_assert_ptr_null(pdftext_extract("%PDF-1.4\ngarbage", 16));
}
END_TEST

/* ---- standalone XML ---- */

START_TEST(test_cii_alone)
{
    invoice_data inv;
    ck_assert(einvoice_file(fx_cii, &inv));
    assert_normal(&inv, INVOICE_SRC_CII);
    invoice_data_clear(&inv);
    extract_file(fx_cii, &inv);
    assert_normal(&inv, INVOICE_SRC_CII);
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_ubl_alone)
{
    invoice_data inv;
    ck_assert(einvoice_file(fx_ubl, &inv));
    assert_normal(&inv, INVOICE_SRC_UBL);
    invoice_data_clear(&inv);
    extract_file(fx_ubl, &inv);
    assert_normal(&inv, INVOICE_SRC_UBL);
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_ubl_credit_note)
{
    invoice_data inv;
    ck_assert(einvoice_file(fx_ubl_credit, &inv));
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_pstr_eq(inv.type_code, "381");
    ck_assert_pstr_eq(inv.number, "CN-5");
    ck_assert_int_eq(inv.amount_due_minor, 8000);
    ck_assert_str_eq(inv.due_date, "2024-02-14");   /* PaymentMeans/PaymentDueDate */
    invoice_data_clear(&inv);
}
END_TEST

/* ZUGFeRD 1.0: other root and element names; header totals, not the line ones. */
START_TEST(test_zugferd1_alone)
{
    invoice_data inv;
    ck_assert(einvoice_file(fx_zf1, &inv));
    ck_assert(inv.payable);
    ck_assert_int_eq(inv.source, INVOICE_SRC_CII);
    ck_assert_pstr_eq(inv.number, "ZF1-ONLY");
    ck_assert_int_eq(inv.amount_due_minor, 30000);
    ck_assert_str_eq(inv.currency, "EUR");
    ck_assert_str_eq(inv.issue_date, "2024-01-15");
    ck_assert_str_eq(inv.due_date, "2024-02-14");
    ck_assert_pstr_eq(inv.buyer_email, "zf1@example.test");
    ck_assert_pstr_eq(inv.seller_iban, "FR7630006000011234567890189");
    invoice_data_clear(&inv);
}
END_TEST

static const char cii_head[] =
    "<rsm:CrossIndustryInvoice"
    " xmlns:rsm=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\""
    " xmlns:ram=\"urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100\""
    " xmlns:udt=\"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100\">";

static char *cii_doc(const char *prolog, const char *number, const char *seller,
                     const char *totals)
{
    return g_strdup_printf(
        "%s%s<rsm:ExchangedDocument><ram:ID>%s</ram:ID><ram:TypeCode>380</ram:TypeCode>"
        "</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>"
        "<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty><ram:Name>%s</ram:Name>"
        "</ram:SellerTradeParty></ram:ApplicableHeaderTradeAgreement>"
        "<ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR"
        "</ram:InvoiceCurrencyCode><ram:SpecifiedTradeSettlementHeaderMonetarySummation>%s"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        "</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>"
        "</rsm:CrossIndustryInvoice>", prolog, cii_head, number, seller, totals);
}

static gboolean parse_str(const char *xml, invoice_data *inv)
{
    return einvoice_parse(xml, strlen(xml), inv);
}

START_TEST(test_cii_amount_rules)
{
    invoice_data inv;
    /* no DuePayableAmount: grand total minus prepaid, only when both are there */
    char *xml = cii_doc("", "A1", "S", "<ram:GrandTotalAmount>100.00</ram:GrandTotalAmount>"
                        "<ram:TotalPrepaidAmount>30.00</ram:TotalPrepaidAmount>");
    ck_assert(parse_str(xml, &inv));
    ck_assert_int_eq(inv.amount_due_minor, 7000);
    invoice_data_clear(&inv);
    g_free(xml);

    xml = cii_doc("", "A2", "S", "<ram:GrandTotalAmount>100.00</ram:GrandTotalAmount>");
    ck_assert(parse_str(xml, &inv));
    ck_assert_int_eq(inv.amount_due_minor, -1);
    ck_assert(!inv.payable);
    invoice_data_clear(&inv);
    g_free(xml);

    /* negative amount due: a credit, never payable */
    xml = cii_doc("", "A3", "S", "<ram:DuePayableAmount>-12.50</ram:DuePayableAmount>");
    ck_assert(parse_str(xml, &inv));
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_int_eq(inv.amount_due_minor, -1);
    ck_assert_ptr_nonnull(inv.reason);
    invoice_data_clear(&inv);
    g_free(xml);

    /* not an exact amount in cents: unknown rather than rounded */
    xml = cii_doc("", "A4", "S", "<ram:DuePayableAmount>12.345</ram:DuePayableAmount>");
    ck_assert(parse_str(xml, &inv));
    ck_assert_int_eq(inv.amount_due_minor, -1);
    invoice_data_clear(&inv);
    g_free(xml);

    /* currencyID on the amount wins over the invoice currency */
    xml = cii_doc("", "A5", "S",
                  "<ram:DuePayableAmount currencyID=\"CHF\">10.00</ram:DuePayableAmount>");
    ck_assert(parse_str(xml, &inv));
    ck_assert_int_eq(inv.amount_due_minor, 1000);
    ck_assert_str_eq(inv.currency, "CHF");
    invoice_data_clear(&inv);
    g_free(xml);
}
END_TEST

/* 389: the buyer issued it (self-billing); the sender is the one who pays. */
START_TEST(test_cii_self_billed)
{
    invoice_data inv;
    char *xml = cii_doc("", "SB1", "S", "<ram:DuePayableAmount>10.00</ram:DuePayableAmount>");
    char **halves = g_strsplit(xml, "<ram:TypeCode>380</ram:TypeCode>", 2);
    char *self_billed = g_strjoinv("<ram:TypeCode>389</ram:TypeCode>", halves);
    ck_assert(parse_str(self_billed, &inv));
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_pstr_eq(inv.type_code, "389");
    ck_assert_pstr_eq(inv.reason, "self-billed invoice");
    invoice_data_clear(&inv);
    g_strfreev(halves);
    g_free(self_billed);
    g_free(xml);
}
END_TEST

START_TEST(test_xml_not_invoices)
{
    invoice_data inv;
    const char *others[] = {
        "<?xml version=\"1.0\"?><html><body>hi</body></html>",
        "<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm=\"urn:un:unece:uncefact:data:"
        "SCRDMCCBDACIOMessageStructure:100\"><rsm:ExchangedDocument/></rsm:SCRDMCCBDACIOMessageStructure>",
        "<rsm:CrossIndustryOrder xmlns:rsm=\"urn:un:unece:uncefact:data:standard:"
        "CrossIndustryOrder:100\"/>",
        "<Invoice><ID>1</ID></Invoice>",            /* no UBL namespace */
        "<CrossIndustryInvoice/>",
        "<rsm:CrossIndustryInvoice xmlns:rsm=\"urn:un:unece:uncefact:data:standard:"
        "CrossIndustryInvoice:100\"><unclosed>",
        "",
        "\xff\xfe\x00garbage",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(others); i++) {
        ck_assert_msg(!einvoice_parse(others[i], strlen(others[i]), &inv), "case %zu", i);
        ck_assert(!inv.invoice);
        invoice_data_clear(&inv);
    }
}
END_TEST

/* A bogus encoding name in the declaration: valid UTF-8 bytes are still read. */
START_TEST(test_xml_bogus_encoding)
{
    invoice_data inv;
    char *xml = cii_doc("<?xml version=\"1.0\" encoding=\"X-NO-SUCH-CHARSET\"?>\n", "ENC-1",
                        "M\xc3\xbcller", "<ram:DuePayableAmount>5.00</ram:DuePayableAmount>");
    ck_assert(parse_str(xml, &inv));
    ck_assert_pstr_eq(inv.number, "ENC-1");
    ck_assert_pstr_eq(inv.seller_name, "M\xc3\xbcller");
    invoice_data_clear(&inv);
    g_free(xml);
}
END_TEST

static char *utf16_with_bom(const char *utf8)
{
    gsize n = 0;
    char *body = g_convert(utf8, -1, "UTF-16LE", "UTF-8", NULL, &n, NULL);
    ck_assert_ptr_nonnull(body);
    char *out = g_malloc(n + 2);
    out[0] = (char)0xFF;
    out[1] = (char)0xFE;
    memcpy(out + 2, body, n);
    g_free(body);
    return out;
}

START_TEST(test_xml_external_entity)
{
    invoice_data inv;
    char *uri = g_strconcat("file://", fx_secret, NULL);
    char *prolog = g_strdup_printf(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rsm:CrossIndustryInvoice [\n"
        "<!ENTITY xxe SYSTEM \"%s\">\n<!ENTITY %% pe SYSTEM \"%s\">\n]>\n", uri, uri);
    char *xml = cii_doc(prolog, "&xxe;", "&xxe;",
                        "<ram:DuePayableAmount>1.00</ram:DuePayableAmount>");
    gboolean ok = parse_str(xml, &inv);
    assert_no_secret(&inv, "TOPSECRET");
    ck_assert(!ok);
    invoice_data_clear(&inv);
    invoice_extract_bytes(xml, strlen(xml), &inv);
    assert_no_secret(&inv, "TOPSECRET");
    ck_assert(!inv.payable);
    invoice_data_clear(&inv);

    /* the same in UTF-16, where a byte search for the DOCTYPE sees nothing */
    char *wide_src = cii_doc(strstr(prolog, "<!DOCTYPE"), "&xxe;", "&xxe;",
                             "<ram:DuePayableAmount>1.00</ram:DuePayableAmount>");
    char *wide = utf16_with_bom(wide_src);
    size_t wide_len = 2 + 2 * g_utf8_strlen(wide_src, -1);
    ok = einvoice_parse(wide, wide_len, &inv);
    assert_no_secret(&inv, "TOPSECRET");
    ck_assert(!ok);
    invoice_data_clear(&inv);

    /* an external DTD is not fetched either */
    char *ext = g_strdup_printf("<?xml version=\"1.0\"?>\n<!DOCTYPE x SYSTEM \"%s\">\n", uri);
    char *xml2 = cii_doc(ext, "N", "S", "<ram:DuePayableAmount>1.00</ram:DuePayableAmount>");
    ck_assert(!parse_str(xml2, &inv));
    invoice_data_clear(&inv);

    g_free(xml2);
    g_free(ext);
    g_free(wide);
    g_free(wide_src);
    g_free(xml);
    g_free(prolog);
    g_free(uri);
}
END_TEST

static const char laughs[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>\n";

START_TEST(test_xml_billion_laughs)
{
    invoice_data inv;
    gint64 start = g_get_monotonic_time();
    char *xml = cii_doc(laughs, "&lol9;", "&lol9;", "<ram:DuePayableAmount>1.00</ram:DuePayableAmount>");
    ck_assert(!parse_str(xml, &inv));
    invoice_data_clear(&inv);
    char *wide_src = cii_doc(strstr(laughs, "<!DOCTYPE"), "&lol9;", "&lol9;",
                             "<ram:DuePayableAmount>1.00</ram:DuePayableAmount>");
    char *wide = utf16_with_bom(wide_src);
    ck_assert(!einvoice_parse(wide, 2 + 2 * g_utf8_strlen(wide_src, -1), &inv));
    invoice_data_clear(&inv);
    ck_assert_int_lt(g_get_monotonic_time() - start, 5 * G_USEC_PER_SEC);
    g_free(wide);
    g_free(wide_src);
    g_free(xml);
}
END_TEST

START_TEST(test_xml_too_big)
{
    invoice_data inv;
    char *small = cii_doc("", "BIG", "S", "<ram:DuePayableAmount>1.00</ram:DuePayableAmount>");
    size_t n = strlen(small), len = 9 * 1024 * 1024;
    char *big = g_malloc(len);
    memcpy(big, small, n);
    memset(big + n, ' ', len - n);
    ck_assert(!einvoice_parse(big, len, &inv));
    invoice_data_clear(&inv);
    g_free(big);
    g_free(small);
}
END_TEST

/* ---- hostile bytes ---- */

START_TEST(test_garbage_bytes)
{
    GRand *rand = g_rand_new_with_seed(20240115);
    const char *prefixes[] = { "", "<", "%PDF-1.7\n", "From: x\n\n", "\xef\xbb\xbf<?xml" };
    for (size_t p = 0; p < G_N_ELEMENTS(prefixes); p++) {
        for (int round = 0; round < 4; round++) {
            size_t len = 64 + (size_t)g_rand_int_range(rand, 0, 8192);
            char *data = g_malloc(len);
            for (size_t i = 0; i < len; i++)
                data[i] = (char)g_rand_int_range(rand, 0, 256);
            memcpy(data, prefixes[p], MIN(strlen(prefixes[p]), len));
            invoice_data inv;
            invoice_extract_bytes(data, len, &inv);
            ck_assert(!inv.invoice);
            ck_assert(!inv.payable);
            ck_assert_ptr_nonnull(inv.reason);
            invoice_data_clear(&inv);
            ck_assert(!facturx_extract(data, len, &inv));
            invoice_data_clear(&inv);
            ck_assert(!einvoice_parse(data, len, &inv));
            invoice_data_clear(&inv);
            g_free(pdftext_extract(data, len));
            g_free(data);
        }
    }
    g_rand_free(rand);

    invoice_data inv;
    invoice_extract_bytes("", 0, &inv);
    ck_assert(!inv.invoice);
    invoice_data_clear(&inv);
}
END_TEST

/* Cut anywhere: never a crash; if poppler still recovers the XML, never a wrong value. */
START_TEST(test_truncated_pdf)
{
    size_t len;
    char *pdf = read_file_or_die(fx_normal, &len);
    for (size_t cut = 0; cut < len; cut += MAX(len / 24, 1)) {
        char *part = g_memdup2(pdf, cut);
        invoice_data inv;
        if (facturx_extract(part, cut, &inv)) {
            ck_assert_pstr_eq(inv.number, N_NUMBER);
            ck_assert_int_eq(inv.amount_due_minor, 123456);
        }
        invoice_data_clear(&inv);
        invoice_extract_bytes(part, cut, &inv);
        ck_assert(!inv.payable || inv.amount_due_minor == 123456);
        invoice_data_clear(&inv);
        g_free(part);
    }
    g_free(pdf);
}
END_TEST

/* ---- messages ---- */

START_TEST(test_message_facturx_attachment)
{
    eml_part parts[] = { { "application/pdf", "facture.pdf", fx_normal, NULL } };
    char *eml = make_eml("Subject: Votre facture\n", parts, 1);
    invoice_data inv;
    extract_eml(eml, &inv);
    assert_normal(&inv, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);
    /* the same through the sniffing entry point (reglo inspect) */
    invoice_extract_bytes(eml, strlen(eml), &inv);
    assert_normal(&inv, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

/* Sent as application/octet-stream without a .pdf name: sniffed. */
START_TEST(test_message_octet_stream_pdf)
{
    eml_part parts[] = { { "application/octet-stream", "scan0001", fx_normal, NULL } };
    char *eml = make_eml("Subject: doc\n", parts, 1);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert_int_eq(inv.source, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

START_TEST(test_message_xml_attachment)
{
    eml_part parts[] = { { "application/xml", "xrechnung.xml", fx_cii, NULL } };
    char *eml = make_eml("Subject: Rechnung\n", parts, 1);
    invoice_data inv;
    extract_eml(eml, &inv);
    assert_normal(&inv, INVOICE_SRC_CII);
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

START_TEST(test_message_headers)
{
    char *eml = make_eml("Subject: Document\nX-Invoice-Number: H-77\n"
                         "X-Invoice-Amount: 1234.56\nX-Invoice-Currency: eur\n"
                         "X-Invoice-Due: 2024-03-01\n", NULL, 0);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert(inv.invoice);
    ck_assert(inv.payable);
    ck_assert_int_eq(inv.source, INVOICE_SRC_HEADERS);
    ck_assert_pstr_eq(inv.number, "H-77");
    ck_assert_int_eq(inv.amount_due_minor, 123456);
    ck_assert_str_eq(inv.currency, "EUR");
    ck_assert_str_eq(inv.due_date, "2024-03-01");
    invoice_data_clear(&inv);
    g_free(eml);

    /* a number without an amount is an invoice, but no link */
    eml = make_eml("Subject: Document\nX-Invoice-Number: H-78\n", NULL, 0);
    extract_eml(eml, &inv);
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_int_eq(inv.amount_due_minor, -1);
    invoice_data_clear(&inv);
    g_free(eml);

    /* trailing junk after the amount: not trusted */
    eml = make_eml("Subject: Document\nX-Invoice-Number: H-79\nX-Invoice-Amount: 12.00 or so\n"
                   "X-Invoice-Currency: EUR\n", NULL, 0);
    extract_eml(eml, &inv);
    ck_assert(!inv.payable);
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

START_TEST(test_message_subject)
{
    char *eml = make_eml("Subject: =?UTF-8?Q?Facture_F-1_-_120,00_=E2=82=AC?=\n", NULL, 0);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert(inv.invoice);
    ck_assert_int_eq(inv.source, INVOICE_SRC_SUBJECT);
    ck_assert_pstr_eq(inv.number, "F-1");
    ck_assert_int_eq(inv.amount_due_minor, 12000);
    ck_assert_str_eq(inv.currency, "EUR");
    ck_assert(inv.payable);
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

START_TEST(test_message_nothing)
{
    char *eml = make_eml("Subject: On se voit mardi ?\n", NULL, 0);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert(!inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_int_eq(inv.source, INVOICE_SRC_NONE);
    ck_assert_pstr_eq(inv.reason, "not an invoice");
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

/* A Factur-X credit note wins over everything below it: no payable fallback. */
START_TEST(test_message_credit_note_no_fallback)
{
    eml_part parts[] = { { "application/pdf", "avoir.pdf", fx_credit, NULL } };
    char *eml = make_eml("Subject: Facture AV-2024-007 - 250,00 EUR\nX-Invoice-Number: AV-2024-007\n"
                         "X-Invoice-Amount: 250.00\nX-Invoice-Currency: EUR\n", parts, 1);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_int_eq(inv.source, INVOICE_SRC_FACTURX);
    ck_assert_pstr_eq(inv.reason, "credit note");
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

START_TEST(test_message_several_invoices)
{
    eml_part two[] = {
        { "application/pdf", "f1.pdf", fx_normal, NULL },
        { "application/pdf", "f2.pdf", fx_second, NULL },
    };
    char *eml = make_eml("Subject: Vos factures\n", two, 2);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert(inv.invoice);
    ck_assert(!inv.payable);
    ck_assert_int_eq(inv.amount_due_minor, -1);
    ck_assert_pstr_eq(inv.reason, "several invoices in one message");
    invoice_data_clear(&inv);
    g_free(eml);

    /* the same invoice attached twice is one invoice */
    eml_part same[] = {
        { "application/pdf", "f1.pdf", fx_normal, NULL },
        { "application/pdf", "copie.pdf", fx_normal, NULL },
    };
    eml = make_eml("Subject: Votre facture\n", same, 2);
    extract_eml(eml, &inv);
    assert_normal(&inv, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

/* An invoice inside a forwarded message/rfc822 is not this message's invoice. */
START_TEST(test_message_forwarded_ignored)
{
    eml_part inner_parts[] = { { "application/pdf", "facture.pdf", fx_normal, NULL } };
    char *inner = make_eml("Subject: Votre facture\n", inner_parts, 1);
    eml_part parts[] = { { "message/rfc822", NULL, NULL, inner } };
    char *eml = make_eml("Subject: Fwd: un vieux message\n", parts, 1);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert(!inv.invoice);
    ck_assert_int_ne(inv.source, INVOICE_SRC_FACTURX);
    invoice_data_clear(&inv);
    g_free(eml);
    g_free(inner);
}
END_TEST

START_TEST(test_message_pdf_text)
{
    eml_part parts[] = { { "application/pdf", "facture.pdf", fx_plain, NULL } };
    char *eml = make_eml("Subject: Facture\n", parts, 1);
    invoice_data inv;
    extract_eml(eml, &inv);
    ck_assert_int_eq(inv.source, INVOICE_SRC_PDFTEXT);
    ck_assert_int_eq(inv.amount_due_minor, 98765);
    invoice_data_clear(&inv);
    g_free(eml);
}
END_TEST

START_TEST(test_message_many_parts)
{
    GString *parts = g_string_new("Subject: many\nContent-Type: multipart/mixed; boundary=\"b\"\n\n");
    for (int i = 0; i < 500; i++)
        g_string_append(parts, "--b\nContent-Type: application/xml\n\n<a/>\n");
    g_string_append(parts, "--b--\n");
    invoice_data inv;
    invoice_extract_bytes(parts->str, parts->len, &inv);
    ck_assert(!inv.invoice);
    invoice_data_clear(&inv);
    g_string_free(parts, TRUE);
}
END_TEST

/* ---- JSON ---- */

START_TEST(test_json_payable)
{
    invoice_data inv;
    extract_file(fx_normal, &inv);
    char *json = invoice_to_json(&inv, "normal.pdf");
    ck_assert_str_eq(json,
        "{\"file\":\"normal.pdf\",\"invoice\":true,\"payable\":true,\"number\":\"" N_NUMBER "\","
        "\"amount_due_minor\":123456,\"currency\":\"EUR\",\"issue_date\":\"2024-03-05\","
        "\"due_date\":\"2024-04-04\",\"buyer_email\":\"" N_EMAIL "\",\"seller_iban\":\""
        N_IBAN "\",\"source\":\"facturx\",\"type_code\":\"380\",\"seller_name\":\"" N_SELLER
        "\",\"direct_debit\":false}");
    g_free(json);
    invoice_data_clear(&inv);
}
END_TEST

START_TEST(test_json_not_invoice)
{
    invoice_data inv;
    invoice_extract_bytes("hello", 5, &inv);
    char *json = invoice_to_json(&inv, "x.eml");
    ck_assert_str_eq(json,
        "{\"file\":\"x.eml\",\"invoice\":false,\"payable\":false,\"number\":null,"
        "\"amount_due_minor\":null,\"currency\":null,\"issue_date\":null,\"due_date\":null,"
        "\"buyer_email\":null,\"seller_iban\":null,\"source\":null,\"reason\":\"not an invoice\","
        "\"type_code\":null,\"seller_name\":null,\"direct_debit\":false}");
    g_free(json);
    invoice_data_clear(&inv);

    extract_file(fx_dd, &inv);
    json = invoice_to_json(&inv, "dd.pdf");
    ck_assert_msg(strstr(json, "\"reason\":\"collected by SEPA direct debit\""), "%s", json);
    ck_assert_msg(strstr(json, "\"direct_debit\":true"), "%s", json);
    ck_assert_msg(strstr(json, "\"seller_iban\":null"), "%s", json);
    ck_assert_msg(!strchr(json, '\n'), "%s", json);
    g_free(json);
    invoice_data_clear(&inv);
}
END_TEST

/* ---- corpus ---- */

typedef struct expect {
    const char *file;
    const char *number;
    gint64 amount;          /* DuePayableAmount in cents; -1: absent or negative */
    const char *currency;
    const char *type_code;
    gboolean payable;
    gboolean direct_debit;
} expect;

/* Read from each PDF's XML (pdfdetach -saveall), DuePayableAmount / PayableAmount. */
static const expect corpus_pdf[] = {
    { "akretion__invoice_EN16931.pdf", "F20260023", 10490, "EUR", "380", TRUE, FALSE },
    { "horstoeko__pdf_fx_minimum_1.pdf", "F20220027", 10000, "EUR", "380", TRUE, FALSE },
    { "horstoeko__pdf_zf_en16931_1.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "horstoeko__pdf_zf_extended_1.pdf", "KR87654321012", 48022, "EUR", "380", TRUE, FALSE },
    { "horstoeko__pdf_zf_xrechnung_1.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "mustang__103767-Invoice-2026-03-24-1.pdf", "103767", 68187, "EUR", "380", TRUE, FALSE },
    { "mustang__EXTENDED_Fremdwaehrung_wdis_fx-pdfa4.pdf", "47110815", 52191, "GBP", "380", TRUE, FALSE },
    { "mustang__Facture_F20180027.pdf", "F20180027", 10000, "EUR", "380", TRUE, FALSE },
    { "mustang__MustangBeispiel20221026.pdf", "RE1001", 96311, "EUR", "380", TRUE, FALSE },
    { "mustang__ZTESTZUGFERD_1_INVDSS_012015738820PDF-1.pdf", "2015738820", 44788, "EUR", "380", TRUE, FALSE },
    { "mustang__attributeBasedXMP_zugferd_2p0_EN16931_Einfach.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    /* "Avoir" typed 380 with DuePayableAmount -233.47 */
    { "mustang__validAvoir_FR_type380_BASICWL.pdf", "AV-2017-0005", -1, "EUR", "380", FALSE, FALSE },
    { "mustang__validXRechnung.pdf", "RE-20190610/507", 57104, "EUR", "380", TRUE, FALSE },
    { "mustang__zugferd_invoice.pdf", "2014-03", 100555, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__4s4u_additional-data-sample-1.pdf", "R87654321012345", 51899, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__FNFE_Avoir_FR_type381_BASIC.pdf", "AV-2017-0005", 23347, "EUR", "381", FALSE, FALSE },
    { "zfcorpus__FNFE_Facture_DOM_MINIMUM.pdf", "FA-2017-0009", 38375, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__FNFE_Facture_FR_BASIC.pdf", "FA-2017-0010", 47015, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__FNFE_Facture_FR_BASICWL.pdf", "FA-2017-0010", 47015, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__FNFE_Facture_FR_EN16931.pdf", "FA-2017-0010", 47015, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__FNFE_Facture_FR_MINIMUM.pdf", "FA-2017-0010", 47015, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__FNFE_Facture_UE_BASICWL.pdf", "FA-2017-0008", 145376, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__FNFE_Facture_UE_EN16931.pdf", "FA-2017-0008", 145376, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__MustangGnuaccountingBeispielRE-20170509_505.pdf", "RE-20170509/505", 57104, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__MustangGnuaccountingBeispielRE-20190610_507.pdf", "RE-20190610/507", 57104, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__MustangGnuaccountingBeispielRE-20201121_508.pdf", "RE-20201121/508", 57104, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__MustangGnuaccountingBeispielRE-20201121_508_withBOM.pdf", "RE-20201121/508", 57104, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__XR-FX_EN16931_Einfach.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__XR-FX_EN16931_Einfach_DueDate.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__XR-FX_EN16931_Einfach_negativePaymentDue.pdf", "471102", -1, "EUR", "380", FALSE, FALSE },
    { "zfcorpus__XR-FX_EN16931_Gutschrift.pdf", "471102", 52987, "EUR", "389", FALSE, FALSE },
    { "zfcorpus__XR-FX_XRECHNUNG_Einfach.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    /* ZUGFeRD 1.0 BASIC without DuePayableAmount nor TotalPrepaidAmount */
    { "zfcorpus__ZUGFeRD_1p0_BASIC_Einfach.pdf", "471102", -1, "EUR", "380", FALSE, FALSE },
    { "zfcorpus__ZUGFeRD_1p0_COMFORT_Einfach.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__ZUGFeRD_1p0_COMFORT_SEPA_Prenotification.pdf", "471102", 52987, "EUR", "380", FALSE, TRUE },
    { "zfcorpus__ZUGFeRD_1p0_EXTENDED_Warenrechnung.pdf", "R87654321012345", 51899, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__atgp_factur-x_v_1_0_sample_20190125.pdf", "FA-2017-0010", 47015, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__konik_acme_invoice-42_ZUGFeRD.pdf", "20131122-42", -1, "EUR", "380", FALSE, FALSE },
    { "zfcorpus__symtrax_zugferd_2p1_EN16931_2_Teilrechnung.pdf", "471113", 2354, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__symtrax_zugferd_2p1_EN16931_AbweichenderZahlungsempf.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__zugferd_2p0_BASIC_Einfach.pdf", "471102", 23562, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__zugferd_2p0_BASIC_Taxifahrt.pdf", "TX-471102", 1808, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__zugferd_2p0_EN16931_AbweichenderZahlungsempf.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__zugferd_2p0_EN16931_Einfach.pdf", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__zugferd_2p0_EN16931_Gutschrift.pdf", "471102", 52987, "EUR", "389", FALSE, FALSE },
    { "zfcorpus__zugferd_2p0_EN16931_SEPA_Prenotification.pdf", "471102", 52987, "EUR", "380", FALSE, TRUE },
    { "zfcorpus__zugferd_2p0_EXTENDED_Fremdwaehrung.pdf", "47110815", 52191, "GBP", "380", TRUE, FALSE },
    { "zfcorpus__zugferd_2p0_EXTENDED_Warenrechnung.pdf", "R87654321012345", 51899, "EUR", "380", TRUE, FALSE },
    { "zfcorpus__zugferd_2p0_MINIMUM.pdf", "471102", 23562, "EUR", "751", TRUE, FALSE },
};

static const expect corpus_xml[] = {
    { "xml-cii/akretion__factur-x-basicwl.xml", "F20260023", 10490, "EUR", "380", TRUE, FALSE },
    { "xml-cii/akretion__factur-x-en16931.xml", "F20260023", 10490, "EUR", "380", TRUE, FALSE },
    { "xml-cii/akretion__factur-x-extended.xml", "F20260023", 10490, "EUR", "380", TRUE, FALSE },
    { "xml-cii/akretion__factur-x-minimum.xml", "F20260023", 10490, "EUR", "380", TRUE, FALSE },
    { "xml-cii/akretion__zugferd1-basic.xml", "471102", -1, "EUR", "380", FALSE, FALSE },
    { "xml-cii/cen__CII_business_example_02.xml", "INV000013", 1190, "EUR", "380", TRUE, FALSE },
    { "xml-cii/cen__CII_example1.xml", "12115118", 25033, "EUR", "380", TRUE, FALSE },
    { "xml-cii/cen__XRechnung-O.xml", "150377292", 38554460, "EUR", "380", TRUE, FALSE },
    { "xml-cii/zfcorpus__EN16931_Einfach.cii.xml", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "xml-cii/zfcorpus__EN16931_Gutschrift.cii.xml", "471102", 52987, "EUR", "389", FALSE, FALSE },
    { "xml-cii/zfcorpus__XRECHNUNG_Einfach.cii.xml", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "xml-cii/zfcorpus__mustang_testout-ZF2PushCreditNote.xml", "123", 357, "EUR", "381", FALSE, FALSE },
    { "xml-ubl/akretion__ubl-21-en16931.xml", "F124212", 20803, "EUR", "380", TRUE, FALSE },
    { "xml-ubl/cen__BIS3_Invoice_positive.xml", "12345", 78217943, "DKK", "380", TRUE, FALSE },
    { "xml-ubl/cen__ubl-tc434-creditnote1.xml", "018304 / 28865", 10011, "EUR", "381", FALSE, FALSE },
    { "xml-ubl/cen__ubl-tc434-example1.xml", "12115118", 25033, "EUR", "380", TRUE, FALSE },
    { "xml-ubl/cen__ubl-tc434-example3.xml", "TOSL108", 200500, "DKK", "380", TRUE, FALSE },
    { "xml-ubl/zfcorpus__EN16931_Einfach.ubl.xml", "471102", 52987, "EUR", "380", TRUE, FALSE },
    { "xml-ubl/zfcorpus__EN16931_Gutschrift.ubl.xml", "471102", 52987, "EUR", "389", FALSE, FALSE },
    { "xml-ubl/zfcorpus__XRECHNUNG_Einfach.ubl.xml", "471102", 52987, "EUR", "380", TRUE, FALSE },
};

static void assert_expected(const invoice_data *inv, const expect *e)
{
    ck_assert_msg(inv->invoice, "%s: not an invoice", e->file);
    ck_assert_msg(g_strcmp0(inv->number, e->number) == 0, "%s: number %s", e->file, inv->number);
    ck_assert_msg(inv->amount_due_minor == e->amount, "%s: amount %lld", e->file,
                  (long long)inv->amount_due_minor);
    ck_assert_msg(strcmp(inv->currency, e->currency) == 0, "%s: currency %s", e->file,
                  inv->currency);
    ck_assert_msg(g_strcmp0(inv->type_code, e->type_code) == 0, "%s: type %s", e->file,
                  inv->type_code);
    ck_assert_msg(inv->payable == e->payable, "%s: payable %d (%s)", e->file, inv->payable,
                  inv->reason);
    ck_assert_msg(inv->direct_debit == e->direct_debit, "%s: direct debit", e->file);
    ck_assert_msg(inv->payable == (inv->reason == NULL), "%s: reason", e->file);
}

static const expect *find_expect(const expect *table, size_t n, const char *file)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].file, file) == 0)
            return &table[i];
    return NULL;
}

/* Every file of dir must be in the table (a new corpus file needs an expectation). */
static void check_corpus_dir(const char *sub, const expect *table, size_t n,
                             const char *prefix, gboolean pdf)
{
    char *dir = corpus_path("facturx", sub, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int seen = 0;
    for (const char *name; (name = g_dir_read_name(d));) {
        char *key = g_strconcat(prefix, name, NULL);
        char *path = g_build_filename(dir, name, NULL);
        invoice_data inv;
        if (strstr(name, "NOT_AN_INVOICE")) {
            ck_assert_msg(!einvoice_file(path, &inv), "%s: taken as an invoice", name);
            invoice_data_clear(&inv);
        } else {
            const expect *e = find_expect(table, n, key);
            ck_assert_msg(e != NULL, "no expectation for %s", key);
            if (pdf) {
                ck_assert_msg(facturx_file(path, &inv), "%s: no Factur-X XML found", name);
                ck_assert_int_eq(inv.source, INVOICE_SRC_FACTURX);
            } else {
                ck_assert_msg(einvoice_file(path, &inv), "%s: not parsed", name);
                ck_assert_int_eq(inv.source, strstr(sub, "ubl") ? INVOICE_SRC_UBL
                                                                : INVOICE_SRC_CII);
            }
            assert_expected(&inv, e);
            invoice_data_clear(&inv);
            extract_file(path, &inv);
            assert_expected(&inv, e);
            invoice_data_clear(&inv);
            seen++;
        }
        g_free(path);
        g_free(key);
    }
    g_dir_close(d);
    g_free(dir);
    ck_assert_int_gt(seen, 0);
}

/* The corpus tests are registered only when the corpus is present. */
START_TEST(test_corpus_pdf)
{
    check_corpus_dir("pdf", corpus_pdf, G_N_ELEMENTS(corpus_pdf), "", TRUE);
}
END_TEST

START_TEST(test_corpus_xml)
{
    check_corpus_dir("xml-cii", corpus_xml, G_N_ELEMENTS(corpus_xml), "xml-cii/", FALSE);
    check_corpus_dir("xml-ubl", corpus_xml, G_N_ELEMENTS(corpus_xml), "xml-ubl/", FALSE);
}
END_TEST

/* Cross-format: the same invoice as Factur-X PDF, CII and UBL gives the same record. */
START_TEST(test_corpus_cross_format)
{
    const char *files[] = { "pdf/zfcorpus__XR-FX_EN16931_Einfach.pdf",
                            "xml-cii/zfcorpus__EN16931_Einfach.cii.xml",
                            "xml-ubl/zfcorpus__EN16931_Einfach.ubl.xml" };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = corpus_path("facturx", files[i], NULL);
        invoice_data inv;
        extract_file(path, &inv);
        ck_assert_msg(inv.payable, "%s", files[i]);
        ck_assert_pstr_eq(inv.number, "471102");
        ck_assert_int_eq(inv.amount_due_minor, 52987);
        ck_assert_str_eq(inv.issue_date, "2018-03-05");
        ck_assert_pstr_eq(inv.seller_name, "Lieferant GmbH");
        invoice_data_clear(&inv);
        g_free(path);
    }
}
END_TEST

/* Path of a pdf-edge file (NULL name: the directory); fails the test when missing. */
static char *edge_path(const char *name)
{
    return corpus_path("facturx", "pdf-edge", name, NULL);
}

START_TEST(test_corpus_edge)
{
    /* every file: no crash, and through the dispatch a consistent record */
    char *dir = edge_path(NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    ck_assert_ptr_nonnull(d);
    for (const char *name; (name = g_dir_read_name(d));) {
        char *path = g_build_filename(dir, name, NULL);
        invoice_data inv;
        extract_file(path, &inv);
        ck_assert_msg(inv.payable == (inv.reason == NULL), "%s", name);
        ck_assert_msg(!inv.payable || (inv.amount_due_minor > 0 && inv.currency[0]), "%s", name);
        invoice_data_clear(&inv);
        g_free(path);
    }
    g_dir_close(d);
    g_free(dir);

    /* no XML: never Factur-X */
    const char *no_xml[] = { "horstoeko__pdf_plain.pdf", "horstoeko__pdf_invalid.pdf",
                             "mustang__MustangGnuaccountingBeispielRE-20201121_508blanko_no_xml.pdf",
                             "zfcorpus__unstructured_Hetzner_invoice_no_xml.pdf",
                             "mustang__corrupt-factur-x-waytoosmall.pdf",
                             "mustang__ORDER-X_EX01_ORDER_FULL_DATA-COMFORT.pdf" };
    for (size_t i = 0; i < G_N_ELEMENTS(no_xml); i++) {
        char *path = edge_path(no_xml[i]);
        invoice_data inv;
        ck_assert_msg(!facturx_file(path, &inv), "%s", no_xml[i]);
        invoice_data_clear(&inv);
        extract_file(path, &inv);
        ck_assert_msg(inv.source != INVOICE_SRC_FACTURX, "%s", no_xml[i]);
        invoice_data_clear(&inv);
        g_free(path);
    }

    /* both ZUGFeRD 1.0 and Factur-X XML: the 2.x one (same invoice data in both) */
    const char *both[] = { "zfcorpus__MustangRE-20171118_506_ZUGFeRD1and2.pdf",
                           "mustang__invalidXMP.pdf", "zfcorpus__python-factur-x.pdf" };
    for (size_t i = 0; i < G_N_ELEMENTS(both); i++) {
        char *path = edge_path(both[i]);
        invoice_data inv;
        ck_assert_msg(facturx_file(path, &inv), "%s", both[i]);
        ck_assert_pstr_eq(inv.number, "RE-20171118/506");
        ck_assert_int_eq(inv.amount_due_minor, 57104);
        ck_assert_str_eq(inv.due_date, "2017-12-09");
        ck_assert(inv.payable);
        invoice_data_clear(&inv);
        g_free(path);
    }

    invoice_data inv;
    char *path = edge_path("zfcorpus__ZUGFeRD_2.0_fully_compliant_complete.pdf");
    ck_assert(facturx_file(path, &inv));
    ck_assert_pstr_eq(inv.number, "90005178");
    ck_assert_int_eq(inv.amount_due_minor, 3907722);
    invoice_data_clear(&inv);
    g_free(path);

    /* empty InvoiceCurrencyCode, IssueDateTime format "1020": no currency, no link */
    path = edge_path("zfcorpus__v1_fail1.pdf");
    ck_assert(facturx_file(path, &inv));
    ck_assert_pstr_eq(inv.number, "RE-20151008/504");
    ck_assert(!inv.payable);
    ck_assert_str_eq(inv.currency, "");
    ck_assert_str_eq(inv.issue_date, "");
    invoice_data_clear(&inv);
    g_free(path);

    /* invalid XML (encoding="UTF-8-W/O-BOM" is not even well-formed): not Factur-X */
    path = edge_path("zfcorpus__factur-x-invalid-xml-encoding-attribute.pdf");
    ck_assert(!facturx_file(path, &inv));
    invoice_data_clear(&inv);
    g_free(path);

    /* broken xref: attachments not reachable, or if recovered then right */
    path = edge_path("mustang__corruptedV2PDF.pdf");
    if (facturx_file(path, &inv))
        ck_assert_pstr_eq(inv.number, "RE-20171118/506");
    invoice_data_clear(&inv);
    g_free(path);
}
END_TEST

/* ---- main ---- */

static void remove_tmpdir(void)
{
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    for (const char *name; d && (name = g_dir_read_name(d));) {
        char *path = g_build_filename(tmpdir, name, NULL);
        g_remove(path);
        g_free(path);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmpdir);
}

static void make_fixtures(void)
{
    fx_normal = gen("normal.pdf", NORMAL_ARGS, NULL);
    fx_cii = gen("normal.cii.xml", NORMAL_ARGS, "--xml-only", NULL);
    fx_ubl = gen("normal.ubl.xml", NORMAL_ARGS, "--ubl", NULL);
    fx_big = gen("big.pdf", "--pad", "100", NULL);
    fx_credit = gen("credit.pdf", "--type", "381", "--number", "AV-2024-007", "--amount",
                    "250,00", NULL);
    fx_zero = gen("zero.pdf", "--number", "F-ZERO", "--amount", "500,00", "--due-amount", "0",
                  NULL);
    fx_partial = gen("partial.pdf", "--number", "F-PART", "--amount", "1000,00",
                     "--due-amount", "400,00", NULL);
    fx_dd = gen("dd.pdf", "--number", "F-DD", "--means", "49", NULL);
    fx_plain = gen("plain.pdf", "--no-xml", "--number", "F-TXT-9", "--amount", "987,65", NULL);
    fx_ubl_credit = gen("credit.ubl.xml", "--ubl", "--type", "381", "--number", "CN-5",
                        "--amount", "80,00", NULL);
    fx_orderx = gen("orderx.pdf", "--xml-name", "order-x.xml", "--number", "F-ORD", NULL);
    fx_both = gen("both.pdf", "--number", "FX-NEW", "--with-zugferd1", "ZF1-OLD", NULL);
    fx_zf1 = gen("zf1.xml", "--zugferd1-xml", "--number", "ZF1-ONLY", "--amount", "321,00",
                 "--due-amount", "300,00", "--buyer-email", "zf1@example.test", NULL);
    fx_second = gen("second.pdf", "--number", "F-2024-002", "--amount", "99,00", NULL);
    fx_secret = write_tmp("secret.txt", "TOPSECRET\n", 10);
}

static Suite *extract_suite(void)
{
    Suite *s = suite_create("extract");
    TCase *tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_facturx_normal);
    tcase_add_test(tc, test_facturx_padded);
    tcase_add_test(tc, test_facturx_credit_note);
    tcase_add_test(tc, test_facturx_nothing_due);
    tcase_add_test(tc, test_facturx_partly_prepaid);
    tcase_add_test(tc, test_facturx_direct_debit);
    tcase_add_test(tc, test_facturx_prefers_2x);
    tcase_add_test(tc, test_facturx_order_x);
    tcase_add_test(tc, test_pdftext_plain);
    tcase_add_test(tc, test_pdftext_fallback);
    tcase_add_test(tc, test_pdftext_is_pdf);
    tcase_add_test(tc, test_cii_alone);
    tcase_add_test(tc, test_ubl_alone);
    tcase_add_test(tc, test_ubl_credit_note);
    tcase_add_test(tc, test_zugferd1_alone);
    tcase_add_test(tc, test_cii_amount_rules);
    tcase_add_test(tc, test_cii_self_billed);
    tcase_add_test(tc, test_xml_not_invoices);
    tcase_add_test(tc, test_xml_bogus_encoding);
    tcase_add_test(tc, test_xml_external_entity);
    tcase_add_test(tc, test_xml_billion_laughs);
    tcase_add_test(tc, test_xml_too_big);
    tcase_add_test(tc, test_garbage_bytes);
    tcase_add_test(tc, test_truncated_pdf);
    tcase_add_test(tc, test_message_facturx_attachment);
    tcase_add_test(tc, test_message_octet_stream_pdf);
    tcase_add_test(tc, test_message_xml_attachment);
    tcase_add_test(tc, test_message_headers);
    tcase_add_test(tc, test_message_subject);
    tcase_add_test(tc, test_message_nothing);
    tcase_add_test(tc, test_message_credit_note_no_fallback);
    tcase_add_test(tc, test_message_several_invoices);
    tcase_add_test(tc, test_message_forwarded_ignored);
    tcase_add_test(tc, test_message_pdf_text);
    tcase_add_test(tc, test_message_many_parts);
    tcase_add_test(tc, test_json_payable);
    tcase_add_test(tc, test_json_not_invoice);
    suite_add_tcase(s, tc);

    if (corpus_present("test_extract corpus (pdf, xml, cross-format, pdf-edge)")) {
        TCase *corpus = tcase_create("corpus");
        tcase_set_timeout(corpus, 300);
        tcase_add_test(corpus, test_corpus_pdf);
        tcase_add_test(corpus, test_corpus_xml);
        tcase_add_test(corpus, test_corpus_cross_format);
        tcase_add_test(corpus, test_corpus_edge);
        suite_add_tcase(s, corpus);
    }
    return s;
}

int main(void)
{
    g_mime_init();
    GError *err = NULL;
    tmpdir = g_dir_make_tmp("reglo-extract-XXXXXX", &err);
    if (!tmpdir) {
        fprintf(stderr, "tmpdir: %s\n", err->message);
        return 1;
    }
    make_fixtures();
    int failed = testutil_run(extract_suite());
    remove_tmpdir();
    g_mime_shutdown();
    return failed ? 1 : 0;
}
