#!/usr/bin/env bash
# Thread tracking end to end: a real Postfix with reglo-milter, PostgreSQL, smtp-sink. A
# client's reply pauses the reminders and arrives unchanged; an unrelated reply is left
# alone; the artisan's #reprendre, #stop and #payée are applied and removed before the reply
# leaves (#payée: paid, no fee); a bounce (hand-made, and a real one from Postfix's bounce
# daemon) marks the invoice undelivered and tells the artisan; forged markers bypass nothing.
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-32000}
. "$(dirname "$0")/../lib/env.sh"
MP=$REGLO_ROOT/tests/lib/mailparts.py
MKINV=$REGLO_ROOT/tests/fixtures/mkinvoice
MKMAIL=$REGLO_ROOT/tests/fixtures/mkmail
FIX=$REGLO_ROOT/tests/fixtures/mail
ARTISAN=jean@artisan.test
CLIENT=client@example.test

t_init
pg_start || exit 1
reglo_conf
reglo db migrate >/dev/null || { fail "db migrate"; exit 1; }
reglo artisan add --email "$ARTISAN" --name "Jean Dupont" --iban "FR76 3000 6000 0112 3456 7890 189" >/dev/null
sink_start || { fail "smtp-sink starts"; exit 1; }
milter_start || { fail "reglo-milter starts"; cat "$T/reglo/milter.log"; exit 1; }
postfix_start || { fail "postfix starts"; exit 1; }
# Postfix's own bounces go through the milter too (internal_mail_filter_classes), and mail
# to bounce.test fails at once: a real delivery status notification.
postconf -c "$PF_CONF" -e "internal_mail_filter_classes = bounce" \
    "transport_maps = inline:{ {bounce.test = error:5.1.1 mailbox unknown} }"
postfix -c "$PF_CONF" reload >/dev/null 2>&1
M=$T/mail; mkdir -p "$M"

q() { psql -Atqc "$1"; }
delivered() { wait_for 300 sink_has "$1" || return 1; sink_find "$1"; }
inv() { q "SELECT $2 FROM invoice WHERE number = '$1'"; }
events() { q "SELECT string_agg(kind, ',' ORDER BY e.id) FROM invoice_event e JOIN invoice i ON i.id = e.invoice_id WHERE i.number = '$1'"; }
has_event() { events "$1" | tr ',' '\n' | grep -qx "$2"; }
# An artisan's invoice with a Message-ID of our choosing: send_invoice NUMBER MSGID TO
send_invoice() {
    $MKINV --number "$1" --amount 240,00 --buyer-email "$3" -o "$M/$1.pdf"
    $MKMAIL --from "$ARTISAN" --to "$3" --subject "Facture $1" --html --attach "$M/$1.pdf" \
            --message-id "<$2>" -o "$M/$1.eml"
    send_mail "$ARTISAN" "$3" "$M/$1.eml"
    delivered "Facture $1" >/dev/null
}
# A reply in a thread: reply FROM TO SUBJECT IN-REPLY-TO MSGID TEXT [mkmail options...]
reply() {
    local from=$1 to=$2 subject=$3 irt=$4 mid=$5 text=$6
    shift 6
    $MKMAIL --from "$from" --to "$to" --subject "$subject" --text "$text" \
            --header "In-Reply-To: <$irt>" --header "References: <$irt>" \
            --message-id "<$mid>" "$@" -o "$M/$mid.eml"
    send_mail "$from" "$to" "$M/$mid.eml"
    delivered "$subject"
}

# 1. The invoice: recorded in its thread.
send_invoice F-THR-001 inv-a@artisan.test "$CLIENT"
check "invoice delivered with its link" bash -c "grep -q 'pay.test.invalid/p/' '$(sink_find 'Facture F-THR-001')'"
check "invoice's Message-ID tracked" test "$(q "SELECT kind FROM thread_message WHERE message_id = 'inv-a@artisan.test'")" = invoice
IA=$(inv F-THR-001 id)
q "INSERT INTO reminder (invoice_id, step, due_at) VALUES ($IA, 7, now() + interval '7 days')" >/dev/null

# 2. The client replies: timeline, reminders paused, the reply itself untouched.
D=$(reply "$CLIENT" "$ARTISAN" "Re: Facture F-THR-001 question" inv-a@artisan.test \
          client-reply-1@example.test $'Bonjour,\n\nJe paierai vendredi.\n#payée\n')
