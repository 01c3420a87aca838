"""Abuse protection: request and sending rate limits (`limiter`, with the rules and their
defaults in `rules`) and account lockout (`lockout`), each counting in this process or in
Redis, so that every node shares the counts."""
