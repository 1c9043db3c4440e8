-- Our claims we will not send after all (stopping, or a database error mid-batch).
UPDATE reminder SET status = 'pending', claim = NULL WHERE status = 'sending' AND claim = $1
