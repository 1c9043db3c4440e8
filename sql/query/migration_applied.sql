SELECT name FROM schema_migration ORDER BY name
