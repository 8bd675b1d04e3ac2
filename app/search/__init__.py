"""Ticket search (`q`), caller history and duplicate suggestions."""
