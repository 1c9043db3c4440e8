-- Several processes drain one outbox: each row is taken by one of them. Up to $1 rows,
-- sent over one SMTP connection and recorded in one transaction.
SELECT id, mail_from, array_to_string(rcpts, ' '), message, attempts
  FROM outbox
 WHERE sent_at IS NULL AND NOT failed AND next_attempt <= now()
 ORDER BY next_attempt
 LIMIT $1::integer
   FOR UPDATE SKIP LOCKED
