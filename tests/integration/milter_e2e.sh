#!/usr/bin/env bash
# End to end: a real Postfix with reglo-milter (smtpd_milters and non_smtpd_milters), a real
# PostgreSQL, smtp-sink as the next hop. Invoices get a link and a QR that decodes to it;
# attachments arrive byte-identical; other mail arrives unchanged; a database outage
# delivers everything unchanged.
set -u
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
ARTISAN=jean@artisan.test
CLIENT=client@example.test

t_init
pg_start || exit 1
# The artisans are enrolled before the milter starts: its sender cache is on, as shipped.
REGLO_MAX_SIZE=2097152 REGLO_SENDER_CACHE_TTL=30 reglo_conf
check "db migrate applies the schema" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' db migrate | grep -Eq '^[1-9][0-9]* migrations? applied'"
check "db migrate is idempotent" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' db migrate | grep -q '^0 migrations applied'"
reglo artisan add --email "$ARTISAN" --name "Jean Dupont" --iban "FR76 3000 6000 0112 3456 7890 189" >/dev/null
reglo artisan add --email paul@artisan.test --name "Paul Martin" --link-default off >/dev/null
sink_start || { fail "smtp-sink starts"; exit 1; }
milter_start || { fail "reglo-milter starts"; cat "$T/reglo/milter.log"; exit 1; }
postfix_start || { fail "postfix starts"; exit 1; }
M=$T/mail; mkdir -p "$M"

delivered() {   # delivered PATTERN: the sink file of the message carrying PATTERN
    local f
    wait_for 300 sink_has "$1" || return 1
    sink_find "$1"
}

# 1. A Factur-X invoice by SMTP: link, QR, PDF intact, recorded.
$MKINV --number F-E2E-001 --amount 1234,56 --buyer-email "$CLIENT" \
       --iban FR7630006000011234567890189 -o "$M/f1.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-001" --html \
        --attach "$M/f1.pdf" -o "$M/f1.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/f1.eml"
D1=$(delivered "Facture F-E2E-001")
check "invoice delivered" test -n "$D1"
LINK=$(python3 "$MP" text "$D1" | grep -o 'https://pay.test.invalid/p/[A-Za-z0-9._-]*' | head -1)
check "text part carries the payment link" test -n "$LINK"
check "html part carries the link" bash -c "python3 '$MP' html '$D1' | grep -qF '$LINK'"
check "html shows the amount" bash -c "python3 '$MP' html '$D1' | grep -q '1.234,56'"
python3 "$MP" save "$D1" image/png "$M/qr.png"
check "QR image decodes to the link" test "$(zbarimg --nodbus --quiet --raw "$M/qr.png" 2>/dev/null)" = "$LINK"
python3 "$MP" save "$D1" f1.pdf "$M/f1.out.pdf"
check "PDF attachment byte-identical" cmp -s "$M/f1.pdf" "$M/f1.out.pdf"
check "delivered message is 7-bit clean" python3 "$MP" seven-bit "$D1"
check "marker header added" bash -c "python3 '$MP' header '$D1' X-Reglo | grep -q '^processed; id='"
J=$(reglo invoice show F-E2E-001 --json)
check "invoice recorded with the amount due" bash -c "echo '$J' | grep -q '\"amount_due_minor\":123456'"
check "invoice status is sent" bash -c "echo '$J' | grep -q '\"status\":\"sent\"'"
check "client address recorded" bash -c "echo '$J' | grep -q '\"client_email\":\"$CLIENT\"'"
check "timeline has the sent event" bash -c "echo '$J' | grep -q '\"kind\":\"sent\"'"

# 2. The same invoice sent again reuses the link.
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Relance F-E2E-001 resend" \
        --attach "$M/f1.pdf" -o "$M/f1b.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/f1b.eml"
D1B=$(delivered "Relance F-E2E-001 resend")
check "resent invoice reuses the same link" bash -c "python3 '$MP' text '$D1B' | grep -qF '$LINK'"

# 3. An artisan's non-invoice mail arrives unchanged.
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Rendez-vous mardi" \
        --text "Bonjour, je passerai mardi à 9h. Jean" -o "$M/plain.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/plain.eml"
D2=$(delivered "Rendez-vous mardi")
check "artisan's non-invoice arrives unchanged" python3 "$MP" unchanged "$M/plain.eml" "$D2"

# 4. A non-enrolled sender's invoice arrives unchanged.
$MKMAIL --from other@elsewhere.test --to "$CLIENT" --subject "Facture X-9 stranger" \
        --attach "$M/f1.pdf" -o "$M/stranger.eml"
send_mail other@elsewhere.test "$CLIENT" "$M/stranger.eml"
D3=$(delivered "Facture X-9 stranger")
check "non-enrolled sender's invoice arrives unchanged" python3 "$MP" unchanged "$M/stranger.eml" "$D3"

