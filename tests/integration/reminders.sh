#!/usr/bin/env bash
# Reminders end to end: invoices recorded by reglo-milter through a real Postfix, then the
# reminder clock (REGLO_CLOCK_FILE) moved so reglo-gateway's scheduler sends D+7 / D+15
# reminders back through the same Postfix and milter into smtp-sink: From/To/Cc, threading
# headers, "Re:" subject, the invoice's link once and its QR, no second block, no marker
# header; business hours (nothing at night); a payment at psp-sim stops the next one; a
# schedule change skips stale steps instead of a burst; a paused invoice gets nothing;
# `reglo reminders due`. Then two gateways on one database draining 1,000 due reminders
# (each delivered once); the next hop refusing for a while (Postfix retries, one copy); the
# gateway's own SMTP submission refused, temporarily (retried with back-off, then sent
# once) and permanently (recorded, shown on the timeline, the artisan notified); and a
# gateway killed between claiming a reminder and sending it (sent once by another).
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-31000}
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
CLIENT=client@example.test
JEAN=jean@artisan.test
ANNE=anne@artisan.test
BOB=bob@artisan.test
MASS=mass@bulk.test
FAIL_PORT=$((PORT_BASE + 27))
GW2_PORT=$((PORT_BASE + 82))
GW3_PORT=$((PORT_BASE + 83))
N_MASS=${REMINDERS_MASS:-1000}

t_init
M=$T/mail
mkdir -p "$M"
export REGLO_CLOCK_FILE=$T/clock
# The clock, atomically (a daemon never reads half a file): an instant in UTC.
clock_set() { printf '%s\n' "$1" >"$T/clock.new" && mv "$T/clock.new" "$T/clock"; }
clock_set "+0"

pg_start || exit 1
reglo_conf
gateway_conf
cat >>"$REGLO_CONF" <<CONF
reminders {
    enabled = true
    window = "09:00-18:00"
    days = "mon-fri"
    timezone = "Europe/Paris"
    interval = 1
    workers = 3
    max_late_days = 2
}
CONF
reglo db migrate >/dev/null || { fail "migrations"; exit 1; }
reglo artisan add --email "$JEAN" --name "Plomberie Dupont" >/dev/null
reglo artisan add --email "$ANNE" --name "Anne Électricité" --reminders "" >/dev/null
reglo artisan add --email "$BOB" --name "Bob Menuiserie" --locale en \
    --reminders=-3,7 --reminders-from due >/dev/null
sink_start && milter_start && postfix_start || { fail "servers start"; exit 1; }
sim_start || { fail "psp-sim starts"; exit 1; }
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; exit 1; }

# send_invoice ARTISAN NUMBER AMOUNT [mkinvoice options]: through Postfix; prints the link.
send_invoice() {
    local from=$1 number=$2 amount=$3
    shift 3
    "$MKINV" --number "$number" --amount "$amount" --buyer-email "$CLIENT" "$@" -o "$M/$number.pdf"
    "$MKMAIL" --from "$from" --to "$CLIENT" --subject "Facture $number" --html \
        --attach "$M/$number.pdf" -o "$M/$number.eml"
    send_mail "$from" "$CLIENT" "$M/$number.eml"
    wait_for 300 sink_has "^Subject: Facture $number" || return 1
    python3 "$MP" text "$(sink_find "^Subject: Facture $number")" | grep -o "$GW/p/[A-Za-z0-9._-]*" | head -1
}
invoice_id() { psql_q "SELECT id FROM invoice WHERE number = '$1'"; }
# The reminders of an invoice at the sink (their Message-IDs are reminder-ID-STEP@...).
reminder_files() { grep -rlE "^Message-I[dD]: <reminder-$1-m?[0-9]+@" "$T/sink" 2>/dev/null; }
reminder_count() { reminder_files "$1" | wc -l; }
reminder_file() { grep -rlE "^Message-I[dD]: <reminder-$1-$2@" "$T/sink" 2>/dev/null | head -1; }
has_reminder() { [ -n "$(reminder_file "$1" "$2")" ]; }
row_status() { psql_q "SELECT status FROM reminder WHERE invoice_id = $1 AND step = $2"; }
is_row_status() { [ "$(row_status "$1" "$2")" = "$3" ]; }
# Let the scheduler make a few passes (interval = 1 s).
settle() { sleep "${1:-3}"; }
# The header of a delivered message, RFC 2047 decoded.
header_of() {
    python3 "$MP" header "$1" "$2" | python3 -c 'import sys,email.header as h; s=sys.stdin.read().strip(); print(str(h.make_header(h.decode_header(s))))'
}
timeline_has() { "$BUILD/reglo" -c "$REGLO_CONF" invoice show "$1" --json | grep -q "$2"; }

