-- A callback's first statement, in one round trip: the payment and its invoice, locked (two
-- callbacks for one payment settle one at a time), then the event's idempotency key
-- (psp $1, event $3, payment $2). Always one row: column 0 tells whether the event is new
-- (false: seen before, a replay); the rest is NULL when no payment of ours has that
-- reference, else the payment and invoice with what the artisan's "paid" notice says, and
-- when: now() is the transaction's start, the paid_at that payment_settle_paid records.
-- The lock is taken before the key (the key's subquery is evaluated as the row is built):
-- every callback takes them in that order, so two deliveries of one event cannot deadlock.
WITH locked AS (
    SELECT p.id, p.invoice_id, p.state, i.status, i.amount_due_minor, i.currency, i.artisan_id,
           i.number, coalesce(i.client_email, '') AS client_email,
           coalesce(i.message_id, '') AS message_id, a.email, a.name, a.locale,
           to_char(now() AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI') AS now
      FROM payment p JOIN invoice i ON i.id = p.invoice_id JOIN artisan a ON a.id = i.artisan_id
     WHERE p.psp = $1 AND p.psp_ref = $2
       FOR UPDATE OF p, i
), event AS (
    INSERT INTO psp_event (psp, event_id, psp_ref) VALUES ($1, $3, $2)
    ON CONFLICT (psp, event_id) DO NOTHING
    RETURNING event_id
)
SELECT EXISTS (SELECT 1 FROM event), l.*
  FROM (VALUES (1)) one LEFT JOIN locked l ON true
