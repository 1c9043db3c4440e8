#!/usr/bin/env bash
# The whole payment path: an invoice recorded by reglo-milter through a real Postfix, its
# page on reglo-gateway, "pay" at the PSP emulator (Mollie and Stripe), the PSP's callback,
# "Payée", the fee row, reminders cancelled, the artisan's notification delivered through
# the same MTA. Then hostile callbacks: forged signature, replay, amount mismatch, unknown
# payment, another payment's metadata, malformed JSON, a 10 MB body.
set -u
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
CLIENT=client@example.test

t_init
M=$T/mail H=$T/http
mkdir -p "$M" "$H"
pg_start || exit 1
reglo_conf
gateway_conf
reglo db migrate >/dev/null
reglo artisan add --email jean@artisan.test --name "Plomberie Dupont" >/dev/null
reglo artisan add --email anne@artisan.test --name "Anne Électricité" --psp stripe >/dev/null
sink_start && milter_start && postfix_start || { fail "servers start"; exit 1; }
sim_start || { fail "psp-sim starts"; exit 1; }
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; exit 1; }

# send_invoice ARTISAN NUMBER AMOUNT: through Postfix; prints the link the client received.
send_invoice() {
    "$MKINV" --number "$2" --amount "$3" --buyer-email "$CLIENT" -o "$M/$2.pdf"
    "$MKMAIL" --from "$1" --to "$CLIENT" --subject "Facture $2" --attach "$M/$2.pdf" -o "$M/$2.eml"
    send_mail "$1" "$CLIENT" "$M/$2.eml"
    wait_for 300 sink_has "Subject: Facture $2" || return 1
    python3 "$MP" text "$(sink_find "Subject: Facture $2")" | grep -o "$GW/p/[A-Za-z0-9._-]*" | head -1
}
status_of() { psql_q "SELECT status FROM invoice WHERE number = '$1'"; }
fees_of() { psql_q "SELECT count(*) FROM fee f JOIN invoice i ON i.id = f.invoice_id WHERE i.number = '$1'"; }
# pay LINK: click "pay" on the page; prints the PSP reference of the checkout.
pay() {
    curl -s -o /dev/null -w '%{redirect_url}' -d lang=fr "$1/pay" | grep -o '\(tr\|cs\)_[A-Za-z0-9_]*' | head -1
}
is_status() { [ "$(status_of "$1")" = "$2" ]; }

