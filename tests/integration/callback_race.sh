#!/usr/bin/env bash
# Many identical callbacks at once: PSPs retry and deliver twice, and a burst of identical
# deliveries must settle each payment once. 5 invoices per PSP (recorded by `reglo rewrite`
# from X-Invoice-* headers), checkouts made by the pay button, paid at psp-sim without their
# webhook (/_sim/{id}/pay?silent=1); then psp-sim's own webhook (Mollie: "id=tr_...";
# Stripe: the same signed event, byte-identical headers and body) fired 30 times per
# payment, all 150 at once (curl --parallel) at POST /webhooks/{psp}. Checked: every answer
# 200, the 5 invoices Payée, exactly 5 fee rows, 5 "paid" notices queued (and delivered
# once each), one psp_event per event id, one "paid" outcome per payment and replays for
# the rest, no deadlock or error in the gateway's or PostgreSQL's log, /healthz still up.
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-28800}
. "$(dirname "$0")/../lib/env.sh"
CLIENT=client@example.test
JEAN=jean@artisan.test      # Mollie (the default PSP)
ANNE=anne@artisan.test      # Stripe
N_PAY=5
N_COPIES=30
N_REQ=$((N_PAY * N_COPIES))

t_init
M=$T/mail R=$T/race
mkdir -p "$M" "$R"
pg_start || exit 1
reglo_conf
gateway_conf
# More workers than gateway_conf's 4, so more deliveries of one event meet in the database.
sed -i "s|threads = 4|threads = 8|" "$REGLO_CONF"
# The artisans' notices go straight to smtp-sink (one file per message).
sed -i "s|^smtp {.*|smtp { url = \"smtp://127.0.0.1:$SINK_PORT\" from = \"reglo@mta.test.invalid\" }|" "$REGLO_CONF"
reglo db migrate >/dev/null || { fail "migrations"; exit 1; }
# PostgreSQL logs every lock wait over 1 ms (and looks for deadlocks that soon): the log
# shows the deliveries of one event queuing on the payment's lock, i.e. a real race.
psql_q "ALTER SYSTEM SET log_lock_waits = on" && psql_q "ALTER SYSTEM SET deadlock_timeout = '1ms'" &&
    psql_q "SELECT pg_reload_conf()" >/dev/null
reglo artisan add --email "$JEAN" --name "Plomberie Dupont" >/dev/null
reglo artisan add --email "$ANNE" --name "Anne Électricité" --psp stripe >/dev/null
sink_start || { fail "smtp-sink starts"; exit 1; }
sim_start || { fail "psp-sim starts"; exit 1; }
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; exit 1; }

# record_invoice ARTISAN NUMBER AMOUNT: recorded by reglo rewrite; prints the payment link.
record_invoice() { rewrite_invoice "$1" "$CLIENT" "$2" "$3" "$M"; }
# checkout LINK: the client's click on the pay button; prints the PSP reference.
checkout() {
    curl -s -o /dev/null -w '%{redirect_url}' -d lang=fr "$1/pay" | grep -o '\(tr\|cs\)_[A-Za-z0-9_]*' | head -1
}
# paid_silently REF N: psp-sim marks the payment paid and keeps its webhook unsent; the
# webhook (headers, body bytes) is written to $R/hook-N.{json,body}. Prints the event id
# (Stripe) or nothing (Mollie: its callbacks carry none).
paid_silently() {
    curl -sf -X POST "$SIM/_sim/$1/pay?silent=1" >"$R/hook-$2.json" || return 1
    python3 - "$R/hook-$2.json" "$R/hook-$2.body" <<'PY'
import json, sys
hook = json.load(open(sys.argv[1]))["webhook"]
assert hook.get("error") == "not sent (silent)", hook
open(sys.argv[2], "wb").write(hook["body"].encode())
body = hook["body"]
print(json.loads(body)["id"] if body.startswith("{") else "")
PY
}
# curl_entry PSP N: one curl --config entry, POST of webhook N with psp-sim's headers.
curl_entry() {
    python3 - "$R/hook-$2.json" "$R/hook-$2.body" "$GW/webhooks/$1" <<'PY'
import json, sys
hook = json.load(open(sys.argv[1]))["webhook"]
q = lambda s: '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'
print("url = " + q(sys.argv[3]))
for k, v in hook["headers"].items():
    print("header = " + q("%s: %s" % (k, v)))
print("data-binary = " + q("@" + sys.argv[2]))
print("output = \"/dev/null\"")
print("write-out = \"%{http_code}\\n\"")
print("next")
PY
}
in_list() { sed "s/.*/'&'/" "$1" | paste -sd,; }

