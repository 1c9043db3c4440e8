#!/usr/bin/env bash
# `reglo fees --month YYYY-MM [--csv]` against a private PostgreSQL: fee rows seeded with
# psql in several months, the month boundaries in Paris time (a fee at 23:30 UTC on the last
# day of January belongs to February, one at 22:30 UTC to January; the same across the
# summer-time change at the end of March), the paid amount or else the amount asked, fees of
# another amount than 1 €, an artisan without fees left out, another currency on its own
# rows and total; the aligned text table, the CSV export (BOM, ';', CRLF, quoting, defused
# name, French amounts), an empty month (zero total), bad months (exit 2).
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-29200}
. "$(dirname "$0")/../lib/env.sh"
R=$BUILD/reglo
JEAN=jean@artisan.test
ANNE=anne@artisan.test
PAUL=paul@artisan.test
ANNE_NAME='=Anne; "Élec"'

t_init
pg_start || { fail "postgresql starts"; t_summary; exit 1; }
reglo_conf
check "db migrate" bash -c "'$R' -c '$REGLO_CONF' db migrate >/dev/null"
reglo artisan add --email "$JEAN" --name "Jean Dupont" >/dev/null
reglo artisan add --email "$ANNE" --name "$ANNE_NAME" >/dev/null
reglo artisan add --email "$PAUL" --name "Paul Martin" >/dev/null

# paid EMAIL NUMBER AMOUNT CURRENCY PAID|NULL FEE_AT [FEE]: an invoice paid through its link,
# its payment and its fee row.
paid() {
    local paid_cur="'$4'"
    [ "$5" = NULL ] && paid_cur=NULL
    psql -Atq -v ON_ERROR_STOP=1 >/dev/null <<SQL
WITH i AS (INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, source, key_id, status)
           SELECT id, '$2', $3, '$4', 'test', 'k1', 'paid' FROM artisan WHERE email = '$1'
           RETURNING id, artisan_id),
     p AS (INSERT INTO payment (invoice_id, psp, psp_ref, state, amount_minor, currency,
                                paid_minor, paid_currency)
           SELECT id, 'mollie', 'tr_$2', 'paid', $3, '$4', $5, $paid_cur FROM i
           RETURNING id, invoice_id)
INSERT INTO fee (artisan_id, invoice_id, payment_id, amount_minor, created_at)
SELECT i.artisan_id, i.id, p.id, ${7:-100}, '$6' FROM i JOIN p ON p.invoice_id = i.id;
SQL
}
seed() {
    paid "$JEAN" J1 123456 EUR 123456 '2026-01-15 10:00+00'
    paid "$JEAN" J2 50000 EUR NULL '2026-01-31 22:30+00'     # 23:30 in Paris: January
    paid "$JEAN" J3 8000 EUR 8000 '2026-01-31 23:30+00'      # 00:30 in Paris: February
    paid "$JEAN" J4 7000 EUR 7000 '2026-03-31 22:30+00'      # 00:30 CEST: April
    paid "$ANNE" A1 9999 EUR 9999 '2026-01-10 08:00+00' 150
    paid "$ANNE" A2 20000 EUR 20000 '2026-02-27 12:00+00'
    paid "$ANNE" A3 5000 CHF 5000 '2026-02-28 22:59+00'      # 23:59 in Paris: February
    # Paul: a payment that failed, no fee; Jean: an open payment in January, no fee.
    psql -Atq -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, source, key_id)
SELECT id, 'P1', 10000, 'EUR', 'test', 'k1' FROM artisan WHERE email = '$PAUL';
INSERT INTO payment (invoice_id, psp, psp_ref, state, amount_minor, currency, created_at)
SELECT id, 'mollie', 'tr_P1', 'failed', 10000, 'EUR', '2026-01-20 10:00+00' FROM invoice WHERE number = 'P1';
INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, source, key_id)
SELECT id, 'J5', 30000, 'EUR', 'test', 'k1' FROM artisan WHERE email = '$JEAN';
INSERT INTO payment (invoice_id, psp, psp_ref, amount_minor, currency, created_at)
SELECT id, 'mollie', 'tr_J5', 30000, 'EUR', '2026-01-20 10:00+00' FROM invoice WHERE number = 'J5';
SQL
}
check "seed the fee ledger" seed
check "seeded: 7 fee rows" test "$(psql -Atqc 'SELECT count(*) FROM fee')" = 7

