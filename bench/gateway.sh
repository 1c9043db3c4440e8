#!/usr/bin/env bash
# bench/gateway.sh — reglo-gateway benchmark: the payment page against nginx serving the same
# page as a static file, and the rate of PSP callbacks (Mollie, Stripe) with psp-sim.
# Writes bench/out/gateway.md (bench/RESULTS.md takes it in).
#
#   bench/gateway.sh [BUILD_DIR]            (default: build, the optimised binaries)
#
# Everything runs on private loopback instances (tests/lib/env.sh): PostgreSQL, two
# reglo-gateway processes (gateway { threads } = 4 and 8, same database), psp-sim, nginx.
#  1. Invoices: one recorded by `reglo rewrite` (its link proves that the tokens computed here
#     match lib/token.c), then BENCH_GW_INVOICES written by SQL (COPY) with real tokens:
#     key id "." base64url(HMAC-SHA256(link key, "pay:" id))[16 bytes]; the database keeps
#     sha256(token) only. A few links are checked (200, unknown token 404).
#  2. First-view pass: every page GET once (each records its first view: a write). After it
#     every invoice is "viewed", so the timed runs below measure the read path.
#  3. wrk -t2 -c64 GET /p/{random one of the links}, rotating nginx / gateway(4) / gateway(8)
#     for BENCH_GW_ROUNDS rounds of BENCH_GW_SECS s; medians of req/s and p99, their ratio,
#     and the CPU each side used per request (server, PostgreSQL).
#  4. Callbacks, as the real flow makes them: POST /p/{token}/pay (checkout at psp-sim,
#     payment row), psp-sim marks the payment paid without sending its webhook
#     (/_sim/{id}/pay?silent=1), then the webhooks psp-sim kept (its exact headers and bytes,
#     Stripe's signed) are fired at the gateway by wrk, each once; rate = callbacks / time from
#     the first sent to the last answered. Every invoice must be paid with exactly one fee.
#     psp-sim's own rate for the fetch the gateway makes per callback is measured alone.
#  5. Profile (when perf works): where a gateway page request spends its time, and the
#     page's one SQL statement alone under pgbench, unprepared and prepared.
#
# The gateway's outbox sender delivers the artisans' notices to smtp-sink (discarding).
# Needs root (PostgreSQL runs as regloci, nginx workers as nobody) and the packages wrk,
# nginx (installed with apt-get when missing), postgresql, postfix (smtp-sink), python3, curl.
# Environment: REGLO_PORT_BASE (30000: +32 PostgreSQL, +80 gateway(4), +84 gateway(8),
# +81 psp-sim, +83 nginx, +26 smtp-sink), BENCH_GW_INVOICES (10000), BENCH_GW_ROUNDS (3), BENCH_GW_SECS (12),
# BENCH_GW_THREADS ("4 8"), BENCH_GW_CALLBACKS (3000 Mollie callbacks per gateway),
# BENCH_GW_STRIPE (1500), BENCH_GW_PROFILE (1), BENCH_GW_OUT (bench/out/gateway.md),
# BENCH_GW_PGSTAT (1: PostgreSQL loads pg_stat_statements, planning time tracked only in the
# profile runs, which then list the statements by time; 0: plain PostgreSQL).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REGLO_ROOT=${REGLO_ROOT:-$(cd "$HERE/.." && pwd)}
BUILD=$(cd "$REGLO_ROOT" && cd "${1:-build}" && pwd) || { echo "no build directory" >&2; exit 2; }
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-30000}
N_INV=${BENCH_GW_INVOICES:-10000}
ROUNDS=${BENCH_GW_ROUNDS:-3}
SECS=${BENCH_GW_SECS:-12}
THREADS=(${BENCH_GW_THREADS:-4 8})
N_CB=${BENCH_GW_CALLBACKS:-3000}
N_STRIPE=${BENCH_GW_STRIPE:-1500}
PROFILE=${BENCH_GW_PROFILE:-1}
PGSTAT=${BENCH_GW_PGSTAT:-1}
PSP_THREADS=${BENCH_GW_PSP_THREADS:-}     # empty: the configuration's default
OUT=${BENCH_GW_OUT:-$HERE/out/gateway.md}
CONNS=64
CB_CONNS=32             # concurrent callbacks (a PSP delivers many at once)
BATCH_TIMEOUT=180       # seconds for one batch of one-off requests
ARTISAN=jean@artisan.test
STRIPE_ARTISAN=anne@artisan.test
CLIENT=client@example.test
PY=$HERE/gateway.py

