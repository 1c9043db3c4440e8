INSERT INTO fee (artisan_id, invoice_id, payment_id) VALUES ($1::bigint, $2::bigint, $3::bigint)
ON CONFLICT DO NOTHING