# ---- Mollie: the happy path --------------------------------------------------------------------
L1=$(send_invoice jean@artisan.test F-PAY-001 "250,00")
check "invoice sent through Postfix carries a gateway link" test -n "$L1"
I1=$(psql_q "SELECT id FROM invoice WHERE number = 'F-PAY-001'")
psql_q "INSERT INTO reminder (invoice_id, step, due_at) VALUES ($I1, 7, now() + interval '7 days'), ($I1, 15, now() + interval '15 days')" >/dev/null
check "page shows the invoice" bash -c "curl -sf '$L1' | grep -q 'F-PAY-001'"
check "first view: status viewed" is_status F-PAY-001 viewed
R1=$(pay "$L1")
check "pay: redirected to the Mollie checkout" bash -c "[[ '$R1' == tr_* ]]"
check "pay again within minutes: the same checkout" test "$(pay "$L1")" = "$R1"
check "checkout recorded once" test "$(psql_q "SELECT count(*) FROM payment WHERE invoice_id = $I1")" = 1
curl -sf -X POST "$SIM/_sim/$R1/pay" >/dev/null
check "callback: invoice Payée" wait_for 100 is_status F-PAY-001 paid
check "one fee row (1 €)" test "$(psql_q "SELECT count(*) || ':' || sum(amount_minor) FROM fee WHERE invoice_id = $I1")" = "1:100"
check "paid amount and date recorded" test "$(psql_q "SELECT paid_minor, paid_at IS NOT NULL FROM invoice WHERE id = $I1")" = "25000|t"
check "pending reminders cancelled" test "$(psql_q "SELECT string_agg(status, ',') FROM reminder WHERE invoice_id = $I1")" = "cancelled,cancelled"
check "timeline: paid" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' invoice show F-PAY-001 --json | grep -q '\"kind\":\"paid\"'"
# The subject is RFC 2047-encoded ("Payée"); the lower-case "facture" is the notice's.
check "artisan notified through the MTA" wait_for 300 sink_has ": facture F-PAY-001"
N1=$(sink_find ": facture F-PAY-001")
check "notification subject says Payée" bash -c "python3 '$MP' header '$N1' Subject | python3 -c 'import sys,email.header as h; s=sys.stdin.read(); print(str(h.make_header(h.decode_header(s))))' | grep -q 'Payée : facture F-PAY-001'"
check "notification goes to the artisan" bash -c "grep -qi '^To: .*jean@artisan.test' '$N1'"
check "notification is threaded to the invoice" bash -c "python3 '$MP' header '$N1' In-Reply-To | grep -q '@artisan.test'"
check "notification says how much" bash -c "python3 '$MP' text '$N1' | grep -q '250,00'"
check "receipt view: paid, no pay button" bash -c "curl -sf '$L1' | grep -q 'Payée le' && ! curl -sf '$L1' | grep -q 'action=\"/p/.*/pay\"'"
curl -sf -X POST "$SIM/_sim/resend/$R1" >/dev/null
sleep 1
check "replayed callback: still one fee" test "$(fees_of F-PAY-001)" = 1
check "replayed callback: answered 200 as a replay" grep -q "outcome=replay" "$T/gateway.log"

# ---- Stripe: signed callbacks ------------------------------------------------------------------
L2=$(send_invoice anne@artisan.test F-PAY-002 "99,90")
R2=$(pay "$L2")
check "Stripe artisan: redirected to a Checkout Session" bash -c "[[ '$R2' == cs_* ]]"
curl -sf -X POST "$SIM/_sim/$R2/pay" >/dev/null
check "Stripe callback (signature verified, session re-fetched): Payée" wait_for 100 is_status F-PAY-002 paid
check "Stripe: one fee row" test "$(fees_of F-PAY-002)" = 1
curl -sf -X POST "$SIM/_sim/resend/$R2?same_signature=1" >/dev/null
sleep 1
check "Stripe replay (same event id): still one fee" test "$(fees_of F-PAY-002)" = 1

