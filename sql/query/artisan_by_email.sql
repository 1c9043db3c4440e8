SELECT id, email, name, iban, bic, locale, payment_enabled, link_default,
       array_to_string(reminders, ','), reminders_from, pause_on_client_reply,
       coalesce(psp, ''), disabled
  FROM artisan WHERE email = lower($1)
