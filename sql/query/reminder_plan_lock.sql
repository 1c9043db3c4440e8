-- One gateway plans at a time (the others skip this pass's planning, not their sending).
SELECT pg_try_advisory_xact_lock(hashtext('reglo:reminder-plan'))
