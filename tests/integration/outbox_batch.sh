#!/usr/bin/env bash
# The gateway's outbox sender in batches (lib/outbox.c): 40 "Payée" notices queued by the
# real path (invoices recorded by `reglo rewrite` from X-Invoice-* headers, paid at psp-sim,
# the callback settling them), all due at once, submitted to a real Postfix that refuses one
# recipient for good (550) and another for now (450), both by a check_recipient_access map,
# and relays the rest to smtp-sink. Checked: every other notice arrives once (by
# Message-ID), the 550 row is failed with Postfix's reply, the 450 row is backed off (not
# sent, attempts 1, next try in the future) while the rows after it went out without
# waiting for its retry (a temporary failure ends the sender's pass; the next pass, two
# seconds later, takes them), nothing twice, fewer SMTP connections than notices (Postfix's
# smtpd log). The operator's view, `reglo outbox list` (text, --failed, --json), shows the two
# refused rows with Postfix's replies. Then the 450 recipient accepted and its row made due
# by `reglo outbox retry ID`, and the 550 recipient open again and its failed row sent once
# more by `reglo outbox retry --failed`: each delivered once, all 40 at the sink in the end.
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-28600}
. "$(dirname "$0")/../lib/env.sh"
CLIENT=client@example.test
JEAN=jean@artisan.test
REFUSE=refuse@closed.test   # Postfix answers RCPT with 550
LATER=later@busy.test       # Postfix answers RCPT with 450, until told otherwise
N=40
POS_REFUSE=5                # the refused notices' places in the queue: the 550 in the
POS_LATER=20                # first batch of 16, the 450 in the second

t_init
M=$T/mail
mkdir -p "$M"
pg_start || exit 1
reglo_conf
gateway_conf
reglo db migrate >/dev/null || { fail "migrations"; exit 1; }
reglo artisan add --email "$JEAN" --name "Plomberie Dupont" >/dev/null
reglo artisan add --email "$REFUSE" --name "Menuiserie Fermée" >/dev/null
reglo artisan add --email "$LATER" --name "Toiture Occupée" >/dev/null
# The notices are held back while they are queued (due in an hour instead of now), so that
# all 40 are due together, as after an MTA outage; the real settlement statement inserts
# them, only the column's default differs. Put back once they are queued.
psql_q "ALTER TABLE outbox ALTER COLUMN next_attempt SET DEFAULT now() + interval '1 hour'"

# Postfix with the recipient map; the notices are the gateway's own mail, no milter here.
sink_start && postfix_start || { fail "servers start"; exit 1; }
cat >"$T/pf/etc/rcpt_access" <<MAP
$REFUSE 550 5.1.1 mailbox closed for good
$LATER 450 4.2.1 mailbox busy, try later
MAP
postconf -c "$PF_CONF" -e \
    "smtpd_recipient_restrictions = check_recipient_access texthash:$T/pf/etc/rcpt_access" \
    "smtpd_milters =" "non_smtpd_milters ="
postfix -c "$PF_CONF" reload >/dev/null 2>&1
sim_start || { fail "psp-sim starts"; exit 1; }
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; exit 1; }

# record_invoice ARTISAN NUMBER AMOUNT: recorded by reglo rewrite; prints the payment link.
record_invoice() { rewrite_invoice "$1" "$CLIENT" "$2" "$3" "$M"; }
# pay LINK: the client's click, then psp-sim's "paid" and its callback; prints the reference.
pay() {
    local ref
    ref=$(curl -s -o /dev/null -w '%{redirect_url}' -d lang=fr "$1/pay" | grep -o 'tr_[A-Za-z0-9_]*' | head -1)
    [ -n "$ref" ] && curl -sf -X POST "$SIM/_sim/$ref/pay" >/dev/null && echo "$ref"
}
artisan_of() {
    case $1 in
        "$POS_REFUSE") echo "$REFUSE" ;;
        "$POS_LATER") echo "$LATER" ;;
        *) echo "$JEAN" ;;
    esac
}

# ---- 40 notices queued by 40 real payments ----------------------------------------------------
paid=0
for i in $(seq 1 "$N"); do
    num=F-OB-$(printf '%03d' "$i")
    link=$(record_invoice "$(artisan_of "$i")" "$num" "$((100 + i)),00") || break
    [ -n "$link" ] && pay "$link" >/dev/null || break
    paid=$((paid + 1))
done
check "$N invoices recorded and paid at psp-sim" test "$paid" = "$N"
queued() { [ "$(psql_q "SELECT count(*) FROM outbox WHERE purpose = 'paid'")" = "$N" ]; }
check "$N 'paid' notices queued by the callbacks" wait_for 100 queued
check "... all held back, none sent yet" \
    test "$(psql_q "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND attempts = 0 AND next_attempt > now()")" = "$N"
psql_q "ALTER TABLE outbox ALTER COLUMN next_attempt DROP DEFAULT" >/dev/null
psql_q "ALTER TABLE outbox ALTER COLUMN next_attempt SET DEFAULT now()" >/dev/null

