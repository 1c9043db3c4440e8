-- The artisans' portal (served by reglo-gateway): single-use links mailed to the artisan
-- (sign-in, confirmation of a new IBAN), server-side sessions, the sign-in requests that the
-- rate limits count, and the invoice statuses as the artisan reads them.

-- Only sha256(token) is stored: a database dump opens no account. An IBAN change waits here
-- until the artisan confirms it from their mailbox; artisan.iban (what the milter checks
-- invoices against) changes only then.
CREATE TABLE portal_link (
    token_hash text PRIMARY KEY,
    artisan_id bigint NOT NULL REFERENCES artisan(id),
    purpose    text NOT NULL CHECK (purpose IN ('signin', 'iban')),
    iban       text,
    bic        text,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_link_expiry ON portal_link (expires_at);

CREATE TABLE portal_session (
    id_hash    text PRIMARY KEY,
    artisan_id bigint NOT NULL REFERENCES artisan(id),
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_session_artisan ON portal_session (artisan_id);

CREATE TABLE portal_signin_request (
    at        timestamptz NOT NULL DEFAULT now(),
    email     text NOT NULL,
    client_ip text NOT NULL
);
CREATE INDEX portal_signin_request_email ON portal_signin_request (email, at);
CREATE INDEX portal_signin_request_ip ON portal_signin_request (client_ip, at);

-- One place says what the artisan sees as an invoice's status (Mes factures, its filter,
-- the CSV): paid, cancelled, undelivered and pending as recorded; an open invoice is
-- "paused" when its reminders are, "reminded" once a reminder went out, "overdue" after
-- its due date (Paris time), else "viewed" or "sent".
CREATE VIEW invoice_display AS
SELECT i.*,
       CASE
         WHEN i.status IN ('paid', 'cancelled', 'undelivered', 'pending') THEN i.status
         WHEN i.reminders_paused AND i.has_link THEN 'paused'
         WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.invoice_id = i.id AND r.status = 'sent')
           THEN 'reminded'
         WHEN i.due_date < (now() AT TIME ZONE 'Europe/Paris')::date THEN 'overdue'
         ELSE i.status
       END AS display_status,
       i.status IN ('sent', 'viewed', 'pending', 'undelivered')
         AND i.due_date < (now() AT TIME ZONE 'Europe/Paris')::date AS overdue
  FROM invoice i;

-- Mes factures: a page is read in this order (newest first, ties by id), and the totals
-- come from the index alone (once vacuumed), without the invoices' wide rows.
CREATE INDEX invoice_artisan_list ON invoice (artisan_id, sent_at DESC, id DESC);
DROP INDEX invoice_artisan_sent;
CREATE INDEX invoice_artisan_totals ON invoice (artisan_id)
    INCLUDE (status, currency, amount_due_minor, paid_minor, paid_at, due_date);
