DELETE FROM portal_session WHERE id_hash = $1
