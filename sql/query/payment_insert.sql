INSERT INTO payment (invoice_id, psp, psp_ref, checkout_url, amount_minor, currency)
VALUES ($1::bigint, $2, $3, $4, $5::bigint, $6)
ON CONFLICT (psp, psp_ref) DO NOTHING
