"""The `jinlin` command on the embedded database: serve, admin create beside a running serve,
demo twice, db upgrade; stopping serve stops PostgreSQL and a second start reuses the data."""

from __future__ import annotations

import asyncio
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

from tests.conftest import ROOT, free_port, unique_phone


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "JINLIN_DATA_DIR": str(data_dir)}
    for name in ("DATABASE_URL", "JINLIN_EMBEDDED_URL", "JINLIN_SECRET_KEY", "JINLIN_SECURE_COOKIES"):
        env.pop(name, None)
    return env


def _jinlin(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
    return result


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
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


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
    if _postgres_running(base / "var"):
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import pgserver,sys; pgserver.get_server(sys.argv[1], cleanup_mode='stop').cleanup()",
                str(base / "var" / "pg"),
            ],
            check=False,
            timeout=60,
        )


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

    # A second start reuses the data: the admin made before still logs in.
    second = Serve(data_dir)
    try:
        token = httpx.post(second.url + "/api/v1/auth/token", json={"phone": phone, "password": password})
        assert token.status_code == 200, token.text
    finally:
        second.stop()
    deadline = time.monotonic() + 20
    while _postgres_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_running(data_dir)
