#!/usr/bin/env bash
# lib/db.c on a private PostgreSQL: test_db's cases (a transaction's first and last
# statements sent with BEGIN and COMMIT: success, a failing statement, a failing COMMIT,
# statements prepared again), which need a database.
set -u
. "$(dirname "$0")/../lib/env.sh"

t_init
pg_start || { fail "postgresql starts"; t_summary; exit 1; }
REGLO_TEST_CONNINFO=$PG_CONNINFO ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    LSAN_OPTIONS=suppressions=$REGLO_ROOT/tests/lsan.supp:print_suppressions=0 \
    "$BUILD/tests/test_db" >"$T/unit.out" 2>&1
rc=$?
cat "$T/unit.out"
check "test_db on PostgreSQL: every case run and passed" \
    bash -c "[ $rc -eq 0 ] && grep -q '^100%: Checks: 5, Failures: 0, Errors: 0' '$T/unit.out'"
t_summary