# ---- D+7: the first reminder, through Postfix and the milter -----------------------------------
L1=$(send_invoice "$JEAN" F-REM-001 "250,00")
check "invoice sent through Postfix with a link" test -n "$L1"
I1=$(invoice_id F-REM-001)
MSGID1=$(psql_q "SELECT message_id FROM invoice WHERE id = $I1")
# Sent on Monday 7 January 2030, 10:00 in Paris (09:00 UTC): D+7 is Monday 14th, 10:00.
psql_q "UPDATE invoice SET sent_at = '2030-01-07T09:00:00Z' WHERE id = $I1"
clock_set "2030-01-07T10:00:00Z"
settle
check "D+0: no reminder" test "$(reminder_count "$I1")" = 0
reglo reminders due --json >"$T/due1.json"
check "reglo reminders due: the three steps, D+7 first, at 10:00 Paris" \
    bash -c "head -1 '$T/due1.json' | grep -q '\"number\":\"F-REM-001\",\"artisan\":\"$JEAN\",\"step\":7,\"due_at\":\"2030-01-14T09:00:00Z\",\"send_at\":\"2030-01-14T09:00:00Z\",\"state\":\"scheduled\"' && [ \$(grep -c F-REM-001 '$T/due1.json') = 3 ]"
check "reglo reminders due (text)" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' reminders due | grep -q 'scheduled.*D+15.*F-REM-001'"
clock_set "2030-01-14T08:59:00Z"
settle
check "one minute before D+7: no reminder" test "$(reminder_count "$I1")" = 0
clock_set "2030-01-14T09:30:00Z"
check "D+7: the reminder arrives at smtp-sink" wait_for 300 has_reminder "$I1" 7
R7=$(reminder_file "$I1" 7)
check "From: the artisan" bash -c "python3 '$MP' header '$R7' From | grep -q '<$JEAN>'"
check "To: the client" bash -c "python3 '$MP' header '$R7' To | grep -qx '$CLIENT'"
check "Cc: the artisan" bash -c "python3 '$MP' header '$R7' Cc | grep -qx '$JEAN'"
check "envelope: client and artisan" bash -c "grep -q '^X-Rcpt-Args: <$CLIENT>' '$R7' && grep -q '^X-Rcpt-Args: <$JEAN>' '$R7'"
check "In-Reply-To: the invoice" test "$(python3 "$MP" header "$R7" In-Reply-To)" = "<$MSGID1>"
check "References: the invoice" test "$(python3 "$MP" header "$R7" References)" = "<$MSGID1>"
check "Subject: Re: the invoice's subject" test "$(header_of "$R7" Subject)" = "Re: Facture F-REM-001"
check "deterministic Message-ID" test "$(python3 "$MP" header "$R7" Message-ID)" = "<reminder-$I1-7@artisan.test>"
check "no marker header delivered (the milter removed it)" bash -c "! grep -qi '^X-Reglo' '$R7'"
python3 "$MP" text "$R7" >"$T/r7.txt"
check "the text has the invoice's link, once (no second block)" \
    test "$(grep -o "$GW/p/[A-Za-z0-9._-]*" "$T/r7.txt" | sort | uniq -c | awk '{print $1 ":" $2}')" = "1:$L1"
check "the text says the amount and the number" bash -c "grep -q '250,00' '$T/r7.txt' && grep -q 'F-REM-001' '$T/r7.txt'"
check "the text is signed by the artisan" bash -c "tail -3 '$T/r7.txt' | grep -q 'Plomberie Dupont'"
python3 "$MP" html "$R7" >"$T/r7.html"
check "the html shows the QR inline (cid:) and the link once" \
    bash -c "grep -q 'src=\"cid:qr-F-REM-001@reglo.invalid\"' '$T/r7.html' && [ \$(grep -o 'href=\"$GW/p/' '$T/r7.html' | wc -l) = 1 ]"
