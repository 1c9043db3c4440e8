#!/usr/bin/env bash
# bench/reminders.sh — reminder throughput: N reminders falling due at once in
# reglo-gateway, drained through Postfix + reglo-milter into smtp-sink, against
# smtp-source's own rate for messages of the same size through the same Postfix, milter and
# sink in the same run. Writes bench/out/reminders.md.
#
#   bench/reminders.sh [BUILD_DIR]        (default build; an optimised build)
#
# Both sides: the same private Postfix (tests/lib/env.sh, loopback), reglo-milter on a unix
# socket with a real PostgreSQL, smtp-sink writing one file per message; the same sender
# (an enrolled artisan, so the milter reads every message), two recipients per message, the
# same concurrency (smtp-source -s CONC sessions; reminders.workers = CONC) and the same
# message size (smtp-source -l is set from the size of a delivered reminder).
# Reminder side: N invoices (SQL, with a link) whose D+7 falls due when the reminder clock
# (REGLO_CLOCK_FILE) is moved; the time runs from moving the clock to the last message
# written by smtp-sink, so it includes planning, claiming, composing (templates, QR PNG,
# gmime), the SMTP submissions and the database writes. Sides alternate from round to round.
#
# Environment: REGLO_PORT_BASE (default 27000), BENCH_REMINDERS (10000), BENCH_ROUNDS (3),
# BENCH_CONC (10), BENCH_OUT (bench/out/reminders.md), BENCH_PROFILE (0; 1: PostgreSQL loads
# pg_stat_statements and the report adds the statements of the last reminder round by time,
# and perf's view of the gateway during it, when perf works: that round is then not a
# measurement of speed).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REGLO_ROOT=${REGLO_ROOT:-$(cd "$HERE/.." && pwd)}
BUILD=$(cd "$REGLO_ROOT" && cd "${1:-build}" && pwd) || { echo "no build directory" >&2; exit 2; }
export REGLO_PORT_BASE=${REGLO_PORT_BASE:-27000}
N=${BENCH_REMINDERS:-10000}
ROUNDS=${BENCH_ROUNDS:-3}
CONC=${BENCH_CONC:-10}
OUT=${BENCH_OUT:-$HERE/out/reminders.md}
PROFILE=${BENCH_PROFILE:-0}
ARTISAN=jean@artisan.test
CLIENT=client@example.test
WARMUP=50
DUE_AT=2030-03-11T09:30:00Z        # Monday 10:30 in Paris: business hours
BEFORE=2030-03-10T09:30:00Z        # the day before: nothing due

. "$REGLO_ROOT/tests/lib/env.sh"
for p in reglo-milter reglo reglo-gateway; do
    [ -x "$BUILD/$p" ] || { echo "missing $BUILD/$p (make first)" >&2; exit 2; }
done
command -v smtp-source >/dev/null || { echo "smtp-source missing (package postfix)" >&2; exit 2; }
say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }

# ---- setup ----------------------------------------------------------------------------

t_init
export REGLO_CLOCK_FILE=$T/clock
clock_set() { printf '%s\n' "$1" >"$T/clock.new" && mv "$T/clock.new" "$T/clock"; }
clock_set "$BEFORE"
say "files in $T; $N reminders x $ROUNDS rounds, $CONC sessions"
pg_start || exit 1
if [ "$PROFILE" = 1 ]; then
    psql -Atqc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null &&
        pg_stop && pg_resume && psql -Atqc "CREATE EXTENSION pg_stat_statements" >/dev/null ||
        { echo "pg_stat_statements" >&2; exit 1; }
fi
reglo_conf
gateway_conf
sed -i 's/memory_threshold = .*/memory_threshold = 1048576/' "$REGLO_CONF"
cat >>"$REGLO_CONF" <<CONF
reminders { interval = 1 workers = $CONC timezone = "Europe/Paris" }
CONF
reglo db migrate >/dev/null || exit 1
reglo artisan add --email "$ARTISAN" --name "Plomberie Dupont" --reminders 7 >/dev/null || exit 1
# The invoices of the warm-up (W-) and of the measured runs (B-): D+7 due at DUE_AT.
add_invoices() {   # add_invoices PREFIX COUNT
    psql -Atqc "INSERT INTO invoice (artisan_id, number, amount_due_minor, currency,
                    issue_date, due_date, client_email, recipients, subject, message_id,
                    source, key_id, sent_at)
                SELECT a.id, '$1-' || lpad(g::text, 6, '0'), 10000 + g, 'EUR', '2030-03-01',
                       '2030-03-31', 'c' || g || '@example.test', ARRAY['c' || g || '@example.test'],
                       'Facture $1-' || g, '$1-' || g || '@artisan.test', 'headers', 'k1',
                       '2030-03-04T09:30:00Z'
                  FROM artisan a, generate_series(1, $2) g WHERE a.email = '$ARTISAN'" >/dev/null
}
add_invoices W "$WARMUP"
sink_start && milter_start && postfix_start || { echo "servers do not start" >&2; exit 1; }
gateway_start || { echo "reglo-gateway does not start" >&2; cat "$T/gateway.log"; exit 1; }

