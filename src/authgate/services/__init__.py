"""Use cases: each owns its transactions and raises AuthError. No HTTP imports here."""
