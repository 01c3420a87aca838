"""Do known and unknown accounts take the same time? (ASVS 6.3.8)

    python bench/enumeration_timing.py [--rounds 60]

Against a real `authgate serve` (bcrypt cost 12, SQLite), interleaves requests for a known
and an unknown account on each endpoint that must not reveal which accounts exist, and prints
the medians. Timing is measured here rather than asserted in the test suite, where a noisy
machine makes it flaky; the suite checks the cause instead (both paths do the same work:
one bcrypt verification at login, the same rows written for links and codes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from harness import PASSWORD, start_authgate

CASES = [
    ("/login", lambda email: {"email": email, "password": "Wrong-Pass-123"}, 401),
    ("/password/forgot", lambda email: {"email": email}, 202),
    ("/login/magic", lambda email: {"email": email}, 202),
    ("/email/verify", lambda email: {"email": email}, 202),
    ("/otp/send", lambda email: {"channel": "email", "email": email}, 202),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_authgate(Path(tmp), f"sqlite+aiosqlite:///{tmp}/authgate.db")
        try:
            with httpx.Client(base_url=server.base, timeout=30) as client:
                client.post("/register", json={"email": "known@example.com", "password": PASSWORD})
                print("| endpoint | known p50 ms | unknown p50 ms | difference |")
                print("|---|---:|---:|---:|")
                for path, body, status in CASES:
                    samples: dict[str, list[float]] = {"known@example.com": [], "ghost@example.com": []}
                    for i in range(args.rounds):
                        order = list(samples) if i % 2 else list(reversed(samples))
                        for email in order:
                            started = time.perf_counter()
                            response = client.post(path, json=body(email))
                            samples[email].append((time.perf_counter() - started) * 1000)
                            assert response.status_code == status, (path, response.status_code, response.text)
                    known = statistics.median(samples["known@example.com"][5:])
                    unknown = statistics.median(samples["ghost@example.com"][5:])
                    print(
                        f"| {path} | {known:.2f} | {unknown:.2f} | {abs(known - unknown) / max(known, unknown):.1%} |"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