sink_clear() { find "$T/sink" -mindepth 1 -delete; }
sink_last_write() { find "$T/sink" -type f -printf '%T@\n' | sort -n | tail -1; }
# Once a second, the same for both sides while they run: counting the sink's files costs
# CPU (a find over up to 10,000 files), and the end of a run is read from the files' times,
# so polling more often would only take CPU from the side being measured.
sink_wait_n() {   # sink_wait_n N SECONDS
    local n=$1 limit=$2
    while [ "$(sink_count)" -lt "$n" ]; do
        limit=$((limit - 1))
        [ "$limit" -gt 0 ] || return 1
        sleep 1
    done
}
cpu_busy_idle() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
# The machine may be shared: wait (up to 30 s) for half a second at most 20 % busy.
wait_quiet() {
    local tries=60 a b
    while [ "$tries" -gt 0 ]; do
        a=$(cpu_busy_idle); sleep 0.5; b=$(cpu_busy_idle)
        awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
            busy = y[1] - x[1]; idle = y[2] - x[2];
            exit !(busy + idle > 0 && busy <= 0.2 * (busy + idle)) }' && return 0
        tries=$((tries - 1))
    done
    say "the machine stayed busy; measuring anyway"
}

# ---- the warm-up gives the size of a reminder -------------------------------------------

clock_set "$DUE_AT"
sink_wait_n "$WARMUP" 120 || { echo "warm-up reminders did not arrive" >&2; exit 1; }
postfix_drain
SAMPLE=$(grep -rlE '^Message-I[dD]: <reminder-' "$T/sink" | head -1)
# The message as submitted: from the first header the gateway wrote (Date:) to the end.
MSG_BYTES=$(sed -n '/^Date: /,$p' "$SAMPLE" | wc -c)
# smtp-source's -l is the body; its own headers take about 250 bytes (corrected below).
BODY_BYTES=$((MSG_BYTES - 250))
say "a reminder is $MSG_BYTES bytes; smtp-source bodies of $BODY_BYTES bytes"
smtp-source -s "$CONC" -m "$WARMUP" -r 2 -l "$BODY_BYTES" -f "$ARTISAN" -t "$CLIENT" \
    "127.0.0.1:$SMTPD_PORT" 2>>"$T/load.err"
sink_wait_n $((2 * WARMUP)) 60
postfix_drain
# smtp-source's headers are not exactly 250 bytes: the two kinds of message as smtp-sink
# wrote them (both with Postfix's own headers) give the difference, and the bodies of the
# measured runs make it up.
SRC_SAMPLE=$(grep -rLE '^Message-I[dD]: <reminder-' "$T/sink" | head -1)
SIZE_GAP=$(( $(wc -c <"$SAMPLE") - $(wc -c <"$SRC_SAMPLE") ))
BODY_BYTES=$((BODY_BYTES + SIZE_GAP))
say "at smtp-sink a reminder is $SIZE_GAP bytes longer than the smtp-source message: bodies of $BODY_BYTES bytes"
clock_set "$BEFORE"
add_invoices B "$N"
sleep 2

# ---- measuring ------------------------------------------------------------------------