. "$REGLO_ROOT/tests/lib/env.sh"
NGINX_PORT=$((PORT_BASE + 83))
NGX=http://127.0.0.1:$NGINX_PORT
MOLLIE_KEY=test_psp_sim_mollie_key
STRIPE_KEY=sk_test_psp_sim

say() { printf '[gateway-bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "$*"; exit 1; }

for p in "$BUILD/reglo-gateway" "$BUILD/reglo"; do
    [ -x "$p" ] || die "missing $p (make first)"
done
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    say "installing wrk and nginx"
    apt-get install -y -qq --no-install-recommends wrk nginx >/dev/null || die "apt-get failed"
fi

# ---- helpers ---------------------------------------------------------------------------

psql_q() { psql -Atqc "$1"; }

# CPU time (clock ticks) used so far by a process and its children (threads included).
ticks_tree() {
    local sum=0 pid
    for pid in "$1" $(pgrep -P "$1"); do
        [ -r "/proc/$pid/stat" ] || continue
        sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$sum"
}
pg_pid() { head -1 "$T/pg/data/postmaster.pid"; }

# One value of a wrk "RESULT k=v ..." line.
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

check_res() {   # check_res "what" EXPECTED GOT
    local ok=0
    [ "$2" = "$3" ] && ok=1
    printf '%s\t%s\t%s\t%s\n' "$1" "$ok" "$2" "$3" >>"$RES/checks.tsv"
    [ "$ok" = 1 ] || say "CHECK FAILED: $1: expected $2, got $3"
}

# gw_launch NAME THREADS PORT: a reglo-gateway with its own copy of the configuration.
declare -A GW_PID GW_URL
gw_launch() {
    local conf=$T/reglo/gw-$1.conf
    sed "s|^gateway {.*|gateway { listen = \"127.0.0.1:$3\" public_url = \"$GW\" default_psp = \"mollie\" threads = $2${PSP_THREADS:+ psp_threads = $PSP_THREADS} }|" \
        "$REGLO_CONF" >"$conf"
    chmod 600 "$conf"
    "$BUILD/reglo-gateway" -c "$conf" -f 2>>"$T/gateway-$1.log" &
    GW_PID[$1]=$!
    T_PIDS+=("${GW_PID[$1]}")
    GW_URL[$1]=http://127.0.0.1:$3
    wait_for 100 curl -sf -o /dev/null "${GW_URL[$1]}/healthz" || { cat "$T/gateway-$1.log"; return 1; }
}

nginx_start() {
    local n=$T/nginx
    mkdir -p "$n/www" "$n/tmp"
    chmod 755 "$n" "$n/www"
    cat >"$n/nginx.conf" <<CONF
daemon off;
worker_processes auto;
user nobody nogroup;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $n/tmp/body;
    proxy_temp_path $n/tmp/proxy;
    fastcgi_temp_path $n/tmp/fastcgi;
    uwsgi_temp_path $n/tmp/uwsgi;
    scgi_temp_path $n/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $n/www;
        location /p/ { default_type text/html; try_files /page.html =404; }
    }
}
CONF
    nginx -p "$n" -c "$n/nginx.conf" -e "$n/error.log" 2>>"$n/error.log" &
    NGINX_PID=$!
    T_PIDS+=("$NGINX_PID")
    wait_for 100 curl -sf -o /dev/null "$NGX/p/x"
}

