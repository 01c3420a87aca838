"""`authgate serve` stops gracefully on SIGTERM: a request in flight gets its normal answer,
new connections are refused at once, the process exits 0 within AUTHGATE_SHUTDOWN_TIMEOUT_SECONDS,
and a webhook delivery in flight either completes or is handed to the next start. Also: the
server runs with `--workers 2`, and SIGTERM stops both workers."""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD
from tests.support.server import Server, cpu_seconds, free_port, server_env, wait, wait_healthy, worker_pids
from tests.support.server_webhooks import FAST, admin_token, create_admin, deliveries, subscribe
from tests.support.webhooks import WebhookReceiver

ACCOUNT = {"email": "slow@example.com", "password": STRONG_PASSWORD}


STOPPED = 60  # seconds: only a server that never stops takes this long (an upper bound, not a measure)


def terminate(server: Server) -> int:
    """SIGTERM, then the process's exit status once it has exited (within STOPPED seconds)."""
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=STOPPED)


def refuses_connections(base: str) -> bool:
    try:
        httpx.get(f"{base}/healthz", timeout=5)
    except httpx.ConnectError:
        return True
    return False


def wait_hashing(server: Server, since: float) -> None:
    """Until the server has spent a quarter of a second of CPU time since `since` (its
    `cpu_seconds` when a login was sent): the login is being hashed (a hash at 14 rounds takes
    about a second of CPU), however long the loaded machine took to get it there."""
    wait(lambda: cpu_seconds(server.process.pid) - since >= 0.25, timeout=STOPPED, what="the login hashing")


def answered(connection: http.client.HTTPConnection) -> bool:
    """Whether the server has sent anything on `connection` yet (without reading it)."""
    assert connection.sock is not None
    return bool(select.select([connection.sock], [], [], 0)[0])


@pytest.mark.slow
def test_a_request_in_flight_at_sigterm_gets_its_answer(tmp_path: Path) -> None:
    # bcrypt at 14 rounds: a login takes about a second, long enough to stop the server under it.
    server = Server(tmp_path, "slow", AUTHGATE_BCRYPT_ROUNDS="14", AUTHGATE_SHUTDOWN_TIMEOUT_SECONDS="20")
    try:
        assert httpx.post(f"{server.base}/register", json=ACCOUNT, timeout=30).status_code == 201
        # The request is sent whole before the signal (a thread's request may not have left yet
        # on a loaded machine), and the signal waits until the server is hashing it.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=STOPPED)
        since = cpu_seconds(server.process.pid)
        connection.request("POST", "/login", body=json.dumps(ACCOUNT), headers={"Content-Type": "application/json"})
        wait_hashing(server, since)
        server.process.send_signal(signal.SIGTERM)
        wait(lambda: refuses_connections(server.base), timeout=STOPPED, what="new connections refused")
        assert not answered(connection), "new connections were refused only once the login was answered"
        answer = connection.getresponse()
        assert answer.status == 200, answer.read()
        assert json.loads(answer.read())["token"]
        connection.close()
        assert server.process.wait(timeout=STOPPED) == 0
        assert "Waiting for connections to close" in server.log_path.read_text(), "the login was not in flight"
    finally:
        server.stop()


@pytest.mark.slow
def test_a_request_still_running_after_the_shutdown_timeout_is_cut(tmp_path: Path) -> None:
    server = Server(tmp_path, "cut", AUTHGATE_BCRYPT_ROUNDS="14", AUTHGATE_SHUTDOWN_TIMEOUT_SECONDS="0.2")
    try:
        assert httpx.post(f"{server.base}/register", json=ACCOUNT, timeout=STOPPED).status_code == 201
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=STOPPED)
        since = cpu_seconds(server.process.pid)
        connection.request("POST", "/login", body=json.dumps(ACCOUNT), headers={"Content-Type": "application/json"})
        wait_hashing(server, since)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=STOPPED) == 0
        try:
            answer: http.client.HTTPResponse | Exception = connection.getresponse()
        except (http.client.HTTPException, OSError) as exc:
            answer = exc
        connection.close()
    finally:
        server.stop()
    assert isinstance(answer, Exception) or answer.status >= 500, (answer.status, answer.read())
    assert "timeout graceful shutdown exceeded" in server.log_path.read_text()


