/*
 * einvoice — CII (CrossIndustryInvoice, ZUGFeRD 1.0 CrossIndustryDocument) and UBL 2.1
 * (Invoice, CreditNote) XML into invoice_data; see einvoice.h.
 *
 * Hostile input: libxml2 reads without network, entity substitution or DTD loading, and a
 * document that carries a DTD at all is refused (no e-invoice standard uses one; entity
 * tricks live there). Text is taken from text and CDATA children only, so an entity
 * reference never expands. Elements are matched by local name below a root whose
 * namespace was checked, which accepts the several schema versions seen in the wild
 * (ram:12, ram:100, ram:128...).
 *
 * Strings put into invoice_data are g_malloc'ed and owned by it; the xmlDoc is freed here.
 */
#include "einvoice.h"
#include "money.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#define EINVOICE_MAX_XML   (8 * 1024 * 1024)
#define EINVOICE_MAX_FIELD 256

typedef enum { DOC_OTHER, DOC_CII, DOC_ZUGFERD1, DOC_UBL_INVOICE, DOC_UBL_CREDIT_NOTE } doc_kind;

/* CII D16B and ZUGFeRD 1.0 keep the same data under different element names. */
typedef struct cii_layout {
    const char *document;      /* number, type code, issue date */
    const char *transaction;
    const char *agreement;     /* seller and buyer */
    const char *settlement;    /* currency, payment means and terms, totals */
    const char *summation;     /* header totals (line items have their own) */
} cii_layout;

static const cii_layout cii_d16b = {
    "ExchangedDocument", "SupplyChainTradeTransaction", "ApplicableHeaderTradeAgreement",
    "ApplicableHeaderTradeSettlement", "SpecifiedTradeSettlementHeaderMonetarySummation",
};

static const cii_layout cii_zugferd1 = {
    "HeaderExchangedDocument", "SpecifiedSupplyChainTradeTransaction",
    "ApplicableSupplyChainTradeAgreement", "ApplicableSupplyChainTradeSettlement",
    "SpecifiedTradeSettlementMonetarySummation",
};

/* Element names of the amounts: what is due, else total minus prepaid. */
typedef struct total_names {
    const char *due;
    const char *grand;
    const char *prepaid;
} total_names;

static const total_names cii_totals = {
    "DuePayableAmount", "GrandTotalAmount", "TotalPrepaidAmount",
};
static const total_names ubl_totals = { "PayableAmount", "TaxInclusiveAmount", "PrepaidAmount" };

/* ---- tree access by local name ---- */

static gboolean is_element(const xmlNode *n, const char *local, size_t local_len)
{
    return n->type == XML_ELEMENT_NODE && n->name &&
           strlen((const char *)n->name) == local_len &&
           memcmp(n->name, local, local_len) == 0;
}

/* Next sibling with the same local name, to iterate repeated elements. */
static xmlNode *next_same(const xmlNode *n)
{
    for (xmlNode *c = n->next; c; c = c->next)
        if (is_element(c, (const char *)n->name, strlen((const char *)n->name)))
            return c;
    return NULL;
}

/* Follows "A/B/C" through first matching element children (NULL-safe). */
static xmlNode *path(const xmlNode *node, const char *p)
{
    while (node && *p) {
        size_t seg = strcspn(p, "/");
        xmlNode *found = NULL;
        for (xmlNode *c = node->children; c && !found; c = c->next)
            if (is_element(c, p, seg))
                found = c;
        node = found;
        p += seg;
        if (*p == '/')
            p++;
    }
    return (xmlNode *)node;
}

/* First element child named local. */
static xmlNode *child(const xmlNode *parent, const char *local)
{
    return path(parent, local);
}

/* Attribute value when it is plain text (no entity reference is ever followed). */
static const char *attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
        if (a->name && strcmp((const char *)a->name, name) == 0 && a->children &&
            a->children->type == XML_TEXT_NODE && !a->children->next)
            return (const char *)a->children->content;
    return NULL;
}