# 5. Local submission (non_smtpd_milters), X-Invoice-* headers, HTML-less message.
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Votre facture 77 local" \
        --header "X-Invoice-Number: H-77" --header "X-Invoice-Amount: 89,90" \
        --header "X-Invoice-Currency: EUR" -o "$M/hdr.eml"
sendmail_local "$ARTISAN" "$CLIENT" "$M/hdr.eml"
D4=$(delivered "Votre facture 77 local")
check "local submission gets a link from X-Invoice headers" bash -c "python3 '$MP' text '$D4' | grep -q 'https://pay.test.invalid/p/'"
check "X-Invoice-* headers removed" bash -c "! grep -qi '^X-Invoice-' '$D4'"
check "plain-text message gets the QR as an image part" python3 "$MP" save "$D4" image/png "$M/qr4.png"

# 6. Subject tags.
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "[sans lien] Facture F-E2E-002 nolink" \
        --attach "$M/f1.pdf" -o "$M/nolink.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/nolink.eml"
D5=$(delivered "F-E2E-002 nolink")
check "[sans lien]: no link" bash -c "! grep -q 'pay.test.invalid' '$D5'"
check "[sans lien]: tag removed from the subject" test "$(python3 "$MP" header "$D5" Subject)" = "Facture F-E2E-002 nolink"
$MKMAIL --from paul@artisan.test --to "$CLIENT" --subject "[lien] [montant 99,00] Facture P-5 tagged" \
        -o "$M/tagged.eml"
send_mail paul@artisan.test "$CLIENT" "$M/tagged.eml"
D6=$(delivered "Facture P-5 tagged")
check "[lien] + [montant]: link although the default is off" bash -c "python3 '$MP' text '$D6' | grep -q 'https://pay.test.invalid/p/'"
check "[montant]: amount from the tag" bash -c "$BUILD/reglo -c $REGLO_CONF invoice list --artisan paul@artisan.test --json | grep -q '\"amount_due_minor\":9900'"
check "tags removed" test "$(python3 "$MP" header "$D6" Subject)" = "Facture P-5 tagged"

# 7. Could not read: no link, and the artisan is told how to fix it.
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-003 sans montant" \
        -o "$M/unread.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/unread.eml"
D7=$(delivered "F-E2E-003 sans montant")
check "unreadable invoice: no link" bash -c "! grep -q 'pay.test.invalid' '$D7'"
N7=$(delivered "montant 123,45")
check "artisan told how to fix it ([montant 123,45])" test -n "$N7"
check "notice goes to the artisan" bash -c "grep -qi '^To: .*$ARTISAN' '$N7'"

# 8. Swapped IBAN: no link, alert.
$MKINV --number F-E2E-004 --amount 500,00 --iban DE89370400440532013000 -o "$M/fraud.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-004 iban" \
        --attach "$M/fraud.pdf" -o "$M/fraud.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/fraud.eml"
D8=$(delivered "F-E2E-004 iban")
check "IBAN mismatch: no link" bash -c "! grep -q 'pay.test.invalid' '$D8'"
check "IBAN mismatch: artisan alerted" test -n "$(delivered "DE89370400440532013000")"

# 9. Credit note: no link, no notice needed.
$MKINV --number AV-1 --amount 100,00 --type 381 -o "$M/avoir.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Avoir AV-1 credit" --attach "$M/avoir.pdf" -o "$M/avoir.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/avoir.eml"
D9=$(delivered "Avoir AV-1 credit")
check "credit note: delivered unchanged" python3 "$MP" unchanged "$M/avoir.eml" "$D9"

# 9a. A PDF that crashes poppler (a fuzzing find; poppler-glib 22.12 dereferences NULL on
# it): poppler runs in a child process, so the message goes on unchanged and the milter with
# it; the next invoice still gets its link.
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Votre document poppler" \
        --attach "$REGLO_ROOT/tests/fuzz/seeds/pdf/pdf-poppler-attachments-segv.pdf" -o "$M/segv.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/segv.eml"
D9A=$(delivered "Votre document poppler")
check "PDF crashing poppler: delivered unchanged" python3 "$MP" unchanged "$M/segv.eml" "$D9A"
check "PDF crashing poppler: the milter is still running" kill -0 "$MILTER_PID"
check "PDF crashing poppler: logged" grep -q 'PDF treated as unreadable' "$T/reglo/milter.log"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-001 after poppler" --html \
        --attach "$M/f1.pdf" -o "$M/after-segv.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/after-segv.eml"
D9B=$(delivered "F-E2E-001 after poppler")
check "after the poppler crash: the next invoice gets its link" bash -c "grep -q 'pay.test.invalid' '$D9B'"

