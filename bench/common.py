"""What the benchmarks share: a `jinlin serve` on a temporary embedded PostgreSQL, the pgbench
"raw PostgreSQL" reference, latency summaries, set-up through the CLI and the API, and a check
that counts every answer of a measured load phase."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from loadgen import Result

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
_PGSERVER = importlib.util.find_spec("pgserver")
assert _PGSERVER is not None and _PGSERVER.origin is not None, "pgserver is not installed"
PGBIN = Path(_PGSERVER.origin).parent / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def random_phone(prefix: str = "137") -> str:
    return prefix + str(secrets.randbelow(10**8)).zfill(8)


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    data_dir: Path

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://postgres@/jinlin?host={self.socket_dir}"


@contextmanager
def server(workers: int, prefix: str) -> Iterator[Server]:
    """`jinlin serve --workers N` on a fresh embedded PostgreSQL in a temporary data directory,
    ready (GET /readyz answers 200) when this yields; stopped and removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    data_dir.chmod(0o755)  # the embedded PostgreSQL may run as another user
    port = free_port()
    env = {
        **os.environ,
        "JINLIN_DATA_DIR": str(data_dir),
        "JINLIN_SECURE_COOKIES": "0",
        "JINLIN_JOBS_IN_PROCESS": "0",
    }
    for name in ("DATABASE_URL", "JINLIN_EMBEDDED_URL", "JINLIN_SECRET_KEY"):
        env.pop(name, None)
    log = data_dir / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(proc, url, log)
        yield Server(url, env, data_dir)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not become ready")


