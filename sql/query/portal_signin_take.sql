-- Up to $1 sign-in requests no gateway has handled yet, taken by this one (several share the
-- table): marked handled in the transaction that queues their links' mail.
UPDATE portal_signin_request r SET handled_at = now()
  FROM (SELECT id FROM portal_signin_request WHERE handled_at IS NULL
         ORDER BY id LIMIT $1::integer FOR UPDATE SKIP LOCKED) todo
 WHERE r.id = todo.id
RETURNING r.email
