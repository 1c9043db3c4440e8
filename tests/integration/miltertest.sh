#!/usr/bin/env bash
# miltertest (OpenDKIM's milter driver) against the real reglo-milter and PostgreSQL:
# trust decisions at MAIL FROM, thread tracking at the end of headers, negotiated actions,
# header and body edits.
set -u
. "$(dirname "$0")/../lib/env.sh"
t_init
pg_start || exit 1
REGLO_QUARANTINE=true reglo_conf
reglo db migrate >/dev/null
reglo artisan add --email jean@artisan.test --name "Jean Dupont" \
      --iban FR7630006000011234567890189 >/dev/null
milter_start || { fail "reglo-milter starts"; cat "$T/reglo/milter.log"; exit 1; }
M=$T/mail; mkdir -p "$M"
F=$REGLO_ROOT/tests/fixtures
"$F/mkmail" --from jean@artisan.test --to client@example.test --subject "[sans lien] Facture MT-1" \
    --header "X-Invoice-Number: MT-1" --header "X-Invoice-Amount: 250,00" -o "$M/nolink.eml"
"$F/mkmail" --from jean@artisan.test --to client@example.test --subject "Bonjour" -o "$M/plain.eml"
"$F/mkmail" --from jean@artisan.test --to client@example.test --subject "Facture MT-2 [no link]" \
    --header "X-Reglo: processed; id=1; mac=AAAAAAAAAAAAAAAAAAAAAA" -o "$M/forged.eml"
"$F/mkinvoice" --number MT-3 --amount 500,00 --iban DE89370400440532013000 -o "$M/fraud.pdf"
"$F/mkmail" --from jean@artisan.test --to client@example.test --subject "Facture MT-3" \
    --attach "$M/fraud.pdf" -o "$M/fraud.eml"
cp "$F/mail/dsn_postfix.eml" "$M/dsn.eml"
out=$(MILTER_SOCK="$T/reglo/milter.sock" MAIL_DIR="$M" miltertest -s "$(dirname "$0")/milter.lua" 2>&1)
rc=$?
echo "$out"
T_PASSES=$(grep -c '^ok ' <<<"$out")
T_FAILS=$(grep -c '^FAIL' <<<"$out")
[ "$rc" -eq 0 ] || [ "$T_FAILS" -gt 0 ] || { fail "miltertest exited $rc"; }
milter_stop
check "milter exits cleanly (no sanitizer report)" bash -c "! grep -q 'Sanitizer' '$T/reglo/milter.log'"
t_summary
