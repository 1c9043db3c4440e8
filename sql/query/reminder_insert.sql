-- Steps that fell due: $1 invoice ids, $2 steps, $3 due times (epoch seconds), as arrays.
INSERT INTO reminder (invoice_id, step, due_at)
SELECT u.invoice_id, u.step, to_timestamp(u.due)
  FROM unnest($1::bigint[], $2::integer[], $3::double precision[]) AS u(invoice_id, step, due)
ON CONFLICT (invoice_id, step) DO NOTHING
