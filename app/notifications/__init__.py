"""Outgoing messages: transactional email (SMTP or the offline outbox)."""
