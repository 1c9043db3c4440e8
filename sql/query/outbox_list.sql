-- reglo's own mail not sent yet, for `reglo outbox list`: waiting for its first try or for
-- a retry after a temporary refusal, or failed (refused for good, or tried for two days);
-- $1: only the failed. The failed first, then by the next try.
SELECT o.id, o.purpose, coalesce(i.number, ''), array_to_string(o.rcpts, ' '), o.attempts,
       o.failed, extract(epoch FROM o.next_attempt)::bigint, coalesce(o.last_error, ''),
       extract(epoch FROM o.created_at)::bigint
  FROM outbox o
  LEFT JOIN invoice i ON i.id = o.invoice_id
 WHERE o.sent_at IS NULL AND (o.failed OR NOT $1::boolean)
 ORDER BY o.failed DESC, o.next_attempt, o.id
