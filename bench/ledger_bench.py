"""Ledger throughput and latency, as a ratio to raw PostgreSQL (issue 3's benchmark).

    uv run python bench/ledger_bench.py                          # 32 clients, 15 s per part
    uv run python bench/ledger_bench.py --clients 8 --seconds 3  # a quick smoke run

In one run on one embedded PostgreSQL (a temporary data directory, `jinlin serve --workers 2`):
  (a) pgbench with bench/pgbench_transfer.sql: a row-locked debit, a credit and an insert per
      transaction;
  (b) app.ledger.services.award called from --clients concurrent asyncio tasks in this process,
      one transaction per transfer (AsyncSession + the ledger's Core statements);
  (c) POST /api/v1/communities/{id}/awards over HTTP from --clients concurrent clients.
Prints transfers/s, p50 and p99 latency for each and the ratios b/a and c/a (targets: b/a >= 0.5,
c/a >= 0.3 on a 2-core machine). The load generators run on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PGBIN = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
PGBIN = PGBIN / "site-packages" / "pgserver" / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def summary(name: str, count: int, seconds: float, latencies: list[float]) -> dict[str, float]:
    latencies = sorted(latencies) or [0.0]
    result = {
        "tps": count / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }
    print(
        f"{name:<34} {result['tps']:9.0f} transfers/s   "
        f"p50 {result['p50_ms']:7.2f} ms   p99 {result['p99_ms']:7.2f} ms"
    )
    return result


def start_server(data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "JINLIN_DATA_DIR": str(data_dir),
        "JINLIN_SECURE_COOKIES": "0",
        "JINLIN_JOBS_IN_PROCESS": "0",
    }
    for name in ("DATABASE_URL", "JINLIN_EMBEDDED_URL", "JINLIN_SECRET_KEY"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=(data_dir / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited; see {data_dir / 'server.log'}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url, env
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not become ready")


def pgbench(socket_dir: Path, clients: int, seconds: int, work: Path) -> dict[str, float]:
    psql = [
        str(PGBIN / "psql"),
        "-h",
        str(socket_dir),
        "-U",
        "postgres",
        "-d",
        "jinlin",
        "-q",
        "-v",
        "client_min_messages=warning",
        "-c",
    ]
    subprocess.run(
        [
            *psql,
            "DROP TABLE IF EXISTS bench_accounts, bench_transfers;"
            "CREATE TABLE bench_accounts (id bigint PRIMARY KEY, "
            "balance bigint NOT NULL CHECK (balance >= 0));"
            "CREATE TABLE bench_transfers (id bigserial PRIMARY KEY, debit bigint, credit bigint, "
            "amount bigint CHECK (amount > 0), created_at timestamptz);"
            "INSERT INTO bench_accounts SELECT g, 1000000000 FROM generate_series(1, 2000) g;",
        ],
        check=True,
    )
    log_dir = work / "pgbench"
    log_dir.mkdir()
    out = subprocess.run(
        [
            str(PGBIN / "pgbench"),
            "-h",
            str(socket_dir),
            "-U",
            "postgres",
            "-n",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            str(ROOT / "bench" / "pgbench_transfer.sql"),
            "-l",
            "--log-prefix",
            str(log_dir / "tx"),
            "jinlin",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latencies = [
        int(line.split()[2]) / 1e6 for f in log_dir.iterdir() for line in f.read_text().splitlines() if line
    ]
    result = summary("(a) pgbench, raw SQL", len(latencies), len(latencies) / tps if tps else 1, latencies)
    subprocess.run([*psql, "DROP TABLE bench_accounts, bench_transfers;"], check=True)
    return result


async def ledger_direct(url: str, clients: int, seconds: int) -> dict[str, float]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app.ledger import services

    engine = create_async_engine(url, pool_size=clients, max_overflow=0)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    community = 4_000_000_000 + secrets.randbelow(10**6)
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def task(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            async with sessions() as session, session.begin():
                await services.award(
                    session,
                    community_id=community,
                    user_id=n + 1,
                    points=1,
                    kind="award",
                    reference="bench",
                    memo="bench",
                    actor_id=None,
                    idempotency_key=f"bench:{community}:{n}:{i}",
                )
            latencies.append(time.perf_counter() - started)
            i += 1

    began = time.monotonic()
    await asyncio.gather(*(task(n) for n in range(clients)))
    elapsed = time.monotonic() - began
    await engine.dispose()
    return summary("(b) ledger.award, in process", len(latencies), elapsed, latencies)


async def awards_api(url: str, env: dict[str, str], clients: int, seconds: int) -> dict[str, float]:
    phone = "139" + str(secrets.randbelow(10**8)).zfill(8)
    password = "bench-" + secrets.token_hex(6)
    out = subprocess.run(  # noqa: ASYNC221 - set-up, before the clock starts
        [
            sys.executable,
            "-m",
            "app.cli",
            "admin",
            "create",
            "--phone",
            phone,
            "--password",
            password,
            "--community",
            "基准社区" + secrets.token_hex(3),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ids = json.loads(out.strip().splitlines()[-1])
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=httpx.Limits(max_connections=clients)
    ) as http:
        token = (await http.post("/api/v1/auth/token", json={"phone": phone, "password": password})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        base = f"/api/v1/communities/{ids['community_id']}"
        residents = []
        for n in range(clients):
            r = await http.post(
                f"{base}/residents",
                json={"phone": "137" + str(secrets.randbelow(10**8)).zfill(8), "display_name": f"居民{n}"},
                headers=headers,
            )
            residents.append(r.json()["user_id"])
        stop = time.monotonic() + seconds

        async def client(n: int) -> None:
            i = 0
            while time.monotonic() < stop:
                body = {
                    "user_id": residents[n],
                    "points": 1,
                    "reason": "六清",
                    "idempotency_key": f"b{n}-{i}",
                }
                started = time.perf_counter()
                response = await http.post(f"{base}/awards", json=body, headers=headers)
                if response.status_code != 201:
                    raise SystemExit(f"award failed: {response.status_code} {response.text}")
                latencies.append(time.perf_counter() - started)
                i += 1

        began = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.monotonic() - began
    return summary("(c) POST .../awards over HTTP", len(latencies), elapsed, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jinlin-ledger-bench-"))
    proc, url, env = start_server(work, args.workers)
    try:
        socket_dir = work / "pg"
        db_url = f"postgresql+asyncpg://postgres@/jinlin?host={socket_dir}"
        print(
            f"{args.clients} clients, {args.seconds} s each, "
            f"server with {args.workers} workers, data in {work}"
        )
        a = pgbench(socket_dir, args.clients, args.seconds, work)
        b = asyncio.run(ledger_direct(db_url, args.clients, args.seconds))
        c = asyncio.run(awards_api(url, env, args.clients, args.seconds))
        print(f"ratio b/a = {b['tps'] / a['tps']:.2f} (target >= 0.5)")
        print(f"ratio c/a = {c['tps'] / a['tps']:.2f} (target >= 0.3)")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
