INSERT INTO artisan (email, name, iban, bic, locale, payment_enabled, link_default,
                     reminders, reminders_from, pause_on_client_reply, psp, disabled)
VALUES (lower($1), $2, $3, $4, $5, $6::boolean, $7::boolean,
        string_to_array($8, ',')::integer[], $9, $10::boolean, nullif($11, ''), $12::boolean)
RETURNING id
