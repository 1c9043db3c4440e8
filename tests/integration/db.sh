#!/usr/bin/env bash
# lib/db.c on a private PostgreSQL: test_db's cases (a transaction's first and last
# statements sent with BEGIN and COMMIT: success, a failing statement, a failing COMMIT,
# statements prepared again), which need a database.
set -u
. "$(dirname "$0")/../lib/env.sh"

t_init
pg_start || { fail "postgresql starts"; t_summary; exit 1; }
pg_unit test_db
rc=$?
check "test_db on PostgreSQL: every case run and passed" \
    bash -c "[ $rc -eq 0 ] && grep -q '^100%: Checks: 5, Failures: 0, Errors: 0' '$T/unit.out'"
t_summary