check "client reply delivered byte-identical" python3 "$MP" unchanged "$M/client-reply-1@example.test.eml" "$D"
check "client reply: timeline entry" has_event F-THR-001 client_reply
check "client reply: reminders paused" test "$(inv F-THR-001 reminders_paused)" = t
check "client reply: recorded in the thread" test "$(q "SELECT kind FROM thread_message WHERE message_id = 'client-reply-1@example.test'")" = reply
check "a client's #payée changes nothing" test "$(inv F-THR-001 status)" = sent
check "client reply detail names the sender" bash -c "psql -Atqc \"SELECT detail->>'from' FROM invoice_event WHERE kind = 'client_reply' AND invoice_id = $IA\" | grep -qx '$CLIENT'"

# 3. Replies that are not the client's in a tracked thread, or not in one: untouched, no event.
D=$(reply other@elsewhere.test "$ARTISAN" "Re: Autre sujet unrelated" unknown-thread@elsewhere.test \
          unrelated-1@elsewhere.test $'Rien a voir.\n#stop\n')
check "unrelated reply delivered byte-identical" python3 "$MP" unchanged "$M/unrelated-1@elsewhere.test.eml" "$D"
D=$(reply stranger@elsewhere.test "$ARTISAN" "Re: Facture F-THR-001 stranger" inv-a@artisan.test \
          stranger-1@elsewhere.test "Je ne suis pas le client.")
check "stranger's reply in the thread delivered byte-identical" python3 "$MP" unchanged "$M/stranger-1@elsewhere.test.eml" "$D"
check "only one client_reply event" test "$(events F-THR-001)" = "sent,client_reply"
# Mail to no address in an artisan's domain cannot be a reply to the artisan nor a bounce of
# ours: accepted at DATA, its content never sent to the milter, even in a tracked thread.
D=$(reply "$CLIENT" compta@example.test "Re: Facture F-THR-001 compta" inv-a@artisan.test \
          client-fwd-1@example.test $'Pour paiement.\n#payée\n')
check "reply to another domain delivered byte-identical" python3 "$MP" unchanged "$M/client-fwd-1@example.test.eml" "$D"
check "reply to another domain: accepted at DATA" grep -q "from=<$CLIENT>: not-enrolled, no recipient in an artisan's domain, accepted untouched" "$T/reglo/milter.log"
check "reply to another domain: not in the thread" test "$(q "SELECT count(*) FROM thread_message WHERE message_id = 'client-fwd-1@example.test'")" = 0
sed -e 's/facture-0042.1776153728@artisan.test/inv-a@artisan.test/' \
    -e 's/Undelivered Mail Returned to Sender/Undelivered Mail elsewhere/' \
    -e '/^Return-Path: <>/d' "$FIX/dsn_postfix.eml" >"$M/dsn-elsewhere.eml"
swaks --server "127.0.0.1:$SMTPD_PORT" --from '<>' --to someone@example.test --data "$M/dsn-elsewhere.eml" --suppress-data --hide-all
D=$(delivered "Undelivered Mail elsewhere")
check "bounce to another domain delivered byte-identical" python3 "$MP" unchanged "$M/dsn-elsewhere.eml" "$D"
check "bounce to another domain: the invoice stays sent" test "$(inv F-THR-001 status)" = sent
check "nothing recorded for mail to other domains" test "$(events F-THR-001)" = "sent,client_reply"
$MKMAIL --from "$CLIENT" --to "$ARTISAN" --subject "Absent auto" --text "Je suis absent." \
        --header "In-Reply-To: <inv-a@artisan.test>" --header "Auto-Submitted: auto-replied" -o "$M/auto.eml"
swaks --server "127.0.0.1:$SMTPD_PORT" --from '<>' --to "$ARTISAN" --data "$M/auto.eml" --suppress-data --hide-all
D=$(delivered "Absent auto")
check "auto-reply (null sender) delivered byte-identical" python3 "$MP" unchanged "$M/auto.eml" "$D"
check "auto-reply is no client reply" test "$(events F-THR-001)" = "sent,client_reply"

# 4. The artisan's commands: applied, removed from the reply before it leaves.
D=$(reply "$ARTISAN" "$CLIENT" "Re: Facture F-THR-001 reprise" inv-a@artisan.test \
          artisan-1@artisan.test $'Bonjour,\n\n  #Reprendre \nJe relancerai.\n\n> #payée\n')
