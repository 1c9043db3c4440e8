#!/usr/bin/env bash
# A real browser: an invoice recorded by reglo-milter through a real Postfix, then headless
# Chromium (tests/browser/pay.mjs, playwright-core) on a French phone-sized page opens the
# link, checks the amount and the pay button, pays at psp-sim's checkout, comes back and
# reloads until the receipt. Screenshots and the EPC QR stay in tests/artifacts/; the QR, in
# the screenshot itself, must decode (zbarimg) to a valid EPC payload.
#
# Chromium must reach nothing but loopback: it runs in an empty network namespace
# (unshare -rn, uid 0 mapped to itself), with reglo-gateway and psp-sim started inside it so
# they share its loopback. PostgreSQL, the milter, Postfix and smtp-sink stay outside; the
# gateway reaches PostgreSQL by its unix socket (the file system is shared). The gateway's
# own outbox sender cannot reach Postfix from inside: the milter's sender delivers instead.
#
# Needs /usr/bin/chromium and node (skips, visibly, without them); runs `npm ci` in
# tests/browser when its node_modules is missing.
set -u
. "$(dirname "$0")/../lib/env.sh"
. "$(dirname "$0")/../lib/browser.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
CLIENT=client@example.test
ARTISAN=jean@artisan.test
NAME="Plomberie Dupont & Fils"
IBAN=FR7630006000011234567890189
BIC=AGRIFRPP
NUMBER=F-WEB-001
AMOUNT_IN="1234,50"      # mkinvoice's notation
AMOUNT_MINOR=123450
AMOUNT_FR="1 234,50 €"   # as the French page prints it (spaces normalised)

browser_ready "browser test"

t_init
mkdir -p "$T/mail" "$ART"
rm -f "$ART"/payment-page-fr.png "$ART"/receipt-fr.png "$ART"/psp-checkout.png \
      "$ART"/epc.png "$ART"/epc-page.json "$ART"/payment-page-fr-360.png
# The namespace must hold nothing but its own loopback (and unshare must be allowed here).
if unshare -rn bash -c 'ip link set lo up && [ "$(ip -o link | wc -l)" -eq 1 ]'; then
    ok "unshare -rn: an empty network namespace, loopback only"
else
    fail "unshare -rn: an empty network namespace (user namespaces disabled?)"; t_summary; exit 1
fi

pg_start || exit 1
# In the namespace only uid 0 is mapped: regloci's files are nobody's there, and root gets no
# DAC override on them. The socket directory must be open to others for the gateway.
chmod 755 "$T/pg"
reglo_conf
gateway_conf
reglo db migrate >/dev/null
reglo artisan add --email "$ARTISAN" --name "$NAME" --iban "$IBAN" --bic "$BIC" >/dev/null
sink_start && milter_start && postfix_start || { fail "servers start"; t_summary; exit 1; }

DUE=$(date -d '+30 days' +%Y%m%d)
"$MKINV" --number "$NUMBER" --amount "$AMOUNT_IN" --iban "$IBAN" --due "$DUE" \
    --buyer-email "$CLIENT" -o "$T/mail/inv.pdf"
"$MKMAIL" --from "$ARTISAN" --to "$CLIENT" --subject "Facture $NUMBER" \
    --attach "$T/mail/inv.pdf" -o "$T/mail/inv.eml"
send_mail "$ARTISAN" "$CLIENT" "$T/mail/inv.eml"
wait_for 300 sink_has "Subject: Facture $NUMBER"
LINK=$(python3 "$MP" text "$(sink_find "Subject: Facture $NUMBER")" 2>/dev/null |
       grep -o "$GW/p/[A-Za-z0-9._-]*" | head -1)
check "invoice sent through Postfix carries a gateway link" test -n "$LINK"
[ -n "$LINK" ] || { t_summary; exit 1; }

# ---- inside the namespace: psp-sim, reglo-gateway, Chromium --------------------------------
# Prints TAP-like lines ("ok - ...", "not ok - ...") that are counted below.
export T REGLO_CONF BUILD REGLO_ROOT REGLO_PORT_BASE=$PORT_BASE LINK ART AMOUNT_FR CHROMIUM
# shellcheck disable=SC2016  # expanded inside the namespace
unshare -rn bash -c '
    set -u
    . "$REGLO_ROOT/tests/lib/env.sh"
    trap '\''for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait'\'' EXIT
    ip link set lo up || { echo "not ok - loopback up in the namespace"; exit 1; }
    sim_start || { echo "not ok - psp-sim starts in the namespace"; exit 1; }
    gateway_start || { echo "not ok - reglo-gateway starts in the namespace"; exit 1; }
    echo "ok - psp-sim and reglo-gateway listening in the namespace"
    timeout -k 5 90 node "$REGLO_ROOT/tests/browser/pay.mjs" "$LINK" "$ART" "$AMOUNT_FR"
    rc=$?
    [ $rc -eq 124 ] && echo "not ok - pay.mjs still running after 90 s: killed"
    kill -TERM "$GW_PID"; wait "$GW_PID"
    [ $? -eq 0 ] && echo "ok - gateway: SIGTERM, exit 0" || echo "not ok - gateway: SIGTERM, exit 0"
    exit $rc
' >"$T/browser.out" 2>&1
browser_report "$T/browser.out" $? || { t_summary; exit 1; }

# ---- outside: the artifacts, the QR, the database ------------------------------------------
for f in payment-page-fr.png receipt-fr.png; do
    check "artifact $f is a phone-width PNG (390 CSS px at 2x)" phone_png "$ART/$f"
done
zbarimg --nodbus --quiet --raw "$ART/epc.png" >"$T/epc.txt" 2>/dev/null
check "EPC QR image decodes (zbarimg)" test -s "$T/epc.txt"
if python3 "$REGLO_ROOT/tests/lib/epc_check.py" "$T/epc.txt" --bic "$BIC" --name "$NAME" \
       --iban "$IBAN" --amount-minor "$AMOUNT_MINOR" --page "$ART/epc-page.json" >"$T/epc.check"; then
    ok "EPC payload valid: BCD/002/UTF-8/SCT, BIC, name, IBAN, EUR amount, RF $(cat "$T/epc.check") (ISO 11649), as printed on the page"
else
    fail "EPC payload valid"; sed 's/^/  | /' "$T/epc.check"
fi
zbarimg --nodbus --quiet --raw "$ART/payment-page-fr.png" >"$T/epc-shot.txt" 2>/dev/null
check "the QR in the phone screenshot decodes to the same payload" \
    bash -c "[ -s '$T/epc-shot.txt' ] && cmp -s '$T/epc.txt' '$T/epc-shot.txt'"

check "invoice Payée in the database, full amount" \
    test "$(psql_q "SELECT status || ':' || paid_minor FROM invoice WHERE number = '$NUMBER'")" = "paid:$AMOUNT_MINOR"
check "one fee row" \
    test "$(psql_q "SELECT count(*) FROM fee f JOIN invoice i ON i.id = f.invoice_id WHERE i.number = '$NUMBER'")" = 1
check "one payment, paid" \
    test "$(psql_q "SELECT string_agg(p.state, ',') FROM payment p JOIN invoice i ON i.id = p.invoice_id WHERE i.number = '$NUMBER'")" = paid
check "gateway log has no sanitizer report" bash -c "! grep -q Sanitizer '$T/gateway.log'"
t_summary
