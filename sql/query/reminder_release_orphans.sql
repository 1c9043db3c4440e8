-- Reminders claimed by a database session that has ended (its gateway died, or lost the
-- database, while sending) go back to 'pending' for the next claim. A message the MTA had
-- already taken is then submitted again with the same Message-ID.
UPDATE reminder r SET status = 'pending', claim = NULL
 WHERE r.status = 'sending'
   AND NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) s
                    WHERE r.claim = s.pid || '@' || extract(epoch FROM s.backend_start))
