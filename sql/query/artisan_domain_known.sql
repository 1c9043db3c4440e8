SELECT 1 FROM artisan WHERE split_part(email, '@', 2) = lower($1) LIMIT 1
