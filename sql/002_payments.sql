-- Payments through PSPs, their callbacks (idempotency keys), the operator's per-transaction
-- fee ledger, and the reminder schedule that a payment cancels.

CREATE TABLE payment (
    id            bigserial PRIMARY KEY,
    invoice_id    bigint NOT NULL REFERENCES invoice(id),
    psp           text NOT NULL,
    psp_ref       text NOT NULL,
    checkout_url  text,
    state         text NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'pending', 'paid', 'failed', 'canceled', 'expired', 'mismatch')),
    amount_minor  bigint NOT NULL,
    currency      char(3) NOT NULL,
    paid_minor    bigint,
    paid_currency char(3),
    payer_name    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (psp, psp_ref)
);
CREATE INDEX payment_invoice ON payment (invoice_id, created_at DESC);

-- One row per callback event: a replay hits the primary key and does nothing.
CREATE TABLE psp_event (
    psp         text NOT NULL,
    event_id    text NOT NULL,
    psp_ref     text,
    outcome     text,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (psp, event_id)
);

-- What the operator bills: one row per successful PSP payment (1 € each by default).
CREATE TABLE fee (
    id           bigserial PRIMARY KEY,
    artisan_id   bigint NOT NULL REFERENCES artisan(id),
    invoice_id   bigint NOT NULL UNIQUE REFERENCES invoice(id),
    payment_id   bigint NOT NULL UNIQUE REFERENCES payment(id),
    amount_minor bigint NOT NULL DEFAULT 100,
    currency     char(3) NOT NULL DEFAULT 'EUR',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fee_artisan_month ON fee (artisan_id, created_at);

CREATE TABLE reminder (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES invoice(id),
    step        integer NOT NULL,
    due_at      timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed', 'cancelled', 'skipped')),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    message_id  text,
    sent_at     timestamptz,
    UNIQUE (invoice_id, step)
);
CREATE INDEX reminder_due ON reminder (due_at) WHERE status = 'pending';

ALTER TABLE invoice ADD COLUMN viewed_at timestamptz;
