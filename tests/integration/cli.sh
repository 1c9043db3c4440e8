#!/usr/bin/env bash
# The `reglo` command line against a private PostgreSQL: configuration errors (FILE:LINE,
# exit 2), inspect without configuration or database, artisan enrolment, rewrite (dry run
# and for real) and what invoice list/show then report, db migrate twice.
set -u
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
R=$BUILD/reglo
ARTISAN=jean@artisan.test
CLIENT=client@example.test
IBAN="FR76 3000 6000 0112 3456 7890 189"
IBAN_NORM=FR7630006000011234567890189

t_init
M=$T/mail C=$T/conf
mkdir -p "$M" "$C"

# jq-less JSON checks: jcheck 'python expression over j' < one JSON object per line
jcheck() {
    python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
j = rows[0] if len(rows) == 1 else rows
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"
}
export -f jcheck   # for the checks that run in bash -c

# ---- configuration errors: exit 2 and FILE:LINE ------------------------------------------

# bad_conf NAME LINE TEXT: `reglo -c FILE artisan list` exits 2 and prints FILE:LINE:
bad_conf() {
    local name=$1 line=$2 file=$C/$1.conf out rc
    printf '%b' "$3" >"$file"
    out=$(PGHOST=$T/no-postgres "$R" -c "$file" artisan list 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" -eq 2 ] && grep -qF "$file:$line:" <<<"$out"; then
        ok "bad config ($name): exit 2 with $name.conf:$line"
    else
        fail "bad config ($name): expected exit 2 and '$file:$line:', got exit $rc: $out"
    fi
}
bad_conf unknown-top 2 'database { conninfo = "dbname=x" }\ncolour = "blue"\n'
bad_conf unknown-in-section 3 'milter {\n    socket = "unix:/x"\n    bogus = 1\n}\n'
bad_conf unknown-after-comment 3 '# reglo\nmilter {\n    bogus = 1\n}\n'
bad_conf on-error 3 'milter {\n    socket = "unix:/x"\n    on_error = "reject"\n}\n'
bad_conf trusted-networks 2 'milter {\n    trusted_networks = {"127.0.0.0/8", "10.0.0.0/33"}\n}\n'
bad_conf negative-size 2 'milter {\n    max_message_size = -1\n}\n'
bad_conf socket-mode 2 'milter {\n    socket_mode = "0999"\n}\n'
bad_conf url 2 'gateway {\n    public_url = "ftp://pay.example.fr"\n}\n'
bad_conf unterminated-string 2 'smtp {\n    from = "reglo@example.fr\n}\n'
out=$(PGHOST=$T/no-postgres "$R" -c "$C/absent.conf" artisan list 2>&1 >/dev/null)
rc=$?
check "missing config: exit 2 naming the file" bash -c "[ $rc -eq 2 ] && grep -qF '$C/absent.conf' <<<'$out'"
out=$(PGHOST=$T/no-postgres "$R" -c "$C" artisan list 2>&1 >/dev/null)
rc=$?
check "config path is a directory: exit 2 naming it" bash -c "[ $rc -eq 2 ] && grep -qF '$C' <<<'$out'"

# ---- inspect: no database, no configuration file at all ------------------------------------

"$MKINV" --number F-CLI-1 --amount 1234,56 --buyer-email "$CLIENT" --iban "$IBAN_NORM" -o "$M/f1.pdf"
"$MKINV" --number F-CLI-2 --amount 99,00 --xml-only -o "$M/cii.xml"
"$MKINV" --number F-CLI-3 --amount 10,50 --ubl -o "$M/ubl.xml"
"$MKMAIL" --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-CLI-1" --html \
          --attach "$M/f1.pdf" -o "$M/f1.eml"
printf 'not an invoice at all\n' >"$M/junk.txt"

# No -c: the default path must not be read (and there is no file there).
NOCONF=/nonexistent/reglo-$$/reglo.conf
[ -e /etc/reglo/reglo.conf ] && t_log "note: /etc/reglo/reglo.conf exists; inspect must ignore it anyway"
check "inspect needs no -c" \
    bash -c "'$R' inspect '$M/f1.pdf' >'$T/i-noconf.json' 2>'$T/i-noconf.err'"
check "inspect ignores an unreadable -c" \
    bash -c "'$R' -c '$NOCONF' inspect '$M/f1.pdf' >'$T/i-pdf.json' 2>'$T/i-pdf.err'"
check "inspect PDF: number, amount, source facturx" \
    jcheck 'j["number"] == "F-CLI-1" and j["amount_due_minor"] == 123456 and j["currency"] == "EUR" and j["source"] == "facturx" and j["invoice"] is True' <"$T/i-pdf.json"
check "inspect PDF: seller IBAN and buyer email" \
    jcheck "j['seller_iban'] == '$IBAN_NORM' and j['buyer_email'] == '$CLIENT'" <"$T/i-pdf.json"
check "inspect without -c gives the same answer" cmp -s "$T/i-noconf.json" "$T/i-pdf.json"
check "inspect CII XML (--xml-only)" bash -c "'$R' -c '$NOCONF' inspect '$M/cii.xml' | jcheck 'j[\"number\"] == \"F-CLI-2\" and j[\"amount_due_minor\"] == 9900 and j[\"source\"] == \"cii\"'"
check "inspect UBL XML (--ubl)" bash -c "'$R' -c '$NOCONF' inspect '$M/ubl.xml' | jcheck 'j[\"number\"] == \"F-CLI-3\" and j[\"amount_due_minor\"] == 1050 and j[\"source\"] == \"ubl\"'"
check "inspect .eml with the PDF attached" bash -c "'$R' -c '$NOCONF' inspect '$M/f1.eml' | jcheck 'j[\"number\"] == \"F-CLI-1\" and j[\"amount_due_minor\"] == 123456'"
check "inspect several files: one JSON line each" bash -c "[ \$('$R' -c '$NOCONF' inspect '$M/f1.pdf' '$M/cii.xml' '$M/ubl.xml' '$M/f1.eml' '$M/junk.txt' | wc -l) -eq 5 ]"
check "inspect a non-invoice: invoice false" bash -c "'$R' -c '$NOCONF' inspect '$M/junk.txt' | jcheck 'j[\"invoice\"] is False'"
"$R" -c "$NOCONF" inspect "$M/absent.pdf" >/dev/null 2>&1
check "inspect a missing file: exit 1" test $? -eq 1
"$R" -c "$NOCONF" inspect >/dev/null 2>&1
check "inspect without a file: exit 2" test $? -eq 2
check "inspect left no sanitizer report" bash -c "! grep -q Sanitizer '$T'/i-*.err"

# ---- database ---------------------------------------------------------------------------------

pg_start || { fail "postgresql starts"; t_summary; exit 1; }
reglo_conf
check "db migrate applies the schema" bash -c "'$R' -c '$REGLO_CONF' db migrate | grep -Eq '^[1-9][0-9]* migrations? applied'"
check "db migrate again: nothing to do" bash -c "'$R' -c '$REGLO_CONF' db migrate | grep -q '^0 migrations applied'"
check "db migrate a third time: still nothing" bash -c "'$R' -c '$REGLO_CONF' db migrate | grep -q '^0 migrations applied'"

# ---- artisans ---------------------------------------------------------------------------------

check "artisan add" bash -c "'$R' -c '$REGLO_CONF' artisan add --email '$ARTISAN' --name 'Jean Dupont' --iban '$IBAN' | grep -q '^enrolled $ARTISAN (id [0-9]*)'"
check "artisan add a second one" bash -c "'$R' -c '$REGLO_CONF' artisan add --email paul@artisan.test --name 'Paul Martin' --link-default off --reminders 7,15,30 >/dev/null"
reglo artisan add --email "$ARTISAN" --name "Jean Again" >/dev/null 2>"$T/dup.err"
rc=$?
check "duplicate artisan add fails" bash -c "[ $rc -ne 0 ] && grep -q 'already enrolled' '$T/dup.err'"
reglo artisan add --email bad@artisan.test --name "Bad Iban" --iban "FR76 3000 6000 0112 3456 7890 188" \
    >/dev/null 2>"$T/iban.err"
rc=$?
check "bad IBAN (check digits) rejected with exit 2" bash -c "[ $rc -eq 2 ] && grep -qi 'IBAN' '$T/iban.err'"
reglo artisan add --email "not-an-address" --name "X" >/dev/null 2>&1
check "artisan add without a valid --email: exit 2" test $? -eq 2
reglo artisan add --email nobody@artisan.test >/dev/null 2>&1
check "artisan add without --name fails" test $? -ne 0
reglo artisan set --email ghost@artisan.test --name Ghost >/dev/null 2>&1
check "artisan set of an unknown address fails" test $? -ne 0

reglo artisan list >"$T/list.txt"
check "artisan list shows both" bash -c "grep -q '$ARTISAN' '$T/list.txt' && grep -q 'paul@artisan.test' '$T/list.txt'"
check "artisan list does not show the rejected ones" bash -c "! grep -Eq 'bad@|nobody@' '$T/list.txt'"
reglo artisan list --json >"$T/list.json"
check "artisan list --json: two records" bash -c "[ \$(wc -l <'$T/list.json') -eq 2 ]"
check "artisan list --json: IBAN normalised, defaults" bash -c "grep '$ARTISAN' '$T/list.json' | jcheck \"j['name'] == 'Jean Dupont' and j['iban'] == '$IBAN_NORM' and j['payment'] is True and j['link_default'] is True and j['disabled'] is False\""
check "artisan list --json: options of the second" bash -c "grep paul@ '$T/list.json' | jcheck \"j['link_default'] is False and j['reminders'] == '7,15,30'\""

check "artisan set" bash -c "'$R' -c '$REGLO_CONF' artisan set --email paul@artisan.test --name 'Paul M.' --locale en --bic agrifrpp | grep -q '^updated paul@artisan.test'"
check "artisan set is reflected in list --json" bash -c "'$R' -c '$REGLO_CONF' artisan list --json | grep paul@ | jcheck \"j['name'] == 'Paul M.' and j['locale'] == 'en' and j['bic'] == 'AGRIFRPP' and j['reminders'] == '7,15,30'\""
reglo artisan set --email paul@artisan.test --iban "DE89 3704 0044 0532 0130 01" >/dev/null 2>&1
check "artisan set with a bad IBAN: exit 2" test $? -eq 2
check "artisan set with a bad IBAN changed nothing" bash -c "'$R' -c '$REGLO_CONF' artisan list --json | grep paul@ | jcheck \"j['iban'] is None\""
reglo artisan set --email paul@artisan.test --locale de >/dev/null 2>&1
check "artisan set --locale de: exit 2" test $? -eq 2
check "artisan disable" bash -c "'$R' -c '$REGLO_CONF' artisan disable --email paul@artisan.test | grep -q '^updated paul@artisan.test'"
check "disabled shows in list and list --json" bash -c "'$R' -c '$REGLO_CONF' artisan list | grep paul@ | grep -q DISABLED && '$R' -c '$REGLO_CONF' artisan list --json | grep paul@ | jcheck \"j['disabled'] is True\""

# ---- rewrite ----------------------------------------------------------------------------------

check "no invoice yet" test -z "$(reglo invoice list --json)"
reglo rewrite --dry-run <"$M/f1.eml" >"$M/dry.eml" 2>"$T/dry.err"
rc=$?
check "rewrite --dry-run: exit 0" test "$rc" -eq 0
LINK=$(python3 "$MP" text "$M/dry.eml" | grep -o 'https://pay.test.invalid/p/[A-Za-z0-9._-]*' | head -1)
check "rewrite --dry-run: the output carries the payment link" test -n "$LINK"
check "rewrite --dry-run: the HTML part too" bash -c "python3 '$MP' html '$M/dry.eml' | grep -qF '$LINK'"
check "rewrite --dry-run: PDF unchanged" bash -c "python3 '$MP' save '$M/dry.eml' f1.pdf '$M/dry.pdf' && cmp -s '$M/f1.pdf' '$M/dry.pdf'"
check "rewrite --dry-run: nothing recorded" test -z "$(reglo invoice list --json)"
check "rewrite --dry-run: no invoice to show" bash -c "! '$R' -c '$REGLO_CONF' invoice show F-CLI-1 >/dev/null 2>&1"
check "rewrite --dry-run: the decision is logged" grep -q 'decision=link' "$T/dry.err"

reglo rewrite <"$M/f1.eml" >"$M/real.eml" 2>"$T/real.err"
check "rewrite: exit 0" test $? -eq 0
RLINK=$(python3 "$MP" text "$M/real.eml" | grep -o 'https://pay.test.invalid/p/[A-Za-z0-9._-]*' | head -1)
check "rewrite: link in the output" test -n "$RLINK"
check "rewrite: marker header" bash -c "python3 '$MP' header '$M/real.eml' X-Reglo | grep -q '^processed; id='"
reglo invoice list --json >"$T/inv.json"
check "invoice list --json: one invoice" bash -c "[ \$(wc -l <'$T/inv.json') -eq 1 ]"
check "invoice list --json: number, status, amount, currency" \
    jcheck 'j["number"] == "F-CLI-1" and j["status"] == "sent" and j["amount_due_minor"] == 123456 and j["currency"] == "EUR"' <"$T/inv.json"
check "invoice list --json: client_email and sent_at" \
    jcheck "j['client_email'] == '$CLIENT' and isinstance(j['sent_at'], str) and j['sent_at'][:2] == '20' and j['sent_at'].endswith('Z')" <"$T/inv.json"
check "invoice list --json: artisan and source" \
    jcheck "j['artisan'] == '$ARTISAN' and j['source'] == 'facturx'" <"$T/inv.json"
check "invoice list --artisan filters" bash -c "[ -z \"\$('$R' -c '$REGLO_CONF' invoice list --artisan paul@artisan.test --json)\" ] && [ -n \"\$('$R' -c '$REGLO_CONF' invoice list --artisan $ARTISAN --json)\" ]"
check "invoice list --status filters" bash -c "[ -z \"\$('$R' -c '$REGLO_CONF' invoice list --status paid --json)\" ] && [ -n \"\$('$R' -c '$REGLO_CONF' invoice list --status sent --json)\" ]"
reglo invoice show F-CLI-1 --json >"$T/show.json"
check "invoice show --json: fields" \
    jcheck "j['number'] == 'F-CLI-1' and j['status'] == 'sent' and j['amount_due_minor'] == 123456 and j['currency'] == 'EUR' and j['client_email'] == '$CLIENT' and j['sent_at']" <"$T/show.json"
check "invoice show --json: timeline has the sent event" \
    jcheck 'any(e["kind"] == "sent" for e in j["timeline"])' <"$T/show.json"
ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$T/show.json")
check "invoice show by id" bash -c "'$R' -c '$REGLO_CONF' invoice show $ID --json | jcheck 'j[\"number\"] == \"F-CLI-1\"'"
check "invoice show (text)" bash -c "'$R' -c '$REGLO_CONF' invoice show F-CLI-1 | grep -q 'F-CLI-1'"
reglo invoice show F-NOPE >/dev/null 2>&1
check "invoice show of an unknown number fails" test $? -ne 0

# The same message again: same invoice, same link.
reglo rewrite <"$M/f1.eml" >"$M/again.eml" 2>/dev/null
check "rewrite again reuses the link" bash -c "python3 '$MP' text '$M/again.eml' | grep -qF '$RLINK'"
check "rewrite again: still one invoice" bash -c "[ \$('$R' -c '$REGLO_CONF' invoice list --json | wc -l) -eq 1 ]"

# Not an artisan / disabled artisan: byte for byte what went in.
"$MKMAIL" --from stranger@elsewhere.test --to "$CLIENT" --subject "Facture X-1" \
          --attach "$M/f1.pdf" -o "$M/stranger.eml"
reglo rewrite <"$M/stranger.eml" >"$M/stranger.out" 2>/dev/null
check "rewrite of a non-artisan: exit 0" test $? -eq 0
check "rewrite of a non-artisan: byte-identical" cmp -s "$M/stranger.eml" "$M/stranger.out"
"$MKMAIL" --from paul@artisan.test --to "$CLIENT" --subject "[lien] Facture P-1" \
          --attach "$M/f1.pdf" -o "$M/disabled.eml"
reglo rewrite <"$M/disabled.eml" >"$M/disabled.out" 2>/dev/null
check "rewrite for a disabled artisan: byte-identical" cmp -s "$M/disabled.eml" "$M/disabled.out"
"$MKMAIL" --from "$ARTISAN" --to "$CLIENT" --subject "Rendez-vous mardi" -o "$M/plain.eml"
reglo rewrite <"$M/plain.eml" >"$M/plain.out" 2>/dev/null
check "rewrite of an artisan's non-invoice: byte-identical" cmp -s "$M/plain.eml" "$M/plain.out"
# An invoice with no body part to carry the link and no Message-ID: no link, so nothing
# changes, not even a Message-ID added.
{
    printf 'From: %s\nTo: %s\nSubject: Facture F-CLI-1 sans texte\nMIME-Version: 1.0\n' "$ARTISAN" "$CLIENT"
    printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
    printf 'Content-Type: application/pdf; name="f1.pdf"\nContent-Disposition: attachment; filename="f1.pdf"\n'
    printf 'Content-Transfer-Encoding: base64\n\n'
    base64 "$M/f1.pdf"
    printf -- '--b1--\n'
} >"$M/nobody.eml"
reglo rewrite --dry-run <"$M/nobody.eml" >"$M/nobody.out" 2>"$T/nobody.err"
check "rewrite of an invoice without a body part or Message-ID: byte-identical ($(grep -o 'decision=[^ ]*' "$T/nobody.err"))" \
    cmp -s "$M/nobody.eml" "$M/nobody.out"
check "no sanitizer report from rewrite" bash -c "! grep -q Sanitizer '$T/dry.err' '$T/real.err'"

check "db migrate after use: nothing to do" bash -c "'$R' -c '$REGLO_CONF' db migrate | grep -q '^0 migrations applied'"
t_summary
