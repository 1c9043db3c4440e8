-- The artisan cancels an invoice still waiting (not while a payment is being confirmed).
UPDATE invoice SET status = 'cancelled'
 WHERE id = $1::bigint AND status IN ('sent', 'viewed', 'undelivered')
RETURNING id
