-- A single-use link mailed to an artisan: sign-in, or confirmation of a new IBAN ($4, $5).
INSERT INTO portal_link (token_hash, artisan_id, purpose, iban, bic, expires_at)
VALUES ($1, $2::bigint, $3, $4, $5, now() + make_interval(secs => $6::integer))