row_of() { psql_q "SELECT id FROM outbox WHERE rcpts = ARRAY['$1']"; }
RID=$(row_of "$REFUSE")
LID=$(row_of "$LATER")
# Each row's Message-ID, as the row holds the message.
psql_q "SELECT id, substring(encode(message, 'escape') from '(?i)(?:^|\n)Message-Id: <([^>]+)>') FROM outbox ORDER BY id" |
    tr '|' ' ' >"$T/mids"
check "every notice has its own Message-ID" \
    test "$(awk '$2 != "" {print $2}' "$T/mids" | sort -u | wc -l)" = "$N"
mid_of() { awk -v id="$1" '$1 == id {print $2}' "$T/mids"; }
# How many times a Message-ID arrived at smtp-sink.
at_sink() { grep -rhiF "Message-Id: <$1>" "$T/sink" 2>/dev/null | wc -l; }

# ---- all due at once: the sender's passes -----------------------------------------------------
CONN0=$(grep -c 'postfix/smtpd\[[0-9]*\]: connect from' "$T/pf/maillog")
# Due in the order they were queued (as with the column's usual default, now()).
psql_q "UPDATE outbox SET next_attempt = created_at" >/dev/null
pass_done() {
    [ "$(psql_q "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) || ':' ||
                        count(*) FILTER (WHERE attempts > 0) FROM outbox")" = "$((N - 2)):$N" ]
}
check "the sender handles all $N rows" wait_for 300 pass_done
check "... while the 450 row's retry is not due yet (the rows after it did not wait)" \
    test "$(psql_q "SELECT next_attempt > now() FROM outbox WHERE id = $LID")" = t
postfix_drain
sink_has_38() { [ "$(sink_count)" -ge "$((N - 2))" ]; }
wait_for 300 sink_has_38
settle_log() { sleep 1; }
settle_log
check "$((N - 2)) messages at smtp-sink" test "$(sink_count)" = "$((N - 2))"
missing=0
while read -r id mid; do
    want=1
    [ "$id" = "$RID" ] || [ "$id" = "$LID" ] && want=0
    [ "$(at_sink "$mid")" = "$want" ] || { missing=$((missing + 1)); t_log "row $id <$mid>: $(at_sink "$mid") at the sink, want $want"; }
done <"$T/mids"
check "every other notice delivered exactly once (by Message-ID), the refused ones not at all" test "$missing" = 0
check "no Message-ID twice at the sink" \
    test -z "$(grep -rhi '^Message-Id:' "$T/sink" | sort | uniq -d)"
check "the $((N - 2)) accepted rows: sent, one attempt each, no error" \
    test "$(psql_q "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND attempts = 1 AND last_error IS NULL AND NOT failed AND id NOT IN ($RID, $LID)")" = "$((N - 2))"
check "the 550 row: failed, not sent, one attempt" \
    test "$(psql_q "SELECT failed, sent_at IS NULL, attempts FROM outbox WHERE id = $RID")" = "t|t|1"
check "... Postfix's reply recorded" \
    bash -c "psql -Atqc 'SELECT last_error FROM outbox WHERE id = $RID' | grep -q '550 5.1.1 <$REFUSE>: Recipient address rejected: mailbox closed for good'"
check "the 450 row: not sent, not failed, one attempt, retry in the future (within a minute)" \
    test "$(psql_q "SELECT sent_at IS NULL, failed, attempts, next_attempt > now(), next_attempt <= now() + interval '1 minute' FROM outbox WHERE id = $LID")" = "t|f|1|t|t"
check "... Postfix's reply recorded" \
    bash -c "psql -Atqc 'SELECT last_error FROM outbox WHERE id = $LID' | grep -q '450 4.2.1 <$LATER>: Recipient address rejected: mailbox busy, try later'"
check "gateway log: both refusals" \
    bash -c "grep -q 'outbox: message $RID to $REFUSE: .*550' '$T/gateway.log' && grep -q 'outbox: message $LID to $LATER: .*450' '$T/gateway.log'"

# Postfix's smtpd logs each connection ("connect from") and what it carried ("disconnect
# from ... mail=16 rcpt=15/16 ..."). One session per pass, a new one after each refusal:
# at most one per batch of 16 plus one per refusal (4 + 2), far fewer than the notices.
disconnected() { [ "$(grep -c 'postfix/smtpd\[[0-9]*\]: disconnect from' "$T/pf/maillog")" -ge "$(grep -c 'postfix/smtpd\[[0-9]*\]: connect from' "$T/pf/maillog")" ]; }
wait_for 100 disconnected
CONNS=$(( $(grep -c 'postfix/smtpd\[[0-9]*\]: connect from' "$T/pf/maillog") - CONN0 ))
echo "# $N notices over $CONNS SMTP connections:"
grep 'postfix/smtpd\[[0-9]*\]: disconnect from' "$T/pf/maillog" | tail -n "$CONNS" | sed 's/.*disconnect from [^ ]* /#   /'
check "fewer SMTP connections than notices ($CONNS for $N, at most 6)" \
    bash -c "[ $CONNS -ge 1 ] && [ $CONNS -le 6 ]"

