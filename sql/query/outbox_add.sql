INSERT INTO outbox (mail_from, rcpts, message, purpose, invoice_id)
VALUES ($1, string_to_array($2, ' '), $3::bytea, $4, $5::bigint)
RETURNING id
