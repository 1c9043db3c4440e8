-- Record a sign-in request for the address $1 from the client address $2, and say whether
-- it is within the limits: fewer than $3 requests for the address and $4 from the client
-- in the last 15 minutes (shared by every gateway). One within them waits for a gateway to
-- handle it (portal_signin_take); one over them is recorded as handled: it is never mailed.
WITH counts AS (
    SELECT (SELECT count(*) FROM portal_signin_request
             WHERE email = $1 AND at > now() - interval '15 minutes') < $3::integer
       AND (SELECT count(*) FROM portal_signin_request
             WHERE client_ip = $2 AND at > now() - interval '15 minutes') < $4::integer
           AS within
), recorded AS (
    INSERT INTO portal_signin_request (email, client_ip, handled_at)
    SELECT $1, $2, CASE WHEN within THEN NULL ELSE now() END FROM counts
)
SELECT within FROM counts
