UPDATE psp_event SET outcome = $3 WHERE psp = $1 AND event_id = $2
