"""Alerts: assurance findings that reach a person, opened once, repeated on change, resolved."""
