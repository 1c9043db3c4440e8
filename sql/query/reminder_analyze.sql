-- After many rows fell due at once: fresh statistics, so that claims walk the index of
-- pending rows in due order instead of sorting every due row (autovacuum gets there too,
-- a minute later). Without the table's ownership this is a warning, not an error.
ANALYZE reminder
