-- Thread tracking (reglo-milter): a client's reply or the artisan's #stop pauses an invoice's
-- reminders, #reprendre resumes them. 003_reminders adds the same column; IF NOT EXISTS
-- makes this a no-op after it.
ALTER TABLE invoice ADD COLUMN IF NOT EXISTS reminders_paused boolean NOT NULL DEFAULT false;

-- The gateway and the portal list a thread's messages by invoice.
CREATE INDEX IF NOT EXISTS thread_message_invoice ON thread_message (invoice_id);
