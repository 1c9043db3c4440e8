-- Steps of open linked invoices that have no reminder row yet and may fall due by $1
-- (epoch seconds, or 'infinity' for every future step). The caller computes the exact due
-- time in the configured time zone; the day of margin here covers any zone and DST.
SELECT i.id, extract(epoch FROM i.sent_at)::bigint, coalesce(to_char(i.due_date, 'YYYY-MM-DD'), ''),
       a.reminders_from = 'due', s.step, i.number, a.email
  FROM invoice i
  JOIN artisan a ON a.id = i.artisan_id
 CROSS JOIN LATERAL unnest(a.reminders) AS s(step)
 WHERE i.has_link AND i.status IN ('sent', 'viewed', 'pending') AND NOT i.reminders_paused
   AND NOT a.disabled
   AND CASE WHEN a.reminders_from = 'due' AND i.due_date IS NOT NULL
            THEN i.due_date::timestamp AT TIME ZONE 'UTC' ELSE i.sent_at END
       + (s.step - 1) * interval '1 day' <= to_timestamp($1)
   AND NOT EXISTS (SELECT 1 FROM reminder r WHERE r.invoice_id = i.id AND r.step = s.step)
 ORDER BY i.id, s.step
