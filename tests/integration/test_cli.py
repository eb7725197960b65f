"""The `jinlin` command on the embedded database: serve, admin create beside a running serve,
demo twice, db upgrade; stopping serve stops PostgreSQL, and a second start reuses the data,
beside a process holding the server, which its stop leaves running for it; the teardown stops a
server left running, and never starts one.

`serve` runs as the real entry point (`python -m app.cli`) in processes of its own; the commands
beside it run in this process through click's runner, on the server serve started, as a `jinlin`
command started by serve would (JINLIN_EMBEDDED_URL): each started as a process cost about a
CPU-second of Python and the app's imports before its work. A real `admin create` process
joining a running serve's server, whose exit leaves it running, is
tests/integration/test_processes.py's."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from click.testing import CliRunner, Result
from pgserver._commands import POSTGRES_BIN_PATH

from app import cli
from tests.conftest import ROOT, free_port, unique_phone
from tests.integration.helpers import postmaster, stop_postgres


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "JINLIN_DATA_DIR": str(data_dir)}
    for name in ("DATABASE_URL", "JINLIN_EMBEDDED_URL", "JINLIN_SECRET_KEY", "JINLIN_SECURE_COOKIES"):
        env.pop(name, None)
    return env


def _jinlin(data_dir: Path, *args: str) -> Result:
    """`jinlin *args` in this process, on the embedded server a running serve holds in `data_dir`.
    In a thread of its own: sync Playwright may keep an event loop running in this one, and the
    commands run theirs (asyncio.run)."""
    env: dict[str, str | None] = {name: None for name in os.environ.keys() - _env(data_dir).keys()}
    # The runner sets these for the command and puts back what was there after it.
    env |= {"JINLIN_DATA_DIR": str(data_dir), "JINLIN_EMBEDDED_URL": _embedded_url(data_dir)}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        result = pool.submit(CliRunner().invoke, cli.main, list(args), env=env).result()
    assert result.exit_code == 0, (args, result.output[-3000:], result.exception)
    return result


def _embedded_url(data_dir: Path) -> str:
    """The URL serve's processes use for the server it started (postmaster.pid names its socket
    directory), as serve hands it to the commands it starts."""
    socket_dir = (data_dir / "pg" / "postmaster.pid").read_text().splitlines()[4]
    return f"postgresql+asyncpg://postgres@/jinlin?host={socket_dir}"


class Serve:
    def __init__(self, data_dir: Path) -> None:
        # A free port is free only until someone binds it (another test worker's server, or any
        # outgoing connection given it as its local port): a rare clash is retried on another.
        for attempt in range(3):
            if self._start(data_dir, free_port()):
                return
            if attempt == 2 or "already in use" not in self.log.read_text():
                raise AssertionError("serve exited: " + self.log.read_text()[-3000:])

    def _start(self, data_dir: Path, port: int) -> bool:
        """False when the server exited before it was ready."""
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=_env(data_dir),
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("serve did not become ready: " + self.log.read_text()[-3000:])

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


def _postgres_running(data_dir: Path) -> bool:
    return postmaster(data_dir) is not None


def _counts(data_dir: Path) -> dict[str, int]:
    async def run() -> dict[str, int]:
        conn = await asyncpg.connect(host=str(data_dir / "pg"), user="postgres", database="jinlin")
        try:
            return {
                table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
                for table in ("streets", "communities", "compounds", "buildings", "users", "memberships")
            }
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.fixture
def data_dir():
    # The embedded server runs as its own system user: its directory must be reachable by it.
    base = Path(tempfile.mkdtemp(prefix="jinlin-cli-"))
    base.chmod(0o755)
    yield base / "var"
    stop_postgres(base / "var")


def test_cli_on_the_embedded_database(data_dir: Path):
    serve = Serve(data_dir)
    try:
        assert _postgres_running(data_dir)
        assert (data_dir / "secret_key").exists()
        phone, password = unique_phone(), "cli-admin-pass"
        created = _jinlin(
            data_dir, "admin", "create", "--phone", phone, "--password", password, "--community", "测试社区"
        )
        ids = json.loads(created.stdout.strip().splitlines()[-1])
        assert set(ids) == {"user_id", "community_id", "street_id"}
        assert all(isinstance(v, int) for v in ids.values())
        # The running server sees the new admin at once (same embedded database, same secret).
        token = httpx.post(serve.url + "/api/v1/auth/token", json={"phone": phone, "password": password})
        assert token.status_code == 200, token.text
        me = httpx.get(
            serve.url + "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert me.json()["memberships"][0]["community_id"] == ids["community_id"]

        first = _jinlin(data_dir, "demo")
        counts = _counts(data_dir)
        assert "13800000001" in first.stdout and "jinlin2026" in first.stdout
        second = _jinlin(data_dir, "demo")
        assert _counts(data_dir) == counts
        assert second.stdout == first.stdout
        assert counts["compounds"] >= 3 and counts["users"] >= 9
        demo_login = httpx.post(
            serve.url + "/api/v1/auth/token", json={"phone": "13800000001", "password": "jinlin2026"}
        )
        assert demo_login.status_code == 200

        upgraded = _jinlin(data_dir, "db", "upgrade")
        assert "latest" in upgraded.stdout
    finally:
        code = serve.stop()
    assert code is not None
    # Stopping serve stops the embedded PostgreSQL (no helper left holding it).
    deadline = time.monotonic() + 20
    while _postgres_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_running(data_dir), serve.log.read_text()[-2000:]

    # A second start reuses the data: the admin made before still logs in. It joins the server
    # that a `jinlin` command started and holds (as admin create does), and its stop leaves the
    # server to that command: the last process using it stops it.
    holder = _holder(data_dir)
    try:
        second = Serve(data_dir)
        try:
            token = httpx.post(second.url + "/api/v1/auth/token", json={"phone": phone, "password": password})
            assert token.status_code == 200, token.text
        finally:
            assert second.stop() is not None
        assert _postgres_running(data_dir), "serve stopped the server another process uses"
    finally:
        holder.communicate(timeout=60)
    deadline = time.monotonic() + 20
    while _postgres_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_running(data_dir), "the last process using the server stopped it"


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    """A process holding the embedded server, as a `jinlin` command does while it runs, until
    its stdin closes."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from app.core.database import start_embedded;"
            " start_embedded(Path(sys.argv[1])); print('held', flush=True); sys.stdin.read()",
            str(data_dir),
        ],
        cwd=ROOT,
        env=_env(data_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_the_teardown_stops_a_server_whose_holder_was_killed(data_dir: Path):
    # A `jinlin` process killed while it holds the embedded server (a serve killed by a test's
    # kill_all, or by a timeout) leaves the server running, and its pid on pgserver's own list.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys; from pathlib import Path; from app.core.database import start_embedded;"
            " start_embedded(Path(sys.argv[1])); os.kill(os.getpid(), signal.SIGKILL)",
            str(data_dir),
        ],
        cwd=ROOT,
        env=_env(data_dir),
        check=False,
        timeout=120,
    )
    assert _postgres_running(data_dir)
    stop_postgres(data_dir)
    assert not _postgres_running(data_dir), (data_dir / "pg" / "log").read_text()[-2000:]


def test_the_teardown_never_starts_a_server_stopping_beside_it(data_dir: Path):
    # The server runs with nobody holding it; its clean stop begins just after the teardown
    # began: at once, or after it has seen the server running (at several delays, as the
    # teardown's moment of looking is not known from outside).
    data_dir.mkdir(parents=True)
    pgdata = data_dir / "pg"
    delays = (0.0, 0.05, 0.1, 0.2, 0.3)
    for delay in delays:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import pgserver, sys; pgserver.get_server(sys.argv[1], cleanup_mode=None)",
                pgdata,
            ],
            check=True,
            timeout=120,
        )
        user = pgdata.owner() if os.geteuid() == 0 else None  # pg_ctl refuses to run as root
        assert _postgres_running(data_dir)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            teardown = pool.submit(stop_postgres, data_dir)
            time.sleep(delay)
            clean_stop = pool.submit(
                subprocess.run,
                [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
                user=user,
                capture_output=True,
                timeout=60,
            )
            clean_stop.result()
            teardown.result()
        log = (pgdata / "log").read_text()
        assert not _postgres_running(data_dir), (delay, log[-2000:])
    # One start a round: the teardown never started the server again.
    assert log.count("database system is ready to accept connections") == len(delays), log[-3000:]
