UPDATE invoice SET token_hash = $2 WHERE id = $1 AND token_hash IS NULL