# wrk_random NAME URL PATHS [wrk options...]: a timed run of random GETs; prints the RESULT line.
wrk_random() {
    local name=$1 url=$2 paths=$3
    shift 3
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" -s "$HERE/wrk-random.lua" "$url" -- "$paths" \
        >"$T/wrk/$name.out" 2>&1
    grep '^RESULT' "$T/wrk/$name.out" || { cat "$T/wrk/$name.out" >&2; echo "RESULT requests=0"; }
}

# wrk_each NAME URL FILE CONNS: every request of FILE once; appends to batch.tsv and prints
# the RESULT line (wrk-each.lua tells when all answers are in; wrk then gets SIGINT).
wrk_each() {
    local name=$1 url=$2 file=$3 conns=$4 start=$SECONDS
    rm -f "$T/wrk/done-$name".*
    wrk -t2 -c"$conns" -d"$((BATCH_TIMEOUT + 60))s" -s "$HERE/wrk-each.lua" "$url" -- \
        "$file" 2 "$T/wrk/done-$name" >"$T/wrk/$name.out" 2>&1 &
    local pid=$!
    # The batch is timed inside wrk: polling more often would only take CPU from the run.
    while kill -0 "$pid" 2>/dev/null &&
          { [ ! -e "$T/wrk/done-$name.0" ] || [ ! -e "$T/wrk/done-$name.1" ]; }; do
        [ $((SECONDS - start)) -ge "$BATCH_TIMEOUT" ] && { say "$name: timeout"; break; }
        sleep 0.2
    done
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    local res
    res=$(grep '^RESULT' "$T/wrk/$name.out") || { cat "$T/wrk/$name.out" >&2; res="RESULT requests=0"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(wc -l <"$file")" "$(kv requests "$res")" \
        "$(kv elapsed_us "$res")" "$(kv rate "$res")" "$(kv p50_us "$res")" "$(kv p99_us "$res")" \
        "$(kv statuses "$res")" >>"$RES/batch.tsv"
    echo "$res"
}

# ---- setup -----------------------------------------------------------------------------

t_init
RES=$T/res
mkdir -p "$RES" "$T/wrk" "$T/mail"
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host=$(uname -srm)"
    echo "cpus=$(nproc)"
    echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "build=$BUILD"
    echo "nginx=$(nginx -v 2>&1 | sed 's/.*nginx\///')"
    echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
    echo "postgresql=$("$PGBIN/postgres" --version | awk '{print $3}')"
    echo "invoices=$N_INV"
    echo "rounds=$ROUNDS"
    echo "secs=$SECS"
    echo "conns=$CONNS"
    echo "threads=${THREADS[*]}"
    echo "callbacks=$N_CB"
    echo "stripe=$N_STRIPE"
    echo "cb_conns=$CB_CONNS"
} >"$RES/meta"
say "files in $T; $(cut -d' ' -f1-3 /proc/loadavg) load"
pg_start || exit 1
if [ "$PGSTAT" = 1 ]; then
    psql_q "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" &&
        pg_stop && pg_resume && psql_q "CREATE EXTENSION pg_stat_statements" >/dev/null ||
        die "pg_stat_statements"
fi
reglo_conf
gateway_conf
# The artisans' "Payée" notices leave through the gateway's outbox sender: to an SMTP sink
# that accepts and discards them (smtp-sink, from Postfix).
sed -i "s|^smtp {.*|smtp { url = \"smtp://127.0.0.1:$SINK_PORT\" from = \"reglo@mta.test.invalid\" }|" "$REGLO_CONF"
smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 256 2>>"$T/smtp-sink.log" &
T_PIDS+=($!)
wait_for 50 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK_PORT" || die "smtp-sink does not start"
reglo db migrate >/dev/null || die "db migrate"
reglo artisan add --email "$ARTISAN" --name "Plomberie Dupont" \
      --iban "FR76 3000 6000 0112 3456 7890 189" --bic AGRIFRPP >/dev/null || die "artisan"
