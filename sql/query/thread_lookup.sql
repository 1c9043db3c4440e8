-- The tracked invoice thread a message belongs to. $1: the Message-IDs (without <>) of its
-- In-Reply-To and References, space-separated, best first; the first one known wins.
SELECT i.id, i.status, i.reminders_paused, i.number, coalesce(i.subject, ''),
       coalesce(i.client_email, ''), array_to_string(i.recipients, ' '),
       coalesce(i.message_id, ''), t.kind, t.message_id,
       a.id, a.email, a.name, a.locale, a.pause_on_client_reply
  FROM thread_message t
  JOIN invoice i ON i.id = t.invoice_id
  JOIN artisan a ON a.id = i.artisan_id
 WHERE t.message_id = ANY (string_to_array($1, ' '))
 ORDER BY array_position(string_to_array($1, ' '), t.message_id)
 LIMIT 1
