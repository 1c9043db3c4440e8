-- reglo-gateway keeps rendered payment pages in memory (gateway/pagecache.c). Whatever
-- changes an invoice or an artisan, whoever writes it (a gateway, the milter, the CLI, psql),
-- tells every gateway to drop what it rendered from the old row: NOTIFY reglo_page with the
-- invoice's token hash, or '*' for every page. Notifications leave at commit, once per
-- distinct payload and transaction.

CREATE OR REPLACE FUNCTION reglo_page_invoice_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.token_hash IS NOT NULL THEN
        PERFORM pg_notify('reglo_page', OLD.token_hash);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reglo_page_all_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('reglo_page', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER invoice_page_changed AFTER UPDATE OR DELETE ON invoice
    FOR EACH ROW EXECUTE FUNCTION reglo_page_invoice_changed();
CREATE TRIGGER invoice_page_truncated AFTER TRUNCATE ON invoice
    FOR EACH STATEMENT EXECUTE FUNCTION reglo_page_all_changed();
-- The artisan's name, IBAN, BIC and default locale are on every page of theirs.
CREATE TRIGGER artisan_page_changed AFTER UPDATE OR DELETE OR TRUNCATE ON artisan
    FOR EACH STATEMENT EXECUTE FUNCTION reglo_page_all_changed();
