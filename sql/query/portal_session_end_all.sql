-- "Sign out everywhere".
DELETE FROM portal_session WHERE artisan_id = $1::bigint