reglo artisan add --email "$STRIPE_ARTISAN" --name "Anne Électricité" --psp stripe \
      >/dev/null || die "artisan (Stripe)"
A1=$(psql_q "SELECT id FROM artisan WHERE email = '$ARTISAN'")
A2=$(psql_q "SELECT id FROM artisan WHERE email = '$STRIPE_ARTISAN'")

# The reference invoice, recorded by the real code: its link's token must be ours.
"$REGLO_ROOT/tests/fixtures/mkinvoice" --number F-REF-0001 --amount 1234,56 --buyer-email "$CLIENT" \
    --iban FR7630006000011234567890189 --issue 20260301 --due 20260331 -o "$T/mail/ref.pdf"
"$REGLO_ROOT/tests/fixtures/mkmail" --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-REF-0001" \
    --attach "$T/mail/ref.pdf" -o "$T/mail/ref.eml"
reglo rewrite <"$T/mail/ref.eml" >"$T/mail/ref.out" 2>>"$T/rewrite.log" || die "reglo rewrite"
REF_LINK=$(python3 "$REGLO_ROOT/tests/lib/mailparts.py" text "$T/mail/ref.out" |
           grep -o "$GW/p/[A-Za-z0-9._-]*" | head -1)
REF_ID=$(psql_q "SELECT id FROM invoice WHERE number = 'F-REF-0001'")
check_res "token of invoice $REF_ID computed in Python = the link reglo rewrite wrote" \
    "$REF_LINK" "$GW/p/$(python3 "$PY" token "$T/reglo/link.key" "$REF_ID")"

say "writing $N_INV + $N_STRIPE invoices with real tokens (COPY)"
FIRST=$((REF_ID + 1))
SFIRST=$((FIRST + N_INV))
python3 "$PY" invoices "$T/reglo/link.key" --artisan "$A1" --first "$FIRST" --count "$N_INV" \
    --copy "$T/inv.copy" --paths "$T/paths-all.txt" || die "invoices"
python3 "$PY" invoices "$T/reglo/link.key" --artisan "$A2" --first "$SFIRST" --count "$N_STRIPE" \
    --prefix F-STRIPE --copy "$T/inv-stripe.copy" --paths "$T/paths-stripe.txt" || die "invoices"
COLS="id, artisan_id, number, amount_due_minor, currency, issue_date, due_date, client_email, recipients, subject, message_id, source, key_id, token_hash, status, sent_at"
psql -q -v ON_ERROR_STOP=1 -c "\\copy invoice ($COLS) FROM '$T/inv.copy'" \
    -c "\\copy invoice ($COLS) FROM '$T/inv-stripe.copy'" \
    -c "SELECT setval('invoice_id_seq', (SELECT max(id) FROM invoice))" -c "ANALYZE" >/dev/null ||
    die "COPY"
echo "${REF_LINK#"$GW"}" >>"$T/paths-all.txt"          # the page set: N_INV + 1 links
check_res "invoices in the database" "$((N_INV + N_STRIPE + 1))" "$(psql_q 'SELECT count(*) FROM invoice')"

sim_start || die "psp-sim does not start"
SIM_PID=${T_PIDS[-1]}
gw_launch "gw${THREADS[0]}" "${THREADS[0]}" "$GW_PORT" || die "reglo-gateway does not start"
for th in "${THREADS[@]:1}"; do
    gw_launch "gw$th" "$th" "$((PORT_BASE + 84))" || die "reglo-gateway ($th threads) does not start"
done
GW1=gw${THREADS[0]}

# A few links, chosen at random, answer 200 with their invoice; a forged token 404.
for p in $(shuf -n 3 "$T/paths-all.txt") "${REF_LINK#"$GW"}"; do
    check_res "GET of a page link (${p:0:12}...)" 200 "$(curl -s -o "$T/check.html" -w '%{http_code}' "$GW$p")"