check "#reprendre: reminders resumed" test "$(inv F-THR-001 reminders_paused)" = f
check "#reprendre: line removed" bash -c "! python3 '$MP' text '$D' | grep -qi 'reprendre'"
check "#reprendre: the rest of the reply kept" bash -c "python3 '$MP' text '$D' | grep -q 'Je relancerai.'"
check "quoted #payée is no command" test "$(inv F-THR-001 status)" = sent
check "quoted #payée stays in the quote" bash -c "python3 '$MP' text '$D' | grep -q '> #payée'"
D=$(reply "$ARTISAN" "$CLIENT" "Re: Facture F-THR-001 pause" inv-a@artisan.test \
          artisan-2@artisan.test $'#stop\nOn en reparle.\n' \
          --header "X-Reglo: reminder; id=$IA; mac=AAAAAAAAAAAAAAAAAAAAAA")
check "#stop with a forged reminder marker: still applied" test "$(inv F-THR-001 reminders_paused)" = t
check "#stop: line removed" bash -c "! python3 '$MP' text '$D' | grep -q '#stop'"
check "forged marker removed from the reply" bash -c "! grep -qi '^X-Reglo:' '$D'"
check "timeline: resumed, then paused" test "$(events F-THR-001)" = "sent,client_reply,reminders_resumed,reminders_paused"
D=$(reply "$ARTISAN" "$CLIENT" "Re: Facture F-THR-001 reglee" inv-a@artisan.test \
          artisan-3@artisan.test $'Merci pour votre règlement en espèces.\n#payée\nJean\n' --html)
check "#payée: invoice paid" test "$(inv F-THR-001 status)" = paid
check "#payée: paid_at set" test -n "$(inv F-THR-001 paid_at)"
check "#payée: no fee row" test "$(q "SELECT count(*) FROM fee WHERE invoice_id = $IA")" = 0
check "#payée: pending reminder cancelled" test "$(q "SELECT status FROM reminder WHERE invoice_id = $IA")" = cancelled
check "#payée: timeline marked_paid" has_event F-THR-001 marked_paid
check "#payée: removed from the text part" bash -c "! python3 '$MP' text '$D' | grep -qi 'pay'"
check "#payée: removed from the html part" bash -c "! python3 '$MP' html '$D' | grep -qi '#pay'"
check "#payée: the artisan's text kept" bash -c "python3 '$MP' text '$D' | grep -q 'règlement en espèces'"
check "#payée: reply 7-bit clean" python3 "$MP" seven-bit "$D"
check "a reply is no invoice: no 'could not read' notice" bash -c "! grep -rq 'Lien de paiement non ajout' '$T/sink'"
check "a reply gets no link" bash -c "! grep -q 'pay.test.invalid/p/' '$D'"

# 5. A bounce of the invoice (null sender, multipart/report): undelivered, reminders cancelled,
# the artisan told which address failed.
send_invoice F-THR-002 inv-b@artisan.test client2@example.test
IB=$(inv F-THR-002 id)
q "INSERT INTO reminder (invoice_id, step, due_at) VALUES ($IB, 7, now() + interval '7 days')" >/dev/null
sed -e 's/facture-0042.1776153728@artisan.test/inv-b@artisan.test/' \
    -e 's/[Cc]lient@[Bb]ad.test/client2@example.test/g' \
    -e 's/Undelivered Mail Returned to Sender/Undelivered Mail F-THR-002/' \
    -e '/^Return-Path: <>/d' "$FIX/dsn_postfix.eml" >"$M/dsn.eml"
swaks --server "127.0.0.1:$SMTPD_PORT" --from '<>' --to "$ARTISAN" --data "$M/dsn.eml" --suppress-data --hide-all
D=$(delivered "Undelivered Mail F-THR-002")
check "bounce delivered to the artisan byte-identical" python3 "$MP" unchanged "$M/dsn.eml" "$D"
check "bounce: invoice undelivered" test "$(inv F-THR-002 status)" = undelivered
check "bounce: reminder cancelled" test "$(q "SELECT status FROM reminder WHERE invoice_id = $IB")" = cancelled
check "bounce: timeline names the address" test "$(q "SELECT detail->>'recipient' FROM invoice_event WHERE kind = 'bounce' AND invoice_id = $IB")" = client2@example.test
N=$(delivered "Subject: Facture F-THR-002 non")
check "bounce: the artisan is told" test -n "$N"
check "bounce notice goes to the artisan" bash -c "grep -qi '^To: .*$ARTISAN' '$N'"
check "bounce notice names the failed address" grep -q 'client2@example.test' "$N"
swaks --server "127.0.0.1:$SMTPD_PORT" --from '<>' --to "$ARTISAN" --data "$M/dsn.eml" --suppress-data --hide-all
postfix_drain
sleep 1
check "the same bounce twice: one event" test "$(q "SELECT count(*) FROM invoice_event WHERE kind = 'bounce' AND invoice_id = $IB")" = 1

