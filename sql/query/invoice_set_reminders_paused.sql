-- Returns a row only when the flag changed.
UPDATE invoice SET reminders_paused = $2::boolean
 WHERE id = $1::bigint AND reminders_paused IS DISTINCT FROM $2::boolean
RETURNING id