python3 "$MP" save "$R7" image/png "$T/r7.png"
check "the QR code decodes to the link" test "$(zbarimg --nodbus --quiet --raw "$T/r7.png" 2>/dev/null)" = "$L1"
check "one image only (no second block)" test "$(grep -c '^Content-Type: image/png' "$R7")" = 1
check "the reminder row: sent once, its Message-ID" \
    test "$(psql_q "SELECT status, attempts, message_id FROM reminder WHERE invoice_id = $I1 AND step = 7")" = "sent|1|reminder-$I1-7@artisan.test"
check "timeline: reminder_sent" timeline_has F-REM-001 '"kind":"reminder_sent","detail":{"step":7'
check "the reminder joins the invoice's thread" \
    test "$(psql_q "SELECT kind FROM thread_message WHERE message_id = 'reminder-$I1-7@artisan.test'")" = reminder
check "milter log: the reminder passed as already processed" grep -q "already-processed" "$T/reglo/milter.log"

# ---- business hours: D+15 falls due at night ------------------------------------------------
# D+15 is Tuesday 22nd, 10:00. At 22:00 that day it is due, but the office is closed.
clock_set "2030-01-22T21:00:00Z"
settle
check "22:00 Paris: the due D+15 waits" test "$(reminder_count "$I1")" = 1
check "reglo reminders due: D+15 due, goes out Wednesday 09:00" \
    bash -c "'$BUILD/reglo' -c '$REGLO_CONF' reminders due --json | grep -q '\"step\":15,\"due_at\":\"2030-01-22T09:00:00Z\",\"send_at\":\"2030-01-23T08:00:00Z\",\"state\":\"due\"'"
clock_set "2030-01-23T07:59:30Z"
settle
check "08:59 Paris: still nothing" test "$(reminder_count "$I1")" = 1
clock_set "2030-01-23T08:00:30Z"
check "09:00 Paris: D+15 goes out" wait_for 300 has_reminder "$I1" 15
R15=$(reminder_file "$I1" 15)
check "D+15 References: the invoice, then the D+7 reminder" \
    test "$(python3 "$MP" header "$R15" References)" = "<$MSGID1> <reminder-$I1-7@artisan.test>"
check "D+15 In-Reply-To: the invoice" test "$(python3 "$MP" header "$R15" In-Reply-To)" = "<$MSGID1>"

# ---- payment at psp-sim stops the next reminder ---------------------------------------------
REF=$(curl -s -o /dev/null -w '%{redirect_url}' -d lang=fr "$L1/pay" | grep -o 'tr_[A-Za-z0-9_]*' | head -1)
curl -sf -X POST "$SIM/_sim/$REF/pay" >/dev/null
check "paid at the PSP: invoice Payée" wait_for 100 bash -c "[ \"\$(psql -Atqc \"SELECT status FROM invoice WHERE id = $I1\")\" = paid ]"
clock_set "2030-02-06T10:00:00Z"
settle
check "D+30 after payment: no reminder" test "$(reminder_count "$I1")" = 2
check "D+30 after payment: nothing planned" test -z "$(row_status "$I1" 30)"
check "reglo reminders due: nothing left for the paid invoice" \
    bash -c "! '$BUILD/reglo' -c '$REGLO_CONF' reminders due | grep -q F-REM-001"

# ---- a schedule change never sends a burst: stale steps are skipped and recorded -------------
L2=$(send_invoice "$ANNE" F-REM-002 "80,00")
I2=$(invoice_id F-REM-002)
# Sent Monday 21 January: D+7 (28th) is 9 days old by now, D+15 (5 February) one day old.
psql_q "UPDATE invoice SET sent_at = '2030-01-21T09:00:00Z' WHERE id = $I2"
settle
check "no reminders for an artisan who wants none" test "$(reminder_count "$I2")" = 0
# Her own subject: one for D+15, one for every step (the step's own wins).
psql_q "INSERT INTO template (artisan_id, name, step, locale, body)
        SELECT id, 'reminder.subject', s, 'fr', b FROM artisan,
               (VALUES (15, 'Rappel J+15 : facture {{number}}'), (NULL, 'Rappel : {{number}}')) v(s, b)
         WHERE email = '$ANNE'" >/dev/null
reglo artisan set --email "$ANNE" --reminders 7,15,30 >/dev/null
check "schedule changed: D+15 (one day late) goes out" wait_for 300 has_reminder "$I2" 15
check "... with the artisan's own subject for that step" \
    test "$(header_of "$(reminder_file "$I2" 15)" Subject)" = "Rappel J+15 : facture F-REM-002"
