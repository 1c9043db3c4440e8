SELECT i.id, i.number, i.status, i.amount_due_minor, i.currency,
       coalesce(to_char(i.issue_date, 'YYYY-MM-DD'), ''), coalesce(to_char(i.due_date, 'YYYY-MM-DD'), ''),
       coalesce(i.client_email, ''), coalesce(i.message_id, ''), i.key_id,
       coalesce(to_char(i.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ''),
       coalesce(i.paid_minor, 0), coalesce(i.subject, ''),
       a.id, a.email, a.name, coalesce(a.iban, ''), coalesce(a.bic, ''), a.locale,
       coalesce(a.psp, ''), i.viewed_at IS NOT NULL
  FROM invoice i JOIN artisan a ON a.id = i.artisan_id
 WHERE i.token_hash = $1
