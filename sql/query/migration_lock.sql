-- Two `reglo db migrate` at once: the second waits, then finds nothing left to do.
SELECT pg_advisory_xact_lock(72656716)
