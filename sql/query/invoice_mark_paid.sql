-- Forward only: a paid, cancelled or undelivered invoice is not moved by a payment.
UPDATE invoice SET status = 'paid', paid_at = now(), paid_minor = $2::bigint
 WHERE id = $1::bigint AND status IN ('sent', 'viewed', 'pending')
RETURNING to_char(paid_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI')
