-- reglo-milter reads the headers of mail that is not an artisan's only when it may belong
-- to an invoice's thread: a client's reply or a bounce comes to an address in the domain of
-- an enrolled artisan. It asks "does any artisan have an address in this domain?" for the
-- recipients of such mail (answers kept for milter.sender_cache_ttl seconds).
CREATE INDEX artisan_domain ON artisan (split_part(email, '@', 2));
