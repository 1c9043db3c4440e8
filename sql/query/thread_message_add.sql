INSERT INTO thread_message (message_id, invoice_id, kind) VALUES ($1, $2, $3)
ON CONFLICT (message_id) DO NOTHING
