-- The callback's idempotency key: no row back means we have seen this event already.
INSERT INTO psp_event (psp, event_id, psp_ref) VALUES ($1, $2, $3)
ON CONFLICT (psp, event_id) DO NOTHING
RETURNING event_id
