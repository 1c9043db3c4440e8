#!/usr/bin/env bash
# bench/portal.sh — the artisan's "Mes factures" page in reglo-gateway for an artisan with
# 10,000 invoices (target: p99 under 50 ms), measured with wrk through one artisan session,
# next to /healthz (the gateway's smallest database round trip) as the baseline of the same
# run. Writes bench/out/portal.md (bench/RESULTS.md takes it in).
#
#   bench/portal.sh [BUILD_DIR]            (default: build, the optimised binaries)
#
# Private loopback instances (tests/lib/env.sh): PostgreSQL and one reglo-gateway (threads =
# 4). Data by SQL: the artisan's BENCH_PORTAL_INVOICES invoices over two years (paid, viewed,
# overdue, paused, undelivered; a reminder sent for one in five), as many again for each of
# two other artisans, and one session opened the way the portal stores it (sha256 of the
# cookie's id). Each page is checked once (200, the right rows) before it is timed.
# Timed, BENCH_PORTAL_ROUNDS rounds of BENCH_PORTAL_SECS s each, pages in turn:
#   list       /portal/factures                  (page 1: what the artisan opens)
#   last page  /portal/factures?page=200         (the deepest OFFSET)
#   filtered   /portal/factures?statut=overdue   (the status computed for every invoice)
#   search     /portal/factures?q=client3        (ILIKE over number and client)
#   healthz    /healthz                          (baseline)
# with wrk -t1 -c1 (one artisan, one tab: latency) and -t2 -c8 (eight at once: throughput).
# Medians over rounds of p50, p99 and requests/s; ratio = page req/s / healthz req/s.
# Environment: REGLO_PORT_BASE (31000), BENCH_PORTAL_INVOICES (10000), BENCH_PORTAL_ROUNDS (3),
# BENCH_PORTAL_SECS (8), BENCH_PORTAL_OUT (bench/out/portal.md).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REGLO_ROOT=${REGLO_ROOT:-$(cd "$HERE/.." && pwd)}
BUILD=$(cd "$REGLO_ROOT" && cd "${1:-build}" && pwd) || { echo "no build directory" >&2; exit 2; }
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-31000}
N=${BENCH_PORTAL_INVOICES:-10000}
ROUNDS=${BENCH_PORTAL_ROUNDS:-3}
SECS=${BENCH_PORTAL_SECS:-8}
OUT=${BENCH_PORTAL_OUT:-$HERE/out/portal.md}

. "$REGLO_ROOT/tests/lib/env.sh"
[ -x "$BUILD/reglo-gateway" ] || { echo "missing $BUILD/reglo-gateway (make first)" >&2; exit 2; }
command -v wrk >/dev/null || apt-get install -y -qq --no-install-recommends wrk >/dev/null
say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

t_init
pg_start || exit 1
reglo_conf
gateway_conf
echo 'reminders { enabled = false }' >>"$REGLO_CONF"
reglo db migrate >/dev/null || exit 1
for who in jean paul lea; do
    reglo artisan add --email "$who@artisan.test" --name "Artisan $who" >/dev/null || exit 1
done
say "$N invoices for jean@artisan.test, $((2 * N)) for two others"
psql -q <<SQL
INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, issue_date, due_date,
                     client_email, recipients, subject, source, key_id, sent_at, status,
                     paid_at, paid_minor, reminders_paused, viewed_at)
SELECT a.id, 'F-' || lpad(n::text, 6, '0'), 5000 + (n * 37) % 500000, 'EUR',
       (now() - make_interval(mins => (n * 105) % (730 * 1440)))::date,
       (now() - make_interval(mins => (n * 105) % (730 * 1440)))::date + 30,
       'client' || (n % 500) || '@example.test', ARRAY['client' || (n % 500) || '@example.test'],
       'Facture ' || n, 'facturx', 'k1', now() - make_interval(mins => (n * 105) % (730 * 1440)),
       CASE WHEN n % 10 < 6 THEN 'paid' WHEN n % 10 = 6 THEN 'viewed'
            WHEN n % 50 = 7 THEN 'undelivered' ELSE 'sent' END,
       CASE WHEN n % 10 < 6 THEN now() - make_interval(mins => (n * 105) % (730 * 1440)) + interval '9 days' END,
       CASE WHEN n % 10 < 6 THEN 5000 + (n * 37) % 500000 END,
       n % 40 = 9, CASE WHEN n % 10 = 6 THEN now() END
  FROM artisan a, generate_series(1, $N) n;
