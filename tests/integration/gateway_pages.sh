#!/usr/bin/env bash
# reglo-gateway's payment page against a private PostgreSQL: an invoice recorded by
# `reglo rewrite`, then over HTTP: the page in French and English, security headers, the
# amount as money_format writes it, one "viewed" event, the link and EPC QR codes, 404s
# that reveal nothing, paying through an unreachable PSP (nothing recorded) and through a
# small Mollie emulator (303, recorded once, reused), body caps, methods, static files,
# SIGHUP reload (good and bad file) and a clean SIGTERM.
set -u
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
ARTISAN=jean@artisan.test
CLIENT=client@example.test
IBAN_NORM=FR7630006000011234567890189
CLOSED_PORT=$((PORT_BASE + 82))       # nothing listens there: the PSP is unreachable
NNBSP=$'\xe2\x80\xaf' NBSP=$'\xc2\xa0'

t_init
M=$T/mail H=$T/http
mkdir -p "$M" "$H"
pg_start || exit 1
reglo_conf
sed -i "s|^gateway {.*|gateway { listen = \"127.0.0.1:$GW_PORT\" public_url = \"$GW\" default_psp = \"mollie\" }|" "$REGLO_CONF"
cat >>"$REGLO_CONF" <<CONF
psp mollie { api_base = "http://127.0.0.1:$CLOSED_PORT" api_key = "test_psp_sim_mollie_key" }
CONF
reglo db migrate >/dev/null || { fail "db migrate"; exit 1; }
reglo artisan add --email "$ARTISAN" --name "Plomberie Dupont" \
      --iban "FR76 3000 6000 0112 3456 7890 189" --bic AGRIFRPP >/dev/null

# invoice NUMBER: record it with `reglo rewrite` and print its payment link.
invoice() {
    "$MKINV" --number "$1" --amount 1234,56 --buyer-email "$CLIENT" --iban "$IBAN_NORM" \
             --issue 20260301 --due 20260331 -o "$M/$1.pdf"
    "$MKMAIL" --from "$ARTISAN" --to "$CLIENT" --subject "Facture $1" --attach "$M/$1.pdf" \
              -o "$M/$1.eml"
    reglo rewrite <"$M/$1.eml" >"$M/$1.out" 2>>"$T/rewrite.log"
    python3 "$MP" text "$M/$1.out" | grep -o "$GW/p/[A-Za-z0-9._-]*" | head -1
}
LINK=$(invoice F-GW-001)
LINK2=$(invoice F-GW-002)
LINK3=$(invoice F-GW-003)
if [ -n "$LINK" ] && [ -n "$LINK2" ] && [ -n "$LINK3" ]; then
    ok "rewrite gives payment links on the gateway"
else
    fail "rewrite gives payment links on the gateway"; cat "$T/rewrite.log"; exit 1
