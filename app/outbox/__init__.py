"""Telling people about the work: a transactional outbox, and its relay to signed webhooks.

An outbox row is written in the same transaction as the ticket event it announces
(app.outbox.capture); the fan-out turns it into one delivery per matching subscription
(app.outbox.fanout); the relay sends deliveries per Standard Webhooks v1 (app.outbox.relay).
"""
