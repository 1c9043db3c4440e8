-- Two claimed reminders of one sender (our claim $6), in one statement so that a sender
-- makes one round trip per reminder: the end of the one just handled ($1), and the check of
-- the next one ($7) just before it is written and submitted. Either may be NULL.
--
-- The end: $2 = 'sent', 'failed' or 'skipped', with its timeline entry; a sent one joins
-- the invoice's thread. $3 error or reason, $4 Message-ID, $5 now (epoch seconds). Nothing
-- happens if the claim is no longer ours.
-- The check: does $7 still go? The invoice may have been paid, cancelled, bounced or
-- paused, or its artisan disabled, since the claim (up to a batch earlier). A reminder that
-- will never go is cancelled; one of a paused invoice goes back to pending (a resume lets
-- it go).
-- One row: whether $1 ended (NULL when $1 is NULL; false when the claim is no longer ours);
-- whether $7 goes (NULL when $7 is NULL or the claim on it is no longer ours).
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
), e AS (
    INSERT INTO invoice_event (invoice_id, kind, detail, at)
    SELECT invoice_id, 'reminder_' || $2,
           jsonb_strip_nulls(jsonb_build_object('step', step, 'attempts', nullif(attempts, 0),
                                                'message_id', message_id, 'error', $3::text)),
           to_timestamp($5)
      FROM r
), n AS (
    SELECT n.id,
           i.status IN ('sent', 'viewed', 'pending') AND i.has_link AND NOT a.disabled AS open,
           i.reminders_paused AS paused
      FROM reminder n JOIN invoice i ON i.id = n.invoice_id JOIN artisan a ON a.id = i.artisan_id
     WHERE n.id = $7::bigint AND n.status = 'sending' AND n.claim = $6
       FOR UPDATE OF n
), stopped AS (
    UPDATE reminder SET status = CASE WHEN n.open THEN 'pending' ELSE 'cancelled' END,
                        claim = NULL
      FROM n
     WHERE reminder.id = n.id AND NOT (n.open AND NOT n.paused)
)
SELECT CASE WHEN $1::bigint IS NOT NULL THEN EXISTS (SELECT 1 FROM r) END,
       (SELECT open AND NOT paused FROM n)
