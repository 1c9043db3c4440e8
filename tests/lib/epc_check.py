#!/usr/bin/env python3
"""epc_check — validates an EPC QR payload (EPC069-12 "SEPA credit transfer" QR) as decoded by
zbarimg, against what the invoice says. Python 3 stdlib.

  epc_check.py PAYLOAD_FILE --bic B --name N --iban I --amount-minor 123450 [--page epc-page.json]

Checks: BCD / 002 / 1 (UTF-8) / SCT, the BIC, the beneficiary name, the IBAN (ISO 13616
check digits), "EUR<units>.<cents>", an empty purpose, an RF creditor reference (ISO 11649
check digits) and no unstructured text, the EPC length limits (331 bytes, 12 lines), and,
with --page, that the IBAN, BIC and reference printed on the page are the QR's.
Prints one line per problem and exits 1, or prints the reference and exits 0.
"""
import argparse
import json
import re
import sys


def mod97(s):
    """ISO 7064 MOD 97-10 over the "move 4 to the end, letters to numbers" form."""
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97


def iban_ok(iban):
    return re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban) is not None and mod97(iban) == 1


def rf_ok(ref):
    return re.fullmatch(r"RF\d{2}[A-Z0-9]{1,21}", ref) is not None and mod97(ref) == 1


def check(payload, a):
    problems = []
    if len(payload.encode()) > 331:
        problems.append("payload longer than 331 bytes")
    lines = payload.rstrip("\n").split("\n")
    if len(lines) > 12:
        problems.append("more than 12 lines")
    lines += [""] * (12 - len(lines))
    want = {0: "BCD", 1: "002", 2: "1", 3: "SCT", 4: a.bic, 5: a.name, 6: a.iban}
    names = {0: "service tag", 1: "version", 2: "character set", 3: "identification",
             4: "BIC", 5: "beneficiary name", 6: "IBAN"}
    for i, v in want.items():
        if lines[i] != v:
            problems.append("line %d (%s): %r, expected %r" % (i + 1, names[i], lines[i], v))
    if not iban_ok(lines[6]):
        problems.append("IBAN check digits invalid: %r" % lines[6])
    amount = "EUR%d.%02d" % (a.amount_minor // 100, a.amount_minor % 100)
    if lines[7] != amount:
        problems.append("line 8 (amount): %r, expected %r" % (lines[7], amount))
    if lines[8] != "":
        problems.append("line 9 (purpose) should be empty: %r" % lines[8])
    if not rf_ok(lines[9]):
        problems.append("line 10 (reference) is not a valid ISO 11649 RF reference: %r" % lines[9])
    if lines[10] != "":
        problems.append("line 11 (text) must be empty with a structured reference: %r" % lines[10])
    if a.page:
        with open(a.page, encoding="utf-8") as f:
            shown = json.load(f)
        pairs = (("IBAN", lines[6], lambda s: s.replace(" ", "")), ("BIC", lines[4], str),
                 ("Référence", lines[9], str), ("Bénéficiaire", lines[5], str))
        for label, qr_value, canon in pairs:
            if canon(shown.get(label, "")) != qr_value:
                problems.append("page shows %s %r, the QR says %r" % (label, shown.get(label),
                                                                       qr_value))
    return problems, lines[9]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("payload")
    ap.add_argument("--bic", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--iban", required=True)
    ap.add_argument("--amount-minor", type=int, required=True)
    ap.add_argument("--page")
    a = ap.parse_args()
    with open(a.payload, encoding="utf-8") as f:
        payload = f.read()
    problems, ref = check(payload, a)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
