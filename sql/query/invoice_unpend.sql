-- The only step back: a payment in progress failed and no other one is under way, so the
-- client may pay again. Paid stays paid.
UPDATE invoice SET status = 'viewed'
 WHERE id = $1::bigint AND status = 'pending'
   AND NOT EXISTS (SELECT 1 FROM payment WHERE invoice_id = $1::bigint AND state = 'pending')