done
check_res "the reference page shows its invoice number" 1 "$(grep -q 'F-REF-0001' "$T/check.html" && echo 1)"
check_res "GET of a well-formed unknown token" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$GW/p/k1.AAAAAAAAAAAAAAAAAAAAAA")"

# ---- first views, then the page benchmark ------------------------------------------------

say "first-view pass over $((N_INV + 1)) pages"
python3 "$PY" requests GET "" <"$T/paths-all.txt" >"$T/req-views.txt"
wrk_each first-view "${GW_URL[$GW1]}" "$T/req-views.txt" 16 >/dev/null
check_res "pages viewed after the first-view pass" "$((N_INV + 1))" \
    "$(psql_q "SELECT count(*) FROM invoice WHERE viewed_at IS NOT NULL")"
check_res "one viewed event per page" "$((N_INV + 1))" \
    "$(psql_q "SELECT count(*) FROM invoice_event WHERE kind = 'viewed'")"

# nginx serves one saved copy of a real page for every /p/* path.
nginx_start_page() {
    curl -sf -o "$T/nginx/www/page.html" "$GW$(shuf -n 1 "$T/paths-all.txt")"
}
mkdir -p "$T/nginx/www"
nginx_start_page || die "cannot save a page"
echo "page_bytes=$(stat -c %s "$T/nginx/www/page.html")" >>"$RES/meta"
nginx_start || die "nginx does not start"
check_res "nginx serves the saved page" "$(stat -c %s "$T/nginx/www/page.html")" \
    "$(curl -s -o /dev/null -w '%{size_download}' "$NGX$(shuf -n 1 "$T/paths-all.txt")")"

# run_page ROUND TARGET URL ROOTPID: one timed run, CPU of the server tree and PostgreSQL.
run_page() {
    local s0 p0 res
    s0=$(ticks_tree "$4")
    p0=$(ticks_tree "$(pg_pid)")
    res=$(wrk_random "page-$2-r$1" "$3" "$T/paths-all.txt")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(kv rps "$res")" \
        "$(kv p50_us "$res")" "$(kv p90_us "$res")" "$(kv p99_us "$res")" "$(kv max_us "$res")" \
        "$(kv status_errors "$res")" "$(kv socket_errors "$res")" "$(kv requests "$res")" \
        "$(( $(ticks_tree "$4") - s0 ))" "$(( $(ticks_tree "$(pg_pid)") - p0 ))" >>"$RES/page.tsv"
    say "round $1 $2: $(kv rps "$res") req/s, p99 $(kv p99_us "$res") us"
}
for r in $(seq "$ROUNDS"); do
    run_page "$r" nginx "$NGX" "$NGINX_PID"
    for th in "${THREADS[@]}"; do
        run_page "$r" "gw$th" "${GW_URL[gw$th]}" "${GW_PID[gw$th]}"
    done
done
check_res "every page view was recorded once (still one viewed event per page)" "$((N_INV + 1))" \
    "$(psql_q "SELECT count(*) FROM invoice_event WHERE kind = 'viewed'")"

# ---- callbacks -----------------------------------------------------------------------------

# psp_alone NAME FILE_OF_PATHS AUTH CONNS: psp-sim's own rate for the gateway's fetch.
psp_alone() {
    local res
    res=$(CONNS=$4 wrk_random "$1" "$SIM" "$2" -H "Authorization: Bearer $3")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$4" "$(kv rps "$res")" "$(kv p50_us "$res")" \
        "$(kv p99_us "$res")" "$(kv requests "$res")" "$(kv status_errors "$res")" \
        "$(kv socket_errors "$res")" >>"$RES/sim.tsv"
    say "$1: $(kv rps "$res") req/s"
}