# The text output with U+202F and U+00A0 as plain spaces, for the regular expressions.
plain() { sed 's/\xe2\x80\xaf/ /g; s/\xc2\xa0/ /g' "$1"; }
has_line() { plain "$1" | grep -Eq "$2"; }
# Every line of the table (header, rows, rules, totals) as wide, in characters.
aligned() {
    python3 - "$1" <<'PY'
import sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')[2:-1]
sys.exit(0 if len(lines) >= 3 and len({len(l) for l in lines}) == 1 else 1)
PY
}
# The CSV's structure: BOM first, CRLF after every row and no bare LF or CR between rows.
csv_shape() {
    python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
ok = d.startswith(b'\xef\xbb\xbf') and d.endswith(b'\r\n') and \
     d.count(b'\n') == d.count(b'\r\n') and d.count(b'\r') == d.count(b'\r\n') and \
     d.count(b'\xef\xbb\xbf') == 1
sys.exit(0 if ok else 1)
PY
}

# ---- January: the two artisans with fees, Paul left out ----------------------------------

reglo fees --month 2026-01 >"$T/jan.txt" 2>"$T/jan.err"
check "fees 2026-01: exit 0" test $? -eq 0
check "fees 2026-01: title names the month" grep -q '^Frais du mois 2026-01 (heure de Paris)$' "$T/jan.txt"
check "fees 2026-01: header" has_line "$T/jan.txt" '^Artisan +Nom +Transactions +Frais +Encaissé$'
check "fees 2026-01: Anne, 1 transaction, the fee as recorded (1,50 €), 99,99 €" \
    has_line "$T/jan.txt" "^$ANNE +=Anne; \"Élec\" +1 +1,50 € +99,99 €\$"
check "fees 2026-01: Jean, 2 transactions (23:30 Paris on the 31st included), amount asked when paid_minor is NULL" \
    has_line "$T/jan.txt" "^$JEAN +Jean Dupont +2 +2,00 € +1 734,56 €\$"
check "fees 2026-01: total" has_line "$T/jan.txt" '^Total +3 +3,50 € +1 834,55 €$'
check "fees 2026-01: total on the last line" bash -c "tail -1 '$T/jan.txt' | grep -q '^Total '"
check "fees 2026-01: Anne before Jean (by email)" \
    bash -c "[ \$(grep -n '^$ANNE' '$T/jan.txt' | cut -d: -f1) -lt \$(grep -n '^$JEAN' '$T/jan.txt' | cut -d: -f1) ]"
check "fees 2026-01: Paul (no fee) left out" bash -c "! grep -q paul '$T/jan.txt'"
check "fees 2026-01: 2 artisans + total, header, 2 rules, title, blank" test "$(wc -l <"$T/jan.txt")" -eq 8
check "fees 2026-01: columns aligned (U+202F/U+00A0 count as one)" aligned "$T/jan.txt"

reglo fees --month 2026-01 --csv >"$T/jan.csv" 2>>"$T/jan.err"
check "fees 2026-01 --csv: exit 0" test $? -eq 0
check "fees 2026-01 --csv: BOM at the start only, CRLF line ends" csv_shape "$T/jan.csv"
check "fees 2026-01 --csv: BOM bytes EF BB BF" test "$(head -c3 "$T/jan.csv" | od -An -tx1 | tr -d ' ')" = efbbbf
printf '\xef\xbb\xbfartisan;nom;transactions;frais;total_encaisse;devise\r\n%s\r\n%s\r\n%s\r\n' \
    "$ANNE;\"'=Anne; \"\"Élec\"\"\";1;1,50;99,99;EUR" \
    "$JEAN;Jean Dupont;2;2,00;1734,56;EUR" \
    "TOTAL;;3;3,50;1834,55;EUR" >"$T/jan.expected.csv"
check "fees 2026-01 --csv: exact bytes (quoted and defused name, French amounts)" \
    cmp -s "$T/jan.csv" "$T/jan.expected.csv"
check "fees 2026-01 --csv: 6 fields on each row" bash -c "sed 's/\"[^\"]*\"//g; s/\"//g' '$T/jan.csv' | awk -F';' 'NF != 6 { bad = 1 } END { exit bad }'"

# ---- February: the 23:30 UTC fee of January 31st; another currency ------------------------

reglo fees --month 2026-02 >"$T/feb.txt" 2>"$T/feb.err"
check "fees 2026-02: exit 0" test $? -eq 0
check "fees 2026-02: Jean's fee of Jan 31st 23:30 UTC (00:30 in Paris) is February's" \
    has_line "$T/feb.txt" "^$JEAN +Jean Dupont +1 +1,00 € +80,00 €\$"
