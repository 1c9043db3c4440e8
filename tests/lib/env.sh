# tests/lib/env.sh — private, loopback-only instances of everything the integration and
# end-to-end tests need: PostgreSQL (unix socket), Postfix, smtp-sink, reglo-milter.
# Source it, call t_init, then the *_start functions; t_cleanup (trap'ed by t_init) stops
# exactly the processes these functions started, by pid.
#
# Needs root (initdb runs as the unprivileged user regloci, Postfix drops to postfix).

REGLO_ROOT=${REGLO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$REGLO_ROOT/build/san}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PORT_BASE=${REGLO_PORT_BASE:-25300}
SMTPD_PORT=$((PORT_BASE + 25))
SINK_PORT=$((PORT_BASE + 26))
PG_PORT=$((PORT_BASE + 32))
GW_PORT=$((PORT_BASE + 80))
SIM_PORT=$((PORT_BASE + 81))
GW=http://127.0.0.1:$GW_PORT
SIM=http://127.0.0.1:$SIM_PORT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

T_PIDS=()
T_FAILS=0
T_PASSES=0

t_init() {
    T=$(mktemp -d /tmp/reglo-test.XXXXXX)
    chmod 755 "$T"
    trap t_cleanup EXIT
}

t_log() { printf '%s\n' "$*" >&2; }

