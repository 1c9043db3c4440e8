-- A bounce of a sent reminder ($2: its Message-ID, without <>).
UPDATE reminder SET status = 'undelivered'
 WHERE invoice_id = $1::bigint AND message_id = $2 AND status = 'sent'
