-- A link still usable, without using it: the page that asks to confirm.
SELECT l.artisan_id, l.purpose, coalesce(l.iban, ''), coalesce(l.bic, ''), a.email
  FROM portal_link l JOIN artisan a ON a.id = l.artisan_id
 WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL AND l.expires_at > now()
   AND NOT a.disabled
