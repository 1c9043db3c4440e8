-- A bounce: only an invoice still waiting for its payment becomes undelivered.
UPDATE invoice SET status = 'undelivered'
 WHERE id = $1::bigint AND status IN ('sent', 'viewed', 'pending')
RETURNING id
