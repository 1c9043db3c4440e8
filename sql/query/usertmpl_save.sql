-- Store an artisan's own template, replacing the version of the same name, step ($3 NULL:
-- every step) and locale. The unique key treats NULL steps as equal (NULLS NOT DISTINCT).
INSERT INTO template (artisan_id, name, step, locale, body)
VALUES ($1, $2, $3::integer, $4, $5)
    ON CONFLICT (artisan_id, name, step, locale)
    DO UPDATE SET body = EXCLUDED.body, updated_at = now()
