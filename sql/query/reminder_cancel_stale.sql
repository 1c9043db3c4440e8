-- Pending reminders that may no longer go out: the invoice was settled, cancelled,
-- undelivered, or lost its link, the artisan was disabled, or the step left the artisan's
-- schedule. Paused invoices keep theirs. $1: now (epoch seconds), for the timeline.
WITH c AS (
    UPDATE reminder r SET status = 'cancelled', next_attempt = NULL
      FROM invoice i JOIN artisan a ON a.id = i.artisan_id
     WHERE r.invoice_id = i.id AND r.status = 'pending'
       AND (i.status NOT IN ('sent', 'viewed', 'pending') OR NOT i.has_link OR a.disabled
            OR NOT r.step = ANY (a.reminders))
    RETURNING r.invoice_id, r.step
)
INSERT INTO invoice_event (invoice_id, kind, detail, at)
SELECT invoice_id, 'reminder_cancelled', jsonb_build_object('step', step), to_timestamp($1)
  FROM c