settle 2
check "... D+7 (nine days late) is skipped, not sent" test "$(reminder_count "$I2")" = 1
check "... and recorded" test "$(psql_q "SELECT status || ':' || last_error FROM reminder WHERE invoice_id = $I2 AND step = 7")" = "skipped:9 days late (more than 2)"
check "timeline: reminder_skipped" timeline_has F-REM-002 '"kind":"reminder_skipped","detail":{"step":7'
check "D+30 still scheduled" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' reminders due --json | grep -q '\"number\":\"F-REM-002\",\"artisan\":\"$ANNE\",\"step\":30,.*\"state\":\"scheduled\"'"

# ---- counted from the due date, an English artisan, a paused invoice -------------------------
L3=$(send_invoice "$BOB" F-REM-003 "99,00" --due 20300215)
I3=$(invoice_id F-REM-003)
check "due-date schedule: D-3 is Tuesday 12 February, 09:00 Paris" \
    bash -c "'$BUILD/reglo' -c '$REGLO_CONF' reminders due --json | grep -q '\"number\":\"F-REM-003\",\"artisan\":\"$BOB\",\"step\":-3,\"due_at\":\"2030-02-11T23:00:00Z\",\"send_at\":\"2030-02-12T08:00:00Z\"'"
check "due-date schedule: D+7 is Friday 22 February" \
    bash -c "'$BUILD/reglo' -c '$REGLO_CONF' reminders due --json | grep -q '\"number\":\"F-REM-003\",\"artisan\":\"$BOB\",\"step\":7,\"due_at\":\"2030-02-21T23:00:00Z\",\"send_at\":\"2030-02-22T08:00:00Z\"'"
clock_set "2030-02-12T08:00:30Z"
check "D-3 goes out" wait_for 300 has_reminder "$I3" m3
RB=$(reminder_file "$I3" m3)
check "in the artisan's language" bash -c "python3 '$MP' text '$RB' | grep -q 'Unless we are mistaken, invoice F-REM-003'"
check "English block, the link once" test "$(python3 "$MP" text "$RB" | grep -c "$L3")" = 1
psql_q "UPDATE invoice SET reminders_paused = true WHERE id = $I3"
clock_set "2030-02-22T08:30:00Z"
settle
check "paused invoice: D+7 does not go out" test "$(reminder_count "$I3")" = 1
psql_q "UPDATE invoice SET reminders_paused = false WHERE id = $I3"
check "resumed: D+7 goes out" wait_for 300 has_reminder "$I3" 7

# ---- two gateways, one database, $N_MASS reminders due at once ----------------------------------
reglo artisan add --email "$MASS" --name "Bulk Bâtiment" --reminders 7 >/dev/null
psql_q "INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, issue_date, due_date,
            client_email, recipients, subject, message_id, source, key_id, sent_at)
        SELECT a.id, 'M-' || lpad(g::text, 5, '0'), 10000 + g, 'EUR', '2030-03-01', '2030-03-31',
               'c' || g || '@example.test', ARRAY['c' || g || '@example.test'], 'Facture M-' || g,
               'inv-' || g || '@bulk.test', 'headers', 'k1', '2030-03-04T09:00:00Z'
          FROM artisan a, generate_series(1, $N_MASS) g WHERE a.email = '$MASS'" >/dev/null