check "fees 2026-02: Anne in euros" has_line "$T/feb.txt" "^$ANNE +=Anne; \"Élec\" +1 +1,00 € +200,00 €\$"
check "fees 2026-02: Anne in francs on her own row" has_line "$T/feb.txt" "^$ANNE +=Anne; \"Élec\" +1 +1,00 € +50,00 CHF\$"
check "fees 2026-02: a total per currency" \
    bash -c "$(declare -f plain); plain '$T/feb.txt' | grep -Eq '^Total +1 +1,00 € +50,00 CHF\$' && plain '$T/feb.txt' | grep -Eq '^Total +2 +2,00 € +280,00 €\$'"
check "fees 2026-02: columns aligned" aligned "$T/feb.txt"
reglo fees --month 2026-02 --csv >"$T/feb.csv"
check "fees 2026-02 --csv: rows" bash -c "grep -q \$'^$JEAN;Jean Dupont;1;1,00;80,00;EUR\r\$' '$T/feb.csv' && grep -q \$';1;1,00;50,00;CHF\r\$' '$T/feb.csv' && grep -q \$'^TOTAL;;2;2,00;280,00;EUR\r\$' '$T/feb.csv' && grep -q \$'^TOTAL;;1;1,00;50,00;CHF\r\$' '$T/feb.csv'"

# ---- March (summer time on the 29th) and April ----------------------------------------------

reglo fees --month 2026-03 >"$T/mar.txt"
check "fees 2026-03: Mar 31st 22:30 UTC is April 1st in Paris: nothing in March" \
    bash -c "$(declare -f plain); ! grep -q '@' '$T/mar.txt' && plain '$T/mar.txt' | grep -Eq '^Total +0 +0,00 € +0,00 €\$'"
check "fees 2026-04: Jean's fee of Mar 31st 22:30 UTC" \
    bash -c "'$R' -c '$REGLO_CONF' fees --month 2026-04 | sed 's/\xe2\x80\xaf/ /g; s/\xc2\xa0/ /g' | grep -Eq '^$JEAN +Jean Dupont +1 +1,00 € +70,00 €\$'"

# ---- a month with nothing --------------------------------------------------------------------

reglo fees --month 2025-12 >"$T/empty.txt"
check "empty month: exit 0" test $? -eq 0
check "empty month: header, no artisan, a zero total" \
    bash -c "$(declare -f plain); grep -q '^Artisan' '$T/empty.txt' && ! grep -q '@' '$T/empty.txt' && [ \"\$(plain '$T/empty.txt' | tail -1 | tr -s ' ')\" = 'Total 0 0,00 € 0,00 €' ]"
reglo fees --month 2025-12 --csv >"$T/empty.csv"
printf '\xef\xbb\xbfartisan;nom;transactions;frais;total_encaisse;devise\r\nTOTAL;;0;0,00;0,00;EUR\r\n' \
    >"$T/empty.expected.csv"
check "empty month --csv: header and a zero total" cmp -s "$T/empty.csv" "$T/empty.expected.csv"

# ---- bad months and usage: exit 2, nothing on stdout ----------------------------------------

bad_month() {
    local out err rc
    out=$("$R" -c "$REGLO_CONF" fees --month "$1" 2>"$T/bad.err")
    rc=$?
    err=$(cat "$T/bad.err")
    if [ "$rc" -eq 2 ] && [ -z "$out" ] && grep -qF "bad month '$1'" <<<"$err"; then
        ok "bad month '$1': exit 2 and a clear error"
    else
        fail "bad month '$1': expected exit 2 and \"bad month\", got exit $rc: $err"
    fi
}
for m in 2026-13 2026-00 abc 2026-1 26-01 2026/01 '2026-01 ' '' 0000-01 '2026-01;DROP'; do
    bad_month "$m"
done
"$R" -c "$REGLO_CONF" fees --month 2026-13 --csv >/dev/null 2>&1
check "bad month with --csv: exit 2" test $? -eq 2
"$R" -c "$REGLO_CONF" fees >/dev/null 2>&1
check "fees without --month: exit 2" test $? -eq 2
"$R" -c "$REGLO_CONF" fees --month 2026-01 extra >/dev/null 2>&1
check "fees with an extra argument: exit 2" test $? -eq 2
"$R" -c "$REGLO_CONF" fees --bogus >/dev/null 2>&1
check "fees with an unknown option: exit 2" test $? -eq 2
check "--month=2026-01 works too" bash -c "'$R' -c '$REGLO_CONF' fees --month=2026-01 --csv | cmp -s - '$T/jan.expected.csv'"

check "no sanitizer report" bash -c "! grep -q Sanitizer '$T'/*.err"
t_summary
