-- One of an artisan's own templates: exactly this name, step ($3 NULL: the version for every
-- step) and locale; no fallback.
SELECT body
  FROM template
 WHERE artisan_id = $1 AND name = $2 AND step IS NOT DISTINCT FROM $3::integer AND locale = $4
