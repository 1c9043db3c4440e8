-- What the portal no longer needs: used or expired links, old sign-in requests, idle sessions.
WITH links AS (
    DELETE FROM portal_link WHERE expires_at < now() - interval '1 day'
), requests AS (
    DELETE FROM portal_signin_request WHERE at < now() - interval '1 day'
)
DELETE FROM portal_session WHERE seen_at < now() - interval '30 days'
