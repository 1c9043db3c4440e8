#!/usr/bin/env bash
# Every message of the external mail corpus (../shared/corpus/mail, or $REGLO_CORPUS/mail) and
# of tests/fixtures/mail, sent as if by an enrolled artisan with an invoice PDF attached,
# through `reglo rewrite --dry-run`:
#   - exit status 0, and the output parses;
#   - signed, encrypted and TNEF messages come out byte-identical;
#   - a message that gets the link keeps every original part byte for byte (decoded), only
#     the body text parts carrying the link differ, plus reglo's QR image;
#   - a message that does not get the link (decision other than "link") comes out
#     byte-identical.
# One line per file. The corpus is optional: without it a visible SKIP notice is printed and
# nothing is counted for it.
set -u
. "$(dirname "$0")/../lib/env.sh"
LIB=$REGLO_ROOT/tests/lib
ARTISAN=jean@artisan.test
PREFIX=https://pay.test.invalid/p/
CORPUS=${REGLO_CORPUS:-$REGLO_ROOT/../shared/corpus}

t_init
pg_start || { fail "postgresql starts"; t_summary; exit 1; }
reglo_conf
reglo db migrate >/dev/null || { fail "db migrate"; t_summary; exit 1; }
reglo artisan add --email "$ARTISAN" --name "Jean Dupont" \
      --iban FR7630006000011234567890189 >/dev/null || { fail "artisan add"; t_summary; exit 1; }
W=$T/work; mkdir -p "$W"
"$REGLO_ROOT/tests/fixtures/mkinvoice" --number F-CORPUS-1 --amount 480,00 \
    --iban FR7630006000011234567890189 -o "$W/facture-F-CORPUS-1.pdf"

declare -A SEEN_LINKED=()

# One message: prints one line, counts one pass or failure.
run_one() {
    local src=$1 label=$2 name in out err how rc verdict decision
    name=$(basename "$src")
    in=$W/$label-$name out=$W/$label-$name.out err=$W/$label-$name.err
    how=$(python3 "$LIB/attach_invoice.py" "$src" "$ARTISAN" "$W/facture-F-CORPUS-1.pdf" "$in" 2>&1) || {
        fail "$label/$name: attach_invoice.py failed: $how"; return; }
    "$BUILD/reglo" -c "$REGLO_CONF" rewrite --dry-run <"$in" >"$out" 2>"$err"
    rc=$?
    decision=$(grep -o 'decision=[^ ]*' "$err" | head -1)
    if grep -q 'Sanitizer' "$err"; then
        fail "$label/$name ($how): sanitizer report, see $err"; return
    fi
    if [ "$rc" -ne 0 ]; then
        fail "$label/$name ($how): exit $rc, $decision: $(grep -v '^reglo: action=' "$err" | head -1)"
        return
    fi
    if ! python3 -c 'import email,sys; m=email.message_from_bytes(open(sys.argv[1],"rb").read()); [p.get_payload(decode=True) for p in m.walk()]' "$out" 2>/dev/null; then
        fail "$label/$name ($how): output does not parse"; return
    fi
    case "$name" in
    *smime*|*pgp*|*tnef*|*pkcs7*|*encrypted*|*signed*)
        if cmp -s "$in" "$out"; then ok "$label/$name ($how): protected, byte-identical ($decision)"
        else fail "$label/$name ($how): protected message was changed ($decision)"; fi
        return ;;
    esac
    if [ "$decision" != decision=link ]; then
        if cmp -s "$in" "$out"; then ok "$label/$name ($how): no link, byte-identical ($decision)"
        else fail "$label/$name ($how): no link but the message was changed ($decision)"; fi
        return
    fi
    verdict=$(python3 "$LIB/rewrite_check.py" "$in" "$out" "$PREFIX")
    if [ $? -eq 0 ]; then
        ok "$label/$name ($how): $verdict ($decision)"
        SEEN_LINKED[$label]=1
    else
        fail "$label/$name ($how): $verdict ($decision)"
    fi
}

for f in "$REGLO_ROOT"/tests/fixtures/mail/*.eml; do
    run_one "$f" fixtures
done
check "some fixture got the link" test -n "${SEEN_LINKED[fixtures]:-}"

if [ -d "$CORPUS/mail" ]; then
    for f in "$CORPUS"/mail/*.eml; do
        run_one "$f" corpus
    done
    check "some corpus message got the link" test -n "${SEEN_LINKED[corpus]:-}"
else
    echo "SKIP: rewrite over the mail corpus: corpus not found ($CORPUS/mail; set REGLO_CORPUS)"
fi
t_summary
