"""`jinlin serve` as real processes: a killed master takes its workers with it, a port already
served is refused, the embedded PostgreSQL's bookkeeping survives a killed serve, and the app
answers again by itself after PostgreSQL is killed and comes back (embedded: serve starts it
again, after its first start made room for its workers; external: whoever runs it does)."""

from __future__ import annotations

import asyncio
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
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from app.core import connections
from app.core.database import libpq_url, normalise_url
from app.core.serving import WATCH_INTERVAL
from app.core.settings import Settings
from tests.conftest import (
    ROOT,
    SECRET,
    _admin_sql,
    _with_database,
    free_port,
    new_admin,
    unique,
    unique_phone,
)
from tests.integration.helpers import owned_directory, stop_postgres

# The app must answer again within this many seconds of PostgreSQL being back.
RECOVERY = 30.0
# PostgreSQL's default max_connections.
DEFAULT_MAX_CONNECTIONS = 100


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
        # A free port is free only until someone binds it (another test worker's server, or any
        # outgoing connection given it as its local port): a rare clash is retried on another.
        for attempt in range(3):
            if self._start(free_port(), workers, ready):
                return
            if attempt == 2 or "already in use" not in self.tail():
                raise AssertionError("serve did not start: " + self.tail())

    def _start(self, port: int, workers: int, ready: bool) -> bool:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix=f"serve-{self.port}-", suffix=".log")[1])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT,
            env=self.env,
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
            return False
        return True

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
    # Killed, not stopped: what a clean stop does is the embedded test's, and it took seconds.
    for serve in started:
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


# ------------------------------------------------------------------ the embedded database


def _embedded_dir() -> Path:
    # The embedded server runs as its own system user: its directory must be reachable by it.
    base = Path(tempfile.mkdtemp(prefix="jinlin-procs-"))
    base.chmod(0o755)
    return base / "var"


def _postmaster(data_dir: Path) -> psutil.Process | None:
    try:
        pid = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        return process if process.status() != psutil.STATUS_ZOMBIE else None
    except (OSError, ValueError, psutil.Error):
        return None


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = _embedded_dir()
    yield path
    stop_postgres(path)


def _embedded_url(data_dir: Path) -> str:
    return f"postgresql://postgres@/jinlin?host={data_dir / 'pg'}"


def _job_workers(url: str, figure: str = "coalesce(max(id), 0)") -> int:
    """The last job worker procrastinate registered (each registers anew when it starts), or
    another `figure` of its registered workers (`count(*)`: how many are registered now)."""

    async def run() -> int:
        conn = await asyncpg.connect(libpq_url(url))
        try:
            return int(await conn.fetchval(f"SELECT {figure} FROM procrastinate_workers"))  # noqa: S608
        finally:
            await conn.close()

    return asyncio.run(run())


def _max_connections(data_dir: Path) -> int:
    async def read() -> int:
        connection = await asyncpg.connect(host=str(data_dir / "pg"), user="postgres", database="jinlin")
        try:
            return int(await connection.fetchval("SHOW max_connections"))
        finally:
            await connection.close()

    return asyncio.run(read())


def test_embedded_serve_through_kills_and_a_clean_stop(data_dir: Path, servers: list[Serve]):
    """One data directory, in order: serve's first start, which makes room for its workers
    (max_connections), `admin create` beside it, PostgreSQL killed (serve starts it again and
    the app answers by itself), the master killed (its workers exit, PostgreSQL stays for the
    next serve), a second serve, and its clean stop, which stops PostgreSQL although the killed
    master never released it."""
    env = _env(data_dir)
    workers = 3  # with the jobs, past PostgreSQL's default of 100 connections
    want = connections.needed(Settings(None, data_dir, "", secure_cookies=False), workers)
    assert want > DEFAULT_MAX_CONNECTIONS
    serve = Serve(env, workers=workers)
    servers.append(serve)
    assert _max_connections(data_dir) >= want + connections.HEADROOM
    assert "PostgreSQL has room for" not in serve.tail()
    phone, password = _admin(env)  # beside the running serve, as API.md says
    assert _login(serve, phone, password)
    first = _postmaster(data_dir)
    assert first is not None, "admin create's exit leaves serve's server running"
    job_worker = _job_workers(_embedded_url(data_dir))
    assert job_worker > 0, "serve runs the jobs in one of its workers"

    first.kill()
    first.wait(5)
    killed = time.monotonic()
    assert _wait(lambda: _postmaster(data_dir) is not None, RECOVERY) is not None, serve.tail()
    restarted = _postmaster(data_dir)
    assert restarted != first
    answered = _wait(lambda: serve.answers() and _login(serve, phone, password), RECOVERY)
    assert answered is not None, f"no answer within {RECOVERY} s of the restart: {serve.tail()}"
    print(f"embedded: answered {time.monotonic() - killed:.1f} s after PostgreSQL was killed")
    # The jobs run again too: a new job worker registers.
    assert _wait(lambda: _job_workers(_embedded_url(data_dir)) > job_worker, RECOVERY) is not None, (
        serve.tail()
    )

    serve.process.send_signal(signal.SIGKILL)
    serve.process.wait(5)
    assert _wait(lambda: _gone(serve.workers), WATCH_INTERVAL + 9) is not None, (
        f"orphaned workers: {serve.workers}"
    )
    assert not serve.answers(), "nobody may answer on the port of a killed server"
    assert _postmaster(data_dir) == restarted, "a killed serve leaves PostgreSQL to the next one"

    second = Serve(env, workers=1)
    servers.append(second)
    assert _postmaster(data_dir) == restarted, "the second serve joins the running server"
    assert _login(second, phone, password)
    assert second.stop() is not None
    assert _wait(lambda: _postmaster(data_dir) is None, 20) is not None, second.tail()


