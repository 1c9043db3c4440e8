-- Mail the MTA accepted more than 30 days ago: its bytes are no longer needed (the MTA's
-- logs, the artisan's mailbox and the invoice's timeline tell what went out), and a sign-in
-- link is not kept longer than it must be. Unsent and failed rows stay, for the operator.
DELETE FROM outbox WHERE sent_at < now() - interval '30 days'
