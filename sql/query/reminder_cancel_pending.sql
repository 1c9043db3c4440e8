UPDATE reminder SET status = 'cancelled' WHERE invoice_id = $1::bigint AND status = 'pending'
