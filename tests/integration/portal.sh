#!/usr/bin/env bash
# The artisan's portal on reglo-gateway, over HTTP with curl, against a private PostgreSQL
# and smtp-sink (the gateway's outbox submits straight to it): sign-in by emailed link (same
# answer for unknown addresses, single use, expiry, rate limits), sessions (cookie flags,
# idle expiry, sign-out, sign-out everywhere), Mes factures (statuses, filter, search,
# paging, totals, CSV), one invoice and its actions, Options (reminder steps, IBAN change
# confirmed by email), Personnalisation (refusals with line and reason, preview, save,
# reset), and the hostile cases: no or wrong CSRF token, a foreign Origin, another
# artisan's invoice, oversized forms — each refused with nothing changed.
set -u
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
JEAN=jean@artisan.test
MARIE=marie@artisan.test
IBAN=FR7630006000011234567890189
NEW_IBAN="fr14 2004 1010 0505 0001 3m02 606"    # valid check digits, typed carelessly
NEW_IBAN_NORM=FR1420041010050500013M02606

t_init
H=$T/http
mkdir -p "$H"
pg_start || exit 1
reglo_conf
gateway_conf
# The gateway's outbox sender submits straight to smtp-sink: no MTA needed here.
sed -i "s|url = \"smtp://127.0.0.1:$SMTPD_PORT\"|url = \"smtp://127.0.0.1:$SINK_PORT\"|" "$REGLO_CONF"
# The reminder rows are the test's own: no scheduler planning more.
echo 'reminders { enabled = false }' >>"$REGLO_CONF"
reglo db migrate >/dev/null || { fail "db migrate"; t_summary; exit 1; }
reglo artisan add --email "$JEAN" --name "Plomberie Dupont" --iban "$IBAN" --bic AGRIFRPP >/dev/null
reglo artisan add --email "$MARIE" --name "Marie Électricité" >/dev/null
reglo artisan add --email gone@artisan.test --name "Parti" >/dev/null
reglo artisan disable --email gone@artisan.test >/dev/null
JEAN_ID=$(psql_q "SELECT id FROM artisan WHERE email = '$JEAN'")
MARIE_ID=$(psql_q "SELECT id FROM artisan WHERE email = '$MARIE'")

# Jean: 120 invoices in several states; Marie: one.
psql -q <<SQL
INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, due_date, client_email,
                     recipients, subject, source, key_id, sent_at, status, has_link)
SELECT $JEAN_ID, 'F-' || lpad(n::text, 4, '0'), 10000 + n, 'EUR',
       current_date + 30, 'client' || (n % 7) || '@example.test',
       ARRAY['client' || (n % 7) || '@example.test'], 'Facture ' || n, 'facturx', 'k1',
       now() - make_interval(days => 120 - n), 'sent', true
  FROM generate_series(1, 120) n;
UPDATE invoice SET status = 'paid', paid_at = now(), paid_minor = amount_due_minor
 WHERE number IN ('F-0001', 'F-0002');
UPDATE invoice SET due_date = current_date - 10 WHERE number IN ('F-0003', 'F-0004');
UPDATE invoice SET status = 'viewed' WHERE number = 'F-0005';
UPDATE invoice SET reminders_paused = true WHERE number = 'F-0006';
UPDATE invoice SET status = 'undelivered' WHERE number = 'F-0007';
UPDATE invoice SET number = 'F-50%_X', amount_due_minor = 123456 WHERE number = 'F-0008';
INSERT INTO reminder (invoice_id, step, due_at, status, sent_at)
SELECT id, 7, now(), 'sent', now() FROM invoice WHERE number = 'F-0009';
INSERT INTO reminder (invoice_id, step, due_at, status)
SELECT id, 15, now() + interval '8 days', 'pending' FROM invoice WHERE number IN ('F-0010', 'F-0011');
INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, source, key_id, client_email)
VALUES ($MARIE_ID, 'M-SECRET-1', 5000, 'EUR', 'facturx', 'k1', 'autre@example.test');
SQL
id_of() { psql_q "SELECT id FROM invoice WHERE number = '$1'"; }
MARIE_INV=$(id_of M-SECRET-1)
# And one recorded the real way, by `reglo rewrite`: its link token is in the database.
"$REGLO_ROOT/tests/fixtures/mkinvoice" --number F-REAL-1 --amount 1234,56 --iban "$IBAN" \
    --buyer-email client@example.test --issue 20260301 --due 20261231 -o "$T/real.pdf"