@pytest.mark.slow
def test_a_webhook_delivery_in_flight_at_sigterm_completes(tmp_path: Path) -> None:
    receiver = WebhookReceiver()
    receiver.hold()  # each delivery waits, unanswered, until the server has begun to stop
    receiver.start()
    env = {**FAST, "AUTHGATE_WEBHOOK_TIMEOUT_SECONDS": "5"}
    create_admin(tmp_path, env)
    first = Server(tmp_path, "first", **env)
    try:
        token = admin_token(first.base)
        hook = subscribe(first.base, token, receiver.url)
        assert httpx.post(f"{first.base}/register", json=ACCOUNT).status_code == 201
        wait(lambda: receiver.hits == 1, timeout=STOPPED, what="the delivery reaches the receiver")
        first.process.send_signal(signal.SIGTERM)
        # Released once the app's own shutdown (the courier's stop) has begun: the delivery is
        # in flight when the courier is told to stop, and is answered at once, well within the
        # courier's grace (5 s) however loaded the machine.
        wait(lambda: "Waiting for application shutdown" in first.log_path.read_text(), what="the app stopping")
        receiver.release()
        assert first.process.wait(timeout=STOPPED) == 0
    finally:
        first.stop()

    assert [r.event["data"]["email"] for r in receiver.of_type("user.created")] == [ACCOUNT["email"]]
    assert "delivery_interrupted" not in first.log_path.read_text()
    second = Server(tmp_path, "second", **env)
    try:
        sent = deliveries(second.base, admin_token(second.base), hook["id"])
        assert [(d["status"], d["attempts"]) for d in sent] == [("sent", 1)]
        # Not sent again: the courier of the second start has delivered a later event, yet the
        # receiver still has only the one delivery of the first.
        later = {"email": "later@example.com", "password": STRONG_PASSWORD}
        assert httpx.post(f"{second.base}/register", json=later).status_code == 201
        wait(lambda: receiver.hits == 2, timeout=STOPPED, what="the later event's delivery")
        emails = [r.event["data"]["email"] for r in receiver.of_type("user.created")]
        assert emails == [ACCOUNT["email"], later["email"]], emails
    finally:
        second.stop()
        receiver.stop()


@pytest.mark.slow
def test_a_webhook_delivery_cut_short_by_sigterm_goes_out_at_the_next_start(tmp_path: Path) -> None:
    receiver = WebhookReceiver()
    receiver.hold()  # every delivery waits for release(): far longer than the courier's grace at a stop (5 s)
    receiver.start()
    # A send timeout longer than STOPPED: a courier that waited for the receiver instead of
    # giving up at its grace would keep the server from stopping within it. It also makes a
    # long lease (timeout + 10 s): without the lease given back, the next start would wait for
    # it to run out, longer than the wait for the delivery below.
    env = {**FAST, "AUTHGATE_WEBHOOK_TIMEOUT_SECONDS": "120"}
    create_admin(tmp_path, env)
    first = Server(tmp_path, "first", **env)
    try:
        token = admin_token(first.base)
        hook = subscribe(first.base, token, receiver.url)
        assert httpx.post(f"{first.base}/register", json=ACCOUNT).status_code == 201
        wait(lambda: receiver.hits == 1, timeout=STOPPED, what="the delivery reaches the receiver")
        assert terminate(first) == 0  # the courier gave up waiting for the receiver, which still holds it
    finally:
        first.stop()

    receiver.release()
    second = Server(tmp_path, "second", **env)
    try:
        token = admin_token(second.base)
        wait(
            lambda: [d["status"] for d in deliveries(second.base, token, hook["id"])] == ["sent"],
            timeout=STOPPED,
            what="the interrupted delivery sent at once by the next start, not after its lease",
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
        wait(lambda: len(worker_pids(log_path)) == 2, what="both workers started")
        assert httpx.post(f"{base}/register", json=ACCOUNT).status_code == 201
        with httpx.Client(base_url=base) as client:
            statuses = [client.post("/login", json=ACCOUNT).status_code for _ in range(50)]
        assert statuses == [200] * 50
        workers = worker_pids(log_path)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOPPED) == 0
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert log_path.read_text().count("Finished server process") == 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
