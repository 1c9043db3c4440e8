-- A claimed reminder ($6: our claim) reaches its end, $2 = 'sent', 'failed' or 'skipped',
-- with its timeline entry; a sent one joins the invoice's thread. $3 error or reason, $4
-- Message-ID, $5 now (epoch seconds). Nothing happens if the claim is no longer ours.
WITH r AS (
    UPDATE reminder
       SET status = $2, last_error = $3, message_id = coalesce($4, message_id), claim = NULL,
           attempts = attempts + CASE WHEN $2 = 'skipped' THEN 0 ELSE 1 END,
           sent_at = CASE WHEN $2 = 'sent' THEN to_timestamp($5) END, next_attempt = NULL
     WHERE id = $1::bigint AND status = 'sending' AND claim = $6
    RETURNING invoice_id, step, attempts, message_id
), t AS (
    INSERT INTO thread_message (message_id, invoice_id, kind)
    SELECT message_id, invoice_id, 'reminder' FROM r WHERE $2 = 'sent' AND message_id IS NOT NULL
    ON CONFLICT (message_id) DO NOTHING
)
INSERT INTO invoice_event (invoice_id, kind, detail, at)
SELECT invoice_id, 'reminder_' || $2,
       jsonb_strip_nulls(jsonb_build_object('step', step, 'attempts', nullif(attempts, 0),
                                            'message_id', message_id, 'error', $3::text)),
       to_timestamp($5)
  FROM r
