-- One page of an artisan's invoices, newest first. $1 artisan, $2 display status or '' for
-- all, $3 text searched in the number and the client's address ('' for none), $4 limit,
-- $5 offset. The search is literal: LIKE's wildcards in it are escaped. The reminders are
-- counted for the page's rows only.
WITH q AS (
    SELECT '%' || replace(replace(replace($3, '\', '\\'), '%', '\%'), '_', '\_') || '%' AS pat
), page AS (
    SELECT v.id, v.number, v.client_email, v.amount_due_minor, v.currency, v.sent_at,
           v.due_date, v.display_status, v.paid_at, v.paid_minor
      FROM invoice_display v, q
     WHERE v.artisan_id = $1::bigint
       AND ($2 = '' OR v.display_status = $2)
       AND ($3 = '' OR v.number ILIKE q.pat OR v.client_email ILIKE q.pat)
     ORDER BY v.sent_at DESC, v.id DESC
     LIMIT $4::integer OFFSET $5::integer
)
SELECT p.id, p.number, coalesce(p.client_email, ''), p.amount_due_minor, p.currency,
       to_char(p.sent_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD'),
       coalesce(to_char(p.due_date, 'YYYY-MM-DD'), ''), p.display_status,
       (SELECT count(*) FROM reminder r WHERE r.invoice_id = p.id AND r.status = 'sent'),
       coalesce(to_char(p.paid_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD'), ''),
       coalesce(p.paid_minor, p.amount_due_minor)
  FROM page p
 ORDER BY p.sent_at DESC, p.id DESC
