#!/usr/bin/env bash
# The artisans' own templates on a private PostgreSQL: the storage functions (test_usertmpl's
# storage cases, run here on a real database); an own payment block (block.txt, block.html)
# stored in the table reaches the invoice email written by `reglo rewrite` in place of the
# default, for the artisan's locale only; a database error while reading it costs the own
# block, not the link; an own block the checks refuse (broken, {{{x}}}, no link) gives the
# default; and the own block with an own per-step subject reaches a reminder sent by
# reglo-gateway (claim query → reminder mail) at smtp-sink.
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-29400}
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
ARTISAN=jean@artisan.test
CLIENT=client@example.test
DEFAULT_TEXT="Payez en ligne depuis votre banque"
DEFAULT_HTML="depuis ma banque"

t_init
M=$T/mail
mkdir -p "$M"
export REGLO_CLOCK_FILE=$T/clock
clock_set() { printf '%s\n' "$1" >"$T/clock.new" && mv "$T/clock.new" "$T/clock"; }
clock_set "+0"

pg_start || { fail "postgresql starts"; t_summary; exit 1; }
reglo_conf
reglo db migrate >/dev/null || { fail "migrations"; t_summary; exit 1; }
reglo artisan add --email "$ARTISAN" --name "Plomberie Dupont" >/dev/null
AID=$(psql -Atqc "SELECT id FROM artisan WHERE email = '$ARTISAN'")
check "artisan enrolled" test -n "$AID"

# ---- storage (usertmpl_get/save/reset/list/get_block) --------------------------------------

pg_unit test_usertmpl
rc=$?
check "test_usertmpl with its storage cases on PostgreSQL" \
    bash -c "[ $rc -eq 0 ] && ! grep -q 'storage tests left out' '$T/unit.out'"

# put NAME LOCALE BODY: the artisan's own template (every step), written as the portal would
# not (straight into the table: the sender must check what it reads).
put() {
    psql -Atq -v name="$1" -v locale="$2" -v body="$3" -v aid="$AID" <<'SQL'
INSERT INTO template (artisan_id, name, step, locale, body)
VALUES (:aid, :'name', NULL, :'locale', :'body')
    ON CONFLICT (artisan_id, name, step, locale) DO UPDATE SET body = EXCLUDED.body
SQL
}

# invoice NUMBER: an invoice email (Factur-X PDF, text and html parts) in $M/NUMBER.eml
invoice() {
    "$MKINV" --number "$1" --amount 250,00 --buyer-email "$CLIENT" -o "$M/$1.pdf"
    "$MKMAIL" --from "$ARTISAN" --to "$CLIENT" --subject "Facture $1" --html \
        --attach "$M/$1.pdf" -o "$M/$1.eml"
}

# rewrite NUMBER: through `reglo rewrite`; the text and html parts in $M/NUMBER.{txt,html}
rewrite() {
    invoice "$1"
    reglo rewrite <"$M/$1.eml" >"$M/$1.out" 2>"$T/$1.err"
    python3 "$MP" text "$M/$1.out" >"$M/$1.txt"
    python3 "$MP" html "$M/$1.out" >"$M/$1.html"
    LINK=$(grep -o 'https://pay.test.invalid/p/[A-Za-z0-9._-]*' "$M/$1.txt" | head -1)
}

# ---- the invoice email: own block --------------------------------------------------------

put block.txt fr 'Mon bloc à moi : {{amount}} — {{link}}'
put block.html fr '<p class="mon-bloc">Régler <a href="{{link}}">{{number}}</a> <img src="cid:{{qr_cid}}"></p>'
put block.txt en 'My English block {{link}}'
rewrite F-UT-1
check "own block: linked (decision=link)" grep -q 'action=rewrite decision=link' "$T/F-UT-1.err"
check "own block: the text has the own block with the link" \
    bash -c "[ -n '$LINK' ] && grep -qF 'Mon bloc à moi : 250,00' '$M/F-UT-1.txt' && grep -qF -- '— $LINK' '$M/F-UT-1.txt'"
check "own block: not the default text block" bash -c "! grep -qF '$DEFAULT_TEXT' '$M/F-UT-1.txt'"
check "own block: the html has the own block, the link and the QR" \
    bash -c "grep -qF '<p class=\"mon-bloc\">Régler <a href=\"$LINK\">F-UT-1</a>' '$M/F-UT-1.html' && grep -qF 'cid:qr-F-UT-1@reglo.invalid' '$M/F-UT-1.html'"
check "own block: not the default html block" bash -c "! grep -qF '$DEFAULT_HTML' '$M/F-UT-1.html'"
check "own block: the QR image is attached" grep -q '^Content-Type: image/png' "$M/F-UT-1.out"
check "own block: another locale's own block is not used" \
    bash -c "! grep -qF 'My English block' '$M/F-UT-1.txt'"
check "own block: PDF unchanged" \
    bash -c "python3 '$MP' save '$M/F-UT-1.out' F-UT-1.pdf '$M/F-UT-1.saved' && cmp -s '$M/F-UT-1.pdf' '$M/F-UT-1.saved'"

# A database error while reading the own block: the default block, the mail still linked.
psql -Atqc "ALTER TABLE template RENAME TO template_away"
rewrite F-UT-2
psql -Atqc "ALTER TABLE template_away RENAME TO template"
check "own block unreadable: still linked" \
    bash -c "grep -q 'action=rewrite decision=link' '$T/F-UT-2.err' && [ -n '$LINK' ]"