"$REGLO_ROOT/tests/fixtures/mkmail" --from "$JEAN" --to client@example.test \
    --subject "Facture F-REAL-1" --attach "$T/real.pdf" -o "$T/real.eml"
reglo rewrite <"$T/real.eml" >"$T/real.out" 2>"$T/rewrite.log"
REAL=$(id_of F-REAL-1)
check "an invoice recorded by reglo rewrite" test -n "$REAL"

sink_start || { fail "smtp-sink starts"; t_summary; exit 1; }
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; t_summary; exit 1; }
ok "reglo-gateway starts"

# req NAME [curl args...]: status code printed; headers in $H/NAME.h, body in $H/NAME.b
req() {
    local name=$1; shift
    curl -s -o "$H/$name.b" -D "$H/$name.h" -w '%{http_code}' "$@"
}
has() { grep -q -- "$2" "$H/$1.b"; }
rows() { grep -c '<td data-label="Numéro">' "$H/$1.b"; }
hdr() { grep -i "^$2:" "$H/$1.h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
csrf_of() { grep -o 'name="csrf" value="[^"]*"' "$H/$1.b" | head -1 | sed 's/.*value="//; s/"$//'; }
mails_to() { grep -rl -- "^To: .*$1" "$T/sink" 2>/dev/null | wc -l; }
mails_at_least() { [ "$(mails_to "$1")" -ge "$2" ]; }
last_link() {   # last_link ADDRESS PATH: the newest link to PATH mailed to ADDRESS
    local f
    f=$(ls -t $(grep -rl -- "^To: .*$1" "$T/sink" 2>/dev/null) 2>/dev/null | head -1)
    [ -n "$f" ] && python3 "$MP" text "$f" | grep -o "$GW$2?t=[A-Za-z0-9_-]*" | tail -1
}

# ---- signing in ------------------------------------------------------------------------------

check "GET /portal: to the sign-in page" test "$(req home "$GW/portal")" = 303
check "  Location /portal/connexion" test "$(hdr home Location)" = /portal/connexion
check "Mes factures without a session: to the sign-in page" \
    test "$(req nosess "$GW/portal/factures")" = 303
check "sign-in page in French by default" test "$(req signin "$GW/portal/connexion")" = 200
check "  asks for the address" has signin 'type="email"'
check "sign-in page in English from Accept-Language" \
    test "$(req signin_en -H 'Accept-Language: en-GB,en;q=0.9' "$GW/portal/connexion")" = 200
check "  English words" has signin_en 'Send my link'

check "request a link for an enrolled address: 200" \
    test "$(req ask_jean --data-urlencode "email=Jean@Artisan.test " "$GW/portal/connexion")" = 200
check "request a link for an unknown address: 200" \
    test "$(req ask_nobody --data-urlencode "email=nobody@artisan.test" "$GW/portal/connexion")" = 200
check "request a link for a disabled artisan: 200" \
    test "$(req ask_gone --data-urlencode "email=gone@artisan.test" "$GW/portal/connexion")" = 200
same_answer() {
    diff <(sed 's/jean@artisan.test//' "$H/ask_jean.b") <(sed 's/nobody@artisan.test//' "$H/ask_nobody.b") >/dev/null
}
check "  the page says the same thing either way" same_answer
check "the sign-in link arrives at smtp-sink" wait_for 100 mails_at_least "$JEAN" 1
sleep 1
check "  no mail for the unknown address" test "$(mails_to nobody@artisan.test)" = 0
check "  no mail for the disabled artisan" test "$(mails_to gone@artisan.test)" = 0
# The answer comes after the same work for every address (the request recorded); the outbox
# thread looks up the address afterwards and mails the link.
check "  the three requests handled after the answers, by the outbox thread" \
    test "$(psql_q "SELECT count(*) FILTER (WHERE handled_at IS NOT NULL) || ':' || count(*) FROM portal_signin_request")" = "3:3"
check "  one link, the enrolled artisan's" \
    test "$(psql_q "SELECT count(*) FROM portal_link WHERE purpose = 'signin'")" = 1
LINK=$(last_link "$JEAN" /portal/entrer)
check "  it carries a /portal/entrer link" test -n "$LINK"
check "a malformed address is refused" \
    test "$(req ask_bad --data-urlencode "email=not-an-address" "$GW/portal/connexion")" = 400

check "GET the link: a page with a button (200)" test "$(req enter_get "$LINK")" = 200
check "  GET again (a mail scanner): still usable" test "$(req enter_get2 "$LINK")" = 200
TOKEN=${LINK#*t=}
check "POST the link: 303 to Mes factures" \
    test "$(req enter --data-urlencode "t=$TOKEN" "$GW/portal/entrer")" = 303
COOKIE_LINE=$(hdr enter Set-Cookie)
SID=$(printf '%s' "$COOKIE_LINE" | sed 's/^reglo_portal=\([^;]*\);.*/\1/')
check "  session cookie: HttpOnly" grep -q 'HttpOnly' <<<"$COOKIE_LINE"
check "  session cookie: Secure" grep -q 'Secure' <<<"$COOKIE_LINE"
check "  session cookie: SameSite=Strict" grep -q 'SameSite=Strict' <<<"$COOKIE_LINE"
check "  session cookie: Path=/portal" grep -q 'Path=/portal' <<<"$COOKIE_LINE"
check "  only a hash of the session id in the database" \
    test "$(psql_q "SELECT count(*) FROM portal_session WHERE id_hash = '$SID'")" = 0
check "the link works once: reused, 410" \
    test "$(req enter_again --data-urlencode "t=$TOKEN" "$GW/portal/entrer")" = 410
check "  and sets no cookie" test -z "$(hdr enter_again Set-Cookie)"
check "a made-up token: 410" \
    test "$(req enter_fake --data-urlencode "t=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$GW/portal/entrer")" = 410
req ask_jean2 --data-urlencode "email=$JEAN" "$GW/portal/connexion" >/dev/null
wait_for 100 mails_at_least "$JEAN" 2
LINK2=$(last_link "$JEAN" /portal/entrer)
psql_q "UPDATE portal_link SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL" >/dev/null
check "an expired link: 410" \
    test "$(req enter_expired --data-urlencode "t=${LINK2#*t=}" "$GW/portal/entrer")" = 410

C=(-H "Cookie: reglo_portal=$SID")

# ---- Mes factures ----------------------------------------------------------------------------------

check "Mes factures: 200" test "$(req list "${C[@]}" "$GW/portal/factures")" = 200
check "  newest first: F-0120 on page 1" has list '>F-0120<'
check "  50 rows a page: F-0072 on page 1, F-0071 not" \
    bash -c "grep -q '>F-0072<' '$H/list.b' && ! grep -q '>F-0071<' '$H/list.b'"
check "  no invoice of another artisan" bash -c "! grep -q M-SECRET '$H/list.b'"
check "  totals: paid this month (200,03 €)" has list "200,03"
check "  page 1 / 3" has list 'Page 1 / 3'
check "the list in English on the switch" test "$(req list_en "${C[@]}" "$GW/portal/factures?lang=en")" = 200
check "  English words and amounts" bash -c "grep -q 'My invoices' '$H/list_en.b' && grep -q '€200.03' '$H/list_en.b'"
check "page 3: the 21 oldest" test "$(req list3 "${C[@]}" "$GW/portal/factures?page=3")" = 200
check "  F-0001 there" has list3 '>F-0001<'
check "  21 rows" test "$(rows list3)" = 21
req st_paid "${C[@]}" "$GW/portal/factures?statut=paid" >/dev/null
check "filter Payée: the two paid invoices only" test "$(rows st_paid)" = 2
check "  labelled Payée" has st_paid '>Payée<'
req st_over "${C[@]}" "$GW/portal/factures?statut=overdue" >/dev/null
check "filter En retard: two" test "$(rows st_over)" = 2
req st_rem "${C[@]}" "$GW/portal/factures?statut=reminded" >/dev/null
check "filter Relancée: one, ×1" bash -c "grep -q '>F-0009<' '$H/st_rem.b' && grep -q 'Relancée ×1' '$H/st_rem.b'"
req st_pause "${C[@]}" "$GW/portal/factures?statut=paused" >/dev/null
check "filter En pause: F-0006 alone" bash -c "grep -q '>F-0006<' '$H/st_pause.b' && [ \$(grep -c 'data-label=\"Numéro\"' '$H/st_pause.b') = 1 ]"
req st_und "${C[@]}" "$GW/portal/factures?statut=undelivered" >/dev/null
check "filter Non délivrée: F-0007 alone" bash -c "grep -q '>F-0007<' '$H/st_und.b' && [ \$(grep -c 'data-label=\"Numéro\"' '$H/st_und.b') = 1 ]"
req st_view "${C[@]}" "$GW/portal/factures?statut=viewed" >/dev/null
check "filter Vue: F-0005 alone" bash -c "grep -q '>F-0005<' '$H/st_view.b' && [ \$(grep -c 'data-label=\"Numéro\"' '$H/st_view.b') = 1 ]"
req search "${C[@]}" --get --data-urlencode "q=50%_" "$GW/portal/factures" >/dev/null
check "search is literal ('50%_' finds F-50%_X only)" \
    bash -c "[ \$(grep -c 'data-label=\"Numéro\"' '$H/search.b') = 1 ] && grep -q 'F-50%_X' '$H/search.b'"
req search2 "${C[@]}" --get --data-urlencode "q=client3@" "$GW/portal/factures" >/dev/null
check "search by client address" test "$(rows search2)" = 17
check "a bad status filter shows all" \
    test "$(req st_bad "${C[@]}" "$GW/portal/factures?statut=%3Cscript%3E&page=-4")" = 200

check "CSV export: 200" test "$(req csv "${C[@]}" "$GW/portal/factures.csv?statut=paid")" = 200
check "  text/csv, as an attachment" bash -c "grep -qi '^content-type: text/csv' '$H/csv.h' && grep -qi '^content-disposition: attachment' '$H/csv.h'"
check "  UTF-8 BOM first" test "$(head -c 3 "$H/csv.b" | od -An -tx1 | tr -d ' ')" = efbbbf
check "  ';' separated header" bash -c "head -1 '$H/csv.b' | grep -q 'Numéro;Client;Montant'"
check "  CRLF line ends" bash -c "head -1 '$H/csv.b' | grep -q \$'\r\$'"
check "  the filter applies: header + 2 rows" test "$(wc -l <"$H/csv.b")" = 3
check "  French amounts: 100,01" grep -q ';100,01;' "$H/csv.b"
req csv_s "${C[@]}" --get --data-urlencode "q=F-50" "$GW/portal/factures.csv" >/dev/null
check "  1 234,56 € written 1234,56" grep -q ';1234,56;' "$H/csv_s.b"

# ---- one invoice -------------------------------------------------------------------------------------

I10=$(id_of F-0010)
check "one invoice: 200" test "$(req inv "${C[@]}" "$GW/portal/factures/$I10")" = 200
check "  its payment link" has inv "$GW/p/k1\."
check "  the 'paiement immédiat' button" has inv "/portal/factures/$I10/qr"
check "paiement immédiat: 200" test "$(req qr "${C[@]}" "$GW/portal/factures/$REAL/qr")" = 200
QR=$(grep -o 'src="/p/[^"]*qr.png"' "$H/qr.b" | sed 's/src="//; s/"$//')
check "  its image is the link's QR (PNG)" \
    bash -c "curl -s '$GW$QR' | head -c 4 | grep -q PNG"
CSRF=$(csrf_of list)
check "send the link again: 303" \
    test "$(req resend "${C[@]}" --data-urlencode action=resend --data-urlencode "csrf=$CSRF" "$GW/portal/factures/$REAL")" = 303
check "  queued in the outbox, from the artisan, to the client and the artisan" \
    test "$(psql_q "SELECT mail_from || ' ' || array_to_string(rcpts, ',') FROM outbox WHERE purpose = 'link' AND invoice_id = $REAL")" = "$JEAN client@example.test,$JEAN"
check "  it arrives (smtp-sink)" wait_for 100 bash -c "grep -rliq '^Message-ID: <link-$REAL-1@artisan.test>' '$T/sink'"
RESENT=$(grep -rli "^Message-ID: <link-$REAL-1@artisan.test>" "$T/sink" | head -1)
INV_MSGID=$(psql_q "SELECT message_id FROM invoice WHERE id = $REAL")
check "  in the invoice's thread (In-Reply-To)" \
    test "$(python3 "$MP" header "$RESENT" In-Reply-To)" = "<$INV_MSGID>"
check "  Cc the artisan" bash -c "python3 '$MP' header '$RESENT' Cc | grep -q '$JEAN'"
check "  carries the payment link" bash -c "python3 '$MP' text '$RESENT' | grep -q '$GW/p/k1\\.'"
check "  and the signed marker that keeps the milter from adding a second block" \
    bash -c "python3 '$MP' header '$RESENT' X-Reglo | grep -q '^reminder; id=$REAL;'"
check "  on the timeline and tracked in the thread" \
    test "$(psql_q "SELECT count(*) FROM invoice_event WHERE invoice_id = $REAL AND kind = 'link_resent'"):$(psql_q "SELECT kind FROM thread_message WHERE message_id = 'link-$REAL-1@artisan.test'")" = "1:link"
req resend2 "${C[@]}" --data-urlencode action=resend --data-urlencode "csrf=$CSRF" "$GW/portal/factures/$REAL" >/dev/null
check "  a second time: another Message-ID" \
    test "$(psql_q "SELECT count(*) FROM thread_message WHERE message_id = 'link-$REAL-2@artisan.test'")" = 1
check "another artisan's invoice: 404" test "$(req foreign "${C[@]}" "$GW/portal/factures/$MARIE_INV")" = 404
check "  reveals nothing" bash -c "! grep -q M-SECRET '$H/foreign.b'"
check "a malformed id: 404" test "$(req badid "${C[@]}" "$GW/portal/factures/1x")" = 404
CSRF=$(csrf_of inv)
check "the page carries a CSRF token" test -n "$CSRF"

post_act() {   # post_act NAME ID ACTION [CSRF]
    req "$1" "${C[@]}" --data-urlencode "action=$3" --data-urlencode "csrf=${4-$CSRF}" \
        "$GW/portal/factures/$2"
}
status_of() { psql_q "SELECT status || ':' || reminders_paused::int FROM invoice WHERE id = $1"; }
check "pause without a CSRF token: 403" \
    test "$(req nocsrf "${C[@]}" --data-urlencode "action=pause" "$GW/portal/factures/$I10")" = 403
check "  a clear message" has nocsrf 'a été modifié'
check "pause with a wrong CSRF token: 403" test "$(post_act badcsrf "$I10" pause WRONG)" = 403
check "  nothing changed" test "$(status_of "$I10")" = "sent:0"
check "pause from another site (Origin): 403" \
    test "$(req origin "${C[@]}" -H 'Origin: https://evil.example' --data-urlencode action=pause \
            --data-urlencode "csrf=$CSRF" "$GW/portal/factures/$I10")" = 403
check "  nothing changed" test "$(status_of "$I10")" = "sent:0"
check "pause: 303" test "$(post_act pause "$I10" pause)" = 303
check "  reminders paused" test "$(status_of "$I10")" = "sent:1"
check "  on the timeline" test "$(psql_q "SELECT count(*) FROM invoice_event WHERE invoice_id = $I10 AND kind = 'reminders_paused'")" = 1
check "resume: 303" test "$(post_act resume "$I10" resume)" = 303
check "  reminders resumed" test "$(status_of "$I10")" = "sent:0"
check "mark paid (other means): 303" test "$(post_act paid "$I10" paid)" = 303
check "  paid, no fee row" test "$(status_of "$I10"):$(psql_q "SELECT count(*) FROM fee WHERE invoice_id = $I10")" = "paid:0:0"
check "  its pending reminder cancelled" test "$(psql_q "SELECT status FROM reminder WHERE invoice_id = $I10")" = cancelled
req inv_paid "${C[@]}" "$GW/portal/factures/$I10?ok=paid" >/dev/null
check "  the page says so, and the timeline shows it" \
    bash -c "grep -q 'marquée comme payée' '$H/inv_paid.b' && grep -q 'Marquée payée' '$H/inv_paid.b'"
I11=$(id_of F-0011)
check "cancel: 303" test "$(post_act cancel "$I11" cancel)" = 303
check "  cancelled, reminder cancelled" test "$(status_of "$I11"):$(psql_q "SELECT status FROM reminder WHERE invoice_id = $I11")" = "cancelled:0:cancelled"
check "an unknown action: 400" test "$(post_act unknown "$I11" explode)" = 400
check "an action on another artisan's invoice: 404" test "$(post_act foreign_act "$MARIE_INV" paid)" = 404
check "  nothing changed" test "$(psql_q "SELECT status FROM invoice WHERE id = $MARIE_INV")" = sent

# ---- options ------------------------------------------------------------------------------------------

check "options: 200" test "$(req opt "${C[@]}" "$GW/portal/options")" = 200
check "  the IBAN masked" bash -c "grep -q 'FR76 •••• •••• •••• •••• •••• 0189' '$H/opt.b' && ! grep -q '$IBAN' '$H/opt.b'"
check "  D+7, D+15, D+30 checked" test "$(grep -c 'name="r[0-9]*" value="on" checked' "$H/opt.b")" = 3
opt_post() {   # opt_post NAME [field=value...]
    local name=$1; shift
    local args=()
    for f in "$@"; do args+=(--data-urlencode "$f"); done
    req "$name" "${C[@]}" --data-urlencode "csrf=$CSRF" "${args[@]}" "$GW/portal/options"
}
art() { psql_q "SELECT $1 FROM artisan WHERE id = $JEAN_ID"; }
check "save: D+7 and '-3, 45', from due, no pause on reply, link only with [lien]" \
    test "$(opt_post save payment=on link_mode=tag r7=on 'other_steps=-3, 45' from_due=on locale=fr bic=AGRIFRPP)" = 303
check "  stored" test "$(art "reminders::text || reminders_from || link_default || pause_on_client_reply || payment_enabled")" = "{-3,7,45}duefalsefalsetrue"
check "bad custom days: 400, nothing changed" \
    test "$(opt_post save_bad payment=on r7=on 'other_steps=7, abc' locale=en bic=AGRIFRPP):$(art "reminders::text || locale")" = "400:{-3,7,45}fr"
check "  says why" has save_bad 'entre -60 et 365'
check "a bad BIC: 400, nothing changed" \
    test "$(opt_post bic_bad payment=on r15=on 'bic=AG<RI>' locale=en):$(art "bic || reminders::text || locale")" = "400:AGRIFRPP{-3,7,45}fr"
check "  says why" has bic_bad 'BIC n&#39;est pas valide'
check "a bad IBAN: 400, nothing changed" \
    test "$(opt_post iban_bad payment=on r15=on 'iban=FR76 3000 6000 0112 3456 7890 188' bic=AGRIFRPP):$(art "iban || reminders::text")" = "400:$IBAN{-3,7,45}"
before=$(mails_to "$JEAN")
check "a new IBAN: saved options, the IBAN waits" \
    test "$(opt_post iban_new payment=on r7=on r15=on r30=on pause_reply=on link_mode=all "iban=$NEW_IBAN" bic=CMCIFR2A locale=fr):$(art iban)" = "303:$IBAN"
check "  a confirmation link is mailed to the artisan" wait_for 100 mails_at_least "$JEAN" $((before + 1))
ILINK=$(last_link "$JEAN" /portal/iban)
check "  /portal/iban link" test -n "$ILINK"
check "  the confirmation page shows the new IBAN masked" \
    bash -c "[ \$(curl -s -o '$H/iban_get.b' -w '%{http_code}' '$ILINK') = 200 ] && grep -q '2606' '$H/iban_get.b'"
check "  confirm: 200" test "$(req iban_ok --data-urlencode "t=${ILINK#*t=}" "$GW/portal/iban")" = 200
check "  the new IBAN and BIC are the artisan's now" test "$(art "iban || ' ' || bic")" = "$NEW_IBAN_NORM CMCIFR2A"
check "  the link works once" test "$(req iban_again --data-urlencode "t=${ILINK#*t=}" "$GW/portal/iban")" = 410

# ---- personnalisation -------------------------------------------------------------------------------

check "templates list: 200" test "$(req tpls "${C[@]}" "$GW/portal/modeles")" = 200
check "  the block and each step (J+7)" bash -c "grep -q 'block.txt' '$H/tpls.b' && grep -q 'J+7' '$H/tpls.b'"
E=$GW/portal/modeles/reminder.txt
check "editor: 200 with the default text" test "$(req ed "${C[@]}" "$E?etape=7&langue=fr")" = 200
check "  the variables are listed" has ed '{{days_overdue}}'
check "  a preview with the sample invoice" has ed 'F-2026-042'
tpl_post() {   # tpl_post NAME ACTION BODY
    req "$1" "${C[@]}" --data-urlencode "csrf=$CSRF" --data-urlencode "action=$2" \
        --data-urlencode "etape=7" --data-urlencode "langue=fr" --data-urlencode "body=$3" "$E"
}
stored() { psql_q "SELECT count(*) FROM template WHERE artisan_id = $JEAN_ID"; }
check "a template with {{{link}}}: 400" test "$(tpl_post t_triple save $'Bonjour\n{{{link}}}')" = 400
check "  refused with the line" has t_triple 'ligne 2'
check "  nothing stored" test "$(stored)" = 0
check "a payment block without the payment link: 400" \
    test "$(req t_nolink "${C[@]}" --data-urlencode "csrf=$CSRF" --data-urlencode action=save \
            --data-urlencode langue=fr --data-urlencode "body=Payez vite." "$GW/portal/modeles/block.txt")" = 400
check "  says the link is missing, at line 1" has t_nolink 'ligne 1 : le lien de paiement {{link}} manque'
check "a template that does not parse: 400" test "$(tpl_post t_parse save $'a\nb\n{{#x}}\n{{link}}')" = 400
check "  with its line (3) and the reason" has t_parse 'ligne 3 : la section {{#x}} n'
check "  nothing stored" test "$(stored)" = 0
check "preview: 200, rendered, not stored" \
    test "$(tpl_post t_prev preview $'Cher client, {{amount}} à régler : {{link}}'):$(stored)" = "200:0"
check "  the sample amount in the preview (not only the editor)" has t_prev 'class="preview-text">Cher client, 1'
check "save: 303" test "$(tpl_post t_save save $'Cher client, {{amount}} à régler : {{link}}\r\nMerci.')" = 303
check "  stored for J+7, with LF line ends" \
    test "$(psql_q "SELECT step || ':' || (body LIKE E'%\\r%') FROM template WHERE artisan_id = $JEAN_ID AND name = 'reminder.txt'")" = "7:false"
check "  the editor shows it" bash -c "curl -s -H 'Cookie: reglo_portal=$SID' '$E?etape=7&langue=fr' | grep -q 'Cher client'"
check "reset: 303, back to the default" test "$(tpl_post t_reset reset x):$(stored)" = "303:0"
check "an unknown template: 404" test "$(req t_unknown "${C[@]}" "$GW/portal/modeles/../../etc/passwd")" = 404
check "a step that is not a number: 404" test "$(req t_badstep "${C[@]}" "$GW/portal/modeles/reminder.txt?etape=7x%00")" = 404
check "a step on the block: 404" test "$(req t_blockstep "${C[@]}" "$GW/portal/modeles/block.txt?etape=7")" = 404

# ---- oversized and odd requests ------------------------------------------------------------------------

head -c 300000 /dev/zero | tr '\0' 'a' >"$T/big"
check "an oversized form: 413" \
    test "$(req big "${C[@]}" --data-urlencode "csrf=$CSRF" --data-urlencode "body@$T/big" "$E")" = 413
check "  nothing stored" test "$(stored)" = 0
check "PUT: 405" test "$(req put -X PUT "${C[@]}" "$GW/portal/factures")" = 405
check "a cookie of the wrong shape: to the sign-in page" \
    test "$(req badcookie -H 'Cookie: reglo_portal=../../x' "$GW/portal/factures")" = 303

# ---- sessions ---------------------------------------------------------------------------------------------

sign_in() {   # sign_in: a new session id for Jean on stdout
    local n
    n=$(mails_to "$JEAN")
    curl -s -o /dev/null --data-urlencode "email=$JEAN" "$GW/portal/connexion"
    wait_for 100 mails_at_least "$JEAN" $((n + 1)) || return 1
    local l
    l=$(last_link "$JEAN" /portal/entrer)
    curl -s -D - -o /dev/null --data-urlencode "t=${l#*t=}" "$GW/portal/entrer" |
        sed -n 's/^Set-Cookie: reglo_portal=\([^;]*\);.*/\1/Ip'
}
S2=$(sign_in)
S3=$(sign_in)
check "two more sessions" test -n "$S2" -a -n "$S3"
check "sign out: 303, cookie cleared" \
    bash -c "[ \$(curl -s -o /dev/null -D '$H/out.h' -w '%{http_code}' -H 'Cookie: reglo_portal=$S2' --data-urlencode 'csrf=$(psql_q "SELECT csrf FROM portal_session WHERE id_hash = encode(sha256('$S2'), 'hex')")' '$GW/portal/deconnexion') = 303 ] && grep -qi 'reglo_portal=;.*Max-Age=0' '$H/out.h'"
check "  that session is gone" test "$(req after_out -H "Cookie: reglo_portal=$S2" "$GW/portal/factures")" = 303
check "  the others still work" test "$(req still -H "Cookie: reglo_portal=$S3" "$GW/portal/factures")" = 200
psql_q "UPDATE portal_session SET seen_at = now() - interval '31 days' WHERE id_hash = encode(sha256('$S3'), 'hex')" >/dev/null
check "a session idle for 31 days: to the sign-in page" \
    test "$(req idle -H "Cookie: reglo_portal=$S3" "$GW/portal/factures")" = 303
check "sign out everywhere" \
    test "$(req out_all "${C[@]}" --data-urlencode "csrf=$CSRF" --data-urlencode everywhere=1 "$GW/portal/deconnexion")" = 303
check "  no session of Jean's left" test "$(psql_q "SELECT count(*) FROM portal_session WHERE artisan_id = $JEAN_ID")" = 0
check "  the first session is gone too" test "$(req after_all "${C[@]}" "$GW/portal/factures")" = 303

# ---- rate limits --------------------------------------------------------------------------------------------

psql_q "DELETE FROM portal_signin_request" >/dev/null
codes=""
for i in 1 2 3 4 5 6; do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "email=rate@artisan.test" "$GW/portal/connexion")"
done
check "5 requests for one address, the 6th refused (429)" test "$codes" = " 200 200 200 200 200 429"
check "  the refused one recorded as handled at once (never mailed)" \
    test "$(psql_q "SELECT count(*) FROM portal_signin_request WHERE email = 'rate@artisan.test' AND handled_at = at")" = 1
codes=""
for i in $(seq 1 15); do
    codes="$codes$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "email=r$i@artisan.test" "$GW/portal/connexion")"
done
check "20 requests from one client address, then 429" bash -c "[[ '$codes' == *429 ]] && [[ '$codes' != *429*200* ]]"

check "no sanitizer report in the gateway's log" bash -c "! grep -q 'runtime error\|AddressSanitizer' '$T/gateway.log'"
t_summary
