#!/usr/bin/env bash
# The outbox keeps sent mail 30 days (lib/outbox.c, sql/query/outbox_purge.sql): a gateway's
# outbox thread deletes, on its first pass and then once an hour, the rows the MTA accepted
# over 30 days ago, and only those: a row sent 29 days ago, a failed row and an unsent row
# (due tomorrow), both 40 days old, stay; a row sent 31 days ago that appears after the
# purge waits for the next hour's.
set -u
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-29700}
. "$(dirname "$0")/../lib/env.sh"

t_init
pg_start || exit 1
reglo_conf
gateway_conf
sed -i "s|^smtp {.*|smtp { url = \"smtp://127.0.0.1:$SINK_PORT\" from = \"reglo@mta.test.invalid\" }|" "$REGLO_CONF"
reglo db migrate >/dev/null || { fail "migrations"; exit 1; }
# row PURPOSE SENT_DAYS_AGO|- NEXT_ATTEMPT FAILED: an outbox row 40 days old.
row() {
    local sent="NULL"
    [ "$2" != - ] && sent="now() - interval '$2 days'"
    psql_q "INSERT INTO outbox (mail_from, rcpts, message, purpose, created_at, sent_at, next_attempt, failed)
            VALUES ('reglo@mta.test.invalid', '{jean@artisan.test}', convert_to('Subject: t', 'UTF8'), '$1',
                    now() - interval '40 days', $sent, $3, $4)" >/dev/null
}
rows() { psql_q "SELECT count(*) FROM outbox WHERE purpose = '$1'"; }
row sent-31 31 "now() - interval '40 days'" false
row sent-29 29 "now() - interval '40 days'" false
row failed - "now() - interval '40 days'" true
row unsent - "now() + interval '1 day'" false
check "four rows of 40 days ago in the outbox" test "$(psql_q "SELECT count(*) FROM outbox")" = 4
sink_start || { fail "smtp-sink starts"; exit 1; }
gateway_start || { fail "reglo-gateway starts"; cat "$T/gateway.log"; exit 1; }

check "the row sent 31 days ago is deleted on the outbox thread's first pass" \
    wait_for 100 test "$(rows sent-31)" = 0
check "the deletion is logged with its count" \
    grep -q "outbox: messages sent over 30 days ago, deleted: 1" "$T/gateway.log"
check "the row sent 29 days ago stays" test "$(rows sent-29)" = 1
check "the failed row stays (for the operator)" test "$(rows failed)" = 1
check "the unsent row stays, not sent before it is due" test "$(rows unsent)" = 1
row sent-31-later 31 "now() - interval '40 days'" false
check "one more row sent 31 days ago, after the purge" test "$(rows sent-31-later)" = 1
sleep 5     # two passes of the outbox thread (every 2 s)
check "a row sent 31 days ago that appears after the purge waits for the next hour" \
    test "$(rows sent-31-later)" = 1
check "nothing was sent: no row was due" test "$(sink_count)" = 0
kill -TERM "$GW_PID"; wait "$GW_PID"
check "SIGTERM: exit 0" test "$?" = 0
check "gateway log has no sanitizer report" bash -c "! grep -q Sanitizer '$T/gateway.log'"
t_summary