# checkouts NAME PATHS_FILE: POST /p/{token}/pay for each link, as the client's click.
checkouts() {
    python3 "$PY" requests POST "" --suffix /pay --body lang=fr \
        --header "Content-Type: application/x-www-form-urlencoded" <"$2" >"$T/req-$1-pay.txt"
    local res
    res=$(wrk_each "$1-pay" "${GW_URL[$GW1]}" "$T/req-$1-pay.txt" 8)
    check_res "$1: every pay answered 303 (to the PSP's checkout)" "303:$(wc -l <"$2")" \
        "$(kv statuses "$res")"
}

# mark_paid NAME REFS_FILE: psp-sim marks each payment paid and keeps its webhook unsent.
mark_paid() {
    python3 "$PY" requests POST /_sim/ --suffix "/pay?silent=1" <"$2" >"$T/req-$1-mark.txt"
    local res
    res=$(wrk_each "$1-mark" "$SIM" "$T/req-$1-mark.txt" 4)
    check_res "$1: psp-sim marked every payment paid" "200:$(wc -l <"$2")" "$(kv statuses "$res")"
}

# TCP connections psp-sim has accepted so far (this request's own included): the gateway's
# fetches reuse their connections (keep-alive) when the count grows by less than a fetch each.
sim_connections() {
    curl -sf "$SIM/_sim/health" | python3 -c 'import json, sys; print(json.load(sys.stdin)["connections"])'
}

# callback_run NAME PSP GATEWAY REFS_FILE [perf]: fire the kept webhooks and verify the outcome;
# CPU used meanwhile by the gateway, PostgreSQL and psp-sim goes to cpu.tsv. With "perf", the
# gateway is profiled meanwhile (the run is then not a measurement).
callback_run() {
    local name=$1 psp=$2 gw=$3 refs=$4 n res list g0 p0 s0 perf_pid=
    n=$(wc -l <"$refs")
    list=$(sed "s/.*/'&'/" "$refs" | paste -sd,)
    curl -sf "$SIM/_sim/webhooks" >"$T/webhooks.json" || die "psp-sim /_sim/webhooks"
    python3 - "$T/webhooks.json" "$refs" >"$T/webhooks-$name.json" <<'PYEOF'
import json, sys
refs = set(open(sys.argv[2]).read().split())
print(json.dumps([w for w in json.load(open(sys.argv[1])) if w["object"] in refs]))
PYEOF
    python3 "$PY" webhooks "$([ "$psp" = mollie ] && echo mollie:paid || echo checkout.session.completed)" \
        "/webhooks/$psp" <"$T/webhooks-$name.json" >"$T/req-$name-cb.txt" || die "webhooks"
    check_res "$name: one kept webhook per payment" "$n" "$(wc -l <"$T/req-$name-cb.txt")"
    if [ "${5:-}" = perf ]; then
        perf record -e cpu-clock -F 999 --call-graph dwarf,16384 -p "${GW_PID[$gw]}" \
            -o "$T/perf-cb.data" >/dev/null 2>"$T/perf-cb.log" &
        perf_pid=$!
        sleep 1
    fi
    [ -n "$perf_pid" ] && pgstat_reset
    local k0 k1
    k0=$(sim_connections)
    g0=$(ticks_tree "${GW_PID[$gw]}") p0=$(ticks_tree "$(pg_pid)") s0=$(ticks_tree "$SIM_PID")
    res=$(wrk_each "$name-callbacks" "${GW_URL[$gw]}" "$T/req-$name-cb.txt" "$CB_CONNS")
    k1=$(sim_connections)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name-callbacks" "$(kv requests "$res")" \
        "$(( $(ticks_tree "${GW_PID[$gw]}") - g0 ))" "$(( $(ticks_tree "$(pg_pid)") - p0 ))" \
        "$(( $(ticks_tree "$SIM_PID") - s0 ))" "$((k1 - k0 - 1))" >>"$RES/cpu.tsv"
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid"
        perf_top "$T/perf-cb.data" >"$RES/profile-callbacks.txt"
        pgstat_top "$RES/pgstat-callbacks.txt"
    fi
    say "$name: $(kv rate "$res") callbacks/s ($(kv statuses "$res"))"
    check_res "$name: callbacks answered 200" "200:$n" "$(kv statuses "$res")"
    check_res "$name: invoices Payée" "$n" "$(psql_q "SELECT count(*) FROM invoice i JOIN payment p ON p.invoice_id = i.id WHERE p.psp_ref IN ($list) AND i.status = 'paid'")"
    check_res "$name: payments paid" "$n" "$(psql_q "SELECT count(*) FROM payment WHERE psp_ref IN ($list) AND state = 'paid'")"
    check_res "$name: exactly one fee row per invoice" "$n:$n:1" "$(psql_q "SELECT count(*) || ':' || count(DISTINCT f.invoice_id) || ':' || coalesce(max(c), 0) FROM fee f JOIN payment p ON p.id = f.payment_id JOIN (SELECT invoice_id, count(*) AS c FROM fee GROUP BY 1) k ON k.invoice_id = f.invoice_id WHERE p.psp_ref IN ($list)")"
    check_res "$name: one paid notification queued per invoice" "$n" "$(psql_q "SELECT count(*) FROM outbox o JOIN payment p ON p.invoice_id = o.invoice_id WHERE o.purpose = 'paid' AND p.psp_ref IN ($list)")"
}

