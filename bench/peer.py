"""The fastapi-users peer of the benchmarks: its own venv (bench/.work/peer-venv, from the
pinned bench/peer-requirements.txt), started with uvicorn as its users run it (one worker, the
defaults otherwise), and the calls the benchmark needs."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx
from harness import Server

HERE = Path(__file__).parent
VENV = HERE / ".work" / "peer-venv"
REQUIREMENTS = HERE / "peer-requirements.txt"
HELLO_PATH = "/hello"
PROFILE_PATH = "/users/me"
LOGIN_PATH = "/auth/jwt/login"
LOGIN_SCRIPT = HERE / "peer_login.lua"


def ensure_peer() -> Path:
    """The peer venv's python, installing the pinned requirements the first time (or when
    they change)."""
    python = VENV / "bin" / "python"
    marker = VENV / ".requirements-sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print("peer: installing fastapi-users into bench/.work/peer-venv", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], capture_output=True, text=True
    )
    if installed.returncode != 0:
        raise SystemExit(f"peer: pip install failed:\n{installed.stderr[-2000:]}")
    marker.write_text(wanted)
    return python


def start_peer(workdir: Path, port: int) -> Server:
    python = ensure_peer()
    env = {
        **os.environ,
        "PEER_SECRET": secrets.token_urlsafe(32),
        "PEER_DATABASE": str(workdir / "peer.db"),
        "PYTHONPATH": str(HERE),
    }
    command = [str(python), "-m", "uvicorn", "peer_app:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning"]
    return Server.start(command, env=env, cwd=workdir, port=port, ready_path=HELLO_PATH, name="peer")


def create_user(base: str, email: str, password: str) -> None:
    answer = httpx.post(f"{base}/auth/register", json={"email": email, "password": password}, timeout=30)
    answer.raise_for_status()


def login(base: str, email: str, password: str) -> str:
    answer = httpx.post(f"{base}{LOGIN_PATH}", data={"username": email, "password": password}, timeout=30)
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def login_wrk_env(email: str, password: str) -> dict[str, str]:
    return {"BENCH_LOGIN_FORM": urllib.parse.urlencode({"username": email, "password": password})}
