-- reglo schema, first version: artisans, invoices and their timeline, thread tracking,
-- outgoing mail. Amounts are integer minor units with an ISO 4217 currency.

CREATE TABLE artisan (
    id                    bigserial PRIMARY KEY,
    email                 text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name                  text NOT NULL,
    iban                  text,
    bic                   text,
    locale                text NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'en')),
    payment_enabled       boolean NOT NULL DEFAULT true,
    link_default          boolean NOT NULL DEFAULT true,
    reminders             integer[] NOT NULL DEFAULT '{7,15,30}',
    reminders_from        text NOT NULL DEFAULT 'sent' CHECK (reminders_from IN ('sent', 'due')),
    pause_on_client_reply boolean NOT NULL DEFAULT true,
    psp                   text,
    disabled              boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE invoice (
    id               bigserial PRIMARY KEY,
    artisan_id       bigint NOT NULL REFERENCES artisan(id),
    number           text NOT NULL,
    amount_due_minor bigint NOT NULL CHECK (amount_due_minor > 0),
    currency         char(3) NOT NULL,
    issue_date       date,
    due_date         date,
    client_email     text,
    recipients       text[] NOT NULL DEFAULT '{}',
    subject          text,
    message_id       text,
    source           text NOT NULL,
    key_id           text NOT NULL,
    token_hash       text UNIQUE,
    status           text NOT NULL DEFAULT 'sent'
                     CHECK (status IN ('sent', 'viewed', 'pending', 'paid', 'cancelled', 'undelivered')),
    has_link         boolean NOT NULL DEFAULT true,
    qr_only          boolean NOT NULL DEFAULT false,
    sent_count       integer NOT NULL DEFAULT 1,
    sent_at          timestamptz NOT NULL DEFAULT now(),
    paid_at          timestamptz,
    paid_minor       bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (artisan_id, number)
);
CREATE INDEX invoice_artisan_sent ON invoice (artisan_id, sent_at DESC);

CREATE TABLE invoice_event (
    id         bigserial PRIMARY KEY,
    invoice_id bigint NOT NULL REFERENCES invoice(id),
    at         timestamptz NOT NULL DEFAULT now(),
    kind       text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX invoice_event_invoice ON invoice_event (invoice_id, at);

-- Message-IDs (without angle brackets) of every message in a tracked invoice thread.
CREATE TABLE thread_message (
    message_id text PRIMARY KEY,
    invoice_id bigint NOT NULL REFERENCES invoice(id),
    kind       text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

-- Mail reglo writes itself (notifications to artisans), submitted by SMTP with retries.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    mail_from    text NOT NULL,
    rcpts        text[] NOT NULL,
    message      bytea NOT NULL,
    purpose      text NOT NULL,
    invoice_id   bigint REFERENCES invoice(id),
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt timestamptz NOT NULL DEFAULT now(),
    last_error   text,
    sent_at      timestamptz,
    failed       boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due ON outbox (next_attempt) WHERE sent_at IS NULL AND NOT failed;