# ---- hostile callbacks -------------------------------------------------------------------------
L3=$(send_invoice anne@artisan.test F-PAY-003 "500,00")
R3=$(pay "$L3")
EVENT=$(python3 -c "import json,sys; print(json.dumps({'id':'evt_forged_1','type':'checkout.session.completed','data':{'object':{'id':sys.argv[1],'object':'checkout.session'}}}))" "$R3")
TS=$(date +%s)
SIG=$(printf '%s.%s' "$TS" "$EVENT" | openssl dgst -sha256 -hmac whsec_wrong_secret | sed 's/^.* //')
check "forged signature: 400" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Stripe-Signature: t=$TS,v1=$SIG" --data-binary "$EVENT" "$GW/webhooks/stripe")" = 400
OLD=$((TS - 600))
SIG_OLD=$(printf '%s.%s' "$OLD" "$EVENT" | openssl dgst -sha256 -hmac whsec_psp_sim | sed 's/^.* //')
check "signature too old: 400" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Stripe-Signature: t=$OLD,v1=$SIG_OLD" --data-binary "$EVENT" "$GW/webhooks/stripe")" = 400
BAD='{"id":"evt_x","type":"checkout.session.completed","data":{'
SIG_BAD=$(printf '%s.%s' "$TS" "$BAD" | openssl dgst -sha256 -hmac whsec_psp_sim | sed 's/^.* //')
check "malformed JSON (validly signed): 400" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Stripe-Signature: t=$TS,v1=$SIG_BAD" --data-binary "$BAD" "$GW/webhooks/stripe")" = 400
check "unsigned Stripe callback: 400" test "$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$EVENT" "$GW/webhooks/stripe")" = 400
check "after forged callbacks: not paid" bash -c "[ \"\$(psql -Atqc \"SELECT status FROM invoice WHERE number = 'F-PAY-003'\")\" != paid ]"
# A genuine (validly signed) event for an unpaid session: the re-fetch says unpaid.
SIG_OK=$(printf '%s.%s' "$TS" "$EVENT" | openssl dgst -sha256 -hmac whsec_psp_sim | sed 's/^.* //')
curl -s -o /dev/null -H "Stripe-Signature: t=$TS,v1=$SIG_OK" --data-binary "$EVENT" "$GW/webhooks/stripe"
check "signed event claiming completion, PSP says unpaid: not paid" bash -c "[ \"\$(psql -Atqc \"SELECT status FROM invoice WHERE number = 'F-PAY-003'\")\" != paid ]"
curl -sf -X POST "$SIM/_sim/$R3/pay?amount=100" >/dev/null
check "underpayment: recorded as a mismatch" wait_for 100 bash -c "[ \"\$(psql -Atqc \"SELECT state FROM payment WHERE psp_ref = '$R3'\")\" = mismatch ]"
check "underpayment: not Payée" bash -c "[ \"\$(psql -Atqc \"SELECT status FROM invoice WHERE number = 'F-PAY-003'\")\" != paid ]"
check "underpayment: no fee" test "$(fees_of F-PAY-003)" = 0
check "underpayment: shown on the timeline" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' invoice show F-PAY-003 --json | grep -q 'payment_mismatch'"
check "Mollie callback for an unknown payment: nothing paid" bash -c "curl -s -o /dev/null -d id=tr_doesnotexist1 '$GW/webhooks/mollie'; [ \$(psql -Atqc 'SELECT count(*) FROM fee') = 2 ]"
check "Mollie callback with garbage: 400" test "$(curl -s -o /dev/null -w '%{http_code}' -d 'id=../../etc' "$GW/webhooks/mollie")" = 400
# A payment made at the PSP for our invoice but not through our checkout (another artisan's
# integration, or someone crafting metadata): unknown to us, nothing moves.
L4=$(send_invoice jean@artisan.test F-PAY-004 "10,00")
I4=$(psql_q "SELECT id FROM invoice WHERE number = 'F-PAY-004'")
FOREIGN=$(curl -s -H 'Authorization: Bearer test_psp_sim_mollie_key' -H 'Content-Type: application/json' \
    -d "{\"amount\":{\"currency\":\"EUR\",\"value\":\"10.00\"},\"description\":\"x\",\"redirectUrl\":\"$GW/\",\"webhookUrl\":\"$GW/webhooks/mollie\",\"metadata\":{\"invoice_id\":\"$I4\"}}" \
    "$SIM/v2/payments" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X POST "$SIM/_sim/$FOREIGN/pay" >/dev/null
sleep 1
check "payment not created by us, metadata naming our invoice: not paid" bash -c "[ \"\$(psql -Atqc \"SELECT status FROM invoice WHERE number = 'F-PAY-004'\")\" != paid ]"
head -c 10485760 /dev/zero >"$H/ten"
check "10 MB callback body: 413" test "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$H/ten" "$GW/webhooks/stripe")" = 413
check "unknown PSP: 404" test "$(curl -s -o /dev/null -w '%{http_code}' -d x=1 "$GW/webhooks/paypal")" = 404
check "gateway still serving" curl -sf -o /dev/null "$GW/healthz"
check "only the two real payments are billed" test "$(psql_q 'SELECT count(*) FROM fee')" = 2
kill -TERM "$GW_PID"; wait "$GW_PID"; rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "gateway log has no sanitizer report" bash -c "! grep -q Sanitizer '$T/gateway.log'"
t_summary
