UPDATE payment SET state = $2, paid_minor = $3::bigint, paid_currency = nullif($4, ''),
       payer_name = coalesce(nullif($5, ''), payer_name), updated_at = now()
 WHERE id = $1::bigint
