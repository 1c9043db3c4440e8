-- The session behind a cookie, unless idle for 30 days or its artisan disabled. seen_at is
-- written at most every five minutes: a page view is otherwise read-only.
WITH touch AS (
    UPDATE portal_session SET seen_at = now()
     WHERE id_hash = $1 AND seen_at < now() - interval '5 minutes'
       AND seen_at > now() - interval '30 days'
)
SELECT s.artisan_id, s.csrf, a.email, a.name, a.locale
  FROM portal_session s JOIN artisan a ON a.id = s.artisan_id
 WHERE s.id_hash = $1 AND s.seen_at > now() - interval '30 days' AND NOT a.disabled