# ---- the operator's view: reglo outbox list ---------------------------------------------------
reglo outbox list >"$T/outbox.txt" 2>&1
cat "$T/outbox.txt"
check "reglo outbox list: the 550 row first, failed, with Postfix's reply" bash -c \
    "sed -n 2p '$T/outbox.txt' | grep -qE '^$RID +failed +1 +- +paid +F-OB-[0-9]+ +$REFUSE\$' &&
     sed -n 3p '$T/outbox.txt' | grep -q 'Recipient address rejected: mailbox closed for good'"
check "reglo outbox list: the 450 row, to be retried, with its next try" \
    grep -qE "^$LID +retry +1 +20[0-9-]+T[0-9:]+Z +paid +F-OB-[0-9]+ +$LATER\$" "$T/outbox.txt"
check "reglo outbox list: nothing else (the sent are not listed)" test "$(grep -c '^[0-9]' "$T/outbox.txt")" = 2
check "reglo outbox list --failed: the 550 row only" \
    test "$(reglo outbox list --failed | grep -c '^[0-9]')" = 1
check "reglo outbox list --failed --json: its id, state, recipient and error" python3 - "$(reglo outbox list --failed --json)" "$RID" "$REFUSE" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
r = rows[0]
sys.exit(0 if len(rows) == 1 and r["id"] == int(sys.argv[2]) and r["state"] == "failed"
         and r["to"] == sys.argv[3] and r["purpose"] == "paid" and r["attempts"] == 1
         and "mailbox closed for good" in r["last_error"] else 1)
PY
# retried ARGS...: `reglo outbox retry ARGS` made exactly one row due; exits as it did.
retried() {
    local out rc
    out=$(reglo outbox retry "$@" 2>&1)
    rc=$?
    t_log "  reglo outbox retry $*: $out (exit $rc)"
    grep -q '^1 message due now' <<<"$out" && return "$rc"
    return 9
}
SENT_ID=$(psql_q "SELECT min(id) FROM outbox WHERE sent_at IS NOT NULL")
retried "$SENT_ID"
check "reglo outbox retry with a sent row's id: exit 1, nothing made due" test "$?" = 9
check "... the sent row untouched" \
    test "$(psql_q "SELECT attempts, failed FROM outbox WHERE id = $SENT_ID")" = "1|f"
for bad in 12x -5 "" 99999999999999999999; do
    reglo outbox retry "$bad" >/dev/null 2>&1
    check "reglo outbox retry with '$bad': usage error (exit 2)" test "$?" = 2
done

# accept ADDR: Postfix's map no longer refuses ADDR.
accept() {
    sed -i "/^$1 /d" "$T/pf/etc/rcpt_access"
    postfix -c "$PF_CONF" reload >/dev/null 2>&1
    sleep 1
}
row_sent() { [ "$(psql_q "SELECT sent_at IS NOT NULL FROM outbox WHERE id = $1")" = t ]; }
arrived() { [ "$(at_sink "$(mid_of "$1")")" -ge 1 ]; }
# sent_again WHAT ID ARGS...: `reglo outbox retry ARGS` makes row ID due; it is sent on a
# later pass and delivered once, after two attempts in all, its error cleared.
sent_again() {
    local what=$1 id=$2
    shift 2
    check "reglo outbox retry $*: the $what row due now" retried "$@"
    check "the $what row, retried: sent" wait_for 300 row_sent "$id"
    postfix_drain
    wait_for 300 arrived "$id"
    settle_log
    check "... delivered once" test "$(at_sink "$(mid_of "$id")")" = 1
    check "... two attempts in all, error cleared, not failed" \
        test "$(psql_q "SELECT attempts, last_error IS NULL, failed FROM outbox WHERE id = $id")" = "2|t|f"
}
# at_sink_once N: N messages at the sink, no Message-ID twice.
at_sink_once() {
    [ "$(find "$T/sink" -type f | wc -l)" = "$1" ] &&
        [ -z "$(grep -rhi '^Message-Id:' "$T/sink" | sort | uniq -d)" ]
}

# ---- the 450 recipient accepted: delivered on a later pass ------------------------------------
# Its retry is due a minute after the refusal; rather than wait, the operator makes it due now.
accept "$LATER"
sent_again 450 "$LID" "00$LID"      # leading zeros: the same row
check "the 550 row is not tried again" \
    test "$(psql_q "SELECT failed, sent_at IS NULL, attempts FROM outbox WHERE id = $RID")" = "t|t|1"
check "$((N - 1)) messages at the sink in all, none twice" at_sink_once "$((N - 1))"

# ---- the 550 recipient open again: the operator sends the failed row once more ----------------
accept "$REFUSE"
sent_again 550 "$RID" --failed
check "reglo outbox list: nothing waiting now" grep -q '^no mail waiting' <<<"$(reglo outbox list)"
check "all $N notices at the sink, none twice" at_sink_once "$N"
check "gateway still serving" curl -sf -o /dev/null "$GW/healthz"
kill -TERM "$GW_PID"; wait "$GW_PID"; rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "gateway log has no sanitizer report" bash -c "! grep -q Sanitizer '$T/gateway.log'"
t_summary