GW2_CONF=$T/reglo/gw2.conf
sed "s|listen = \"127.0.0.1:$GW_PORT\"|listen = \"127.0.0.1:$GW2_PORT\"|" "$REGLO_CONF" >"$GW2_CONF"
"$BUILD/reglo-gateway" -c "$GW2_CONF" -f -v 2>>"$T/gateway2.log" &
GW2_PID=$!
T_PIDS+=("$GW2_PID")
check "second gateway starts" wait_for 100 curl -sf -o /dev/null "http://127.0.0.1:$GW2_PORT/healthz"
mass_files() { grep -rlE '^Message-I[dD]: <reminder-[0-9]+-7@bulk.test>' "$T/sink" 2>/dev/null | wc -l; }
mass_done() { [ "$(mass_files)" -ge "$N_MASS" ]; }
START=$(date +%s)
clock_set "2030-03-11T09:30:00Z"
wait_for 3000 mass_done
postfix_drain
settle 3
echo "# $N_MASS reminders through two gateways and Postfix in $(( $(date +%s) - START )) s"
check "$N_MASS reminders at smtp-sink, each once" test "$(mass_files)" = "$N_MASS"
check "$N_MASS distinct Message-IDs" test "$(grep -rhE '^Message-I[dD]: <reminder-[0-9]+-7@bulk.test>' "$T/sink" | sort -u | wc -l)" = "$N_MASS"
check "every row sent once" test "$(psql_q "SELECT count(*) FILTER (WHERE r.status = 'sent' AND r.attempts = 1) || '/' || count(*) FROM reminder r JOIN invoice i ON i.id = r.invoice_id WHERE i.number LIKE 'M-%'")" = "$N_MASS/$N_MASS"
S1=$(grep -c 'step 7, to c[0-9]*@example.test: sent' "$T/gateway.log")
S2=$(grep -c 'step 7, to c[0-9]*@example.test: sent' "$T/gateway2.log")
echo "# gateway 1 sent $S1, gateway 2 sent $S2"
check "both gateways took part, $N_MASS in all" bash -c "[ $S1 -gt 0 ] && [ $S2 -gt 0 ] && [ $((S1 + S2)) = $N_MASS ]"
check "no marker header on any reminder at the sink" \
    bash -c "! grep -rlE '^Message-I[dD]: <reminder-' '$T/sink' | xargs grep -li '^X-Reglo'"

kill -TERM "$GW2_PID"; wait "$GW2_PID"; rc=$?
check "second gateway: SIGTERM, exit 0" test "$rc" = 0

