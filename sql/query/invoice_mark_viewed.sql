-- First view of the payment page: viewed_at once, status forward only (sent -> viewed), one
-- "viewed" event. A concurrent first view waits on the row lock, then finds viewed_at set.
WITH first_view AS (
    UPDATE invoice
       SET viewed_at = now(),
           status = CASE WHEN status = 'sent' THEN 'viewed' ELSE status END
     WHERE id = $1::bigint AND viewed_at IS NULL
 RETURNING id
)
INSERT INTO invoice_event (invoice_id, kind, detail)
SELECT id, 'viewed', $2::jsonb FROM first_view
RETURNING id
