"""`jinlin serve` as real processes: a killed master takes its workers with it, and a port
already served is refused."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from app.core.serving import WATCH_INTERVAL
from tests.conftest import ROOT, SECRET, free_port, unique, unique_phone


def _env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {**os.environ, "JINLIN_DATA_DIR": str(data_dir), "JINLIN_SECURE_COOKIES": "0"}
    for name in ("DATABASE_URL", "JINLIN_EMBEDDED_URL", "JINLIN_SECRET_KEY", "JINLIN_SERVE_PID"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
        env["JINLIN_SECRET_KEY"] = SECRET
    return env


def _jinlin(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
    return result


def _wait(condition: Callable[[], bool], within: float, step: float = 0.2) -> float | None:
    """Seconds until `condition()` held, or None if it did not within `within` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    return None


def _gone(processes: list[psutil.Process]) -> bool:
    return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes)


class Serve:
    """`jinlin serve` in a session of its own (so a test can kill its whole group at the end)."""

    def __init__(self, env: dict[str, str], workers: int = 2, ready: bool = True) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix=f"serve-{self.port}-", suffix=".log")[1])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers: list[psutil.Process] = []
        started = _wait(lambda: self.process.poll() is not None or len(self._workers()) == workers, 120)
        self.workers = self._workers()
        if ready:
            started = _wait(lambda: self.process.poll() is not None or self.answers(), 120)
        if started is None or self.process.poll() is not None:
            self.kill_all()
            raise AssertionError("serve did not start: " + self.tail())

    def _workers(self) -> list[psutil.Process]:
        """The master's forks (not the psql or pg_ctl it may run for the embedded database)."""
        try:
            return [
                child for child in psutil.Process(self.process.pid).children() if "app.cli" in child.cmdline()
            ]
        except psutil.Error:
            return []

    def answers(self, path: str = "/readyz") -> bool:
        try:
            return httpx.get(self.url + path, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> int:
        """A clean stop (Ctrl-C)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill_all()
        return self.process.wait(5)

    def kill_all(self) -> None:
        """Whatever is left of this server: master and workers, even orphaned ones."""
        processes = list(self.workers)
        if self.process.poll() is None:
            processes.append(psutil.Process(self.process.pid))
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.process.wait(5)


@pytest.fixture
def servers() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for serve in started:
        serve.stop()
        serve.kill_all()


def _login(serve: Serve, phone: str, password: str) -> bool:
    """A real API call: log in, then read /api/v1/me with the token."""
    try:
        token = httpx.post(
            serve.url + "/api/v1/auth/token", json={"phone": phone, "password": password}, timeout=5
        )
        if token.status_code != 200:
            return False
        me = httpx.get(
            serve.url + "/api/v1/me",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=5,
        )
        return me.status_code == 200 and me.json()["id"] > 0
    except httpx.HTTPError:
        return False


def _admin(env: dict[str, str]) -> tuple[str, str]:
    phone, password = unique_phone(), "admin-pass-" + unique()
    _jinlin(env, "admin", "create", "--phone", phone, "--password", password, "--community", unique("社区"))
    return phone, password


# ------------------------------------------------------------------ the master, its workers, the port


@pytest.mark.parametrize("ready", [True, False], ids=["serving", "starting"])
def test_workers_exit_when_their_master_is_killed(
    database_url: str, tmp_path: Path, servers: list[Serve], ready: bool
):
    # Killed while serving, or while its workers still start their app (a SIGTERM then hangs a
    # granian worker for good).
    serve = Serve(_env(tmp_path, database_url), workers=2, ready=ready)
    servers.append(serve)
    assert len(serve.workers) == 2
    serve.process.send_signal(signal.SIGKILL)
    serve.process.wait(5)
    gone = _wait(lambda: _gone(serve.workers), WATCH_INTERVAL + 9)
    assert gone is not None, f"orphaned workers still running: {serve.workers}"
    assert not serve.answers(), "nobody may answer on the port of a killed server"


def test_serve_refuses_a_port_something_listens_on(database_url: str, tmp_path: Path):
    # What a killed master's workers (or any granian server) hold: a listener with SO_REUSEPORT,
    # beside which granian's own SO_REUSEPORT sockets would bind without a word.
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _jinlin(_env(tmp_path, database_url), "serve", "--port", str(port), check=False)
    assert result.returncode != 0, result.stdout
    assert f"127.0.0.1:{port} is already in use by pid {os.getpid()}" in result.stderr
    assert "Jinlin on" not in result.stdout
