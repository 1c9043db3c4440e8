#!/usr/bin/env python3
"""gateway.py — data and report for bench/gateway.sh (Python standard library only).

  gateway.py token KEYFILE ID
      the payment-link token of invoice ID, derived like lib/token.c: key id "."
      base64url(HMAC-SHA256(secret, "pay:" ID))[first 16 bytes], no padding.
  gateway.py invoices KEYFILE --artisan A --first ID --count N --copy FILE --paths FILE
      N invoices with ids ID.. as COPY text for "invoice" (columns: see COLUMNS) with their
      token_hash (sha256 hex of the token, as the database keeps it), and "/p/TOKEN" per line.
  gateway.py requests METHOD PREFIX [--suffix S] [--header H]... [--body B] < ids > requests.txt
      one request per line of input for bench/wrk-each.lua: METHOD PREFIX+line+S.
  gateway.py webhooks KIND PATH < psp-sim's /_sim/webhooks JSON > requests.txt
      the webhooks psp-sim kept but did not send (?silent=1) whose kind starts with KIND,
      as POSTs to PATH with psp-sim's own headers and body bytes (Stripe: signed by psp-sim).

  gateway.py report RESDIR OUT
      bench/out/gateway.md from the measurements gateway.sh left in RESDIR (see report()).

Request files (read by wrk-each.lua): one request a line, fields separated by tabs:
METHOD, PATH, headers ("Name: value" items separated by %0A), body; % \\t \\n \\r in the
header and body fields are %-escaped.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import sys

COLUMNS = ("id", "artisan_id", "number", "amount_due_minor", "currency", "issue_date",
           "due_date", "client_email", "recipients", "subject", "message_id", "source",
           "key_id", "token_hash", "status", "sent_at")


def read_key(path):
    """The current (first) key of a link key file: (id, secret)."""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                kid, secret = line.split()
                return kid, secret
    raise SystemExit("%s: no key" % path)


def token(kid, secret, invoice_id):
    mac = hmac.new(secret.encode(), b"pay:%d" % invoice_id, hashlib.sha256).digest()[:16]
    return kid + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def token_hash(tok):
    return hashlib.sha256(tok.encode()).hexdigest()


def copy_field(v):
    return "\\N" if v is None else str(v).replace("\\", "\\\\").replace("\t", "\\t") \
        .replace("\n", "\\n")


def cmd_invoices(a):
    kid, secret = read_key(a.keyfile)
    now = datetime.datetime.now(datetime.timezone.utc)
    with open(a.copy, "w") as cp, open(a.paths, "w") as paths:
        for i in range(a.first, a.first + a.count):
            tok = token(kid, secret, i)
            issue = datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 300)
            row = (i, a.artisan, "%s-%06d" % (a.prefix, i), 10000 + (i * 7919) % 500000, "EUR",
                   issue.isoformat(), (issue + datetime.timedelta(days=30)).isoformat(),
                   "client%d@example.test" % i, "{client%d@example.test}" % i,
                   "Facture %s-%06d" % (a.prefix, i), "bench.%d@artisan.test" % i, "facturx",
                   kid, token_hash(tok), "sent",
                   (now - datetime.timedelta(minutes=i % 10000)).isoformat())
            cp.write("\t".join(copy_field(v) for v in row) + "\n")
            paths.write("/p/%s\n" % tok)


def esc(s):
    return s.replace("%", "%25").replace("\t", "%09").replace("\n", "%0A").replace("\r", "%0D")


def request_line(method, path, headers, body):
    return "\t".join((method, path, esc("\n".join("%s: %s" % h for h in headers)), esc(body)))


def cmd_requests(a):
    for line in sys.stdin:
        if line.strip():
            print(request_line(a.method, a.prefix + line.strip() + a.suffix,
                               [tuple(h.split(": ", 1)) for h in a.header], a.body))


def cmd_webhooks(a):
    n = 0
    for w in json.load(sys.stdin):
        if w.get("error") != "not sent (silent)" or not w["kind"].startswith(a.kind):
            continue
        headers = [(k, v) for k, v in w["headers"].items() if k.lower() != "content-length"]
        print(request_line("POST", a.path, headers, w["body"]))
        n += 1
    if n == 0:
        raise SystemExit("no kept webhook of kind %s" % a.kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("token")
    p.add_argument("keyfile")
    p.add_argument("id", type=int)
    p = sub.add_parser("invoices")
    p.add_argument("keyfile")
    p.add_argument("--artisan", type=int, required=True)
    p.add_argument("--first", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--prefix", default="F-BENCH")
    p.add_argument("--copy", required=True)
    p.add_argument("--paths", required=True)
    p = sub.add_parser("requests")
    p.add_argument("method")
    p.add_argument("prefix")
    p.add_argument("--suffix", default="")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--body", default="")
    p = sub.add_parser("webhooks")
    p.add_argument("kind")
    p.add_argument("path")
    a = ap.parse_args()
    if a.cmd == "token":
        kid, secret = read_key(a.keyfile)
        print(token(kid, secret, a.id))
    else:
        {"invoices": cmd_invoices, "requests": cmd_requests, "webhooks": cmd_webhooks}[a.cmd](a)


if __name__ == "__main__":
    main()
