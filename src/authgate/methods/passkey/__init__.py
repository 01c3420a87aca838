"""Passkeys (WebAuthn): a first factor (discoverable credentials, user-verified) and a second one."""
