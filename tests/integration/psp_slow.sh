#!/usr/bin/env bash
# A slow PSP holds the PSP threads only. The gateway runs with 2 page threads and 3 PSP
# threads; psp-sim's API answers 3 s late (/_sim/delay). Six requests that wait on it (four
# Mollie callbacks, two pay clicks) are in flight while the payment page and /healthz are
# asked: they answer at once. Then every callback is answered 200 and settled once, and the
# pay clicks go to their checkouts. With connections = 40 the PSP threads hold at most 20
# requests: of 24 callbacks at once, 4 are answered 503 at once (Retry-After), the page still
# answers. Last, SIGTERM with more callbacks queued than the grace
# lets finish: the running ones are settled and answered 200, the queued ones 503 with
# nothing moved; delivered again to a new gateway (as a PSP retries), they settle. Exit 0.
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-29600}
. "$(dirname "$0")/../lib/env.sh"
CLIENT=client@example.test
JEAN=jean@artisan.test

t_init
M=$T/mail R=$T/req
mkdir -p "$M" "$R"
pg_start || exit 1
reglo_conf
gateway_conf
sed -i "s|threads = 4 }|threads = 2 psp_threads = 3 connections = 40 }|" "$REGLO_CONF"
sed -i "s|^smtp {.*|smtp { url = \"smtp://127.0.0.1:$SINK_PORT\" from = \"reglo@mta.test.invalid\" }|" "$REGLO_CONF"
reglo db migrate >/dev/null || { fail "migrations"; exit 1; }
reglo artisan add --email "$JEAN" --name "Plomberie Dupont" >/dev/null
sink_start || { fail "smtp-sink starts"; exit 1; }
sim_start || { fail "psp-sim starts"; exit 1; }
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; exit 1; }
check "the gateway says how many threads wait on the PSPs" \
    grep -q "(2 workers, 3 for the PSPs)" "$T/gateway.log"

# invoice N: recorded by reglo rewrite; prints its payment link.
invoice() { rewrite_invoice "$JEAN" "$CLIENT" "F-SLOW-$1" "10$1,00" "$M"; }
# checkout LINK: the client's click on the pay button; prints the Mollie reference.
checkout() {
    curl -s -o /dev/null -w '%{redirect_url}' -d lang=fr "$1/pay" | grep -o 'tr_[A-Za-z0-9_]*' | head -1
}
# paid N: invoice N, its checkout, paid at psp-sim with the webhook kept; prints the reference.
paid() {
    local ref
    ref=$(checkout "$(invoice "$1")") && [ -n "$ref" ] &&
        curl -sf -X POST "$SIM/_sim/$ref/pay?silent=1" >/dev/null && echo "$ref"
}
# callback REF NAME: Mollie's webhook for REF, in the background; code and time in $R/NAME.
callback() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -d "id=$1" "$GW/webhooks/mollie" \
        >"$R/$2" &
}
delay() { curl -sf -X POST "$SIM/_sim/delay?ms=$1" >/dev/null; }
code_of() { cut -d' ' -f1 "$R/$1"; }
status_of() { psql_q "SELECT i.status FROM invoice i JOIN payment p ON p.invoice_id = i.id WHERE p.psp_ref = '$1'"; }
fees() { psql_q "SELECT count(*) FROM fee"; }
# fast URL: answered 200 within a second.
fast() {
    local out
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$1")
    t_log "  $1: $out"
    [ "${out% *}" = 200 ] && awk -v t="${out#* }" 'BEGIN { exit !(t < 1.0) }'
}

# ---- a slow PSP, pages on ----------------------------------------------------------------------
REFS=()
for n in 1 2 3 4; do REFS+=("$(paid "$n")"); done
check "four invoices with a paid Mollie payment" test "$(printf '%s\n' "${REFS[@]}" | grep -c '^tr_')" = 4
PAGE=$(invoice 5)
PAGE6=$(invoice 6)
check "psp-sim answers 3 s late" delay 3000
start=$(date +%s%N)
for n in 0 1 2 3; do callback "${REFS[$n]}" "cb$n"; done
curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -d lang=fr "$PAGE/pay" >"$R/pay5" &
curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -d lang=fr "$PAGE6/pay" >"$R/pay6" &
sleep 0.5
for i in 1 2 3; do
    check "slow PSP, 6 requests waiting on it: the payment page answers at once ($i)" fast "$PAGE"
    check "slow PSP, 6 requests waiting on it: /healthz answers at once ($i)" fast "$GW/healthz"
done
check "while the PSP is slow, nothing is paid yet" test "$(fees)" = 0
wait_for 200 bash -c "[ \$(cat '$R'/cb* '$R'/pay* 2>/dev/null | wc -l) = 6 ]"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
t_log "  six PSP requests on three PSP threads: ${elapsed} ms"
check "the six waited on the PSP two at a time per thread (>= 6 s)" test "$elapsed" -ge 6000
for n in 0 1 2 3; do
    check "callback $n answered 200 once the PSP answered" test "$(code_of "cb$n")" = 200
    check "callback $n: invoice Payée" test "$(status_of "${REFS[$n]}")" = paid
