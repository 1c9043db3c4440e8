-- One invoice of an artisan ($2): nothing when it is another artisan's. With what sending
-- its link again takes: the thread (Message-IDs), the recipients, the days overdue.
SELECT v.id, v.number, coalesce(v.client_email, ''), v.amount_due_minor, v.currency,
       to_char(v.sent_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD'),
       coalesce(to_char(v.issue_date, 'YYYY-MM-DD'), ''),
       coalesce(to_char(v.due_date, 'YYYY-MM-DD'), ''), v.display_status,
       (SELECT count(*) FROM reminder r WHERE r.invoice_id = v.id AND r.status = 'sent'),
       coalesce(to_char(v.paid_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD'), ''),
       coalesce(v.paid_minor, v.amount_due_minor), v.status, v.reminders_paused, v.has_link,
       v.key_id, coalesce(v.subject, ''), array_to_string(v.recipients, ', '),
       array_to_string(v.recipients, ' '), coalesce(v.message_id, ''),
       coalesce((SELECT string_agg(r.message_id, ' ' ORDER BY r.sent_at, r.id) FROM reminder r
                  WHERE r.invoice_id = v.id AND r.status = 'sent' AND r.message_id IS NOT NULL), ''),
       (SELECT count(*) FROM invoice_event e WHERE e.invoice_id = v.id AND e.kind = 'link_resent'),
       greatest(0, (now() AT TIME ZONE 'Europe/Paris')::date - v.due_date)
  FROM invoice_display v
 WHERE v.id = $1::bigint AND v.artisan_id = $2::bigint