fi
P=${LINK#"$GW"} P2=${LINK2#"$GW"} P3=${LINK3#"$GW"}
TOKEN=${P#/p/}

# Leaks are checked in the gateway (its log must carry no sanitizer report at the end).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
LSAN_OPTIONS=suppressions=$REGLO_ROOT/tests/lsan.supp:print_suppressions=0 \
    "$BUILD/reglo-gateway" -c "$REGLO_CONF" -f -v 2>>"$T/gateway.log" &
GW_PID=$!
T_PIDS+=("$GW_PID")
wait_for 100 curl -sf -o /dev/null "$GW/healthz" || { fail "reglo-gateway starts"; cat "$T/gateway.log"; exit 1; }
ok "reglo-gateway starts and /healthz answers"

# get NAME URL [curl args...]: body in $H/NAME, headers in $H/NAME.h, prints the status.
get() {
    local name=$1 url=$2; shift 2
    curl -s -o "$H/$name" -D "$H/$name.h" -w '%{http_code}' "$@" "$url"
}
header() { grep -i "^$2:" "$H/$1.h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
has() { grep -qF -- "$2" "$H/$1"; }
hasnt() { ! grep -qF -- "$2" "$H/$1"; }
viewed_events() {
    reglo invoice show "$1" --json | python3 -c '
import json, sys
print(sum(1 for e in json.loads(sys.stdin.readline())["timeline"] if e["kind"] == "viewed"))'
}

# ---- the page ----------------------------------------------------------------------------------

check "page: 200" test "$(get fr "$LINK")" = 200
check "page: French by default (the artisan's locale)" has fr 'lang="fr"'
check "page: the pay button" has fr "Payer depuis ma banque"
check "page: a POST form to /p/TOKEN/pay" has fr "<form method=\"post\" action=\"/p/$TOKEN/pay\">"
check "page: invoice number" has fr "Facture n° F-GW-001"
check "page: seller" has fr "Plomberie Dupont"
check "page: amount as money_format writes it (1 234,56 €)" has fr "1${NNBSP}234,56${NBSP}€"
check "page: issue date" has fr "1er mars 2026"
check "page: due date" has fr "À régler avant le 31 mars 2026"
check "page: status" has fr "À régler"
check "page: EPC QR image" has fr "<img class=\"qr\" src=\"/p/$TOKEN/epc.png\""
check "page: IBAN to copy" has fr "FR76 3000 6000 0112 3456 7890 189"
RF=$(grep -o 'RF[0-9]\{10,\}' "$H/fr" | head -1)
check "page: RF creditor reference" test -n "$RF"
check "page: language switch" has fr 'href="?lang=en"'
check "page: no external asset" bash -c "! grep -Eiq '(src|href|action)=\"(https?:)?//' '$H/fr'"
check "page: stylesheet from the gateway" has fr 'href="/static/reglo.css"'

CSP="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' http://127.0.0.1:$CLOSED_PORT https:; frame-ancestors 'none'; base-uri 'none'"
check "headers: Content-Security-Policy exact" test "$(header fr Content-Security-Policy)" = "$CSP"
check "headers: X-Content-Type-Options" test "$(header fr X-Content-Type-Options)" = nosniff
check "headers: Referrer-Policy" test "$(header fr Referrer-Policy)" = no-referrer
check "headers: X-Frame-Options" test "$(header fr X-Frame-Options)" = DENY
check "headers: Cache-Control no-store" test "$(header fr Cache-Control)" = no-store
check "headers: no HSTS on an http public_url" test -z "$(header fr Strict-Transport-Security)"
check "headers: text/html; charset=utf-8" test "$(header fr Content-Type)" = "text/html; charset=utf-8"

check "lang=en: 200" test "$(get en "$LINK?lang=en")" = 200
check "lang=en: English" bash -c "grep -qF 'lang=\"en\"' '$H/en' && grep -qF 'Pay from my bank' '$H/en' && grep -qF 'Invoice no. F-GW-001' '$H/en'"
check "lang=en: amount in English (€1,234.56)" has en "€1,234.56"
check "lang=en: dates in English" has en "Due by 31 March 2026"
get al "$LINK" -H 'Accept-Language: en-GB,en;q=0.9,fr;q=0.8' >/dev/null
check "Accept-Language: en-GB first gives English" has al "Pay from my bank"
get al2 "$LINK" -H 'Accept-Language: de-DE, en;q=0.5, fr;q=0.7' >/dev/null
check "Accept-Language: the preferred of fr/en" has al2 "Payer depuis ma banque"
get al3 "$LINK" -H 'Accept-Language: en;q=0, de' >/dev/null
check "Accept-Language: q=0 refuses; default to the artisan's locale" has al3 "Payer depuis ma banque"
get al4 "$LINK?lang=fr" -H 'Accept-Language: en' >/dev/null
check "lang=fr wins over Accept-Language" has al4 "Payer depuis ma banque"

check "first view recorded once (several views)" test "$(viewed_events F-GW-001)" = 1
check "first view: status sent -> viewed" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' invoice show F-GW-001 --json | grep -q '\"status\":\"viewed\"'"
check "HEAD does not count as a view" bash -c "curl -sfI '$LINK2' >/dev/null && [ \$(psql -Atqc \"SELECT count(*) FROM invoice_event WHERE kind = 'viewed' AND invoice_id = (SELECT id FROM invoice WHERE number = 'F-GW-002')\") = 0 ]"

# ---- QR codes ------------------------------------------------------------------------------------

check "qr.png: 200 image/png" bash -c "[ \"\$(curl -s -o '$H/qr.png' -w '%{http_code} %{content_type}' '$LINK/qr.png')\" = '200 image/png' ]"
check "qr.png decodes to the link" test "$(zbarimg --nodbus --quiet --raw "$H/qr.png" 2>/dev/null)" = "$LINK"
curl -s -o "$H/epc.png" "$LINK/epc.png"
zbarimg --nodbus --quiet --raw "$H/epc.png" 2>/dev/null >"$H/epc.txt"
mapfile -t EPC <"$H/epc.txt"
check "epc.png: EPC069-12 header (BCD, 002, UTF-8, SCT)" bash -c "[ '${EPC[0]:-}' = BCD ] && [ '${EPC[1]:-}' = 002 ] && [ '${EPC[2]:-}' = 1 ] && [ '${EPC[3]:-}' = SCT ]"
check "epc.png: BIC, name, IBAN" bash -c "[ '${EPC[4]:-}' = AGRIFRPP ] && [ '${EPC[5]:-}' = 'Plomberie Dupont' ] && [ '${EPC[6]:-}' = $IBAN_NORM ]"
check "epc.png: amount EUR1234.56" test "${EPC[7]:-}" = EUR1234.56
check "epc.png: the page's RF reference" bash -c "[ -n '$RF' ] && [ '${EPC[9]:-}' = '$RF' ]"
check "epc.png: RF check digits valid (ISO 11649)" python3 -c "
import sys; rf = sys.argv[1]
s = rf[4:] + rf[:4]
n = int(''.join(str(int(c, 36)) for c in s))
sys.exit(0 if len(rf) > 4 and n % 97 == 1 else 1)" "${EPC[9]:-x}"
RF2=$(curl -s "$LINK2" | grep -o 'RF[0-9]\{10,\}' | head -1)
check "RF reference differs per invoice" bash -c "[ -n '$RF2' ] && [ '$RF2' != '$RF' ]"

# ---- not found -----------------------------------------------------------------------------------

check "unknown token: 404" test "$(get nf1 "$GW/p/k1.AAAAAAAAAAAAAAAAAAAAAA")" = 404
check "malformed token: 404" test "$(get nf2 "$GW/p/not-a-token")" = 404
check "unknown and malformed: identical bodies" cmp -s "$H/nf1" "$H/nf2"
check "404 reveals nothing of the invoice" bash -c "! grep -qE 'Dupont|F-GW|1${NNBSP}234' '$H/nf1'"
check "404 carries the security headers" test "$(header nf1 Content-Security-Policy)" = "$CSP"
check "unknown qr.png: 404" test "$(get nf3 "$GW/p/k1.AAAAAAAAAAAAAAAAAAAAAA/qr.png")" = 404
check "other paths: 404" test "$(get nf4 "$GW/p/$TOKEN/other")" = 404
check "root: 404" test "$(get nf5 "$GW/")" = 404

# ---- paying --------------------------------------------------------------------------------------

check "POST pay, PSP unreachable: 503" test "$(get pay1 "$LINK/pay" -d lang=fr)" = 503
check "POST pay, PSP unreachable: the French message" has pay1 "Le service de paiement ne répond pas, réessayez dans un instant."
check "POST pay, PSP unreachable: a way back to the invoice" has pay1 "href=\"/p/$TOKEN\""
check "POST pay, PSP unreachable: nothing recorded" test "$(psql_q 'SELECT count(*) FROM payment')" = 0
check "POST pay, PSP unreachable: logged" grep -q "pay: invoice .*mollie unreachable" "$T/gateway.log"
check "GET /p/TOKEN/pay: 405" test "$(get m1 "$LINK/pay")" = 405
check "405 names the method allowed" test "$(header m1 Allow)" = POST
check "GET /p/x/pay: 405" test "$(get m2 "$GW/p/x/pay")" = 405
check "POST to the page: 405" test "$(get m3 "$LINK" -d x=1)" = 405
head -c 102400 /dev/zero | tr '\0' a >"$H/big"
check "POST pay with 100 KB: 413" test "$(get big1 "$LINK/pay" --data-binary @"$H/big")" = 413
check "413 carries the security headers" test "$(header big1 X-Frame-Options)" = DENY
get big2 "$LINK/pay" -H 'Transfer-Encoding: chunked' --data-binary @"$H/big" >"$H/big2.code"
check "chunked 100 KB body: refused (not served)" bash -c "[ \"\$(cat '$H/big2.code')\" != 200 ] && [ \"\$(cat '$H/big2.code')\" != 303 ]"
check "still serving after refused bodies" curl -sf -o /dev/null "$GW/healthz"

# ---- static files --------------------------------------------------------------------------------

check "static CSS: 200 text/css" bash -c "[ \"\$(curl -s -o '$H/css' -w '%{http_code} %{content_type}' '$GW/static/reglo.css')\" = '200 text/css; charset=utf-8' ]"
check "static CSS: the file" cmp -s "$H/css" "$REGLO_ROOT/templates/static/reglo.css"
check "static: traversal /static/../x is 404" test "$(get st1 "$GW/static/../reglo.conf" --path-as-is)" = 404
check "static: encoded traversal is 404" test "$(get st2 "$GW/static/%2e%2e/%2e%2e/fr/page.html" --path-as-is)" = 404
check "static: upper case refused" test "$(get st3 "$GW/static/REGLO.css")" = 404
check "static: missing file 404" test "$(get st4 "$GW/static/none.css")" = 404
check "static: templates are not static files" test "$(get st5 "$GW/static/page.html")" = 404

# ---- paid and cancelled invoices -----------------------------------------------------------------

# Both pages viewed twice first: the gateway keeps them (gateway/pagecache.c), and a change
# written by anyone else (here psql) must show on the very next request.
for l in "$LINK2" "$LINK3" "$LINK2" "$LINK3"; do curl -s -o /dev/null "$l"; done
psql_q "UPDATE invoice SET status = 'paid', paid_at = '2026-03-20 10:00+00', paid_minor = 123456 WHERE number = 'F-GW-002'"
psql_q "UPDATE invoice SET status = 'cancelled' WHERE number = 'F-GW-003'"
get paid "$LINK2" >/dev/null
check "paid: receipt with the date" has paid "Payée le 20 mars 2026"
check "paid: the amount paid" has paid "1${NNBSP}234,56${NBSP}€"
check "paid: no pay button, no EPC" bash -c "! grep -qE 'Payer depuis ma banque|epc.png' '$H/paid'"
check "paid: epc.png 404" test "$(get paid2 "$LINK2/epc.png")" = 404
check "paid: POST pay goes back to the page (303)" test "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -d lang=fr "$LINK2/pay")" = "303 $LINK2"
get cancelled "$LINK3" >/dev/null
check "cancelled: says so" has cancelled "Cette facture a été annulée"
check "cancelled: no pay button" hasnt cancelled "Payer depuis ma banque"

# ---- SIGHUP: a PSP that answers (Mollie emulator), https public_url -----------------------------

sim_start || fail "psp-sim starts"
cp "$REGLO_CONF" "$T/reglo.conf.orig"
sed -i "s|127.0.0.1:$CLOSED_PORT|127.0.0.1:$SIM_PORT|" "$REGLO_CONF"
kill -HUP "$GW_PID"
wait_for 50 grep -q "configuration reloaded" "$T/gateway.log"
check "SIGHUP: reloaded and logged" grep -q "configuration reloaded" "$T/gateway.log"
check "SIGHUP: still running" kill -0 "$GW_PID"
get after "$LINK" >/dev/null
check "SIGHUP: the CSP admits the new PSP origin" bash -c "grep -i '^Content-Security-Policy:' '$H/after.h' | grep -qF \"form-action 'self' http://127.0.0.1:$SIM_PORT https:;\""
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -d lang=en "$LINK/pay")
TR=$(printf '%s' "$code" | grep -o 'tr_[A-Za-z0-9]*' | head -1)
check "POST pay: 303 to the PSP's checkout" test "$code" = "303 $SIM/checkout/$TR"
check "POST pay: the payment recorded" test "$(psql_q "SELECT psp || ' ' || psp_ref || ' ' || state FROM payment")" = "mollie $TR open"
check "POST pay: timeline has payment_started" bash -c "'$BUILD/reglo' -c '$REGLO_CONF' invoice show F-GW-001 --json | grep -q '\"kind\":\"payment_started\"'"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -d lang=fr "$LINK/pay")
check "POST pay again: the open checkout is reused" test "$code" = "303 $SIM/checkout/$TR"
curl -s "$SIM/_sim/requests" >"$H/sim-requests.json"
check "POST pay again: one payment row" test "$(psql_q 'SELECT count(*) FROM payment')" = 1
check "one checkout request at the PSP, valid, with webhook, redirect and locale" python3 - "$H/sim-requests.json" "$GW" "$TOKEN" <<'PY'
import json, sys
reqs = [r for r in json.load(open(sys.argv[1])) if r.get('method') == 'POST' and r.get('path') == '/v2/payments']
gw, token = sys.argv[2], sys.argv[3]
if len(reqs) != 1:
    sys.exit(1)
b = reqs[0]['params']
ok = (reqs[0]['valid'] and b['webhookUrl'] == gw + '/webhooks/mollie'
      and b['redirectUrl'] == gw + '/p/' + token + '?back=1' and b['locale'] == 'en_GB'
      and b['amount'] == {'currency': 'EUR', 'value': '1234.56'})
sys.exit(0 if ok else 1)
PY
get backpage "$LINK?back=1" >/dev/null
check "back from the PSP: a note while the payment is confirmed" has backpage "la confirmation peut prendre quelques instants"

sed -i "s|^gateway {.*|gateway { listen = \"127.0.0.1:$GW_PORT\" public_url = \"https://pay.test.invalid\" default_psp = \"mollie\" psp_threads = 2 }|" "$REGLO_CONF"
kill -HUP "$GW_PID"
wait_for 50 bash -c "[ \$(grep -c 'configuration reloaded' '$T/gateway.log') -ge 2 ]"
get https "$LINK" >/dev/null
check "SIGHUP: https public_url adds Strict-Transport-Security" test -n "$(header https Strict-Transport-Security)"
curl -s -o "$H/qr2.png" "$LINK/qr.png"
check "SIGHUP: qr.png follows the new public_url" test "$(zbarimg --nodbus --quiet --raw "$H/qr2.png" 2>/dev/null)" = "https://pay.test.invalid$P"
check "SIGHUP: thread counts wait for a restart, and the log says so" \
    grep -q "reload: gateway.threads / psp_threads / connections changed to 4 / 2 / 512; still 4 / 4 / 512 until a restart" "$T/gateway.log"

printf 'gateway {\n  listen = \n' >"$REGLO_CONF"
kill -HUP "$GW_PID"
wait_for 50 grep -q "reload failed" "$T/gateway.log"
check "SIGHUP with a broken file: logged, the old configuration kept" bash -c "grep -q 'reload failed' '$T/gateway.log' && [ \"\$(curl -s -o /dev/null -w '%{http_code}' '$LINK')\" = 200 ]"
cp "$T/reglo.conf.orig" "$REGLO_CONF"

# ---- stop ---------------------------------------------------------------------------------------

kill -TERM "$GW_PID"
wait "$GW_PID"
rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
check "SIGTERM: logged" grep -q "stopped" "$T/gateway.log"
check "no token in the logs" bash -c "! grep -qF '$TOKEN' '$T/gateway.log'"
check "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T/gateway.log'"

t_summary