# 9a'. The PDF reader's server killed from outside: its keeper (reglo-milter's child, forked
# before the milter's threads) starts another, and the next PDF invoice is read as before.
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -v '^$'; }
KEEPER=$(children_of "$MILTER_PID" | head -1)
SERVER=$(children_of "${KEEPER:-0}" | head -1)
check "the PDF reader's server runs under its keeper" test -n "$SERVER"
[ -n "$SERVER" ] && kill -KILL "$SERVER"
new_server() { local s; s=$(children_of "$KEEPER" | head -1); [ -n "$s" ] && [ "$s" != "$SERVER" ]; }
check "... killed: its keeper starts another" wait_for 50 new_server
check "... and says so" grep -q 'PDF reader: its server was killed (signal 9); starting it again' "$T/reglo/milter.log"
$MKINV --number F-E2E-KEEP --amount 42,00 --buyer-email "$CLIENT" -o "$M/keep.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-KEEP" --attach "$M/keep.pdf" \
        -o "$M/keep.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/keep.eml"
D9K=$(delivered "Facture F-E2E-KEEP")
check "... the next PDF invoice gets its link (read by the new server)" \
    bash -c "grep -q 'pay.test.invalid' '$D9K' && [ \"\$(psql -Atqc \"SELECT source FROM invoice WHERE number = 'F-E2E-KEEP'\")\" = facturx ]"

# 9b. Large messages: past memory_threshold (64 KB here) the milter spools to a temporary
# file and still rewrites; past max_message_size (2 MB here) the message passes untouched.
$MKINV --number F-E2E-BIG --amount 7,50 --pad 600 -o "$M/big.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-BIG spooled" --attach "$M/big.pdf" -o "$M/big.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/big.eml"
DB1=$(delivered "F-E2E-BIG spooled")
check "600 KB invoice (spooled to a file) gets a link" bash -c "grep -q 'pay.test.invalid' '$DB1'"
python3 "$MP" save "$DB1" big.pdf "$M/big.out.pdf"
check "600 KB PDF arrives byte-identical" cmp -s "$M/big.pdf" "$M/big.out.pdf"
check "no spool file left behind" bash -c "! ls '$T/reglo' | grep -q reglo-spool"
$MKINV --number F-E2E-HUGE --amount 7,50 --pad 3000 -o "$M/huge.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-HUGE capped" --attach "$M/huge.pdf" -o "$M/huge.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/huge.eml"
DH=$(delivered "F-E2E-HUGE capped")
check "message over max_message_size passes unchanged" python3 "$MP" unchanged "$M/huge.eml" "$DH"

# 10. PostgreSQL stopped mid-run: everything is still delivered, unchanged.
pg_stop
$MKINV --number F-E2E-005 --amount 42,00 -o "$M/down.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-005 dbdown" --attach "$M/down.pdf" -o "$M/down.eml"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Hello dbdown plain" -o "$M/down2.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/down.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/down2.eml"
D10=$(delivered "F-E2E-005 dbdown")
D11=$(delivered "Hello dbdown plain")
check "database down: invoice delivered unchanged" python3 "$MP" unchanged "$M/down.eml" "$D10"
check "database down: other mail delivered unchanged" python3 "$MP" unchanged "$M/down2.eml" "$D11"
check "database down: logged with on_error=accept" grep -q 'passed unchanged (on_error=accept)' "$T/reglo/milter.log"

# 10b. on_error = tempfail: the MTA is told to retry, nothing is delivered unchanged.
milter_stop
sed -i 's/on_error = "accept"/on_error = "tempfail"/' "$REGLO_CONF"
milter_start
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-007 tempfail" --attach "$M/down.pdf" -o "$M/tf.eml"
check "database down, on_error=tempfail: the client is told to retry (4xx)" bash -c "! swaks --server 127.0.0.1:$SMTPD_PORT --from '$ARTISAN' --to '$CLIENT' --data '$M/tf.eml' --hide-all"
check "database down, on_error=tempfail: logged" grep -q 'deferred (on_error=tempfail)' "$T/reglo/milter.log"
milter_stop
sed -i 's/on_error = "tempfail"/on_error = "accept"/' "$REGLO_CONF"
milter_start
pg_resume
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-E2E-006 dbback" --attach "$M/f1.pdf" -o "$M/back.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/back.eml"
D12=$(delivered "F-E2E-006 dbback")
check "database back: links again" bash -c "grep -q 'pay.test.invalid' '$D12'"

check "milter log has one decision line per artisan message" grep -q 'decision=link' "$T/reglo/milter.log"
check "milter never logs a link token" bash -c "! grep -q '/p/' '$T/reglo/milter.log'"
milter_stop
check "milter exits cleanly (no sanitizer report)" bash -c "! grep -q 'Sanitizer' '$T/reglo/milter.log'"
t_summary
