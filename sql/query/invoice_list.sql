SELECT i.id, i.number, i.status, i.amount_due_minor, i.currency, coalesce(i.client_email, ''),
       to_char(i.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       coalesce(to_char(i.issue_date, 'YYYY-MM-DD'), ''), coalesce(to_char(i.due_date, 'YYYY-MM-DD'), ''),
       i.source, a.email, coalesce(i.message_id, ''), i.sent_count, coalesce(i.subject, '')
  FROM invoice i JOIN artisan a ON a.id = i.artisan_id
 WHERE ($1 = '' OR a.email = lower($1))
   AND ($2 = '' OR i.status = $2)
   AND ($3 = '' OR i.id::text = $3 OR i.number = $3)
 ORDER BY i.sent_at DESC, i.id DESC
