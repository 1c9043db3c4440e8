-- The artisan's #payée: paid by other means (cash, cheque, transfer), so no payment, no fee.
-- An undelivered invoice may have been paid all the same.
UPDATE invoice SET status = 'paid', paid_at = now(), paid_minor = NULL
 WHERE id = $1::bigint AND status IN ('sent', 'viewed', 'pending', 'undelivered')
RETURNING id
