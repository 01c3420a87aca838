"""Sending email and SMS: channels behind one Protocol, templates, and the outbox courier."""
