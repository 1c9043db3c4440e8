-- The payment and its invoice, locked: two callbacks for one payment settle one at a time.
-- With what the artisan's "paid" notice says, and when: now() is the transaction's start,
-- the paid_at that payment_settle_paid records.
SELECT p.id, p.invoice_id, p.state, i.status, i.amount_due_minor, i.currency, i.artisan_id,
       i.number, coalesce(i.client_email, ''), coalesce(i.message_id, ''),
       a.email, a.name, a.locale,
       to_char(now() AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI')
  FROM payment p JOIN invoice i ON i.id = p.invoice_id JOIN artisan a ON a.id = i.artisan_id
 WHERE p.psp = $1 AND p.psp_ref = $2
   FOR UPDATE OF p, i