# A reminder for jean, made in SQL like the bulk ones: sql_invoice NUMBER SENT_AT
sql_invoice() {
    psql_q "INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, client_email,
                recipients, subject, message_id, source, key_id, sent_at)
            SELECT id, '$1', 4200, 'EUR', '$CLIENT', ARRAY['$CLIENT'], 'Facture $1',
                   '$1@artisan.test', 'headers', 'k1', '$2'
              FROM artisan WHERE email = '$JEAN' RETURNING id"
}
sink_restart() {   # sink_restart PORT DIR [smtp-sink options]: a fresh smtp-sink on PORT
    local port=$1 dir=$2 pid_var=SINK_PID_$1
    shift 2
    if [ -n "${!pid_var:-}" ]; then kill "${!pid_var}" 2>/dev/null; wait "${!pid_var}" 2>/dev/null; fi
    mkdir -p "$dir"; chown nobody "$dir"
    smtp-sink -u nobody "$@" -d "$dir/%Y%m%d/%H%M%S." "127.0.0.1:$port" 256 &
    printf -v "$pid_var" %s "$!"
    T_PIDS+=("$!")
    wait_for 50 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

# ---- the next hop refuses for a while: Postfix retries, one copy arrives -----------------------
printf -v "SINK_PID_$SINK_PORT" %s "${T_PIDS[0]}"
I4=$(sql_invoice F-REM-004 '2030-03-18T09:00:00Z')
sink_restart "$SINK_PORT" "$T/sink" -r RCPT
clock_set "2030-03-25T09:30:00Z"
check "next hop refusing (450): Postfix defers the reminder" \
    wait_for 300 grep -q "status=deferred.*450" "$T/pf/maillog"
check "... which the gateway submitted once" wait_for 100 is_row_status "$I4" 7 sent
sink_restart "$SINK_PORT" "$T/sink"
postqueue -c "$PF_CONF" -f
check "next hop back: the reminder arrives" wait_for 300 has_reminder "$I4" 7
postfix_drain
check "... once" test "$(reminder_count "$I4")" = 1

# ---- the gateway's own submission refused: permanent, then temporary --------------------------
kill -TERM "$GW_PID"; wait "$GW_PID"
GWF_CONF=$T/reglo/gwf.conf
sed -e "s|listen = \"127.0.0.1:$GW_PORT\"|listen = \"127.0.0.1:$GW3_PORT\"|" \
    -e "s|url = \"smtp://127.0.0.1:$SMTPD_PORT\"|url = \"smtp://127.0.0.1:$FAIL_PORT\"|" \
    "$REGLO_CONF" >"$GWF_CONF"
gwf_start() {
    "$BUILD/reglo-gateway" -c "$GWF_CONF" -f -v 2>>"$T/gatewayf.log" &
    GWF_PID=$!
    T_PIDS+=("$GWF_PID")
    wait_for 100 curl -sf -o /dev/null "http://127.0.0.1:$GW3_PORT/healthz"
}
F2=$T/sink2
sink_restart "$FAIL_PORT" "$F2" -f RCPT
gwf_start || fail "gateway on a refusing MTA starts"
I5=$(sql_invoice F-REM-005 '2030-03-25T08:00:00Z')
clock_set "2030-04-01T08:30:00Z"   # Monday 10:30 in Paris, summer time
check "permanent refusal (5xx): the reminder is failed" wait_for 100 is_row_status "$I5" 7 failed
check "... with the server's reply recorded" bash -c "psql -Atqc \"SELECT last_error FROM reminder WHERE invoice_id = $I5\" | grep -q '500 5.3.0'"
check "... tried once" test "$(psql_q "SELECT attempts FROM reminder WHERE invoice_id = $I5")" = 1
check "... on the timeline" timeline_has F-REM-005 '"kind":"reminder_failed"'
check "... and the artisan is told (notice queued to the artisan)" \
    test "$(psql_q "SELECT array_to_string(rcpts, ',') FROM outbox WHERE purpose = 'reminder-failed' AND invoice_id = $I5")" = "$JEAN"
sink_restart "$FAIL_PORT" "$F2" -r RCPT
I6=$(sql_invoice F-REM-006 '2030-04-01T08:00:00Z')
clock_set "2030-04-08T08:30:00Z"
check "temporary refusal (4xx): put back for a retry" \
    wait_for 100 bash -c "[ \"\$(psql -Atqc \"SELECT status, attempts FROM reminder WHERE invoice_id = $I6\")\" = 'pending|1' ]"
check "... one minute later, with the error shown" \
    bash -c "'$BUILD/reglo' -c '$REGLO_CONF' reminders due --json | grep -q '\"number\":\"F-REM-006\".*\"send_at\":\"2030-04-08T08:31:00Z\",\"state\":\"retry\",\"attempts\":1,\"last_error\":\"SMTP server replied: 450'"
clock_set "2030-04-08T08:31:05Z"
check "still refused: two tries, next in two minutes" \
    wait_for 100 bash -c "[ \"\$(psql -Atqc \"SELECT attempts, next_attempt = '2030-04-08T08:33:05Z' FROM reminder WHERE invoice_id = $I6\")\" = '2|t' ]"
sink_restart "$FAIL_PORT" "$F2"
clock_set "2030-04-08T08:33:10Z"
check "MTA accepting again: sent" wait_for 100 is_row_status "$I6" 7 sent
check "... delivered once" test "$(grep -rlE "^Message-I[dD]: <reminder-$I6-7@" "$F2" | wc -l)" = 1
check "... three tries recorded" test "$(psql_q "SELECT attempts FROM reminder WHERE invoice_id = $I6")" = 3

# ---- a gateway dies between claiming a reminder and sending it --------------------------------
# The MTA holds the DATA command for a minute: the gateway has claimed the row and is
# mid-submission when it is killed. Another gateway puts the claim back and sends it, once.
sink_restart "$FAIL_PORT" "$F2" -w 60
I7=$(sql_invoice F-REM-007 '2030-04-08T08:00:00Z')
clock_set "2030-04-15T08:30:00Z"
sending() { [ "$(psql -Atqc "SELECT status, attempts FROM reminder WHERE invoice_id = $I7")" = 'sending|0' ]; }
check "the reminder is claimed and being submitted" wait_for 100 sending
sleep 1
kill -KILL "$GWF_PID"; wait "$GWF_PID" 2>/dev/null
check "killed mid-send: still claimed, not sent" sending
gateway_start || fail "gateway restarts"
check "another gateway takes the claim back and sends it" wait_for 300 has_reminder "$I7" 7
postfix_drain
settle 2
check "... once" bash -c "[ \$(grep -rlE '^Message-I[dD]: <reminder-$I7-7@' '$T/sink' '$F2' | wc -l) = 1 ]"
check "... recorded once" test "$(psql_q "SELECT status, attempts FROM reminder WHERE invoice_id = $I7")" = "sent|1"

kill -TERM "$GW_PID"; wait "$GW_PID"; rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "gateway logs have no sanitizer report" bash -c "! grep -q Sanitizer '$T'/gateway*.log"
t_summary