done
check "four fee rows" test "$(fees)" = 4
for n in 5 6; do
    check "pay click $n: 303 to the PSP's checkout" grep -q "^303 $SIM/checkout/tr_" "$R/pay$n"
done

# ---- the PSP threads full: half the connections ------------------------------------------------
# connections = 40: the PSP threads hold at most 20 requests, running or queued. 24 callbacks
# at once while the PSP answers 1 s late: 20 wait their turn, 4 are answered 503 at once
# (Retry-After: the PSP delivers again), and the pages still have connections.
delay 1000
for n in $(seq 1 24); do
    curl -s -o /dev/null -D "$R/full$n.h" -w '%{http_code} %{time_total}\n' -d "id=tr_full$n" \
        "$GW/webhooks/mollie" >"$R/full$n" &
done
sleep 0.5
check "PSP threads full: the payment page answers at once" fast "$PAGE"
wait_for 300 bash -c "[ \$(cat '$R'/full[0-9]* 2>/dev/null | wc -l) = 24 ]"
refused=0 refused_fast=0
for n in $(seq 1 24); do
    if grep -qi '^Retry-After: 30' "$R/full$n.h"; then
        refused=$((refused + 1))
        [ "$(code_of "full$n")" = 503 ] &&
            awk -v t="$(cut -d' ' -f2 "$R/full$n")" 'BEGIN { exit !(t < 0.5) }' &&
            refused_fast=$((refused_fast + 1))
    fi
done
t_log "  24 callbacks, at most 20 for the PSP threads: $refused answered at once with 503"
check "PSP threads full: the requests past 20 answered 503 with Retry-After (4 of 24)" test "$refused" = 4
check "... at once (under half a second), without waiting for the PSP" test "$refused_fast" = 4
check "... the gateway logged it once" test "$(grep -c 'requests already wait on the PSPs' "$T/gateway.log")" = 1
check "... and served the 20 others (fetched at the PSP: unknown there, 503 without Retry-After)" \
    test "$(grep -L -i '^Retry-After' "$R"/full[0-9]*.h | wc -l)" = 20

# ---- SIGTERM with callbacks queued ---------------------------------------------------------------
# 3 PSP threads, 4 s per PSP answer, 10 s of grace: 9 callbacks run (three waves, the third
# still running when the grace ends) and 3 wait in the queue, answered 503.
delay 0
LATE=()
for n in $(seq 11 22); do LATE+=("$(paid "$n")"); done
check "twelve more paid payments" test "$(printf '%s\n' "${LATE[@]}" | grep -c '^tr_')" = 12
delay 4000
for n in $(seq 0 11); do callback "${LATE[$n]}" "late$n"; sleep 0.05; done
sleep 0.5
kill -TERM "$GW_PID"
wait "$GW_PID"
rc=$?
check "SIGTERM with callbacks waiting on the PSP: exit 0" test "$rc" = 0
wait_for 100 bash -c "[ \$(cat '$R'/late* 2>/dev/null | wc -l) = 12 ]"
ok200=0 ok503=0 bad=0
for n in $(seq 0 11); do
    code=$(code_of "late$n") st=$(status_of "${LATE[$n]}")
    case "$code:$st" in
        200:paid) ok200=$((ok200 + 1)) ;;
        503:sent) ok503=$((ok503 + 1)) ;;
        *) bad=$((bad + 1)); t_log "  callback late$n: $code, invoice $st" ;;
    esac
done
t_log "  on SIGTERM: $ok200 settled and answered 200, $ok503 answered 503 and left as they were"
check "on SIGTERM, every callback is answered: 200 and Payée, or 503 and untouched" test "$bad" = 0
check "on SIGTERM, the callbacks already waiting on the PSP are finished (200)" test "$ok200" -ge 6
check "on SIGTERM, the callbacks still queued past the grace are answered 503" test "$ok503" -ge 1
check "the gateway logged the 503s" grep -q "stopping, answered 503" "$T/gateway.log"
delay 0
gateway_start || { fail "reglo-gateway starts again"; exit 1; }
for n in $(seq 0 11); do
    [ "$(code_of "late$n")" = 503 ] && callback "${LATE[$n]}" "again$n"
done
wait_for 100 bash -c "[ \$(cat '$R'/again* 2>/dev/null | wc -l) = $ok503 ]"
for n in $(seq 0 11); do
    [ -f "$R/again$n" ] && check "callback late$n delivered again: 200" test "$(code_of "again$n")" = 200
done
check "delivered again, all twelve are Payée" test "$(psql_q "SELECT count(*) FROM invoice WHERE (number LIKE 'F-SLOW-1_' OR number LIKE 'F-SLOW-2_') AND status = 'paid'")" = 12
check "one fee per payment: 16" test "$(fees)" = 16
check "gateway log has no sanitizer report" bash -c "! grep -q Sanitizer '$T/gateway.log'"
kill -TERM "$GW_PID"; wait "$GW_PID"
check "SIGTERM: exit 0" test "$?" = 0
t_summary
