"""E-mail to units and callers, queued by the outbox fan-out and sent over SMTP (aiosmtplib)."""
