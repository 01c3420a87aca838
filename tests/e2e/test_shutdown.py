"""`authgate serve` stops gracefully on SIGTERM: a request in flight gets its normal answer,
new connections are refused at once, the process exits 0 within AUTHGATE_SHUTDOWN_TIMEOUT_SECONDS,
and a webhook delivery in flight either completes or is handed to the next start. Also: the
server runs with `--workers 2`, and SIGTERM stops both workers."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD
from tests.support.server import Server, free_port, server_env, wait, wait_healthy, worker_pids
from tests.support.server_webhooks import FAST, admin_token, create_admin, deliveries, subscribe
from tests.support.webhooks import WebhookReceiver

ACCOUNT = {"email": "slow@example.com", "password": STRONG_PASSWORD}


def terminate(server: Server, within: float) -> float:
    """SIGTERM, then the seconds until the process exited (asserting it did within `within`)."""
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=within)
    return time.monotonic() - started


def refuses_connections(base: str) -> bool:
    try:
        httpx.get(f"{base}/healthz", timeout=1)
    except httpx.ConnectError:
        return True
    return False


@pytest.mark.slow
def test_a_request_in_flight_at_sigterm_gets_its_answer(tmp_path: Path) -> None:
    # bcrypt at 14 rounds: a login takes about a second, long enough to stop the server under it.
    server = Server(tmp_path, "slow", AUTHGATE_BCRYPT_ROUNDS="14", AUTHGATE_SHUTDOWN_TIMEOUT_SECONDS="20")
    try:
        assert httpx.post(f"{server.base}/register", json=ACCOUNT, timeout=30).status_code == 201
        # The request is sent whole before the signal (a thread's request may not have left yet
        # on a loaded machine), then the server has a moment to take it up.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("POST", "/login", body=json.dumps(ACCOUNT), headers={"Content-Type": "application/json"})
        time.sleep(0.5)  # the login is now hashing
        server.process.send_signal(signal.SIGTERM)
        wait(lambda: refuses_connections(server.base), timeout=2, what="new connections refused")
        answer = connection.getresponse()
        assert answer.status == 200, answer.read()
        assert json.loads(answer.read())["token"]
        connection.close()
        assert server.process.wait(timeout=20) == 0
        assert "Waiting for connections to close" in server.log_path.read_text(), "the login was not in flight"
    finally:
        server.stop()


@pytest.mark.slow
def test_a_request_still_running_after_the_shutdown_timeout_is_cut(tmp_path: Path) -> None:
    server = Server(tmp_path, "cut", AUTHGATE_BCRYPT_ROUNDS="14", AUTHGATE_SHUTDOWN_TIMEOUT_SECONDS="0.2")
    try:
        assert httpx.post(f"{server.base}/register", json=ACCOUNT, timeout=30).status_code == 201
        answers: list[httpx.Response | Exception] = []

        def log_in() -> None:
            try:
                answers.append(httpx.post(f"{server.base}/login", json=ACCOUNT, timeout=30))
            except httpx.HTTPError as exc:
                answers.append(exc)

        login = threading.Thread(target=log_in)
        login.start()
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        login.join(timeout=30)
        assert server.process.wait(timeout=20) == 0
    finally:
        server.stop()
    answer = answers[0]
    assert isinstance(answer, httpx.RemoteProtocolError) or answer.status_code >= 500, answer
    assert "timeout graceful shutdown exceeded" in server.log_path.read_text()


@pytest.mark.slow
def test_a_webhook_delivery_in_flight_at_sigterm_completes(tmp_path: Path) -> None:
    receiver = WebhookReceiver()
    receiver.hang = 1.0  # the receiver holds each delivery for a second
    receiver.start()
    env = {**FAST, "AUTHGATE_WEBHOOK_TIMEOUT_SECONDS": "5"}
    create_admin(tmp_path, env)
    first = Server(tmp_path, "first", **env)
    try:
        token = admin_token(first.base)
        hook = subscribe(first.base, token, receiver.url)
        assert httpx.post(f"{first.base}/register", json=ACCOUNT).status_code == 201
        wait(lambda: receiver.hits == 1, timeout=10, what="the delivery reaches the receiver")
        assert terminate(first, within=10) < 5
        assert first.process.returncode == 0
    finally:
        first.stop()

    assert [r.event["data"]["email"] for r in receiver.of_type("user.created")] == [ACCOUNT["email"]]
    second = Server(tmp_path, "second", **env)
    try:
        sent = deliveries(second.base, admin_token(second.base), hook["id"])
        assert [(d["status"], d["attempts"]) for d in sent] == [("sent", 1)]
        time.sleep(1.0)
        assert receiver.hits == 1  # not sent again
    finally:
        second.stop()
        receiver.stop()


@pytest.mark.slow
def test_a_webhook_delivery_cut_short_by_sigterm_goes_out_at_the_next_start(tmp_path: Path) -> None:
    receiver = WebhookReceiver()
    receiver.hang = 8.0  # longer than the courier's grace at a stop (5 s)
    receiver.start()
    # A long send timeout makes a long lease (timeout + 10 s): without the lease given back, the
    # next start would wait for it to run out.
    env = {**FAST, "AUTHGATE_WEBHOOK_TIMEOUT_SECONDS": "30"}
    create_admin(tmp_path, env)
    first = Server(tmp_path, "first", **env)
    try:
        token = admin_token(first.base)
        hook = subscribe(first.base, token, receiver.url)
        assert httpx.post(f"{first.base}/register", json=ACCOUNT).status_code == 201
        wait(lambda: receiver.hits == 1, timeout=10, what="the delivery reaches the receiver")
        assert terminate(first, within=15) < 8  # the courier gave up waiting for the receiver
        assert first.process.returncode == 0
    finally:
        first.stop()

    receiver.hang = 0.0
    second = Server(tmp_path, "second", **env)
    try:
        token = admin_token(second.base)
        wait(
            lambda: [d["status"] for d in deliveries(second.base, token, hook["id"])] == ["sent"],
            timeout=5,
            what="the interrupted delivery sent at once by the next start",
        )
        assert deliveries(second.base, token, hook["id"])[0]["attempts"] == 2
    finally:
        second.stop()
        receiver.stop()
    assert "delivery_interrupted" in first.log_path.read_text()


@pytest.mark.slow
def test_two_workers_serve_and_sigterm_stops_both(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "workers.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=server_env(tmp_path, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(process, base, log_path)
        wait(lambda: len(worker_pids(log_path)) == 2, timeout=30, what="both workers started")
        assert httpx.post(f"{base}/register", json=ACCOUNT).status_code == 201
        with httpx.Client(base_url=base) as client:
            statuses = [client.post("/login", json=ACCOUNT).status_code for _ in range(50)]
        assert statuses == [200] * 50
        workers = worker_pids(log_path)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert log_path.read_text().count("Finished server process") == 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
