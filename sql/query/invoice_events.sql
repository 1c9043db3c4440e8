SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), kind, detail::text
  FROM invoice_event WHERE invoice_id = $1 ORDER BY at, id
