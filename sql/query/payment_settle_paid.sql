-- A verified payment of the amount due, settled in one statement (payment_lock holds the
-- payment and invoice rows): the payment paid; the invoice Payée, forward only (a paid,
-- cancelled or undelivered invoice is not moved by a payment); when it moved, the
-- operator's fee row and the pending reminders cancelled; the timeline entry ('paid' with
-- detail $6, or 'payment_extra' with $7: recorded, not billed); the callback event's
-- outcome ($10 when the invoice moved, else $11); when it moved, the artisan's notice queued
-- in the outbox (from $12, recipients $13 separated by spaces, message $14 as bytea text,
-- purpose $15: outbox_add's row, composed before and inserted here to save a round trip).
-- Returns whether the invoice moved.
WITH pay AS (
    UPDATE payment SET state = 'paid', paid_minor = $2::bigint, paid_currency = nullif($3, ''),
           payer_name = coalesce(nullif($4, ''), payer_name), updated_at = now()
     WHERE id = $1::bigint
), moved AS (
    UPDATE invoice SET status = 'paid', paid_at = now(), paid_minor = $2::bigint
     WHERE id = $5::bigint AND status IN ('sent', 'viewed', 'pending')
 RETURNING id, artisan_id
), fee AS (
    INSERT INTO fee (artisan_id, invoice_id, payment_id)
    SELECT artisan_id, id, $1::bigint FROM moved
    ON CONFLICT DO NOTHING
), reminders AS (
    UPDATE reminder SET status = 'cancelled'
     WHERE invoice_id IN (SELECT id FROM moved) AND status = 'pending'
), event AS (
    INSERT INTO invoice_event (invoice_id, kind, detail)
    SELECT $5::bigint, CASE WHEN m THEN 'paid' ELSE 'payment_extra' END,
           (CASE WHEN m THEN $6 ELSE $7 END)::jsonb
      FROM (SELECT EXISTS (SELECT 1 FROM moved) AS m) x
), notice AS (
    INSERT INTO outbox (mail_from, rcpts, message, purpose, invoice_id)
    SELECT $12, string_to_array($13, ' '), $14::bytea, $15, id FROM moved
), outcome AS (
    UPDATE psp_event SET outcome = CASE WHEN EXISTS (SELECT 1 FROM moved) THEN $10 ELSE $11 END
     WHERE psp = $8 AND event_id = $9
)
SELECT EXISTS (SELECT 1 FROM moved)
