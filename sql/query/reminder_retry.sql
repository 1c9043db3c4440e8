-- A temporary failure of a claimed reminder ($5: our claim): pending again, tried at $3
-- (epoch seconds). $2 the error, $4 the Message-ID.
UPDATE reminder SET status = 'pending', claim = NULL, attempts = attempts + 1, last_error = $2,
       next_attempt = to_timestamp($3), message_id = $4
 WHERE id = $1::bigint AND status = 'sending' AND claim = $5
