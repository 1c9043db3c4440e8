-- What the operator bills for one month, for `reglo fees`: $1 the month 'YYYY-MM' (checked
-- by the caller), $2 the time zone of the month's boundaries. One row per artisan and
-- currency collected with at least one fee in the month: the transactions, the fee total
-- (in the ledger's currency, EUR) and what the links collected (paid_minor, else the amount
-- asked), by email; then one total row per currency (first column 1). Sums are cast to
-- bigint so that an overflow is an error, never a wrap.
WITH month AS (
    SELECT d::timestamp AT TIME ZONE $2::text AS lo,
           (d + interval '1 month') AT TIME ZONE $2::text AS hi
      FROM (SELECT ($1::text || '-01')::date AS d) first_day
), billed AS (
    SELECT f.artisan_id, f.amount_minor AS fee,
           coalesce(p.paid_minor, p.amount_minor) AS paid,
           CASE WHEN p.paid_minor IS NULL THEN p.currency
                ELSE coalesce(p.paid_currency, p.currency) END AS currency
      FROM fee f
      JOIN month m ON f.created_at >= m.lo AND f.created_at < m.hi
      JOIN payment p ON p.id = f.payment_id
)
SELECT GROUPING(a.email), coalesce(a.email, ''), coalesce(a.name, ''), b.currency,
       count(*), sum(b.fee)::bigint, sum(b.paid)::bigint
  FROM billed b
  JOIN artisan a ON a.id = b.artisan_id
 GROUP BY GROUPING SETS ((b.currency, a.email, a.name), (b.currency))
 ORDER BY GROUPING(a.email), a.email, b.currency
