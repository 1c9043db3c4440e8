-- Back off exponentially, from one minute up to six hours; give up after two days of tries.
UPDATE outbox SET attempts = attempts + 1, last_error = $2,
       next_attempt = now() + least(interval '6 hours', interval '1 minute' * power(2, attempts)),
       failed = $3::boolean OR created_at < now() - interval '2 days'
 WHERE id = $1
