-- `reglo outbox retry`: mail not sent yet made due now, a failed row too (the operator has
-- fixed what refused it); $1 the ids ('{1,2}'), or with $2 every failed row. The sent are
-- left alone. Returns the ids made due.
UPDATE outbox SET failed = false, next_attempt = now()
 WHERE sent_at IS NULL AND (id = ANY ($1::bigint[]) OR ($2::boolean AND failed))
RETURNING id
