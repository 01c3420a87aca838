"""totp."""
