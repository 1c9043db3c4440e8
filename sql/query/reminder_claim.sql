-- Up to $2 reminders due at $1 (epoch seconds), claimed for this database session: they
-- become 'sending' with a claim naming the session, so that they go back to 'pending' if
-- the session ends before they are sent (reminder_release_orphans). Several gateways drain
-- one table: each row is taken by one of them. Short: no transaction stays open while the
-- gateway talks SMTP.
WITH me AS (
    SELECT pid || '@' || extract(epoch FROM backend_start) AS claim
      FROM pg_stat_get_activity(pg_backend_pid())
), picked AS (
    -- The invoice is checked row by row (a subquery, not a join): the scan stays the one of
    -- the small index of pending rows, in due order, whatever the table statistics say
    -- (after 10,000 rows fell due at once they are stale, and a join plan goes quadratic).
    SELECT r.id
      FROM reminder r
     WHERE r.status = 'pending' AND coalesce(r.next_attempt, r.due_at) <= to_timestamp($1)
       AND (SELECT i.has_link AND i.status IN ('sent', 'viewed', 'pending')
                   AND NOT i.reminders_paused AND NOT a.disabled
              FROM invoice i JOIN artisan a ON a.id = i.artisan_id
             WHERE i.id = r.invoice_id)
     ORDER BY coalesce(r.next_attempt, r.due_at)
     LIMIT $2::integer
       FOR UPDATE OF r SKIP LOCKED
), claimed AS (
    -- The invoice and the artisan come with the update, row by row: joined after it, the
    -- planner (guessing the size of the update's result) would scan every invoice.
    UPDATE reminder r SET status = 'sending', claim = me.claim, claimed_at = now()
      FROM picked, me, invoice i, artisan a
     WHERE r.id = picked.id AND i.id = r.invoice_id AND a.id = i.artisan_id
    RETURNING r.id, r.invoice_id, r.step, r.due_at, r.attempts, r.claim, i.number,
              i.amount_due_minor, i.currency, i.issue_date, i.due_date, i.sent_at,
              i.client_email, i.recipients, i.subject, i.message_id, i.key_id,
              a.id AS artisan_id, a.email, a.name, a.locale
)
SELECT c.id, c.invoice_id, c.step, extract(epoch FROM c.due_at)::bigint, c.attempts,
       c.number, c.amount_due_minor, c.currency,
       coalesce(to_char(c.issue_date, 'YYYY-MM-DD'), ''), coalesce(to_char(c.due_date, 'YYYY-MM-DD'), ''),
       to_char(c.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), coalesce(c.client_email, ''),
       array_to_string(c.recipients, ' '), coalesce(c.subject, ''), coalesce(c.message_id, ''),
       c.key_id, c.artisan_id, c.email, c.name, c.locale,
       coalesce((SELECT string_agg(p.message_id, ' ' ORDER BY p.sent_at, p.id) FROM reminder p
                  WHERE p.invoice_id = c.invoice_id AND p.status = 'sent'
                    AND p.message_id IS NOT NULL), ''),
       o.subject, o.txt, o.html, o.block_txt, o.block_html, c.claim
  FROM claimed c
  -- The artisan's own templates: the step's own version, else the one for every step; the
  -- payment block (the invoice email's) has only the one for every step.
 CROSS JOIN LATERAL (
       SELECT max(body) FILTER (WHERE name = 'reminder.subject') AS subject,
              max(body) FILTER (WHERE name = 'reminder.txt') AS txt,
              max(body) FILTER (WHERE name = 'reminder.html') AS html,
              max(body) FILTER (WHERE name = 'block.txt') AS block_txt,
              max(body) FILTER (WHERE name = 'block.html') AS block_html
         FROM (SELECT DISTINCT ON (t.name) t.name, t.body FROM template t
                WHERE t.artisan_id = c.artisan_id AND t.locale = c.locale
                  AND (t.step IS NULL OR (t.step = c.step AND t.name LIKE 'reminder.%'))
                ORDER BY t.name, t.step NULLS LAST) own) o
 ORDER BY c.due_at, c.id