/* Collapses white space, drops control characters, caps the length; NULL when empty. */
static char *tidy(char *s)
{
    GString *out = g_string_sized_new(strlen(s));
    gboolean space = FALSE;
    for (const char *p = s; *p; p++) {
        guchar c = (guchar)*p;
        if (g_ascii_isspace(c)) {
            space = out->len > 0;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            continue;
        if (space)
            g_string_append_c(out, ' ');
        space = FALSE;
        g_string_append_c(out, (char)c);
    }
    g_free(s);
    if (out->len > EINVOICE_MAX_FIELD) {
        const char *cut = g_utf8_find_prev_char(out->str, out->str + EINVOICE_MAX_FIELD + 1);
        g_string_truncate(out, cut ? (gsize)(cut - out->str) : 0);
    }
    if (out->len == 0) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

/* Text of an element from its text and CDATA children, tidied; g_malloc'ed or NULL. */
static char *node_text(const xmlNode *n)
{
    if (!n)
        return NULL;
    GString *s = g_string_new(NULL);
    for (const xmlNode *c = n->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            g_string_append(s, (const char *)c->content);
    return tidy(g_string_free(s, FALSE));
}

static char *path_text(const xmlNode *node, const char *p)
{
    return node_text(path(node, p));
}

/* ---- field normalisation ---- */

static gboolean currency_valid(const char *s)
{
    return s && strlen(s) == 3 && g_ascii_isupper(s[0]) && g_ascii_isupper(s[1]) &&
           g_ascii_isupper(s[2]);
}

static void set_currency(invoice_data *out, const char *code)
{
    if (currency_valid(code))
        memcpy(out->currency, code, 4);
}

/* UNTDID 1001 code: 1 to 4 digits, else dropped. */
static char *type_code_or_null(char *s)
{
    size_t n = s ? strlen(s) : 0;
    gboolean ok = n >= 1 && n <= 4;
    for (size_t i = 0; ok && i < n; i++)
        ok = g_ascii_isdigit(s[i]);
    if (!ok) {
        g_free(s);
        return NULL;
    }
    return s;
}

/* Upper case, no spaces; NULL unless shaped like an IBAN (CCdd + 11..30 alphanumerics). */
static char *iban_or_null(char *s)
{
    if (!s)
        return NULL;
    GString *out = g_string_new(NULL);
    gboolean ok = TRUE;
    for (const char *p = s; *p && ok; p++) {
        if (*p == ' ')
            continue;
        ok = g_ascii_isalnum(*p);
        g_string_append_c(out, g_ascii_toupper(*p));
    }
    g_free(s);
    ok = ok && out->len >= 15 && out->len <= 34 && g_ascii_isalpha(out->str[0]) &&
         g_ascii_isalpha(out->str[1]) && g_ascii_isdigit(out->str[2]) &&
         g_ascii_isdigit(out->str[3]);
    return g_string_free(out, !ok);
}

/* A plausible mailbox (local@domain, printable ASCII, no spaces), else NULL. */
static char *email_or_null(char *s)
{
    if (!s)
        return NULL;
    const char *addr = g_ascii_strncasecmp(s, "mailto:", 7) == 0 ? s + 7 : s;
    const char *at = strchr(addr, '@');
    gboolean ok = at && at > addr && at[1] && !strchr(at + 1, '@') && strchr(at + 1, '.') &&
                  strlen(addr) <= 254;
    for (const char *p = addr; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f && !strchr("<>,;\"", *p);
    char *res = ok ? g_strdup(addr) : NULL;
    g_free(s);
    return res;
}

/* "YYYYMMDD" or "YYYY-MM-DD[zone]" (dashed) into "YYYY-MM-DD" when it is a real date. */
static gboolean date_parse(const char *s, gboolean dashed, char out[11])
{
    size_t want = dashed ? 10 : 8;
    if (!s || strlen(s) < want)
        return FALSE;
    if (dashed && (s[4] != '-' || s[7] != '-' || (s[10] && !strchr("Z+-", s[10]))))
        return FALSE;
    if (!dashed && s[8])
        return FALSE;
    const int pos[8] = {
        0, 1, 2, 3, dashed ? 5 : 4, dashed ? 6 : 5, dashed ? 8 : 6, dashed ? 9 : 7,
    };
    int v[8];
    for (int i = 0; i < 8; i++) {
        if (!g_ascii_isdigit(s[pos[i]]))
            return FALSE;
        v[i] = s[pos[i]] - '0';
    }
    int year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    int month = v[4] * 10 + v[5], day = v[6] * 10 + v[7];
    if (year < 1900 || !g_date_valid_dmy((GDateDay)day, (GDateMonth)month, (GDateYear)year))
        return FALSE;
    g_snprintf(out, 11, "%04d-%02d-%02d", year, month, day);
    return TRUE;
}

gboolean einvoice_date(const char *s, char out[11])
{
    return date_parse(s, TRUE, out) || date_parse(s, FALSE, out);
}

/* udt:DateTimeString: only format 102 (or no format) is a day. */
static gboolean cii_date(const xmlNode *dts, char out[11])
{
    const char *format = attr(dts, "format");
    if (!dts || (format && strcmp(format, "102") != 0))
        return FALSE;
    char *text = node_text(dts);
    gboolean ok = date_parse(text, FALSE, out);
    g_free(text);
    return ok;
}

static gboolean ubl_date(const xmlNode *n, char out[11])
{
    char *text = node_text(n);
    gboolean ok = date_parse(text, TRUE, out);
    g_free(text);
    return ok;
}

/* Several payment terms (e.g. a discount date and the net date): keep the latest. */
static void keep_latest(char due[11], const char candidate[11])
{
    if (strcmp(candidate, due) > 0)
        memcpy(due, candidate, 11);
}

/* ---- amounts ---- */

/* The named amount in the invoice currency (or without currencyID), else the first one. */
static xmlNode *amount_node(const xmlNode *totals, const char *name, const char *currency)
{
    xmlNode *first = child(totals, name);
    for (xmlNode *n = first; n; n = next_same(n)) {
        const char *id = attr(n, "currencyID");
        if (!id || !*currency || strcmp(id, currency) == 0)
            return n;
    }
    return first;
}

/* Exact minor units of an amount element; cur receives its currencyID or the default. */
static gboolean amount_value(const xmlNode *n, const char *default_currency, gint64 *minor,
                             char cur[4])
{
    if (!n)
        return FALSE;
    const char *id = attr(n, "currencyID");
    g_strlcpy(cur, currency_valid(id) ? id : default_currency, 4);
    char *text = node_text(n);
    gboolean ok = text && money_parse_decimal(text, money_minor_digits(cur[0] ? cur : NULL),
                                              minor);
    g_free(text);
    return ok;
}

/*
 * Amount due (BT-115), not the grand total: the buyer may have prepaid part. Without it,
 * grand total minus prepaid when both are there; otherwise unknown. A negative amount due
 * is a credit: unknown for payment, *negative set.
 */
static void set_amount_due(invoice_data *out, const xmlNode *totals, const total_names *names,
                           gboolean *negative)
{
    gint64 value = 0;
    char cur[4] = "";
    gboolean known = FALSE;
    xmlNode *due = amount_node(totals, names->due, out->currency);
    if (due) {
        known = amount_value(due, out->currency, &value, cur);
    } else {
        gint64 grand, prepaid;
        char cur_prepaid[4];
        known = amount_value(amount_node(totals, names->grand, out->currency), out->currency,
                             &grand, cur) &&
                amount_value(amount_node(totals, names->prepaid, out->currency),
                             out->currency, &prepaid, cur_prepaid) &&
                strcmp(cur, cur_prepaid) == 0;
        value = known ? grand - prepaid : 0;
    }
    if (!known)
        return;
    set_currency(out, cur);
    if (value < 0)
        *negative = TRUE;
    else
        out->amount_due_minor = value;
}

/* UNTDID 4461: 49 direct debit, 59 SEPA direct debit — the payee collects by itself. */
static void note_payment_means(invoice_data *out, const xmlNode *code)
{
    char *text = node_text(code);
    if (text && (strcmp(text, "49") == 0 || strcmp(text, "59") == 0))
        out->direct_debit = TRUE;
    g_free(text);
}

static void note_iban(invoice_data *out, const xmlNode *id)
{
    if (!out->seller_iban)
        out->seller_iban = iban_or_null(node_text(id));
}

/* ---- CII ---- */

static char *cii_buyer_email(const xmlNode *buyer)
{
    for (xmlNode *u = child(buyer, "URIUniversalCommunication"); u; u = next_same(u)) {
        xmlNode *id = child(u, "URIID");
        const char *scheme = attr(id, "schemeID");
        char *email = scheme && strcmp(scheme, "EM") == 0 ? email_or_null(node_text(id)) : NULL;
        if (email)
            return email;
    }
    for (xmlNode *c = child(buyer, "DefinedTradeContact"); c; c = next_same(c)) {
        char *email = email_or_null(path_text(c, "EmailURIUniversalCommunication/URIID"));
        if (email)
            return email;
    }
    return NULL;
}

static void cii_fill(const xmlNode *root, const cii_layout *l, invoice_data *out,
                     gboolean *negative)
{
    xmlNode *doc = child(root, l->document);
    out->number = path_text(doc, "ID");
    out->type_code = type_code_or_null(path_text(doc, "TypeCode"));
    cii_date(path(doc, "IssueDateTime/DateTimeString"), out->issue_date);

    xmlNode *tx = child(root, l->transaction);
    xmlNode *agreement = child(tx, l->agreement);
    xmlNode *buyer = child(agreement, "BuyerTradeParty");
    out->seller_name = path_text(agreement, "SellerTradeParty/Name");
    out->buyer_name = path_text(buyer, "Name");
    out->buyer_email = cii_buyer_email(buyer);

    xmlNode *settlement = child(tx, l->settlement);
    char *currency = path_text(settlement, "InvoiceCurrencyCode");
    set_currency(out, currency);
    g_free(currency);
    for (xmlNode *m = child(settlement, "SpecifiedTradeSettlementPaymentMeans"); m;
         m = next_same(m)) {
        note_payment_means(out, child(m, "TypeCode"));
        note_iban(out, path(m, "PayeePartyCreditorFinancialAccount/IBANID"));
    }
    for (xmlNode *t = child(settlement, "SpecifiedTradePaymentTerms"); t; t = next_same(t)) {
        char due[11];
        if (cii_date(path(t, "DueDateDateTime/DateTimeString"), due))
            keep_latest(out->due_date, due);
    }
    set_amount_due(out, child(settlement, l->summation), &cii_totals, negative);
}

/* ---- UBL ---- */

static char *ubl_party_name(const xmlNode *party)
{
    char *name = path_text(party, "PartyLegalEntity/RegistrationName");
    return name ? name : path_text(party, "PartyName/Name");
}

static char *ubl_buyer_email(const xmlNode *party)
{
    xmlNode *endpoint = child(party, "EndpointID");
    const char *scheme = attr(endpoint, "schemeID");
    char *email = scheme && strcmp(scheme, "EM") == 0 ? email_or_null(node_text(endpoint))
                                                       : NULL;
    return email ? email : email_or_null(path_text(party, "Contact/ElectronicMail"));
}

static void ubl_fill(const xmlNode *root, gboolean credit_note, invoice_data *out,
                     gboolean *negative)
{
    out->number = path_text(root, "ID");
    out->type_code = type_code_or_null(
        path_text(root, credit_note ? "CreditNoteTypeCode" : "InvoiceTypeCode"));
    if (!out->type_code && credit_note)
        out->type_code = g_strdup("381");
    ubl_date(child(root, "IssueDate"), out->issue_date);
    ubl_date(child(root, "DueDate"), out->due_date);
    char *currency = path_text(root, "DocumentCurrencyCode");
    set_currency(out, currency);
    g_free(currency);

    xmlNode *buyer = path(root, "AccountingCustomerParty/Party");
    out->seller_name = ubl_party_name(path(root, "AccountingSupplierParty/Party"));
    out->buyer_name = ubl_party_name(buyer);
    out->buyer_email = ubl_buyer_email(buyer);

    gboolean due_in_header = out->due_date[0] != '\0';
    for (xmlNode *m = child(root, "PaymentMeans"); m; m = next_same(m)) {
        char due[11];
        note_payment_means(out, child(m, "PaymentMeansCode"));
        note_iban(out, path(m, "PayeeFinancialAccount/ID"));
        if (!due_in_header && ubl_date(child(m, "PaymentDueDate"), due))
            keep_latest(out->due_date, due);
    }
    set_amount_due(out, child(root, "LegalMonetaryTotal"), &ubl_totals, negative);
}

/* ---- document ---- */

static doc_kind root_kind(const xmlNode *root)
{
    const char *ns = root->ns && root->ns->href ? (const char *)root->ns->href : "";
    const char *name = (const char *)root->name;
    if (strcmp(name, "CrossIndustryInvoice") == 0 &&
        g_str_has_prefix(ns, "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:"))
        return DOC_CII;
    if (strcmp(name, "CrossIndustryDocument") == 0 &&
        g_str_has_prefix(ns, "urn:ferd:CrossIndustryDocument:invoice:"))
        return DOC_ZUGFERD1;
    if (strcmp(name, "Invoice") == 0 &&
        strcmp(ns, "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2") == 0)
        return DOC_UBL_INVOICE;
    if (strcmp(name, "CreditNote") == 0 &&
        strcmp(ns, "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2") == 0)
        return DOC_UBL_CREDIT_NOTE;
    return DOC_OTHER;   /* Order-X, CrossIndustryOrder, anything else */
}

/*
 * Some generators declare a bogus encoding name ("UTF-8_W/O_BOM"); when the bytes are valid
 * UTF-8 a second read forcing UTF-8 recovers the document.
 */
static xmlDoc *read_xml(const char *xml, size_t len)
{
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL, options);
    if (!doc && g_utf8_validate(xml, (gssize)len, NULL))
        doc = xmlReadMemory(xml, (int)len, NULL, "UTF-8", options | XML_PARSE_IGNORE_ENC);
    if (doc && (doc->intSubset || doc->extSubset)) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    return doc;
}

gboolean einvoice_parse(const char *xml, size_t len, invoice_data *out)
{
    invoice_data_init(out);
    if (!xml || len == 0 || len > EINVOICE_MAX_XML || memmem(xml, len, "<!DOCTYPE", 9))
        return FALSE;
    xmlDoc *doc = read_xml(xml, len);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    doc_kind kind = root ? root_kind(root) : DOC_OTHER;
    gboolean negative = FALSE;
    switch (kind) {
    case DOC_CII:             cii_fill(root, &cii_d16b, out, &negative); break;
    case DOC_ZUGFERD1:        cii_fill(root, &cii_zugferd1, out, &negative); break;
    case DOC_UBL_INVOICE:     ubl_fill(root, FALSE, out, &negative); break;
    case DOC_UBL_CREDIT_NOTE: ubl_fill(root, TRUE, out, &negative); break;
    case DOC_OTHER:           break;
    }
    if (doc)
        xmlFreeDoc(doc);
    if (kind == DOC_OTHER)
        return FALSE;
    out->invoice = TRUE;
    out->source = kind == DOC_UBL_INVOICE || kind == DOC_UBL_CREDIT_NOTE ? INVOICE_SRC_UBL
                                                                          : INVOICE_SRC_CII;
    invoice_finish(out);
    if (negative && g_strcmp0(out->reason, "amount due not found") == 0)
        invoice_set_reason(out, "negative amount due (a credit)");
    return TRUE;
}