# Mollie batches take the next invoices of the page set (viewed, open).
MOLLIE_NEXT=0
# mollie_batch NAME THREADS N [perf]
mollie_batch() {
    local name=$1 th=$2 n=$3
    sed -n "$((MOLLIE_NEXT + 1)),$((MOLLIE_NEXT + n))p" "$T/paths-all.txt" >"$T/paths-$name.txt"
    MOLLIE_NEXT=$((MOLLIE_NEXT + n))
    say "$name: $n checkouts"
    checkouts "$name" "$T/paths-$name.txt"
    psql_q "SELECT p.psp_ref FROM payment p JOIN invoice i ON i.id = p.invoice_id WHERE p.psp = 'mollie' AND i.status <> 'paid' AND NOT EXISTS (SELECT 1 FROM psp_event e WHERE e.psp_ref = p.psp_ref)" >"$T/refs-$name.txt"
    check_res "$name: one Mollie payment per checkout" "$n" "$(wc -l <"$T/refs-$name.txt")"
    mark_paid "$name" "$T/refs-$name.txt"
    if [ "${4:-}" != perf ]; then
        sed 's|^|/v2/payments/|' "$T/refs-$name.txt" >"$T/paths-$name-fetch.txt"
        psp_alone "psp-sim-mollie-fetch-c$th" "$T/paths-$name-fetch.txt" "$MOLLIE_KEY" "$th"
    fi
    callback_run "$name" mollie "gw$th" "$T/refs-$name.txt" "${4:-}"
}
for th in "${THREADS[@]}"; do
    mollie_batch "mollie-gw$th" "$th" "$N_CB"
done

if [ "$N_STRIPE" -gt 0 ]; then
    name=stripe-$GW1
    say "$name: $N_STRIPE checkouts"
    checkouts "$name" "$T/paths-stripe.txt"
    psql_q "SELECT psp_ref FROM payment WHERE psp = 'stripe'" >"$T/refs-$name.txt"
    check_res "$name: one Checkout Session per checkout" "$N_STRIPE" "$(wc -l <"$T/refs-$name.txt")"
    mark_paid "$name" "$T/refs-$name.txt"
    sed 's|^|/v1/checkout/sessions/|; s|$|?expand[]=payment_intent|' "$T/refs-$name.txt" \
        >"$T/paths-$name-fetch.txt"
    psp_alone "psp-sim-stripe-fetch-c${THREADS[0]}" "$T/paths-$name-fetch.txt" "$STRIPE_KEY" \
        "${THREADS[0]}"
    callback_run "$name" stripe "$GW1" "$T/refs-$name.txt"    # signatures: 300 s tolerance
