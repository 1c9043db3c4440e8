-- An artisan's totals in euros: how many invoices, paid this month (Paris time), waiting,
-- overdue. From the covering index invoice_artisan_totals.
WITH paris AS (
    SELECT date_trunc('month', now() AT TIME ZONE 'Europe/Paris') AT TIME ZONE 'Europe/Paris'
           AS month_start,
           (now() AT TIME ZONE 'Europe/Paris')::date AS today
)
SELECT count(*),
       coalesce(sum(coalesce(i.paid_minor, i.amount_due_minor))
                FILTER (WHERE i.status = 'paid' AND i.paid_at >= paris.month_start
                          AND i.currency = 'EUR'), 0),
       coalesce(sum(i.amount_due_minor)
                FILTER (WHERE i.status IN ('sent', 'viewed', 'pending', 'undelivered')
                          AND i.currency = 'EUR'), 0),
       coalesce(sum(i.amount_due_minor)
                FILTER (WHERE i.status IN ('sent', 'viewed', 'pending', 'undelivered')
                          AND i.due_date < paris.today AND i.currency = 'EUR'), 0)
  FROM invoice i, paris
 WHERE i.artisan_id = $1::bigint
