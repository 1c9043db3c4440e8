-- Reminders: the invoice's pause switch (set by thread tracking: a client's reply, the
-- artisan's #stop / #reprendre), retries after temporary SMTP failures, the artisans' own
-- email templates, and the scheduler's indexes.

ALTER TABLE invoice ADD COLUMN IF NOT EXISTS reminders_paused boolean NOT NULL DEFAULT false;

-- 'sending': claimed by the database session named in claim ("PID@START" of a gateway's
-- connection), which is submitting it; if that session ends first, the reminder goes back
-- to 'pending'. 'undelivered': a bounce came back for it (thread tracking records it).
ALTER TABLE reminder DROP CONSTRAINT reminder_status_check;
ALTER TABLE reminder ADD CONSTRAINT reminder_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped',
                      'undelivered'));
ALTER TABLE reminder ADD COLUMN claim text;
ALTER TABLE reminder ADD COLUMN claimed_at timestamptz;

-- A temporary SMTP failure puts the next try here; NULL: try at due_at.
ALTER TABLE reminder ADD COLUMN next_attempt timestamptz;
ALTER TABLE reminder ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

DROP INDEX reminder_due;
CREATE INDEX reminder_due ON reminder ((coalesce(next_attempt, due_at))) WHERE status = 'pending';
CREATE INDEX reminder_sending ON reminder (claim) WHERE status = 'sending';
-- The invoices the scheduler looks at on every pass.
CREATE INDEX invoice_remindable ON invoice (id)
    WHERE has_link AND status IN ('sent', 'viewed', 'pending') AND NOT reminders_paused;

-- An artisan's own version of an email template: name is the file name it replaces
-- ("reminder.subject", "reminder.txt", "reminder.html"); step NULL for every step, or the
-- offset in days it is meant for (a step's own version wins).
CREATE TABLE template (
    id         bigserial PRIMARY KEY,
    artisan_id bigint NOT NULL REFERENCES artisan(id),
    name       text NOT NULL CHECK (name ~ '^[a-z0-9-]+\.(subject|txt|html)$'),
    step       integer,
    locale     text NOT NULL CHECK (locale IN ('fr', 'en')),
    body       text NOT NULL CHECK (length(body) <= 65536),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (artisan_id, name, step, locale)
);