fi

# ---- profile ---------------------------------------------------------------------------------

# pgstat_reset / pgstat_top FILE: the statements by time (plan + execution) since the reset.
pgstat_reset() {
    [ "$PGSTAT" = 1 ] && psql_q "SELECT pg_stat_statements_reset()" >/dev/null
    return 0
}
pgstat_track_planning() {
    [ "$PGSTAT" = 1 ] && psql_q "ALTER SYSTEM SET pg_stat_statements.track_planning = on" &&
        psql_q "SELECT pg_reload_conf()" >/dev/null
    return 0
}
pgstat_top() {
    [ "$PGSTAT" = 1 ] || return 0
    psql -q -P footer=off -c "SELECT calls, round((total_plan_time * 1000 / calls)::numeric) AS plan_us, round((total_exec_time * 1000 / calls)::numeric) AS exec_us, round((100 * (total_plan_time + total_exec_time) / sum(total_plan_time + total_exec_time) OVER ())::numeric, 1) AS pct, left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query FROM pg_stat_statements WHERE calls > 0 AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_plan_time + total_exec_time DESC LIMIT 14" >"$1"
}

# perf_top DATA: functions by inclusive share of the samples.
perf_top() {
    perf report -i "$1" --children -g none --sort sym --percent-limit 1.5 2>/dev/null |
        grep -v '^#' | grep -v '^$' | grep -v '0x0000'
}
if [ "$PROFILE" = 1 ] && perf record -e cpu-clock -o "$T/perf-probe.data" true >/dev/null 2>&1; then
    pgstat_track_planning
    mollie_batch "profile-$GW1" "${THREADS[0]}" "$((N_CB / 3))" perf
    say "profile: perf on $GW1 during a page run"
    perf record -e cpu-clock -F 299 --call-graph dwarf,16384 -p "${GW_PID[$GW1]}" \
        -o "$T/perf.data" -- sleep "$((SECS - 2))" >/dev/null 2>"$T/perf.log" &
    PERF_PID=$!
    pgstat_reset
    wrk_random page-profile "${GW_URL[$GW1]}" "$T/paths-all.txt" >/dev/null
    pgstat_top "$RES/pgstat-page.txt"
    wait "$PERF_PID"
    perf_top "$T/perf.data" >"$RES/profile.txt"
    # The page's one statement alone (pgbench cannot take ':' in a string: HH24MISS).
    {
        echo '\set id random(1, '"$((N_INV + 1))"')'
        tr '\n' ' ' <"$REGLO_ROOT/sql/query/record_by_token_hash.sql" |
            sed 's/HH24:MI:SS/HH24MISS/; s/\$1/(SELECT token_hash FROM invoice WHERE id = :id)/; s/$/;/'
        echo
    } >"$T/lookup.sql"
    for mode in extended prepared; do
        tps=$("$PGBIN/pgbench" -n -M "$mode" -c "${THREADS[0]}" -j 2 -T 6 -f "$T/lookup.sql" 2>&1 |
              sed -n 's/^tps = \([0-9.]*\).*/\1/p')
        printf '%s\t%s\n' "$mode" "${tps:-0}" >>"$RES/pgbench.tsv"
    done
fi

notices=$(psql_q "SELECT count(*) FROM outbox WHERE purpose = 'paid'")
notices_sent() { [ "$(psql_q "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")" = "$notices" ]; }
wait_for 300 notices_sent
check_res "every Payée notice delivered to the SMTP sink by the outbox sender" "$notices" \
    "$(psql_q "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")"

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/meta"
mkdir -p "$(dirname "$OUT")"
python3 "$PY" report "$RES" "$OUT" || die "report"
say "wrote $OUT"
failed=$(awk -F'\t' '$2 == 0' "$RES/checks.tsv" | wc -l)
[ "$failed" -eq 0 ] || { say "$failed check(s) failed"; exit 1; }