RES=$T/results.tsv
: >"$RES"
# CPU ticks of a process and its children (Postfix's master reaps smtpd, cleanup, smtp...;
# PostgreSQL's postmaster its backends).
tree_ticks() {
    local p=$1 k stats=("/proc/$1/stat")
    for k in $(cat /proc/"$p"/task/*/children 2>/dev/null); do stats+=("/proc/$k/stat"); done
    cat "${stats[@]}" 2>/dev/null | awk '{s += $14 + $15 + $16 + $17} END {print s + 0}'
}
# "gateway milter postgres postfix" CPU ticks.
cpu_ticks() {
    echo "$(tree_ticks "$GW_PID") $(tree_ticks "$MILTER_PID") $(tree_ticks "$(head -1 "$T/pg/data/postmaster.pid")") $(tree_ticks "$(awk '{print $1}' "$T/pf/spool/pid/master.pid")")"
}
# record SIDE ROUND T0 T2 VERIFIED CPU0: one line of results.
record() {
    local c1
    c1=$(cpu_ticks)
    awk -v side="$1" -v r="$2" -v n="$N" -v t0="$3" -v t2="$4" -v ok="$5" -v c0="$6" -v c1="$c1" \
        -v tck="$(getconf CLK_TCK)" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        split(c0, a, " "); split(c1, b, " ");
        printf "%s\t%s\t%d\t%.3f\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%s\n", side, r, n, t2 - t0, ok,
               (b[1] - a[1]) / tck, (b[2] - a[2]) / tck, (b[3] - a[3]) / tck, (b[4] - a[4]) / tck, load }' >>"$RES"
}
# Each run: N messages, rate = N / (start -> last write at smtp-sink).
run_source() {
    local r=$1 t0 t2 c0 src
    c0=$(cpu_ticks)
    t0=$(now)
    smtp-source -s "$CONC" -m "$N" -r 2 -l "$BODY_BYTES" -f "$ARTISAN" -t "$CLIENT" \
        "127.0.0.1:$SMTPD_PORT" 2>>"$T/load.err" &
    src=$!
    sink_wait_n "$N" 900 || { say "smtp-source round $r: only $(sink_count) of $N"; kill "$src"; return 1; }
    wait "$src"
    t2=$(sink_last_write)
    record smtp-source "$r" "$t0" "$t2" yes "$c0"
}
run_reminders() {   # run_reminders ROUND [SIDE]
    local r=$1 side=${2:-reminders} t0 t2 c0 sent ok=yes
    # Every B- invoice gets its D+7 again: forget the last round's rows, then fall due.
    psql -Atqc "DELETE FROM thread_message WHERE kind = 'reminder';
                DELETE FROM invoice_event WHERE kind LIKE 'reminder_%';
                DELETE FROM reminder r USING invoice i WHERE i.id = r.invoice_id AND i.number LIKE 'B-%'" >/dev/null
    psql -Atqc "VACUUM ANALYZE reminder" >/dev/null
    c0=$(cpu_ticks)
    t0=$(now)
    clock_set "$DUE_AT"
    sink_wait_n "$N" 900 || { say "reminders round $r: only $(sink_count) of $N"; return 1; }
    t2=$(sink_last_write)
    sent=$(psql -Atqc "SELECT count(*) FROM reminder r JOIN invoice i ON i.id = r.invoice_id
                        WHERE i.number LIKE 'B-%' AND r.status = 'sent' AND r.attempts = 1")
    [ "$sent" = "$N" ] || { say "reminders round $r: $sent rows sent once, of $N"; ok=no; }
    [ "$(grep -rhE '^Message-I[dD]: <reminder-' "$T/sink" | sort -u | wc -l)" = "$N" ] || ok=no
    clock_set "$BEFORE"
    record "$side" "$r" "$t0" "$t2" "$ok" "$c0"
}
for r in $(seq 1 "$ROUNDS"); do
    for side in $( [ $((r % 2)) = 1 ] && echo "source reminders" || echo "reminders source"); do
        sink_clear
        wait_quiet
        say "round $r: $side"
        "run_$side" "$r"
        postfix_drain
        tail -1 "$RES" | awk -F'\t' '{printf "  %s round %s: %d msgs in %s s, %.0f msg/s (verified %s); CPU s: gateway %s, milter %s, PostgreSQL %s, Postfix %s; load %s\n", $1, $2, $3, $4, $3 / $4, $5, $6, $7, $8, $9, $10}' >&2
        sleep 2
    done
done

# ---- profile: one more reminder round, observed ------------------------------------------

PROF=$T/profile
if [ "$PROFILE" = 1 ]; then
    mkdir -p "$PROF"
    sink_clear
    wait_quiet
    psql -Atqc "SELECT pg_stat_statements_reset()" >/dev/null
    perf_pid=
    if perf record -e cpu-clock -o "$PROF/probe.data" true >/dev/null 2>&1; then
        perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$GW_PID" \
            -o "$PROF/perf.data" >/dev/null 2>"$PROF/perf.log" &
        perf_pid=$!
        sleep 1
    fi
    say "profile round"
    run_reminders 0 profile
    [ -n "$perf_pid" ] && { kill -INT "$perf_pid"; wait "$perf_pid"; }
    postfix_drain
    psql -q -P footer=off -c "SELECT calls, round((total_exec_time * 1000 / calls)::numeric) AS exec_us, round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct, left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query FROM pg_stat_statements WHERE calls > 0 AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 14" >"$PROF/pgstat.txt"
    [ -n "$perf_pid" ] && perf report -i "$PROF/perf.data" --children -g none --sort sym \
        --percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$' | grep -v '0x0000' |
        head -70 >"$PROF/perf.txt"
fi

# ---- report ---------------------------------------------------------------------------

# The median rate of one side over the rounds.
median() {
    awk -F'\t' -v side="$1" '$1 == side { printf "%.3f\n", $3 / $4 }' "$RES" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}
mkdir -p "$(dirname "$OUT")"
{
    echo "# Reminders: $N due at once, through Postfix + reglo-milter into smtp-sink"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)),"
    echo "build \`$(basename "$BUILD")\`, $CONC concurrent sessions (smtp-source -s $CONC; reminders.workers = $CONC),"
    echo "messages of $MSG_BYTES bytes (a reminder: text + html + QR PNG; smtp-source -l $BODY_BYTES),"
    echo "2 recipients each, sender an enrolled artisan. Rate = messages / (start until smtp-sink"
    echo "wrote the last one); reminders start when the clock is moved and include planning,"
    echo "claiming, composing, SMTP submission and the database writes. While either side runs,"
    echo "the benchmark counts smtp-sink's files once a second (the end is read from the files'"
    echo "times), the same for both sides."
    echo
    echo "| round | smtp-source msg/s | reminders msg/s | ratio | reminders verified (each sent once) |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ rate[$1 "," $2] = $3 / $4; ok[$1 "," $2] = $5; rounds[$2] = 1 }
        END { for (r = 1; r in rounds; r++) {
                s = rate["smtp-source," r]; m = rate["reminders," r];
                printf "| %d | %.0f | %.0f | %.2f | %s |\n", r, s, m, (s > 0 ? m / s : 0),
                       ok["reminders," r] } }' "$RES"
    echo
    echo "CPU seconds per 1,000 messages (median run of each side):"
    echo
    echo "| side | gateway | reglo-milter | PostgreSQL | Postfix (all processes) | load average at the end |"
    echo "|---|---|---|---|---|---|"
    for side in smtp-source reminders; do
        awk -F'\t' -v side="$side" -v med="$(median "$side")" '$1 == side && sprintf("%.3f", $3 / $4) == med {
            k = 1000 / $3; printf "| %s | %.2f | %.2f | %.2f | %.2f | %s |\n", side, $6 * k, $7 * k, $8 * k, $9 * k, $10; exit }' "$RES"
    done
    med_src=$(median smtp-source)
    med_rem=$(median reminders)
    echo
    awk -v s="$med_src" -v m="$med_rem" 'BEGIN { printf "Median: smtp-source %.0f msg/s, reminders %.0f msg/s: **%.2f x** (target 0.8 x).\n", s, m, (s > 0 ? m / s : 0) }'
    if [ "$PROFILE" = 1 ]; then
        echo
        echo "### Where a reminder's time goes (one more round, observed: not a measurement)"
        echo
        awk -F'\t' '$1 == "profile" { k = 1000 / $3; printf "That round: %.0f msg/s; CPU s per 1,000: gateway %.2f, milter %.2f, PostgreSQL %.2f, Postfix %.2f.\n", $3 / $4, $6 * k, $7 * k, $8 * k, $9 * k }' "$RES"
        echo
        echo "PostgreSQL's statements (pg_stat_statements, µs per call executing, share):"
        echo
        echo '```'
        cat "$PROF/pgstat.txt"
        echo '```'
        if [ -s "$PROF/perf.txt" ]; then
            echo
            echo "reglo-gateway under perf (inclusive share of its samples):"
            echo
            echo '```'
            cat "$PROF/perf.txt"
            echo '```'
        fi
    fi
} >"$OUT"
cat "$OUT"
