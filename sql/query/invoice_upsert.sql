-- One invoice per (artisan, number): sending it again reuses the row, so the same link.
INSERT INTO invoice (artisan_id, number, amount_due_minor, currency, issue_date, due_date,
                     client_email, recipients, subject, message_id, source, key_id, qr_only)
VALUES ($1, $2, $3, $4, $5::date, $6::date, $7, string_to_array($8, ' '), $9, $10, $11, $12,
        $13::boolean)
ON CONFLICT (artisan_id, number) DO UPDATE
   SET sent_count = invoice.sent_count + 1,
       amount_due_minor = CASE WHEN invoice.status IN ('sent', 'viewed')
                               THEN EXCLUDED.amount_due_minor ELSE invoice.amount_due_minor END,
       due_date = coalesce(EXCLUDED.due_date, invoice.due_date),
       message_id = coalesce(invoice.message_id, EXCLUDED.message_id)
RETURNING id, key_id, status, (xmax = 0) AS inserted, amount_due_minor
