-- Use a link, once: of two concurrent uses, one gets the row.
UPDATE portal_link l SET used_at = now()
  FROM artisan a
 WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL AND l.expires_at > now()
   AND a.id = l.artisan_id AND NOT a.disabled
RETURNING l.artisan_id, coalesce(l.iban, ''), coalesce(l.bic, ''), a.email
