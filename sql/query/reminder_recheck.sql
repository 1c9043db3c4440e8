-- Just before a claimed reminder ($1, our claim $2) is written and submitted: does it still
-- go? The invoice may have been paid, cancelled, bounced or paused, or its artisan disabled,
-- since the claim (up to a batch earlier). A reminder that will never go is cancelled; one
-- of a paused invoice goes back to pending (a resume lets it go). No row: the claim is no
-- longer ours.
WITH r AS (
    SELECT r.id,
           i.status IN ('sent', 'viewed', 'pending') AND i.has_link AND NOT a.disabled AS open,
           i.reminders_paused AS paused
      FROM reminder r JOIN invoice i ON i.id = r.invoice_id JOIN artisan a ON a.id = i.artisan_id
     WHERE r.id = $1::bigint AND r.status = 'sending' AND r.claim = $2
       FOR UPDATE OF r
), stopped AS (
    UPDATE reminder SET status = CASE WHEN r.open THEN 'pending' ELSE 'cancelled' END,
                        claim = NULL
      FROM r
     WHERE reminder.id = r.id AND NOT (r.open AND NOT r.paused)
)
SELECT open AND NOT paused FROM r
