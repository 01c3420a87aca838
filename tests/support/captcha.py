"""A real siteverify endpoint on a loopback port, speaking the protocol Turnstile, hCaptcha and
reCAPTCHA share: a form POST of `secret`, `response` and `remoteip`, a JSON reply with
`success` (and `score` for reCAPTCHA v3). It accepts only the right secret, the client's
address, and the tokens below; every request it got is kept, so tests can look at them.
This module holds what it answers; the `siteverify` fixture (captcha/conftest.py) runs it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from altcha import ChallengeV1, PayloadV1, solve_challenge_v1

from tests.support.app import CLIENT_IP

SECRET = "provider-secret-0123456789"
GOOD = "good-token"
LOW_SCORE = "low-score-token"
GARBAGE = "garbage-token"  # answered with an HTML page
BROKEN = "broken-token"  # answered with a 500


@dataclass
class SiteVerifyServer:
    url: str
    seen: list[dict[str, list[str]]] = field(default_factory=list)


def siteverify_reply(form: dict[str, list[str]]) -> tuple[int, str, bytes]:
    token = form.get("response", [""])[0]
    if token == GARBAGE:
        return 200, "text/html", b"<html>maintenance</html>"
    if token == BROKEN:
        return 500, "application/json", b'{"success": true}'
    if form.get("secret") != [SECRET]:
        answer: dict[str, Any] = {"success": False, "error-codes": ["invalid-input-secret"]}
    elif form.get("remoteip") != [CLIENT_IP]:
        answer = {"success": False, "error-codes": ["invalid-remoteip"]}
    elif token == GOOD:
        answer = {"success": True, "score": 0.9, "hostname": "testserver"}
    elif token == LOW_SCORE:
        answer = {"success": True, "score": 0.1, "hostname": "testserver"}
    else:
        answer = {"success": False, "error-codes": ["invalid-input-response"]}
    return 200, "application/json", json.dumps(answer).encode()


def solve(issued_json: dict[str, Any], /, **changes: Any) -> str:
    """What the widget sends: base64 of the JSON payload, with `changes` made to it."""
    c = issued_json
    issued = ChallengeV1(c["algorithm"], c["challenge"], c["maxnumber"], c["salt"], c["signature"])
    solution = solve_challenge_v1(issued)
    assert solution is not None
    payload = PayloadV1(issued.algorithm, issued.challenge, solution.number, issued.salt, issued.signature).to_dict()
    payload = {**payload, "took": 12, **changes}  # type: ignore[typeddict-item]
    return base64.b64encode(json.dumps(payload).encode()).decode()
