-- Count the sign-in requests of the last 15 minutes for this address ($1) and this client
-- address ($2), then record this one: the rate limits are shared by every gateway.
WITH recorded AS (
    INSERT INTO portal_signin_request (email, client_ip) VALUES ($1, $2)
)
SELECT (SELECT count(*) FROM portal_signin_request
         WHERE email = $1 AND at > now() - interval '15 minutes'),
       (SELECT count(*) FROM portal_signin_request
         WHERE client_ip = $2 AND at > now() - interval '15 minutes')