check "own block unreadable: the default block" \
    bash -c "grep -qF '$DEFAULT_TEXT' '$M/F-UT-2.txt' && grep -qF '$DEFAULT_HTML' '$M/F-UT-2.html'"
check "own block unreadable: warned" grep -q "cannot read the artisan's own payment block" "$T/F-UT-2.err"
check "own block unreadable: recorded" \
    test "$(psql -Atqc "SELECT count(*) FROM invoice WHERE number = 'F-UT-2' AND has_link")" = 1

# ---- a reminder (reglo-gateway → smtp-sink): own block and own subject of the step --------

put block.txt fr 'Mon bloc à moi : {{amount}} — {{link}}'
psql -Atq -v aid="$AID" <<'SQL'
INSERT INTO template (artisan_id, name, step, locale, body)
VALUES (:aid, 'reminder.subject', 7, 'fr', 'Rappel J+7 : {{number}}')
SQL
I1=$(psql -Atqc "SELECT id FROM invoice WHERE number = 'F-UT-1'")
L1=$(grep -o 'https://pay.test.invalid/p/[A-Za-z0-9._-]*' "$M/F-UT-1.txt" | head -1)
# Sent Monday 7 January 2030 10:00 in Paris: D+7 is Monday 14th, 10:00.
psql -Atqc "UPDATE invoice SET sent_at = '2030-01-07T09:00:00Z' WHERE id = $I1"
clock_set "2030-01-14T09:30:00Z"
gateway_conf
sed -i "s|^smtp {.*|smtp { url = \"smtp://127.0.0.1:$SINK_PORT\" from = \"reglo@mta.test.invalid\" }|;
        s|^gateway {.*|gateway { listen = \"127.0.0.1:$GW_PORT\" public_url = \"https://pay.test.invalid\" default_psp = \"mollie\" threads = 2 }|" \
    "$REGLO_CONF"
cat >>"$REGLO_CONF" <<CONF
reminders {
    enabled = true
    window = "09:00-18:00"
    days = "mon-fri"
    timezone = "Europe/Paris"
    interval = 1
}
CONF
sink_start || fail "smtp-sink starts"
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; }
reminder_file() { grep -rlE "^Message-I[dD]: <reminder-$I1-7@" "$T/sink" 2>/dev/null | head -1; }
has_reminder() { [ -n "$(reminder_file)" ]; }
check "D+7: the reminder arrives" wait_for 300 has_reminder
R7=$(reminder_file)
if [ -n "$R7" ]; then
    python3 "$MP" text "$R7" >"$T/r7.txt"
    python3 "$MP" html "$R7" >"$T/r7.html"
fi
check "reminder: the step's own subject" \
    bash -c "python3 '$MP' header '$R7' Subject | python3 -c 'import sys,email.header as h; s=sys.stdin.read().strip(); print(str(h.make_header(h.decode_header(s))))' | grep -qx 'Rappel J+7 : F-UT-1'"
check "reminder: the own block with the invoice's link, once" \
    bash -c "grep -qF 'Mon bloc à moi : 250,00' '$T/r7.txt' && [ \$(grep -oF '$L1' '$T/r7.txt' | wc -l) = 1 ]"
check "reminder: the default text around it, not the default block" \
    bash -c "grep -q 'Sauf erreur' '$T/r7.txt' && ! grep -qF '$DEFAULT_TEXT' '$T/r7.txt'"
check "reminder: the own html block" \
    bash -c "grep -qF '<p class=\"mon-bloc\">' '$T/r7.html' && ! grep -qF '$DEFAULT_HTML' '$T/r7.html'"

# ---- own blocks the checks refuse: the default ----------------------------------------------

# refused NUMBER TXT HTML WHY: both own blocks refused, the defaults used, the reason logged.
refused() {
    put block.txt fr "$2"
    put block.html fr "$3"
    rewrite "$1"
    check "refused own block ($4): linked with the default blocks" \
        bash -c "grep -q 'decision=link' '$T/$1.err' && grep -qF '$DEFAULT_TEXT' '$M/$1.txt' && grep -qF '$DEFAULT_HTML' '$M/$1.html' && [ -n '$LINK' ]"
    check "refused own block ($4): nothing of it in the mail" \
        bash -c "! grep -q 'Cassé' '$M/$1.txt' '$M/$1.html'"
    check "refused own block ($4): logged" grep -q "own block.txt is not usable" "$T/$1.err"
}
refused F-UT-3 'Cassé {{#amount}} {{link}}' '<p>Cassé {{/number}} {{link}}</p>' "broken"
refused F-UT-4 'Cassé {{{number}}} {{link}}' '<p>Cassé {{&number}} {{link}}</p>' "unescaped"
refused F-UT-5 'Cassé, sans lien {{amount}}' '<p>Cassé {{^qr_only}}{{link}}{{/qr_only}}</p>' "no link"
refused F-UT-6 'Cassé {{> block.txt}} {{link}}' '<p>Cassé {{=<% %>=}} <%link%></p>' "partial, delimiters"

check "no sanitizer report" bash -c "! grep -q Sanitizer '$T'/*.err '$T/gateway.log'"
t_summary
