-- What an artisan has of their own: which templates, steps and locales, and when changed.
SELECT name, step, locale, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
  FROM template
 WHERE artisan_id = $1
 ORDER BY name, step NULLS FIRST, locale
