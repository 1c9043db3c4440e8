-- Record a message of a tracked thread; a row back only the first time it is seen, so a
-- message delivered twice is acted on once.
INSERT INTO thread_message (message_id, invoice_id, kind) VALUES ($1, $2::bigint, $3)
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id