# 5b. A bounce of a reminder (the gateway records each sent reminder in the thread).
send_invoice F-THR-005 inv-e@artisan.test client5@example.test
IE=$(inv F-THR-005 id)
q "INSERT INTO reminder (invoice_id, step, due_at, status, message_id, sent_at)
   VALUES ($IE, 7, now(), 'sent', 'reminder-$IE-7@artisan.test', now());
   INSERT INTO reminder (invoice_id, step, due_at) VALUES ($IE, 15, now() + interval '8 days');
   INSERT INTO thread_message (message_id, invoice_id, kind)
   VALUES ('reminder-$IE-7@artisan.test', $IE, 'reminder')" >/dev/null
sed -e "s/facture-0042.1776153728@artisan.test/reminder-$IE-7@artisan.test/" \
    -e 's/[Cc]lient@[Bb]ad.test/client5@example.test/g' \
    -e 's/Undelivered Mail Returned to Sender/Undelivered Mail F-THR-005/' \
    -e 's/^Message-Id: <20260414080211/Message-Id: <reminder-bounce-1/' \
    -e '/^Return-Path: <>/d' "$FIX/dsn_postfix.eml" >"$M/dsn5.eml"
swaks --server "127.0.0.1:$SMTPD_PORT" --from '<>' --to "$ARTISAN" --data "$M/dsn5.eml" --suppress-data --hide-all
delivered "Undelivered Mail F-THR-005" >/dev/null
check "reminder bounce: invoice undelivered" test "$(inv F-THR-005 status)" = undelivered
check "reminder bounce: the reminder is marked undelivered" test "$(q "SELECT status FROM reminder WHERE invoice_id = $IE AND step = 7")" = undelivered
check "reminder bounce: later reminders cancelled" test "$(q "SELECT status FROM reminder WHERE invoice_id = $IE AND step = 15")" = cancelled
check "reminder bounce: timeline says of what" test "$(q "SELECT detail->>'of' FROM invoice_event WHERE kind = 'bounce' AND invoice_id = $IE")" = reminder

# 6. A real bounce from Postfix's bounce daemon (error transport), through non_smtpd_milters.
# Local submission: smtpd would refuse the recipient at RCPT time already.
$MKINV --number F-THR-003 --amount 80,00 --buyer-email client@bounce.test -o "$M/f3.pdf"
$MKMAIL --from "$ARTISAN" --to client@bounce.test --subject "Facture F-THR-003" \
        --attach "$M/f3.pdf" --message-id "<inv-c@artisan.test>" -o "$M/f3.eml"
sendmail_local "$ARTISAN" client@bounce.test "$M/f3.eml"
status_is() { test "$(inv "$1" status)" = "$2"; }
wait_for 300 status_is F-THR-003 undelivered
check "Postfix's own bounce: invoice undelivered" test "$(inv F-THR-003 status)" = undelivered
check "Postfix's own bounce: the artisan is told" test -n "$(delivered "Subject: Facture F-THR-003 non")"

# 7. Forged reminder marker on an invoice: ignored and removed, the invoice still gets its link.
$MKINV --number F-THR-004 --amount 99,00 --buyer-email "$CLIENT" -o "$M/f4.pdf"
$MKMAIL --from "$ARTISAN" --to "$CLIENT" --subject "Facture F-THR-004 forged" --attach "$M/f4.pdf" \
        --header "X-Reglo: reminder; id=1; mac=AAAAAAAAAAAAAAAAAAAAAA" -o "$M/f4.eml"
send_mail "$ARTISAN" "$CLIENT" "$M/f4.eml"
D=$(delivered "Facture F-THR-004 forged")
check "forged reminder marker: the invoice still gets its link" bash -c "python3 '$MP' text '$D' | grep -q 'https://pay.test.invalid/p/'"
check "forged reminder marker: replaced by ours" bash -c "python3 '$MP' header '$D' X-Reglo | grep -q '^processed; id='"

check "milter logged the client reply" grep -q 'client reply from client@example.test recorded, reminders paused' "$T/reglo/milter.log"
milter_stop
check "milter exits cleanly (no sanitizer report)" bash -c "! grep -q 'Sanitizer' '$T/reglo/milter.log'"
t_summary
