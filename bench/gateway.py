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
import os
import statistics
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


# ---- report ----------------------------------------------------------------------------------

TARGET_RATIO = 0.5
TARGET_P99_MS = 10.0
TARGET_CALLBACKS = 2000.0


def read_tsv(path, names):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [dict(zip(names, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def num(v, default=0.0):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def ms(us):
    return "%.2f" % (num(us) / 1000)


def rate(v):
    return "{:,.0f}".format(num(v))


def median(values):
    return statistics.median(values) if values else 0.0


def met(ok):
    return "**met**" if ok else "**not met**"


def page_section(meta, rows, batches, out):
    targets = []
    for r in rows:
        if r["target"] not in targets:
            targets.append(r["target"])
    label = {t: "nginx" if t == "nginx" else "gateway, %s threads" % t[2:] for t in targets}
    first = next((b for b in batches if b["name"] == "first-view"), None)
    out.append("### GET /p/{token}: reglo-gateway against nginx serving the same page")
    out.append("")
    out.append(
        "%s invoices in PostgreSQL: %s written by COPY with real link tokens and one recorded "
        "by `reglo rewrite`, whose link equals the token the benchmark computes (checked). "
        "`wrk -t2 -c%s -d%ss`, every request for a random one of the %s links. nginx "
        "(worker_processes auto, access_log off) answers every /p/* path with one saved copy "
        "of a real page (%s bytes). The runs rotate nginx / gateway sides, %s rounds." % (
            "{:,}".format(int(meta["invoices"]) + 1), "{:,}".format(int(meta["invoices"])),
            meta["conns"], meta["secs"], "{:,}".format(int(meta["invoices"]) + 1),
            meta.get("page_bytes", "?"), meta["rounds"]))
    out.append("")
    if first:
        out.append(
            "Before the runs, a first-view pass requested every page once (%s pages/s, 16 "
            "connections): a first view writes (viewed_at, status, one \"viewed\" event). So "
            "in the timed runs every page has been viewed: they measure the read path (one "
            "SELECT by token hash, the template rendered)." % rate(first["rate"]))
        out.append("")
    head = "| round |" + "".join(" %s req/s | p99 ms |" % label[t] for t in targets)
    out.append(head)
    out.append("|---|" + "---:|---:|" * len(targets))
    rounds = sorted({r["round"] for r in rows}, key=int)
    for rd in rounds:
        cells = []
        for t in targets:
            r = next((x for x in rows if x["round"] == rd and x["target"] == t), None)
            cells += [rate(r["rps"]), ms(r["p99_us"])] if r else ["", ""]
        out.append("| %s | %s |" % (rd, " | ".join(cells)))
    med = {}
    for t in targets:
        rs = [x for x in rows if x["target"] == t]
        n = sum(num(x["requests"]) for x in rs)
        med[t] = {
            "rps": median([num(x["rps"]) for x in rs]),
            "p50": median([num(x["p50_us"]) for x in rs]),
            "p99": median([num(x["p99_us"]) for x in rs]),
            "srv": sum(num(x["srv_ticks"]) for x in rs) * 10000 / n if n else 0,
            "pg": sum(num(x["pg_ticks"]) for x in rs) * 10000 / n if n else 0,
            "errors": sum(num(x["status_errors"]) + num(x["socket_errors"]) for x in rs),
        }
    out.append("| **median** | %s |" % " | ".join(
        c for t in targets for c in ("**%s**" % rate(med[t]["rps"]), "**%s**" % ms(med[t]["p99"]))))
    out.append("")
    nginx = med.get("nginx", {}).get("rps", 0)
    out.append("| | " + " | ".join(label[t] for t in targets) + " |")
    out.append("|---|" + "---:|" * len(targets))
    out.append("| req/s, median | " + " | ".join(rate(med[t]["rps"]) for t in targets) + " |")
    out.append("| ratio to nginx | " + " | ".join(
        "%.3f" % (med[t]["rps"] / nginx) if nginx else "?" for t in targets) + " |")
    out.append("| p50 / p99 ms, median | " + " | ".join(
        "%s / %s" % (ms(med[t]["p50"]), ms(med[t]["p99"])) for t in targets) + " |")
    out.append("| CPU µs per request: server | " + " | ".join(
        "%.0f" % med[t]["srv"] for t in targets) + " |")
    out.append("| CPU µs per request: PostgreSQL | " + " | ".join(
        "%.0f" % med[t]["pg"] for t in targets) + " |")
    out.append("| errors (status, socket) | " + " | ".join(
        "%d" % med[t]["errors"] for t in targets) + " |")
    out.append("")
    gws = [t for t in targets if t != "nginx"]
    if gws and nginx:
        best = max(gws, key=lambda t: med[t]["rps"])
        low = min(gws, key=lambda t: med[t]["p99"])
        ratio = med[best]["rps"] / nginx
        out.append("Targets: at least %.1f× nginx's requests per second: %s (best: %s, %.3f×, "
                   "%s req/s against %s); p99 under %.0f ms: %s (best: %s, %s ms)." % (
                       TARGET_RATIO, met(ratio >= TARGET_RATIO), label[best], ratio,
                       rate(med[best]["rps"]), rate(nginx), TARGET_P99_MS,
                       met(med[low]["p99"] / 1000 < TARGET_P99_MS), label[low],
                       ms(med[low]["p99"])))
        out.append("")
        out.append("CPU per request is the CPU time the server's processes (nginx: master and "
                   "workers) and PostgreSQL's used during the runs, divided by the requests "
                   "answered; wrk's own CPU is not counted. Both sides share %s cores with "
                   "wrk." % meta.get("cpus", "?"))
        out.append("")


def callback_section(meta, batches, sims, cpu, out):
    out.append("### PSP callbacks")
    out.append("")
    out.append(
        "As the real flow makes them: each invoice's \"pay\" (POST /p/{token}/pay: a checkout "
        "created at psp-sim, the payment row recorded), then psp-sim marks the payment paid "
        "without sending its webhook (`/_sim/{id}/pay?silent=1`). The webhooks psp-sim kept "
        "(its own headers and bytes; Stripe's signed) are then fired at the gateway by wrk "
        "(`-t2 -c%s`), each once. Per callback the gateway verifies it, fetches the payment "
        "from psp-sim (Mollie GET /v2/payments/{id}; Stripe GET /v1/checkout/sessions/{id}"
        "?expand[]=payment_intent; psp-sim speaks HTTP/1.1 with keep-alive, as the real APIs: "
        "the TCP connections it accepted during the batch are counted) and settles it in one "
        "transaction (event key, payment, "
        "invoice Payée, fee, reminders, timeline, the artisan's notice queued; the gateway's "
        "outbox thread then sends it to an SMTP sink, smtp-sink). Rate = "
        "callbacks / time from the first sent to the last answered." % meta["cb_conns"])
    out.append("")
    out.append("| PSP | gateway threads | callbacks | seconds | callbacks/s | p50 / p99 ms | "
               "answers | CPU µs per callback: gateway / PostgreSQL / psp-sim | TCP connections "
               "to psp-sim | psp-sim alone: the same fetch, req/s (connections) |")
    out.append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    rates = []
    for b in batches:
        if not b["name"].endswith("-callbacks") or b["name"].startswith("profile"):
            continue
        c = next((x for x in cpu if x["name"] == b["name"]), None)
        per = "—"
        if c and num(c["requests"]):
            per = " / ".join("%.0f" % (num(c[k]) * 10000 / num(c["requests"]))
                             for k in ("gw", "pg", "sim"))
        psp, gw = b["name"].split("-")[0], b["name"].split("-")[1]
        threads = gw[2:]
        sim = next((x for x in sims if x["name"].startswith("psp-sim-%s-fetch-c%s" % (psp, threads))),
                   None)
        rates.append(num(b["rate"]))
        out.append("| %s | %s | %s | %.2f | **%s** | %s / %s | %s | %s | %s | %s |" % (
            psp.capitalize(), threads, b["answered"], num(b["elapsed_us"]) / 1e6, rate(b["rate"]),
            ms(b["p50_us"]), ms(b["p99_us"]), b["statuses"], per,
            c["sim_conns"] if c and c.get("sim_conns") else "—",
            "%s (%s)" % (rate(sim["rps"]), sim["conns"]) if sim else "—"))
    out.append("")
    reached = sum(r >= TARGET_CALLBACKS for r in rates)
    out.append("Target %s callbacks per second: %s (reached by %d of the %d batches; lowest "
               "%s/s, highest %s/s)." % (
                   rate(TARGET_CALLBACKS), met(rates and reached == len(rates)), reached,
                   len(rates), rate(min(rates, default=0)), rate(max(rates, default=0))))
    out.append("")
    out.append("The steps before (not targets):")
    out.append("")
    out.append("| batch | requests | seconds | req/s | p99 ms | answers |")
    out.append("|---|---:|---:|---:|---:|---|")
    for b in batches:
        if (b["name"].endswith(("-pay", "-mark")) and not b["name"].startswith("profile")) \
                or b["name"] == "first-view":
            what = {"pay": "POST /p/{token}/pay (checkout at psp-sim)",
                    "mark": "psp-sim /_sim/{id}/pay?silent=1"}.get(b["name"].rsplit("-", 1)[-1],
                                                                  "first views (GET /p/{token})")
            out.append("| %s: %s | %s | %.2f | %s | %s | %s |" % (
                b["name"].rsplit("-", 1)[0] if b["name"] != "first-view" else "pages", what,
                b["answered"], num(b["elapsed_us"]) / 1e6, rate(b["rate"]), ms(b["p99_us"]),
                b["statuses"]))
    out.append("")


def pgstat(path, when, out):
    if not os.path.exists(path):
        return
    out.append("PostgreSQL's statements %s (pg_stat_statements: µs per call planning and "
               "executing, share of the total):" % when)
    out.append("")
    out.append("```")
    with open(path) as f:
        out += [line.rstrip() for line in f]
    out.append("```")
    out.append("")


def report(a):
    res = a.resdir
    meta = {}
    with open(os.path.join(res, "meta")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    rows = read_tsv(os.path.join(res, "page.tsv"),
                    ("round", "target", "rps", "p50_us", "p90_us", "p99_us", "max_us",
                     "status_errors", "socket_errors", "requests", "srv_ticks", "pg_ticks"))
    batches = read_tsv(os.path.join(res, "batch.tsv"),
                       ("name", "lines", "answered", "elapsed_us", "rate", "p50_us", "p99_us",
                        "statuses"))
    sims = read_tsv(os.path.join(res, "sim.tsv"),
                    ("name", "conns", "rps", "p50_us", "p99_us", "requests", "status_errors",
                     "socket_errors"))
    checks = read_tsv(os.path.join(res, "checks.tsv"), ("what", "ok", "expected", "got"))
    pgb = read_tsv(os.path.join(res, "pgbench.tsv"), ("mode", "tps"))
    cpu = read_tsv(os.path.join(res, "cpu.tsv"), ("name", "requests", "gw", "pg", "sim",
                                                  "sim_conns"))
    out = ["## reglo-gateway: payment page and PSP callbacks", ""]
    out.append("_`bench/gateway.sh`, %s; %s, %s cores (%s); load average before %s, after %s "
               "(the machine is shared: other jobs may run at the same time). reglo-gateway "
               "from `%s`; PostgreSQL %s (private, unix socket, fsync=off), nginx %s, wrk %s, "
               "psp-sim (Python asyncio, one thread for the API, tests/psp-sim)._" % (
                   meta.get("date"), meta.get("host"), meta.get("cpus"), meta.get("cpu_model"),
                   meta.get("load_before"), meta.get("load_after"), meta.get("build"),
                   meta.get("postgresql"), meta.get("nginx"), meta.get("wrk")))
    out.append("")
    page_section(meta, rows, batches, out)
    callback_section(meta, batches, sims, cpu, out)
    profile = os.path.join(res, "profile.txt")
    if os.path.exists(profile):
        out.append("### Where a page request's time goes")
        out.append("")
        out.append("`perf record -e cpu-clock --call-graph dwarf` on the gateway (%s threads) "
                   "during one more page run; inclusive share of the gateway's CPU samples "
                   "(children included), functions over 1.5 %%:" % meta["threads"].split()[0])
        out.append("")
        out.append("```")
        with open(profile) as f:
            out += [line.rstrip() for line in f][:45]
        out.append("```")
        out.append("")
    pgstat(os.path.join(res, "pgstat-page.txt"), "during that page run", out)
    profile = os.path.join(res, "profile-callbacks.txt")
    if os.path.exists(profile):
        pb = next((b for b in batches if b["name"].startswith("profile")
                   and b["name"].endswith("-callbacks")), None)
        out.append("### Where a Mollie callback's time goes")
        out.append("")
        out.append("The same, during %s more Mollie callbacks (a batch of their own, not in the "
                   "table above; %s/s under the profiler):" % (
                       pb["answered"] if pb else "?", rate(pb["rate"]) if pb else "?"))
        out.append("")
        out.append("```")
        with open(profile) as f:
            out += [line.rstrip() for line in f][:45]
        out.append("```")
        out.append("")
    pgstat(os.path.join(res, "pgstat-callbacks.txt"), "during those callbacks", out)
    if pgb:
        out.append("The page's one statement (sql/query/record_by_token_hash.sql) alone under "
                   "pgbench, %s clients, random invoices: %s." % (
                       meta["threads"].split()[0],
                       "; ".join("%s protocol %s per second" % (
                           "unprepared (extended, parsed and planned each time, as "
                           "db_exec's PQexecParams does)" if p["mode"] == "extended"
                           else "prepared once per connection", rate(p["tps"])) for p in pgb)))
        out.append("")
    out.append("### Checks")
    out.append("")
    for c in checks:
        out.append("- [%s] %s%s" % ("x" if c["ok"] == "1" else " ", c["what"],
                                    "" if c["ok"] == "1" else
                                    " — expected `%s`, got `%s`" % (c["expected"], c["got"])))
    out.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(out))


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
    p = sub.add_parser("report")
    p.add_argument("resdir")
    p.add_argument("out")
    a = ap.parse_args()
    if a.cmd == "token":
        kid, secret = read_key(a.keyfile)
        print(token(kid, secret, a.id))
    else:
        {"invoices": cmd_invoices, "requests": cmd_requests, "webhooks": cmd_webhooks,
         "report": report}[a.cmd](a)


if __name__ == "__main__":
    main()
