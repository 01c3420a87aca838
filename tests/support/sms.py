"""A real HTTP endpoint for the SMS webhook (in a thread, on loopback) that keeps what authgate
texts, and an account whose phone is verified through it."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.support.http import register
from tests.support.mail import code_in
from tests.support.server import PATIENCE

PHONE = "+14155550100"


class SmsReceiver:
    """An HTTP endpoint that records `{"to", "body"}` posts; answers 500 `fail` times first."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail = 0
        self.hits = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length))
                receiver.hits += 1
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append({"body": body, "content_type": self.headers.get("content-type")})
                self.send_response(202)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def to(self, phone: str) -> list[str]:
        return [r["body"]["body"] for r in self.received if r["body"]["to"] == phone]

    async def wait_for(self, phone: str, count: int = 1, timeout: float = PATIENCE) -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(phone)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no SMS #{count} for {phone}")
            await asyncio.sleep(0.02)
        return self.to(phone)[count - 1]


async def verified_phone_user(client: httpx.AsyncClient, sms: SmsReceiver) -> str:
    """Register with a phone and `sendSms`, then verify the phone with the texted code."""
    token = (await register(client, phone="+1 (415) 555-0100", options={"sendSms": True})).json()["token"]
    code = code_in(await sms.wait_for(PHONE))
    verified = await client.post(
        "/otp/verify", json={"channel": "sms", "phone": PHONE, "code": code, "purpose": "verify"}
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["message"] == "Phone number verified"
    assert verified.json()["user"]["phoneVerified"] is True
    return str(token)
