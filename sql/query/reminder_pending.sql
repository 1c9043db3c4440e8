-- Reminders that fell due and wait to go out (business hours, a retry) or are being sent,
-- for `reglo reminders due`.
SELECT r.invoice_id, i.number, a.email, r.step, extract(epoch FROM r.due_at)::bigint,
       coalesce(extract(epoch FROM r.next_attempt)::bigint, 0), r.attempts,
       coalesce(r.last_error, ''), r.status = 'sending'
  FROM reminder r
  JOIN invoice i ON i.id = r.invoice_id
  JOIN artisan a ON a.id = i.artisan_id
 WHERE r.status IN ('pending', 'sending')
   AND i.has_link AND i.status IN ('sent', 'viewed', 'pending') AND NOT i.reminders_paused
   AND NOT a.disabled
