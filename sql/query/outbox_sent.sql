-- The rows of one batch the MTA accepted ($1: an array of ids, '{1,2,3}').
UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL
 WHERE id = ANY ($1::bigint[])