INSERT INTO reminder (invoice_id, step, due_at, status, sent_at)
SELECT id, 7, sent_at + interval '7 days', 'sent', sent_at + interval '7 days'
  FROM invoice WHERE id % 5 = 0 AND status IN ('sent', 'viewed');
-- Autovacuum keeps the visibility map current in production; here it is done at once.
VACUUM ANALYZE;
SQL
JEAN_ID=$(psql_q "SELECT id FROM artisan WHERE email = 'jean@artisan.test'")
SID=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
psql_q "INSERT INTO portal_session (id_hash, artisan_id, csrf)
        VALUES (encode(sha256('$SID'), 'hex'), $JEAN_ID, 'bench')" >/dev/null
COOKIE="Cookie: reglo_portal=$SID"
gateway_start || { cat "$T/gateway.log" >&2; exit 1; }


PAGES=(list "/portal/factures"
       "last page" "/portal/factures?page=200"
       filtered "/portal/factures?statut=overdue"
       search "/portal/factures?q=client3"
       healthz "/healthz")

# Each page once: 200 and what it must show.
check_page() {
    local code
    code=$(curl -s -o "$T/page.html" -w '%{http_code}' -H "$COOKIE" "$GW$1")
    [ "$code" = 200 ] && { [ "$1" = /healthz ] || grep -q "$2" "$T/page.html"; }
}
check_page "/portal/factures" "F-0$(printf '%05d' "$(psql_q "SELECT substr(number, 3)::int FROM invoice WHERE artisan_id = $JEAN_ID ORDER BY sent_at DESC, id DESC LIMIT 1")")" ||
    { echo "list page check failed" >&2; exit 1; }
check_page "/portal/factures?page=200" "Page 200 / 200" || { echo "last page check failed" >&2; exit 1; }
check_page "/portal/factures?statut=overdue" "En retard" || { echo "filter check failed" >&2; exit 1; }
check_page "/portal/factures?q=client3" "client3" || { echo "search check failed" >&2; exit 1; }

# wrk's latency percentiles in ms and its req/s: "p50 p99 rps".
wrk_run() {   # wrk_run THREADS CONNS PATH
    wrk -t"$1" -c"$2" -d"${SECS}s" --latency -H "$COOKIE" "$GW$3" 2>&1 | awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                         if (v ~ /s$/) return v * 1000; return v }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        $1 == "Requests/sec:" { rps = $2 }
        / [0-9]+ requests in / { }
        /Non-2xx/ { bad = $NF }
        END { printf "%.2f %.2f %.0f %d\n", p50, p99, rps, bad }'
}

mkdir -p "$T/res"
for r in $(seq 1 "$ROUNDS"); do
    for ((i = 0; i < ${#PAGES[@]}; i += 2)); do
        name=${PAGES[i]} path=${PAGES[i + 1]}
        for load in "1 1" "2 8"; do
            set -- $load
            res=$(wrk_run "$1" "$2" "$path")
            echo "$res" >>"$T/res/${name// /_}-c$2"
            say "round $r $name -c$2: p50/p99 ms, req/s, non-2xx: $res"
        done
    done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$T/res/$1" | median; }
mkdir -p "$(dirname "$OUT")"
{
    echo "## Portal: Mes factures with $N invoices ($(date -u +%Y-%m-%d), $(nproc) cores, $(git -C "$REGLO_ROOT" rev-parse --short HEAD 2>/dev/null))"
    echo
    echo "bench/portal.sh: one artisan session, wrk ${SECS} s × $ROUNDS rounds per page and load,"
    echo "medians; the artisan has $N invoices (and two others as many). Target: list p99 < 50 ms."
    echo "Baseline: /healthz (one SELECT 1) in the same run."
    echo
    echo "| page | load | p50 ms | p99 ms | req/s | ratio to healthz |"
    echo "|---|---|---:|---:|---:|---:|"
    for ((i = 0; i < ${#PAGES[@]}; i += 2)); do
        name=${PAGES[i]} f=${PAGES[i]// /_}
        for c in 1 8; do
            base=$(col "healthz-c$c" 3)
            rps=$(col "$f-c$c" 3)
            echo "| $name | $c conn. | $(col "$f-c$c" 1) | $(col "$f-c$c" 2) | $rps | $(awk -v a="$rps" -v b="$base" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }') |"
        done
    done
    echo
    bad=$(cat "$T"/res/* | awk '{ s += $4 } END { print s + 0 }')
    echo "Non-2xx answers during the runs: $bad."
} >"$OUT"
cat "$OUT"
