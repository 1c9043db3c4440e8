/*
 * textscan — heuristics for French and English invoices written as text: the PDF's text
 * and the subject. Labels such as "Net à payer", "Reste à payer", "Montant dû", "Total TTC",
 * "Amount due", "Balance due", "Total"; numbers "Facture n°", "Invoice #"; dates
 * "Échéance", "Due date"; credit notes ("Avoir", "Credit note"), direct debit
 * ("prélèvement"). The amount due wins over the gross total; when two candidates
 * disagree and none is clearly the amount due, nothing is guessed.
 */
#ifndef REGLO_TEXTSCAN_H
#define REGLO_TEXTSCAN_H

#include "invoice.h"

/* TRUE when text looks like an invoice; fills out (source left to the caller). */
gboolean textscan_document(const char *text, invoice_data *out);

/* Subject: "Facture n° F-2024-001 — 1 234,56 €"; TRUE when it names an invoice. */
gboolean textscan_subject(const char *subject, invoice_data *out);

#endif
