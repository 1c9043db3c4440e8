-- Forget an artisan's own template (the default applies again).
DELETE FROM template
 WHERE artisan_id = $1 AND name = $2 AND step IS NOT DISTINCT FROM $3::integer AND locale = $4
