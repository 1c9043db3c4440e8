/*
 * test_textscan — invoice heuristics on text: French and English snippets and whole pages
 * (tests/fixtures/text/, in pdftotext and poppler layouts), the traps (deposit, credit
 * note, quote, direct debit, stacked table columns, ambiguous amounts), subjects, hostile
 * input, and the corpus PDFs when present (text through poppler-glib).
 */
#include <check.h>
#include <poppler.h>
#include <string.h>

#include "money.h"
#include "testutil.h"
#include "textscan.h"

#define FIXTURES "tests/fixtures/text/"
#define NONE ((gint64)-1)

/* What a scan must give; NULL strings must come out NULL or empty. */
typedef struct {
    const char *name;
    const char *text;
    gboolean invoice;
    gboolean payable;
    const char *number;
    gint64 amount;
    const char *currency;
    const char *issue;
    const char *due;
    const char *type;
    gboolean direct_debit;
    const char *iban;
} expect;

static void str_is(const char *name, const char *field, const char *got, const char *want)
{
    if (!want)
        ck_assert_msg(!got || !*got, "%s: %s = \"%s\", want none", name, field, got);
    else
        ck_assert_msg(got && strcmp(got, want) == 0, "%s: %s = \"%s\", want \"%s\"", name,
                      field, got ? got : "(null)", want);
}

static void check_result(const expect *e, const invoice_data *d, gboolean returned)
{
    ck_assert_msg(returned == d->invoice, "%s: return value differs from ->invoice", e->name);
    ck_assert_msg(d->invoice == e->invoice, "%s: invoice = %d (reason %s)", e->name, d->invoice,
                  d->reason);
    ck_assert_msg(d->payable == e->payable, "%s: payable = %d (reason %s)", e->name, d->payable,
                  d->reason);
    ck_assert_msg(d->payable == (d->reason == NULL), "%s: reason iff not payable", e->name);
    ck_assert_msg(d->source == INVOICE_SRC_PDFTEXT, "%s: source touched", e->name);
    if (!e->invoice)
        return;
    str_is(e->name, "number", d->number, e->number);
    ck_assert_msg(d->amount_due_minor == e->amount, "%s: amount %" G_GINT64_FORMAT
                  ", want %" G_GINT64_FORMAT, e->name, d->amount_due_minor, e->amount);
    str_is(e->name, "currency", d->currency, e->currency);
    str_is(e->name, "issue_date", d->issue_date, e->issue);
    str_is(e->name, "due_date", d->due_date, e->due);
    str_is(e->name, "type_code", d->type_code, e->type);
    ck_assert_msg(d->direct_debit == e->direct_debit, "%s: direct_debit = %d", e->name,
                  d->direct_debit);
    str_is(e->name, "seller_iban", d->seller_iban, e->iban);
    ck_assert_msg(!d->buyer_email, "%s: buyer email from text", e->name);
}

static void check_document(const expect *e, const char *text)
{
    invoice_data d;
    invoice_data_init(&d);
    d.source = INVOICE_SRC_PDFTEXT;   /* the caller's: must survive */
    d.number = g_strdup("stale");     /* earlier content: must be replaced */
    gboolean r = textscan_document(text, &d);
    check_result(e, &d, r);
    invoice_data_clear(&d);
}

static void check_subject(const expect *e)
{
    invoice_data d;
    invoice_data_init(&d);
    d.source = INVOICE_SRC_PDFTEXT;
    gboolean r = textscan_subject(e->text, &d);
    check_result(e, &d, r);
    invoice_data_clear(&d);
}

/* ---- snippets ---------------------------------------------------------------------- */