# race PSP ARTISAN PREFIX: the whole scenario for one PSP.
race() {
    local psp=$1 artisan=$2 prefix=$3 i link ref evt
    : >"$R/$psp.refs"; : >"$R/$psp.events"; : >"$R/$psp.conf"; : >"$R/$psp.numbers"
    for i in $(seq 1 "$N_PAY"); do
        link=$(record_invoice "$artisan" "$prefix-$i" "$((40 + i)),50") && [ -n "$link" ] || return 1
        ref=$(checkout "$link") && [ -n "$ref" ] || return 1
        evt=$(paid_silently "$ref" "$psp-$i") || return 1
        echo "$ref" >>"$R/$psp.refs"
        echo "$prefix-$i" >>"$R/$psp.numbers"
        # Mollie's event key is the payment and the state the gateway fetched (webhook.c).
        if [ "$psp" = mollie ]; then echo "$ref:paid" >>"$R/$psp.events"; else echo "$evt" >>"$R/$psp.events"; fi
    done
    local refs nums evts
    refs=$(in_list "$R/$psp.refs") nums=$(in_list "$R/$psp.numbers") evts=$(in_list "$R/$psp.events")
    check "$psp: $N_PAY checkouts, paid at psp-sim, webhooks kept unsent" \
        test "$(wc -l <"$R/$psp.refs"):$(grep -c . "$R/$psp.events")" = "$N_PAY:$N_PAY"
    check "$psp: nothing settled before the callbacks" \
        test "$(psql_q "SELECT count(*) FROM invoice WHERE number IN ($nums) AND status = 'paid'")" = 0
    # 30 copies of each delivery, interleaved, all opened at once.
    local round
    for round in $(seq 1 "$N_COPIES"); do
        for i in $(seq 1 "$N_PAY"); do curl_entry "$psp" "$psp-$i"; done
    done | sed '$d' >"$R/$psp.conf"     # "next" separates entries: none after the last
    local gl0 pl0
    gl0=$(wc -l <"$T/gateway.log") pl0=$(wc -l <"$T/pg/pg.log")
    curl -s --parallel --parallel-immediate --parallel-max "$N_REQ" --max-time 60 \
        --config "$R/$psp.conf" >"$R/$psp.codes" 2>"$R/$psp.curl.err"
    echo "# $psp: answers $(sort "$R/$psp.codes" | uniq -c | awk '{printf "%s x %s ", $1, $2}');" \
         "$(tail -n "+$((pl0 + 1))" "$T/pg/pg.log" | grep -c 'still waiting for') lock waits in PostgreSQL"
    check "$psp: all $N_REQ deliveries answered 200" \
        test "$(grep -cx 200 "$R/$psp.codes"):$(wc -l <"$R/$psp.codes")" = "$N_REQ:$N_REQ"
    check "$psp: the $N_PAY invoices Payée" \
        test "$(psql_q "SELECT count(*) FROM invoice WHERE number IN ($nums) AND status = 'paid' AND paid_at IS NOT NULL")" = "$N_PAY"
    check "$psp: the $N_PAY payments paid" \
        test "$(psql_q "SELECT count(*) FROM payment WHERE psp_ref IN ($refs) AND state = 'paid'")" = "$N_PAY"
    check "$psp: exactly $N_PAY fee rows, one per invoice" \
        test "$(psql_q "SELECT count(*) || ':' || count(DISTINCT f.invoice_id) FROM fee f JOIN invoice i ON i.id = f.invoice_id WHERE i.number IN ($nums)")" = "$N_PAY:$N_PAY"
    check "$psp: exactly $N_PAY 'paid' notices in the outbox, one per invoice" \
        test "$(psql_q "SELECT count(*) || ':' || count(DISTINCT o.invoice_id) FROM outbox o JOIN invoice i ON i.id = o.invoice_id WHERE o.purpose = 'paid' AND i.number IN ($nums)")" = "$N_PAY:$N_PAY"
    check "$psp: one 'paid' timeline entry per invoice" \
        test "$(psql_q "SELECT count(*) FROM invoice_event e JOIN invoice i ON i.id = e.invoice_id WHERE e.kind = 'paid' AND i.number IN ($nums)")" = "$N_PAY"
    check "$psp: one psp_event per event id, each settled 'paid'" \
        test "$(psql_q "SELECT count(*) || ':' || count(*) FILTER (WHERE outcome = 'paid') FROM psp_event WHERE psp = '$psp'"):$(psql_q "SELECT count(*) FROM psp_event WHERE psp = '$psp' AND event_id IN ($evts)")" = "$N_PAY:$N_PAY:$N_PAY"
    tail -n "+$((gl0 + 1))" "$T/gateway.log" >"$R/$psp.gwlog"
    check "$psp: gateway log: $N_PAY settled, $((N_REQ - N_PAY)) replays" \
        test "$(grep -c "webhook $psp event=.* outcome=paid\$" "$R/$psp.gwlog"):$(grep -c "webhook $psp event=.* outcome=replay\$" "$R/$psp.gwlog")" = "$N_PAY:$((N_REQ - N_PAY))"
    check "$psp: no error, warning or deadlock in the gateway log" \
        bash -c "! grep -Eiq 'error|warning|deadlock' '$R/$psp.gwlog'"
    check "$psp: no error or deadlock in PostgreSQL's log" \
        bash -c "! tail -n '+$((pl0 + 1))' '$T/pg/pg.log' | grep -Eq 'ERROR:|FATAL:|PANIC:|deadlock detected'"
    check "$psp: gateway still answers /healthz" curl -sf -o /dev/null "$GW/healthz"
}

race mollie "$JEAN" F-RACE-M || fail "mollie: setting up the payments"
race stripe "$ANNE" F-RACE-S || fail "stripe: setting up the payments"

# The notices leave by the outbox sender: each once at smtp-sink.
notices_out() { [ "$(psql_q "SELECT count(*) FROM outbox WHERE purpose = 'paid' AND sent_at IS NOT NULL")" = "$((2 * N_PAY))" ]; }
check "the $((2 * N_PAY)) notices sent" wait_for 300 notices_out
sink_wait "$((2 * N_PAY))"
sleep 1
check "... each delivered once" \
    test "$(sink_count):$(grep -rhi '^Message-Id:' "$T/sink" | sort -u | wc -l)" = "$((2 * N_PAY)):$((2 * N_PAY))"
check "fees in all: $((2 * N_PAY))" test "$(psql_q 'SELECT count(*) FROM fee')" = "$((2 * N_PAY))"
kill -TERM "$GW_PID"; wait "$GW_PID"; rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "gateway log has no sanitizer report" bash -c "! grep -q Sanitizer '$T/gateway.log'"
t_summary
