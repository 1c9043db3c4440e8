INSERT INTO invoice_event (invoice_id, kind, detail) VALUES ($1, $2, coalesce($3, '{}')::jsonb)