static const expect snippets[] = {
    { "deposit deducted: net a payer wins",
      "FACTURE N° F-2024-001\nDate : 12/03/2024\nTotal HT 1 000,00 €\nTVA 200,00 €\n"
      "Total TTC 1 200,00 €\nAcompte versé 200,00 €\nNet à payer 1 000,00 €\n",
      TRUE, TRUE, "F-2024-001", 100000, "EUR", "2024-03-12", NULL, "380", FALSE, NULL },
    { "brief trap without currency on amounts",
      "Facture n° 12\nTotal HT 1 000,00\nTVA 200,00\nTotal TTC 1 200,00\n"
      "Acompte versé 200,00\nNet à payer 1 000,00\nMontants en €\n",
      TRUE, TRUE, "12", 100000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "credit note title",
      "Avoir n° A-12\nDate : 02/04/2024\nTotal TTC 120,00 €\n",
      TRUE, FALSE, "A-12", 12000, "EUR", "2024-04-02", NULL, "381", FALSE, NULL },
    { "facture d'avoir",
      "FACTURE D'AVOIR N° 3\nTotal TTC 50,00 €\n",
      TRUE, FALSE, "3", 5000, "EUR", NULL, NULL, "381", FALSE, NULL },
    { "credit note in English",
      "Credit Note CN-5\nTotal: $10.00\n",
      TRUE, FALSE, "CN-5", 1000, "USD", NULL, NULL, "381", FALSE, NULL },
    { "sera preleve",
      "Facture n° 2024-031\nMontant total 500,00 €\nLe montant sera prélevé le 15/04/2024.\n",
      TRUE, FALSE, "2024-031", 50000, "EUR", NULL, NULL, "380", TRUE, NULL },
    { "direct debit in English",
      "Invoice No. 8\nTotal: £20.00\nPaid by Direct Debit on 1 May 2024\n",
      TRUE, FALSE, "8", 2000, "GBP", NULL, NULL, "380", TRUE, NULL },
    { "quote", "Devis n° 12\nDate : 01/03/2024\nTotal TTC 1 200,00 €\nBon pour accord\n",
      FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    { "quote with facture later",
      "DEVIS\nN° D-7\nTotal TTC 900,00 €\nLa facture sera émise à la livraison.\n"
      "Facture : 30 % à la commande\n",
      FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    { "pro forma", "Facture proforma n° 7\nTotal TTC 100,00 €\n",
      FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    { "not an invoice",
      "Relevé d'activité\nCeci n'est pas une facture.\nFacture n° 4 à venir\nTotal 10,00 €\n",
      FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    { "accents lost", "Facture N°: 2024/17\nNet a payer : 450,00 EUR\nEcheance : 12/04/2024\n",
      TRUE, TRUE, "2024/17", 45000, "EUR", NULL, "2024-04-12", "380", FALSE, NULL },
    { "number label, value on the next line",
      "N° de facture : FA123\nTotal TTC\n1 234,56 €\nReste à payer\n1 234,56 €\n",
      TRUE, TRUE, "FA123", 123456, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "invoice number label",
      "Invoice number: 42\nTotal: €99.00\n",
      TRUE, TRUE, "42", 9900, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "amount due and pay by",
      "Invoice No. 7\nAmount due: £45.50\nPlease pay by 1 May 2024\n",
      TRUE, TRUE, "7", 4550, "GBP", NULL, "2024-05-01", "380", FALSE, NULL },
    { "solde du", "Facture n° 40\nTotal TTC 300,00 €\nSolde dû : 250,00 €\n",
      TRUE, TRUE, "40", 25000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "reste a payer", "Facture n° 41\nTotal TTC : 300,00 €\nReste à payer : 120,50 €\n",
      TRUE, TRUE, "41", 12050, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "total due", "Invoice #INV-001\nTotal: $80.00\nTotal due: $75.00\n",
      TRUE, TRUE, "INV-001", 7500, "USD", NULL, NULL, "380", FALSE, NULL },
    { "prelevement SEPA",
      "Facture n° 42\nNet à payer 30,00 €\nMode de paiement : prélèvement SEPA\n",
      TRUE, FALSE, "42", 3000, "EUR", NULL, NULL, "380", TRUE, NULL },
    { "two strong amounts disagree",
      "Facture n° 5\nNet à payer 100,00 €\nMontant dû 120,00 €\n",
      TRUE, FALSE, "5", NONE, NULL, NULL, NULL, "380", FALSE, NULL },
    { "two strong amounts agree",
      "Facture n° 5\nNet à payer 100,00 €\nMontant dû : 100,00 EUR\n",
      TRUE, TRUE, "5", 10000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "two totals disagree",
      "Facture n° 6\nTotal TTC 100,00 €\nTotal 120,00 €\n",
      TRUE, FALSE, "6", NONE, NULL, NULL, NULL, "380", FALSE, NULL },
    { "total with a deposit mentioned",
      "Facture n° 8\nTotal TTC 1 200,00 €\nAcompte de 30 % à la commande\n",
      TRUE, FALSE, "8", NONE, NULL, NULL, NULL, "380", FALSE, NULL },
    { "net a payer with a date under it",
      "Facture n° 9\nTotal TTC 500,00 €\nNET A PAYER\n30/01/2019\nMontant TVA\n",
      TRUE, FALSE, "9", NONE, NULL, NULL, NULL, "380", FALSE, NULL },
    { "stacked labels (pdftotext)",
      "Facture n° 10\nLigne 1 100,00 €\nTotal HT\nTVA 20%\nTotal TTC\n1 000,00 €\n200,00 €\n"
      "1 200,00 €\n",
      TRUE, FALSE, "10", NONE, NULL, NULL, NULL, "380", FALSE, NULL },
    { "stacked labels (poppler)",
      "Facture n° 11\nTotal HT\nTVA 20%\nTotal TTC1 000,00 €\n200,00 €\n1 200,00 €\n",
      TRUE, FALSE, "11", NONE, NULL, NULL, NULL, "380", FALSE, NULL },
    { "glued values (poppler)",
      "Facture FA-2017-0010\nDate de facture13/11/2017\nTotal HT624,90 €\nTotal taxes46,25 €\n"
      "Total TTC671,15 €\nSolde à payer470,15 €\n201,00 €\n",
      TRUE, TRUE, "FA-2017-0010", 47015, "EUR", "2017-11-13", NULL, "380", FALSE, NULL },
    { "currency from the text",
      "Facture n° 13\nTotal TTC : 1 500,00\nIndemnité forfaitaire de recouvrement : 40 €\n",
      TRUE, TRUE, "13", 150000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "no currency anywhere", "Facture n° 14\nTotal TTC : 1 500,00\n",
      TRUE, FALSE, "14", 150000, NULL, NULL, NULL, "380", FALSE, NULL },
    { "two currencies mentioned",
      "Facture n° 15\nTotal TTC : 1 500,00\nTaux : 1 USD = 0,92 €\n",
      TRUE, FALSE, "15", 150000, NULL, NULL, NULL, "380", FALSE, NULL },
    { "TTC alone is not euros", "Facture n° 16\nTotal TTC : 1 500,00 TTC\n",
      TRUE, FALSE, "16", 150000, NULL, NULL, NULL, "380", FALSE, NULL },
    { "sous-total", "Facture n° 16\nSous-total 100,00 €\nSous total 100,00 €\nTotal 120,00 €\n",
      TRUE, TRUE, "16", 12000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "total before tax",
      "Facture n° 17\nTotal 1 000,00 € HT\nTotal TTC 1 200,00 €\n",
      TRUE, TRUE, "17", 120000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "net total and tax total",
      "Invoice 2024-5\nNet total 100.00 €\nTax total 20.00 €\nTotal 120.00 €\n",
      TRUE, TRUE, "2024-5", 12000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "solde 30 jours",
      "Facture n° 18\nSolde dû 30 jours fin de mois\nTotal TTC 300,00 €\n",
      TRUE, TRUE, "18", 30000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "bare total ending its line",
      "Facture n° 19\nTotal : 1200\nEn euros\n",
      TRUE, TRUE, "19", 120000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "avoir as a verb",
      "Facture n° 19\nVous devez avoir 2 exemplaires.\nNet à payer 10,00 €\n",
      TRUE, TRUE, "19", 1000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "negative amount due", "Facture n° 20\nNet à payer -50,00 €\n",
      TRUE, FALSE, "20", 0, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "dot leaders", "Facture n° 21\nNet à payer ............ 75,00 €\n",
      TRUE, TRUE, "21", 7500, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "currency in the label",
      "Facture n° 22\nTVA 20,00\nTotal TTC (EUR)\n120,00\n",
      TRUE, TRUE, "22", 12000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "issue date after the number",
      "Facture n° F-2024-001 du 12/03/2024\nNet à payer : 80,00 €\n",
      TRUE, TRUE, "F-2024-001", 8000, "EUR", "2024-03-12", NULL, "380", FALSE, NULL },
    { "French dates in words",
      "Facture n° 23\nDate de facture : 1er mars 2024\nDate d’échéance : 15 avril 2024\n"
      "À payer : 10,00 €\n",
      TRUE, TRUE, "23", 1000, "EUR", "2024-03-01", "2024-04-15", "380", FALSE, NULL },
    { "payable avant le",
      "Facture n° 24\nNet à payer 10,00 €\nPayable avant le 12 avril 2024\n",
      TRUE, TRUE, "24", 1000, "EUR", NULL, "2024-04-12", "380", FALSE, NULL },
    { "two-digit year and generic date",
      "Facture n° 25\nDate : 05.03.24\nÉchéance le 04/04/2024\nNet à payer 10,00 €\n",
      TRUE, TRUE, "25", 1000, "EUR", "2024-03-05", "2024-04-04", "380", FALSE, NULL },
    { "impossible dates",
      "Facture n° 26\nDate : 31/02/2024\nÉchéance : 12/13/2024\nNet à payer 10,00 €\n",
      TRUE, TRUE, "26", 1000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "IBAN",
      "Facture n° 27\nNet à payer 10,00 €\nIBAN : FR76 3000 6000 0112 3456 7890 189\nBIC : AGRIFRPP\n",
      TRUE, TRUE, "27", 1000, "EUR", NULL, NULL, "380", FALSE, "FR7630006000011234567890189" },
    { "IBAN in one block then BIC",
      "Facture n° 28\nNet à payer 10,00 €\nIBAN FR7630006000011234567890189 BIC AGRIFRPP\n",
      TRUE, TRUE, "28", 1000, "EUR", NULL, NULL, "380", FALSE, "FR7630006000011234567890189" },
    { "IBAN with a bad check digit",
      "Facture n° 29\nNet à payer 10,00 €\nIBAN : FR76 3000 6000 0112 3456 7890 188\n",
      TRUE, TRUE, "29", 1000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "masked IBAN then the real one",
      "Facture n° 30\nNet à payer 10,00 €\nIBAN : DE54 5004 **** **** **** 00\n"
      "IBAN : DE89 3704 0044 0532 0130 00\n",
      TRUE, TRUE, "30", 1000, "EUR", NULL, NULL, "380", FALSE, "DE89370400440532013000" },
    { "German",
      "Rechnung R0005532486\nRechnungsdatum: 19.01.2016\nBrutto 104,00 €\n"
      "Zahlungsart: Bankeinzug\nFälligkeitsdatum: 22.01.2016\n",
      TRUE, FALSE, "R0005532486", 10400, "EUR", "2016-01-19", "2016-01-22", "380", TRUE,
      NULL },
    { "JPY amount with its code", "Invoice #J-1\nTotal: JPY 12,000\n",
      TRUE, TRUE, "J-1", 12000, "JPY", NULL, NULL, "380", FALSE, NULL },
    { "bare amount in a JPY text", "Invoice #J-2\nCurrency: JPY\nTotal: 12 000\n",
      TRUE, FALSE, "J-2", NONE, NULL, NULL, NULL, "380", FALSE, NULL },
    { "invoice without number", "FACTURE\nNet à payer 10,00 €\n",
      TRUE, FALSE, NULL, 1000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "date is not a number", "Date de facture\n13/11/2017\nFacture à régler par virement\n",
      TRUE, FALSE, NULL, NONE, NULL, "2017-11-13", NULL, "380", FALSE, NULL },
    { "number marker on its own line", "FACTURE N° :\n\nF20180027\n\nDate :\n\n31/12/2018\n",
      TRUE, FALSE, "F20180027", NONE, NULL, "2018-12-31", NULL, "380", FALSE, NULL },
    { "ligatures and NBSP",
      "Facture n\xc2\xb0\xc2\xa0" "31\nNet \xc3\xa0 payer\xc2\xa0:\xc2\xa0" "1\xe2\x80\xaf" "250,00\xc2\xa0\xe2\x82\xac\n"
      "Mode de r\xc3\xa8glement : virement, pas de \xef\xac\x81nancement\n",
      TRUE, TRUE, "31", 125000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "meeting notes",
      "Bonjour,\nVoici le compte rendu de la réunion du 12/03/2024.\nTotal des participants : 12\n",
      FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    { "delivery note", "Bon de livraison n° 45\nCette livraison sera facturée en fin de mois.\n",
      FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    { "empty", "", FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
};

START_TEST(test_snippets)
{
    check_document(&snippets[_i], snippets[_i].text);
}
END_TEST

/* ---- whole pages ------------------------------------------------------------------- */

static const expect pages[] = {
    { "facture_plombier_pdftotext.txt", NULL, TRUE, TRUE, "F-2024-0042", 89900, "EUR",
      "2024-03-14", "2024-04-13", "380", FALSE, "FR7630006000011234567890189" },
    { "facture_plombier_poppler.txt", NULL, TRUE, TRUE, "F-2024-0042", 89900, "EUR",
      "2024-03-14", "2024-04-13", "380", FALSE, "FR7630006000011234567890189" },
    { "invoice_consultant_en.txt", NULL, TRUE, TRUE, "INV-2024-007", 150000, "USD",
      "2024-03-12", "2024-04-11", "380", FALSE, NULL },
    { "devis_menuisier.txt", NULL, FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE,
      NULL },
    { "avoir_electricien.txt", NULL, TRUE, FALSE, "AV-2024-003", 0, "EUR", "2024-03-20", NULL,
      "381", FALSE, NULL },
    { "facture_abonnement_prelevement.txt", NULL, TRUE, FALSE, "JC-2024-118", 15000, "EUR",
      "2024-04-01", NULL, "380", TRUE, NULL },
    { "facture_colonnes_empilees.txt", NULL, TRUE, FALSE, "PL-88", NONE, NULL, "2024-03-05",
      NULL, "380", FALSE, NULL },
};

START_TEST(test_page)
{
    const expect *e = &pages[_i];
    char *path = g_strconcat(FIXTURES, e->name, NULL);
    char *text = read_file_or_die(path, NULL);
    check_document(e, text);
    g_free(text);
    g_free(path);
}
END_TEST

/* ---- subjects ----------------------------------------------------------------------- */

static const expect subjects[] = {
    { "s1", "Facture F-2024-001", TRUE, FALSE, "F-2024-001", NONE, NULL, NULL, NULL, "380",
      FALSE, NULL },
    { "s2", "Facture n° 123 - 1 234,56 €", TRUE, TRUE, "123", 123456, "EUR", NULL, NULL, "380",
      FALSE, NULL },
    { "s3", "Invoice INV-9 for $120.00", TRUE, TRUE, "INV-9", 12000, "USD", NULL, NULL, "380",
      FALSE, NULL },
    { "s4", "Votre facture 2024-17 (450,00 € TTC)", TRUE, TRUE, "2024-17", 45000, "EUR", NULL,
      NULL, "380", FALSE, NULL },
    { "s5", "Re: Fwd: Facture n° 77 \xe2\x80\x93 99,90 €", TRUE, TRUE, "77", 9990, "EUR", NULL,
      NULL, "380", FALSE, NULL },
    { "s6", "TR: Avoir n° 12", TRUE, FALSE, "12", NONE, NULL, NULL, NULL, "381", FALSE, NULL },
    { "s7", "Avoir", TRUE, FALSE, NULL, NONE, NULL, NULL, NULL, "381", FALSE, NULL },
    { "s8", "RE : Avoir", TRUE, FALSE, NULL, NONE, NULL, NULL, NULL, "381", FALSE, NULL },
    { "s9", "Votre avoir AV-2024-3 - 40,00 €", TRUE, FALSE, "AV-2024-3", 4000, "EUR", NULL,
      NULL, "381", FALSE, NULL },
    { "s10", "Je voudrais avoir 2 factures", FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL,
      FALSE, NULL },
    { "s11", "Devis n° 12 - 450,00 €", FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE,
      NULL },
    { "s12", "Facture proforma 12 - 100,00 €", FALSE, FALSE, NULL, NONE, NULL, NULL, NULL,
      NULL, FALSE, NULL },
    { "s13", "Facture n° 5 - 1 000,00 € HT - 1 200,00 € TTC", TRUE, TRUE, "5", 120000, "EUR",
      NULL, NULL, "380", FALSE, NULL },
    { "s14", "Facture n° 5 : 100,00 € ou 120,00 €", TRUE, FALSE, "5", NONE, NULL, NULL, NULL,
      "380", FALSE, NULL },
    { "s15", "Réunion de lundi", FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    { "s16", "Votre facture de mars", TRUE, FALSE, NULL, NONE, NULL, NULL, NULL, "380", FALSE,
      NULL },
    { "s17", "Facture 2024-03-001 : 80 € à régler par prélèvement", TRUE, FALSE, "2024-03-001",
      8000, "EUR", NULL, NULL, "380", TRUE, NULL },
    { "s18", "Invoice 120 €", TRUE, FALSE, NULL, 12000, "EUR", NULL, NULL, "380", FALSE, NULL },
    { "s19", "Facture n° 9 du 12/03/2024 - 60,00 EUR", TRUE, TRUE, "9", 6000, "EUR",
      "2024-03-12", NULL, "380", FALSE, NULL },
    { "s20", "FACTURE N°A12 - 1.234,56 EUR", TRUE, TRUE, "A12", 123456, "EUR", NULL, NULL, "380",
      FALSE, NULL },
    { "s21", "Facture 12 montant 45 euros", TRUE, TRUE, "12", 4500, "EUR", NULL, NULL, "380",
      FALSE, NULL },
    { "s22", "Facture n° 3 - 15,00", TRUE, FALSE, "3", NONE, NULL, NULL, NULL, "380", FALSE,
      NULL },
    { "s23", "", FALSE, FALSE, NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
};

START_TEST(test_subject)
{
    check_subject(&subjects[_i]);
}
END_TEST

START_TEST(test_null_inputs)
{
    invoice_data d;
    invoice_data_init(&d);
    ck_assert(!textscan_document(NULL, &d));
    ck_assert(!d.invoice && !d.payable && d.reason);
    ck_assert(!textscan_subject(NULL, &d));
    ck_assert(!d.invoice && !d.payable && d.reason);
    invoice_data_clear(&d);
}
END_TEST

/* ---- hostile input ------------------------------------------------------------------- */

static void scan_both(const char *text)
{
    invoice_data d;
    invoice_data_init(&d);
    (void)textscan_document(text, &d);
    (void)textscan_subject(text, &d);
    invoice_data_clear(&d);
}

/* Repeats unit up to about n bytes. */
static char *repeat(const char *unit, size_t n)
{
    GString *s = g_string_sized_new(n + strlen(unit));
    while (s->len < n)
        g_string_append(s, unit);
    return g_string_free(s, FALSE);
}

START_TEST(test_hostile)
{
    /* random bytes, invalid UTF-8 everywhere */
    GRand *rand = g_rand_new_with_seed(42);
    char *junk = g_malloc(2 << 20);
    for (size_t i = 0; i + 1 < (2u << 20); i++)
        junk[i] = (char)(g_rand_int_range(rand, 1, 256));
    junk[(2 << 20) - 1] = '\0';
    scan_both(junk);
    g_free(junk);
    g_rand_free(rand);

    /* label and value floods, with and without lines: bounded work */
    static const char *const units[] = {
        "Total 1,00 €\n", "Net à payer ", "a payer1", "Facture n° ", "Total\n", "IBAN FR76 ",
        "Date : 12/03/2024 ", "1 234 ", "€", "Échéance\n", "avoir 1 ", "Devis\n", "\xc3",
        "Net à payer\n1,00 €\n", "Total\n1,00 €\nTVA\n", "\n", " ",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
        char *flood = repeat(units[i], 3u << 20);  /* past the 1 MB cap */
        gint64 start = g_get_monotonic_time();
        scan_both(flood);
        ck_assert_msg(g_get_monotonic_time() - start < 20 * G_USEC_PER_SEC,
                      "flood of \"%s\" too slow", units[i]);
        g_free(flood);
    }

    /* every byte value, and UTF-8 cut at the end */
    char all[256];
    for (int c = 1; c < 256; c++)
        all[c - 1] = (char)c;
    all[255] = '\0';
    scan_both(all);
    scan_both("Net à payer 12,50 \xe2\x82");
    scan_both("Facture n\xc2");
    scan_both("IBAN");
    scan_both("Total");
    scan_both("N");
}
END_TEST

START_TEST(test_text_cap)
{
    /* what lies past the first megabyte is not read */
    char *filler = repeat("Lorem ipsum dolor sit amet.\n", 1u << 20);
    char *text = g_strconcat("FACTURE N° F-1\n", filler, "Net à payer 10,00 €\n", NULL);
    invoice_data d;
    invoice_data_init(&d);
    ck_assert(textscan_document(text, &d));
    ck_assert_int_eq(d.amount_due_minor, -1);
    invoice_data_clear(&d);
    g_free(text);
    g_free(filler);
}
END_TEST

/* ---- corpus: real PDFs through poppler --------------------------------------------- */

static char *pdf_text(const char *path)
{
    char *data;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return NULL;
    GBytes *bytes = g_bytes_new_take(data, len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, NULL);
    GString *out = g_string_new(NULL);
    for (int p = 0; doc && p < poppler_document_get_n_pages(doc) && p < 3; p++) {
        PopplerPage *page = poppler_document_get_page(doc, p);
        char *t = page ? poppler_page_get_text(page) : NULL;
        if (t)
            g_string_append_printf(out, "%s\n\f", t);
        g_free(t);
        if (page)
            g_object_unref(page);
    }
    if (doc)
        g_object_unref(doc);
    g_bytes_unref(bytes);
    return g_string_free(out, FALSE);
}

static const expect corpus_cases[] = {
    { "facturx/pdf/zfcorpus__FNFE_Facture_FR_BASIC.pdf", NULL, TRUE, TRUE, "FA-2017-0010",
      47015, "EUR", "2017-11-13", "2017-12-13", "380", FALSE, "FR2012421242124212421242124" },
    { "facturx/pdf/zfcorpus__FNFE_Facture_DOM_MINIMUM.pdf", NULL, TRUE, TRUE, "FA-2017-0009",
      38375, "EUR", "2017-11-05", "2017-12-05", "380", FALSE, "FR2012421242124212421242124" },
    { "facturx/pdf/zfcorpus__FNFE_Facture_UE_BASICWL.pdf", NULL, TRUE, TRUE, "FA-2017-0008",
      145376, "EUR", "2017-03-11", "2017-03-12", "380", FALSE, "FR2012421242124212421242124" },
    { "facturx/pdf/zfcorpus__FNFE_Avoir_FR_type381_BASIC.pdf", NULL, TRUE, FALSE, "AV-2017-0005",
      0, "EUR", "2017-11-16", "2017-11-16", "381", FALSE, NULL },
    /* "NET A PAYER" has a date under it, and a deposit: no amount rather than a guess */
    { "facturx/pdf/mustang__Facture_F20180027.pdf", NULL, TRUE, FALSE, "F20180027", NONE, NULL,
      "2018-12-31", NULL, "380", FALSE, NULL },
    { "facturx/pdf/zfcorpus__MustangGnuaccountingBeispielRE-20201121_508.pdf", NULL, TRUE, TRUE,
      "RE-20201121/508", 57104, "EUR", NULL, NULL, "380", FALSE, "DE88200800000970375700" },
    { "facturx/pdf-edge/zfcorpus__unstructured_Hetzner_invoice_no_xml.pdf", NULL, TRUE, FALSE,
      "R0005532486", 10400, "EUR", "2016-01-19", "2016-01-22", "380", TRUE,
      "DE92760700120750007700" },
    { "facturx/pdf-edge/mustang__ORDER-X_EX01_ORDER_FULL_DATA-COMFORT.pdf", NULL, FALSE, FALSE,
      NULL, NONE, NULL, NULL, NULL, NULL, FALSE, NULL },
    /* "Buchungshilfe - KEINE Rechnung" */
    { "facturx/pdf/zfcorpus__zugferd_2p0_MINIMUM.pdf", NULL, FALSE, FALSE, NULL, NONE, NULL,
      NULL, NULL, NULL, FALSE, NULL },
};

/* The corpus tests are registered only when the corpus is present. */
START_TEST(test_corpus)
{
    const expect *e = &corpus_cases[_i];
    char *path = corpus_path(e->name, NULL);
    char *text = pdf_text(path);
    ck_assert_msg(text, "%s unreadable", path);
    check_document(e, text);
    g_free(text);
    g_free(path);
}
END_TEST

/* Every corpus PDF: no crash, and an amount only together with a currency or a reason. */
START_TEST(test_corpus_sweep)
{
    static const char *const subdirs[] = { "facturx/pdf", "facturx/pdf-edge" };
    for (size_t s = 0; s < G_N_ELEMENTS(subdirs); s++) {
        char *sub = corpus_path(subdirs[s], NULL);
        GDir *d = g_dir_open(sub, 0, NULL);
        ck_assert_msg(d != NULL, "cannot open %s", sub);
        const char *name;
        while ((name = g_dir_read_name(d))) {
            char *path = g_build_filename(sub, name, NULL);
            char *text = pdf_text(path);
            invoice_data inv;
            invoice_data_init(&inv);
            (void)textscan_document(text ? text : "", &inv);
            ck_assert_msg(!inv.payable || (inv.amount_due_minor > 0 && inv.currency[0]
                                           && inv.number), "%s", name);
            invoice_data_clear(&inv);
            g_free(text);
            g_free(path);
        }
        g_dir_close(d);
        g_free(sub);
    }
}
END_TEST

static Suite *textscan_suite(void)
{
    Suite *s = suite_create("textscan");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_snippets, 0, G_N_ELEMENTS(snippets));
    tcase_add_loop_test(tc, test_page, 0, G_N_ELEMENTS(pages));
    tcase_add_loop_test(tc, test_subject, 0, G_N_ELEMENTS(subjects));
    tcase_add_test(tc, test_null_inputs);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_text_cap);
    if (corpus_present("test_textscan corpus PDFs and sweep")) {
        tcase_add_loop_test(tc, test_corpus, 0, G_N_ELEMENTS(corpus_cases));
        tcase_add_test(tc, test_corpus_sweep);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(textscan_suite());
    return failed == 0 ? 0 : 1;
}