def summary(count: int, seconds: float, latencies: list[float]) -> dict[str, float]:
    """Throughput and the p50/p99 latency in ms of `count` operations in `seconds`."""
    ordered = sorted(latencies) or [0.0]
    return {
        "tps": count / seconds if seconds else 0.0,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def show(name: str, figures: dict[str, float]) -> dict[str, float]:
    print(
        f"{name:<34} {figures['tps']:9.0f} transfers/s   "
        f"p50 {figures['p50_ms']:7.2f} ms   p99 {figures['p99_ms']:7.2f} ms"
    )
    return figures


# pgbench_transfer.sql's tables: made before each pgbench run, dropped after it.
TRANSFER_SCRIPT = BENCH / "pgbench_transfer.sql"
TRANSFER_SETUP = (
    "DROP TABLE IF EXISTS bench_accounts, bench_transfers;"
    "CREATE TABLE bench_accounts (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));"
    "CREATE TABLE bench_transfers (id bigserial PRIMARY KEY, debit bigint, credit bigint, "
    "amount bigint CHECK (amount > 0), created_at timestamptz);"
    "INSERT INTO bench_accounts SELECT g, 1000000000 FROM generate_series(1, 2000) g;"
)
TRANSFER_TEARDOWN = "DROP TABLE bench_accounts, bench_transfers;"


# Every measured phase, raw PostgreSQL's and the app's alike, starts warm: after the set-up has
# made its rows, ANALYZE gives the planner the statistics a database that has been running a
# while has (a fresh table's plans otherwise assume it is empty), and the same load runs for a
# few seconds unmeasured, so that connections are open, statements prepared and caches filled.
WARMUP_SECONDS = 3


def _psql(srv: Server) -> list[str]:
    host = ["-h", str(srv.socket_dir), "-U", "postgres"]
    return [str(PGBIN / "psql"), *host, "-d", "jinlin", "-q", "-v", "client_min_messages=warning", "-c"]


def analyze(srv: Server) -> None:
    subprocess.run([*_psql(srv), "ANALYZE"], check=True, capture_output=True)


def pgbench(srv: Server, clients: int, seconds: float, name: str | None = None) -> dict[str, float]:
    """Raw PostgreSQL: pgbench runs pgbench_transfer.sql on the server's database, after a
    warm-up like every phase's; printed if `name` is given."""
    host = ["-h", str(srv.socket_dir), "-U", "postgres"]
    psql = _psql(srv)
    subprocess.run(
        [*psql, TRANSFER_SETUP + "ANALYZE bench_accounts, bench_transfers;"], check=True, capture_output=True
    )
    log_dir = Path(tempfile.mkdtemp(prefix="pgbench-", dir=srv.data_dir))
    try:
        subprocess.run(
            [
                *(str(PGBIN / "pgbench"), *host, "-n", "-c", str(clients), "-j", "2"),
                *("-T", str(WARMUP_SECONDS), "-f", str(TRANSFER_SCRIPT), "jinlin"),
            ],
            capture_output=True,
            check=True,
        )
        out = subprocess.run(
            [
                *(str(PGBIN / "pgbench"), *host, "-n", "-c", str(clients), "-j", "2"),
                *("-T", str(max(1, round(seconds))), "-f", str(TRANSFER_SCRIPT)),
                *("-l", "--log-prefix", str(log_dir / "tx"), "jinlin"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        subprocess.run([*psql, TRANSFER_TEARDOWN], check=True, capture_output=True)
    match = re.search(r"tps = ([\d.]+)", out)
    assert match, out
    tps = float(match.group(1))
    latencies = [int(line.split()[2]) / 1e6 for f in log_dir.iterdir() for line in f.read_text().splitlines()]
    shutil.rmtree(log_dir)
    figures = summary(len(latencies), len(latencies) / tps if tps else 1.0, latencies)
    return show(name, figures) if name else figures


@dataclass(frozen=True)
class Admin:
    phone: str
    password: str
    community_id: int


def reference_pgbench(srv: Server, seconds: float) -> float:
    """The raw PostgreSQL figure the check-in and order benches are measured against: the ledger
    bench's part (a), with its 32 clients (200 would exceed PostgreSQL's connection limit)."""
    return pgbench(srv, 32, seconds, "(a) pgbench, raw SQL, 32 clients")["tps"]


@dataclass
class Reference:
    """Raw PostgreSQL measured around the app's phases: once before the first and once after
    each, and each phase is compared with the mean of the two measurements next to it. A shared
    machine's speed drifts during a run (pgbench alone measured 4,012 and 5,796 tps in two runs
    a few minutes apart), so a single measurement at the start made a phase's ratio depend on
    when the phase ran. With `fixed`, that figure stands in for every measurement."""

    srv: Server
    seconds: float
    clients: int = 32
    fixed: float | None = None
    figures: list[float] = field(default_factory=list)

    def measure(self) -> float:
        if self.fixed is not None:
            return self.fixed
        name = f"(a) pgbench, raw SQL, {self.clients} clients"
        self.figures.append(pgbench(self.srv, self.clients, self.seconds, name)["tps"])
        return self.figures[-1]

    def around_last_phase(self) -> float:
        """Measures again; the raw figure for the phase that just ran."""
        if self.fixed is not None:
            return self.fixed
        before = self.figures[-1]
        return (before + self.measure()) / 2


def create_admin(srv: Server) -> Admin:
    """A community admin (and a new community) through `jinlin admin create`."""
    phone, password = random_phone("139"), "bench-" + secrets.token_hex(6)
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "admin", "create", "--phone", phone, "--password", password]
        + ["--community", "基准社区" + secrets.token_hex(3), "--street", "基准街道"],
        cwd=ROOT,
        env=srv.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return Admin(phone, password, int(json.loads(out.strip().splitlines()[-1])["community_id"]))


async def login(http: httpx.AsyncClient, phone: str, password: str) -> dict[str, str]:
    """Bearer headers for a password login."""
    r = await http.post("/api/v1/auth/token", json={"phone": phone, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def open_event(
    http: httpx.AsyncClient, community_id: int | str, admin: dict[str, str], title: str
) -> int:
    """A cleanup under way for the next twelve hours, with nobody to sign up first and no
    organiser to confirm a scan, which everyone may leave and enter again: the scan benches'."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    r = await http.post(
        f"/api/v1/communities/{community_id}/events",
        headers=admin,
        json={
            "title": title,
            "category": "cleanup",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=12)).isoformat(),
            "capacity": None,
            "points_per_attendance": 1,
            "points_per_hour": 10,
            "signup_required": False,
            "reentry_allowed": True,
            "kiosk_confirmation": False,
        },
    )
    r.raise_for_status()
    return int(r.json()["id"])


@dataclass(frozen=True)
class Resident:
    user_id: int
    headers: dict[str, str]  # empty unless logged in


async def add_residents(
    http: httpx.AsyncClient, community_id: int, admin: dict[str, str], count: int, log_in: bool = True
) -> list[Resident]:
    """`count` new residents of the community, eight created at a time; logged in if `log_in`."""
    sem = asyncio.Semaphore(8)

    async def one(n: int) -> Resident:
        async with sem:
            phone, password = random_phone(), "resident-" + secrets.token_hex(4)
            r = await http.post(
                f"/api/v1/communities/{community_id}/residents",
                headers=admin,
                json={"phone": phone, "display_name": f"居民{n}", "password": password},
            )
            r.raise_for_status()
            headers = await login(http, phone, password) if log_in else {}
            return Resident(int(r.json()["user_id"]), headers)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


@dataclass
class Tally:
    """A loadgen `check`: counts every answer under the label `classify` gives it; None marks an
    unexpected answer, counted as "unexpected" with the first few kept for the report."""

    classify: Callable[[int, Any], str | None]
    counts: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def __call__(self, status: int, answer: Any) -> None:
        label = self.classify(status, answer)
        if label is None:
            label = "unexpected"
            if len(self.samples) < 3:
                self.samples.append(f"{status} {str(answer)[:300]}")
        self.counts[label] += 1

    def report(self, result: Result) -> str:
        """One line: the answers by status, the non-2xx count and the number of unexpected ones,
        of which the first few go to stderr."""
        for sample in self.samples:
            print(f"unexpected answer: {sample}", file=sys.stderr)
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items()))
        return f"statuses {{{statuses}}}, non-2xx {non_2xx(result)}, unexpected {self.counts['unexpected']}"


def non_2xx(result: Result) -> int:
    return sum(n for status, n in result.statuses.items() if not 200 <= status < 300)
