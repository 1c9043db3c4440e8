#!/usr/bin/env bash
# The artisan's portal in a real browser: headless Chromium (tests/browser/portal.mjs,
# playwright-core) on a French phone signs in with the link it finds in the captured mail, reads Mes
# factures, filters, exports the CSV, opens an invoice and its "paiement immédiat" QR, changes
# options, edits a reminder template with its preview, and signs out. Screenshots of the list
# and the invoice page stay in tests/artifacts/; the QR on the screenshot must decode
# (zbarimg) to the invoice's payment link; the options and the template must be in the
# database afterwards.
#
# As in browser.sh, Chromium runs in an empty network namespace (unshare -rn) with
# reglo-gateway and an SMTP capture started inside it (tests/lib/smtp-capture.py: smtp-sink
# cannot drop privileges where only root is mapped); PostgreSQL is reached by its unix socket.
set -u
. "$(dirname "$0")/../lib/env.sh"
. "$(dirname "$0")/../lib/browser.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
ARTISAN=jean@artisan.test
IBAN=FR7630006000011234567890189

browser_ready "portal browser test"

t_init
mkdir -p "$ART"
rm -f "$ART"/portal-list-fr.png "$ART"/portal-list-fr-360.png "$ART"/portal-invoice-fr.png \
      "$ART"/portal-qr.png "$ART"/portal-template-fr.png "$ART"/portal-factures.csv
pg_start || exit 1
chmod 755 "$T/pg"          # see browser.sh: the namespace's root must reach the socket
reglo_conf
gateway_conf
sed -i "s|url = \"smtp://127.0.0.1:$SMTPD_PORT\"|url = \"smtp://127.0.0.1:$SINK_PORT\"|" "$REGLO_CONF"
echo 'reminders { enabled = false }' >>"$REGLO_CONF"
reglo db migrate >/dev/null
reglo artisan add --email "$ARTISAN" --name "Plomberie Dupont" --iban "$IBAN" --bic AGRIFRPP >/dev/null
JEAN_ID=$(psql_q "SELECT id FROM artisan WHERE email = '$ARTISAN'")

"$REGLO_ROOT/tests/fixtures/mkinvoice" --number F-WEB-REAL --amount 1234,56 --iban "$IBAN" \
    --buyer-email client@example.test --due "$(date -d '+30 days' +%Y%m%d)" -o "$T/real.pdf"
"$REGLO_ROOT/tests/fixtures/mkmail" --from "$ARTISAN" --to client@example.test \
    --subject "Facture F-WEB-REAL" --attach "$T/real.pdf" -o "$T/real.eml"
reglo rewrite <"$T/real.eml" >"$T/real.out" 2>"$T/rewrite.log"
LINK=$(python3 "$MP" text "$T/real.out" | grep -o "$GW/p/[A-Za-z0-9._-]*" | head -1)
check "an invoice recorded by reglo rewrite, with its link" test -n "$LINK"
psql -q <<SQL
INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, due_date, client_email,
                     source, key_id, sent_at, status, paid_at, paid_minor)
VALUES ($JEAN_ID, 'F-WEB-PAID', 48000, 'EUR', current_date + 10, 'a@example.test', 'facturx',
        'k1', now() - interval '3 days', 'paid', now(), 48000),
       ($JEAN_ID, 'F-WEB-LATE', 9900, 'EUR', current_date - 5, 'b@example.test', 'facturx',
        'k1', now() - interval '40 days', 'sent', NULL, NULL),
       ($JEAN_ID, 'F-WEB-RELANCE', 15000, 'EUR', current_date + 3, 'c@example.test', 'facturx',
        'k1', now() - interval '10 days', 'viewed', NULL, NULL);
INSERT INTO reminder (invoice_id, step, due_at, status, sent_at)
SELECT id, 7, now() - interval '3 days', 'sent', now() - interval '3 days'
  FROM invoice WHERE number = 'F-WEB-RELANCE';
SQL

export T REGLO_CONF BUILD REGLO_ROOT REGLO_PORT_BASE=$PORT_BASE ART CHROMIUM ARTISAN
# shellcheck disable=SC2016  # expanded inside the namespace
unshare -rn bash -c '
    set -u
    . "$REGLO_ROOT/tests/lib/env.sh"
    trap '\''for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait'\'' EXIT
    ip link set lo up || { echo "not ok - loopback up in the namespace"; exit 1; }
    python3 "$REGLO_ROOT/tests/lib/smtp-capture.py" 127.0.0.1 "$SINK_PORT" "$T/sink" \
        2>>"$T/capture.log" &
    T_PIDS+=($!)
    wait_for 50 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK_PORT" ||
        { echo "not ok - smtp-capture starts in the namespace"; exit 1; }
    gateway_start || { echo "not ok - reglo-gateway starts in the namespace"; exit 1; }
    echo "ok - smtp-capture and reglo-gateway listening in the namespace"
    timeout -k 5 120 node "$REGLO_ROOT/tests/browser/portal.mjs" "$GW" "$ARTISAN" "$T/sink" "$ART"
    rc=$?
    [ $rc -eq 124 ] && echo "not ok - portal.mjs still running after 120 s: killed"
    kill -TERM "$GW_PID"; wait "$GW_PID"
    [ $? -eq 0 ] && echo "ok - gateway: SIGTERM, exit 0" || echo "not ok - gateway: SIGTERM, exit 0"
    exit $rc
' >"$T/browser.out" 2>&1
browser_report "$T/browser.out" $? || { t_summary; exit 1; }

# ---- outside: artifacts and database --------------------------------------------------------
for f in portal-list-fr.png portal-invoice-fr.png; do
    check "artifact $f is a phone-width PNG (390 CSS px at 2x)" phone_png "$ART/$f"
done
check "the QR of 'paiement immédiat', as screenshot, decodes to the payment link" \
    test "$(zbarimg --nodbus --quiet --raw "$ART/portal-qr.png" 2>/dev/null)" = "$LINK"
check "options in the database: 7,15,45 from the due date" \
    test "$(psql_q "SELECT reminders::text || reminders_from FROM artisan WHERE id = $JEAN_ID")" = "{7,15,45}due"
check "the J+7 reminder text in the database" \
    test "$(psql_q "SELECT count(*) FROM template WHERE artisan_id = $JEAN_ID AND name = 'reminder.txt' AND step = 7 AND body LIKE '%reste à régler%'")" = 1
check "the refused template did not replace it" \
    test "$(psql_q "SELECT count(*) FROM template WHERE body LIKE '%{{{%'")" = 0
check "the session is gone after signing out" \
    test "$(psql_q "SELECT count(*) FROM portal_session")" = 0
check "gateway log has no sanitizer report" bash -c "! grep -q Sanitizer '$T/gateway.log'"
t_summary
