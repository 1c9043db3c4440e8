-- How many of an artisan's invoices the list's filter keeps ($2, $3 as in
-- portal_invoice_page): only asked when there is a filter.
WITH q AS (
    SELECT '%' || replace(replace(replace($3, '\', '\\'), '%', '\%'), '_', '\_') || '%' AS pat
)
SELECT count(*)
  FROM invoice_display v, q
 WHERE v.artisan_id = $1::bigint
   AND ($2 = '' OR v.display_status = $2)
   AND ($3 = '' OR v.number ILIKE q.pat OR v.client_email ILIKE q.pat)
