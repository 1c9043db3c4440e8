UPDATE artisan SET name = $2, iban = $3, bic = $4, locale = $5, payment_enabled = $6::boolean,
       link_default = $7::boolean, reminders = string_to_array($8, ',')::integer[],
       reminders_from = $9, pause_on_client_reply = $10::boolean, psp = nullif($11, ''),
       disabled = $12::boolean
 WHERE id = $1
