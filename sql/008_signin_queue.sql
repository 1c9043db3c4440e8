-- A sign-in request is answered at once and the same way for every address; the link is
-- mailed afterwards, by the gateway's outbox thread, when the address is an enrolled
-- artisan's (gateway/portal/signin.c). So the answer's time says nothing of whether it is:
-- before, an enrolled address cost the request a link and a queued mail, measurably longer.
-- handled_at: when a gateway took the request (or, over the limits, at once: never mailed).
ALTER TABLE portal_signin_request ADD COLUMN id bigserial PRIMARY KEY;
ALTER TABLE portal_signin_request ADD COLUMN handled_at timestamptz;
UPDATE portal_signin_request SET handled_at = at;
CREATE INDEX portal_signin_request_todo ON portal_signin_request (id) WHERE handled_at IS NULL;