# ------------------------------------------------------------------ an external database


@pytest.fixture
def external_postgres() -> Iterator[tuple[Any, str]]:
    """A PostgreSQL of this test's own (the session's server must not be killed)."""
    import pgserver  # lazily, as in tests/conftest.py: only an embedded server needs it

    base = owned_directory("jinlin-external-")  # stopped by a later run if this one is killed
    server = pgserver.get_server(base / "pg", cleanup_mode="delete")
    admin_url = normalise_url(server.get_uri()).replace("postgres:@", "postgres@")
    _admin_sql(admin_url, "CREATE DATABASE jinlin")
    yield server, _with_database(admin_url, "jinlin")
    server.cleanup()


def _start_again(server: Any) -> None:
    """Start the killed server again: its orphaned backends hold the old shared memory for a
    moment, during which PostgreSQL refuses to start."""
    deadline = time.monotonic() + 20
    while True:
        try:
            with server._lock:
                server.ensure_postgres_running()
            return
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _accepts(url: str) -> bool:
    try:
        _admin_sql(url, "SELECT 1")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    return True


def test_app_answers_again_after_external_postgres_comes_back(
    external_postgres: tuple[Any, str], tmp_path: Path, servers: list[Serve], request: pytest.FixtureRequest
):
    server, url = external_postgres
    env = _env(tmp_path, url)
    # Once serve has migrated the database and forked its workers, `jinlin worker` and the admin
    # are started while those workers start their app, not after.
    serve = Serve(env, workers=2, ready=False)
    servers.append(serve)
    # `jinlin worker` beside it, as docker compose runs it.
    worker_log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=worker_log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    request.addfinalizer(lambda: (worker.kill(), worker.wait(5)))
    # The admin is made in this process (new_admin): what the command does beside a serve is the
    # embedded test's above, and starting it cost about 2.5 CPU-s.
    phone, password, _community = new_admin(url)
    assert _wait(serve.answers, 120) is not None, serve.tail()
    for _ in range(6):  # every worker's pools hold connections now
        assert serve.answers()
        assert _login(serve, phone, password)
    # Both job workers (serve's one, whichever of its two processes has the turn, and `jinlin
    # worker`) have registered on this database of the test's own. Counted, not compared with a
    # count read earlier: `jinlin worker` may have registered before that read, and none would
    # come after it. Serve's other process stands by: no third registers in the next seconds.
    assert _wait(lambda: _job_workers(url, "count(*)") >= 2, 60) is not None, worker_log.read_text()
    assert _wait(lambda: _job_workers(url, "count(*)") > 2, 3, step=0.5) is None, "one job worker per serve"
    job_worker = _job_workers(url)

    postgres = psutil.Process(server.get_pid())
    postgres.kill()
    postgres.wait(5)
    _start_again(server)
    assert _wait(lambda: _accepts(url), RECOVERY) is not None
    back = time.monotonic()
    # The connections the workers held died with the old server: none of them may fail a
    # request now (the pool checks a connection before handing it out).
    answers = [serve.answers() for _ in range(8)]
    assert all(answers), f"requests failed right after PostgreSQL was back: {answers}"
    answered = _wait(lambda: _login(serve, phone, password), RECOVERY)
    assert answered is not None, f"no answer within {RECOVERY} s of PostgreSQL being back: {serve.tail()}"
    print(f"external: answered {time.monotonic() - back:.1f} s after PostgreSQL was back")
    # Jobs run again: serve's job worker and `jinlin worker` each register a new one.
    assert _wait(lambda: _job_workers(url) >= job_worker + 2, RECOVERY) is not None, serve.tail()
    assert worker.poll() is None, worker_log.read_text(errors="replace")[-3000:]
    assert serve.process.poll() is None
