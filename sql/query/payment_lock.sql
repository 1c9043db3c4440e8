-- The payment and its invoice, locked: two callbacks for one payment settle one at a time.
SELECT p.id, p.invoice_id, p.state, i.status, i.amount_due_minor, i.currency, i.artisan_id
  FROM payment p JOIN invoice i ON i.id = p.invoice_id
 WHERE p.psp = $1 AND p.psp_ref = $2
   FOR UPDATE OF p, i
