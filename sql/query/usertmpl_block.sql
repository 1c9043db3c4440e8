-- The artisan's own payment block for a locale, text and html in one row (NULL where none).
SELECT max(body) FILTER (WHERE name = 'block.txt'),
       max(body) FILTER (WHERE name = 'block.html')
  FROM template
 WHERE artisan_id = $1 AND locale = $2 AND step IS NULL AND name IN ('block.txt', 'block.html')
