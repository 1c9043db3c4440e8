UPDATE invoice SET status = 'pending' WHERE id = $1::bigint AND status IN ('sent', 'viewed')
