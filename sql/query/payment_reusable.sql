-- A second click on "pay" within a few minutes reuses the checkout the PSP already made.
SELECT checkout_url FROM payment
 WHERE invoice_id = $1::bigint AND psp = $2 AND state = 'open' AND checkout_url IS NOT NULL
   AND created_at > now() - interval '20 minutes'
 ORDER BY created_at DESC LIMIT 1
