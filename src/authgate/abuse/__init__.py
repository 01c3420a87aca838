"""Abuse protection: request rate limits (`limiter`), account lockout (`lockout`) and the
counters they keep, in this process or in Redis so that every node shares them (`state`).
The rules and their defaults are in `rules`."""
