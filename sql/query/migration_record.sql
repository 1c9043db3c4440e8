INSERT INTO schema_migration (name) VALUES ($1)
