-- An invoice's timeline as the artisan reads it: its events, and the fee of its payment.
SELECT to_char(e.at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI'), e.kind, e.detail::text
  FROM (SELECT at, id, kind, detail FROM invoice_event WHERE invoice_id = $1::bigint
        UNION ALL
        SELECT created_at, 0, 'fee', jsonb_build_object('amount_minor', amount_minor,
                                                        'currency', currency)
          FROM fee WHERE invoice_id = $1::bigint) e
 ORDER BY e.at, e.id