ok()   { T_PASSES=$((T_PASSES + 1)); printf 'ok   - %s\n' "$*"; }
fail() { T_FAILS=$((T_FAILS + 1)); printf 'FAIL - %s\n' "$*"; }
check() {   # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

t_summary() {
    printf '%d passed, %d failed\n' "$T_PASSES" "$T_FAILS"
    [ "$T_FAILS" -eq 0 ]
}

# Wait until a command succeeds (up to N tenths of a second).
wait_for() {
    local tries=$1; shift
    while [ "$tries" -gt 0 ]; do
        "$@" 2>/dev/null && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

t_cleanup() {
    local rc=$?
    [ -n "${PF_CONF:-}" ] && postfix -c "$PF_CONF" stop >/dev/null 2>&1
    milter_stop
    for pid in "${T_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${T_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    pg_stop
    if [ "${KEEP_TEST_DIR:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
        t_log "test files kept in $T"
    else
        rm -rf "$T"
    fi
    exit $rc
}

# ---- PostgreSQL -----------------------------------------------------------------------

pg_start() {
    id regloci >/dev/null 2>&1 || useradd -r -m regloci
    mkdir -p "$T/pg"
    chown regloci "$T/pg"
    runuser -u regloci -- "$PGBIN/initdb" -D "$T/pg/data" -U postgres -A trust --no-sync \
        -E UTF8 --locale=C.UTF-8 >"$T/pg/initdb.log" 2>&1 || { cat "$T/pg/initdb.log"; return 1; }
    pg_resume || return 1
    psql -h "$T/pg" -p "$PG_PORT" -U postgres -Atqc 'CREATE DATABASE reglo' >/dev/null
    PG_CONNINFO="host=$T/pg port=$PG_PORT user=postgres dbname=reglo"
    export PGHOST=$T/pg PGPORT=$PG_PORT PGUSER=postgres PGDATABASE=reglo
}

# Start (again) the instance made by pg_start: the tests stop it to simulate an outage.
pg_resume() {
    runuser -u regloci -- "$PGBIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/pg.log" -w -s \
        -o "-k $T/pg -p $PG_PORT -c listen_addresses='' -c fsync=off -c max_connections=200" start
}

pg_stop() {
    [ -f "${T:-/nonexistent}/pg/data/postmaster.pid" ] &&
        runuser -u regloci -- "$PGBIN/pg_ctl" -D "$T/pg/data" -w -s -m fast stop
    return 0
}

# ---- smtp-sink: the next hop; one file per message in $T/sink ------------------------

sink_start() {
    mkdir -p "$T/sink"
    chown nobody "$T/sink"
    smtp-sink -u nobody -d "$T/sink/%Y%m%d/%H%M%S." "127.0.0.1:$SINK_PORT" 256 &
    T_PIDS+=($!)
    wait_for 50 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK_PORT"
}

sink_count() { find "$T/sink" -type f | wc -l; }

# pg_unit NAME: the unit test binary NAME, whose cases need PostgreSQL, run against this
# test's instance with the leak checker on; its output in $T/unit.out (and printed), its
# exit status returned.
pg_unit() {
    REGLO_TEST_CONNINFO=$PG_CONNINFO ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        LSAN_OPTIONS=suppressions=$REGLO_ROOT/tests/lsan.supp:print_suppressions=0 \
        "$BUILD/tests/$1" >"$T/unit.out" 2>&1
    local rc=$?
    cat "$T/unit.out"
    return "$rc"
}
sink_has_count() { [ "$(sink_count)" -ge "$1" ]; }

# Wait for N messages at the sink (default: 1), up to 30 s.
sink_wait() { wait_for 300 sink_has_count "${1:-1}"; }

# The first message file whose content matches a pattern (grep -l).
sink_find() { grep -rl -- "$1" "$T/sink" 2>/dev/null | head -1; }
sink_has() { grep -rlq -- "$1" "$T/sink" 2>/dev/null; }

# smtp-sink's dump starts with its own envelope lines; the message follows.
sink_message() { sed -n '/^X-Rcpt-Args:/,$p' "$1" | sed '1d'; }

# ---- reglo configuration and milter ---------------------------------------------------

reglo_conf() {
    mkdir -p "$T/reglo"
    printf 'k1 %s\n' "$(head -c 48 /dev/urandom | base64 | tr -d '/+=' | head -c 48)" \
        >"$T/reglo/link.key"
    chmod 600 "$T/reglo/link.key"
    cat >"$T/reglo/reglo.conf" <<CONF
database { conninfo = "$PG_CONNINFO" connect_timeout = 2 }
milter {
    socket = "unix:$T/reglo/milter.sock"
    socket_mode = "0666"
    trusted_networks = {"127.0.0.0/8"}
    on_error = "${REGLO_ON_ERROR:-accept}"
    spool_dir = "$T/reglo"
    memory_threshold = 65536
    max_message_size = ${REGLO_MAX_SIZE:-26214400}
    quarantine_iban_mismatch = ${REGLO_QUARANTINE:-false}
    sender_cache_ttl = ${REGLO_SENDER_CACHE_TTL:-0}
}
gateway { public_url = "https://pay.test.invalid" }
smtp { url = "smtp://127.0.0.1:$SMTPD_PORT" from = "reglo@mta.test.invalid" }
secrets { link_key_file = "$T/reglo/link.key" }
templates { dir = "$REGLO_ROOT/templates" }
CONF
    REGLO_CONF=$T/reglo/reglo.conf
}

reglo() { "$BUILD/reglo" -c "$REGLO_CONF" "$@"; }

# One value from the test database (pg_start exported PGHOST and the rest).
psql_q() { psql -Atqc "$1"; }

# The gateway on $GW and both PSPs pointed at the emulator (psp-sim's default keys).
gateway_conf() {
    sed -i "s|^gateway {.*|gateway { listen = \"127.0.0.1:$GW_PORT\" public_url = \"$GW\" default_psp = \"mollie\" threads = 4 }|" "$REGLO_CONF"
    cat >>"$REGLO_CONF" <<CONF
psp mollie { api_base = "$SIM" api_key = "test_psp_sim_mollie_key" }
psp stripe { api_base = "$SIM" secret_key = "sk_test_psp_sim" webhook_secret = "whsec_psp_sim" }
CONF
}

# PSP emulator: Stripe events go to the gateway's webhook, signed with whsec_psp_sim.
sim_start() {
    "$REGLO_ROOT/tests/psp-sim/psp-sim" --port "$SIM_PORT" --stripe-webhook "$GW/webhooks/stripe" \
        "$@" 2>>"$T/psp-sim.log" &
    T_PIDS+=($!)
    wait_for 100 curl -sf -o /dev/null "$SIM/_sim/health"
}

gateway_start() {
    "$BUILD/reglo-gateway" -c "$REGLO_CONF" -f -v 2>>"$T/gateway.log" &
    GW_PID=$!
    T_PIDS+=("$GW_PID")
    wait_for 100 curl -sf -o /dev/null "$GW/healthz"
}

milter_start() {
    "$BUILD/reglo-milter" -c "$REGLO_CONF" -f -v 2>>"$T/reglo/milter.log" &
    MILTER_PID=$!
    wait_for 100 test -S "$T/reglo/milter.sock"
}

# libmilter takes a few seconds to stop; wait for the pid so the socket is free again.
milter_stop() {
    [ -n "${MILTER_PID:-}" ] || return 0
    kill "$MILTER_PID" 2>/dev/null
    # Its exit status is not ours: under set -e (the demo) a non-zero one must not end the
    # caller half-way through its clean-up.
    wait "$MILTER_PID" 2>/dev/null || true
    MILTER_PID=
    return 0
}

# ---- Postfix ---------------------------------------------------------------------------

postfix_start() {
    local pf=$T/pf
    mkdir -p "$pf/etc" "$pf/spool" "$pf/data"
    chown postfix "$pf/data"
    cat >"$pf/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
maillog_file = $pf/maillog
maillog_file_prefixes = $T
myhostname = mta.test.invalid
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtputf8_enable = no
milter_default_action = accept
smtpd_milters = { unix:$T/reglo/milter.sock, default_action=accept }
non_smtpd_milters = \$smtpd_milters
message_size_limit = 52428800
CF
    sed -E 's/^([a-z]+[[:space:]]+(unix|fifo|pass|inet)[[:space:]]+[-ny][[:space:]]+[-ny][[:space:]]+)[-y]/\1n/' \
        /usr/share/postfix/master.cf.dist >"$pf/etc/master.cf"
    sed -i -E 's/^smtp([[:space:]]+inet)/#smtp\1/' "$pf/etc/master.cf"
    printf '127.0.0.1:%s inet n - n - - smtpd\n' "$SMTPD_PORT" >>"$pf/etc/master.cf"
    PF_CONF=$pf/etc
    postfix -c "$PF_CONF" check >"$pf/check.log" 2>&1 || { cat "$pf/check.log"; return 1; }
    postfix -c "$PF_CONF" start >"$pf/start.log" 2>&1 || { cat "$pf/start.log" "$pf/maillog"; return 1; }
    wait_for 100 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTPD_PORT"
}

# Submit a message file by SMTP as a trusted client: send_mail FROM TO FILE
send_mail() {
    swaks --server "127.0.0.1:$SMTPD_PORT" --from "$1" --to "$2" --data "$3" \
          --suppress-data --hide-all
}

# The same through the local sendmail (non_smtpd_milters).
sendmail_local() {
    sendmail -C "$PF_CONF" -f "$1" "$2" <"$3"
}

# rewrite_invoice FROM TO NUMBER AMOUNT DIR: an invoice email with invoicing software's
# X-Invoice-* headers (written in DIR), recorded by `reglo rewrite` as reglo-milter would;
# prints the payment link it got.
rewrite_invoice() {
    "$REGLO_ROOT/tests/fixtures/mkmail" --from "$1" --to "$2" --subject "Facture $3" \
        --header "X-Invoice-Number: $3" --header "X-Invoice-Amount: $4" \
        --header "X-Invoice-Currency: EUR" -o "$5/$3.eml"
    reglo rewrite <"$5/$3.eml" >"$5/$3.out" 2>>"$T/rewrite.log" || return 1
    python3 "$REGLO_ROOT/tests/lib/mailparts.py" text "$5/$3.out" |
        grep -o "$GW/p/[A-Za-z0-9._-]*" | head -1
}

# Wait until Postfix's queue is empty (everything delivered or bounced).
postfix_drain() {
    wait_for 300 bash -c "[ -z \"\$(find '$T/pf/spool/active' '$T/pf/spool/incoming' '$T/pf/spool/maildrop' -type f 2>/dev/null)\" ]"
}
