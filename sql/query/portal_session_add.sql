INSERT INTO portal_session (id_hash, artisan_id, csrf) VALUES ($1, $2::bigint, $3)
