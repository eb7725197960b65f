"""Check-ins per second through POST /api/v1/scans, p50/p99, as a ratio to raw PostgreSQL.

    uv run python bench/checkin_bench.py                        # 64 and 200 clients, 20 s each
    uv run python bench/checkin_bench.py --clients 8 --seconds 3 --residents 16   # a quick smoke run
    uv run python bench/checkin_bench.py --raw-tps 5400         # ratio to the ledger bench's pgbench figure

It starts `jinlin serve --workers 2` on a fresh embedded PostgreSQL (a temporary data directory),
makes a community, residents and one event (no sign-up, re-entry allowed), then each client is
one resident scanning the event's kiosk code: check in, check out, check in, ... (a check-out
also awards points through the ledger). The kiosk code is refreshed every 10 s like a kiosk.
Unless --raw-tps is given, raw PostgreSQL is measured with pgbench on the same server, same
client count, running the check-in's own statements (insert the stay, log the scan) as plain SQL.
The load generator runs on the same machine, so it competes for the same cores.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
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


def admin_create(env: dict[str, str]) -> tuple[str, str, int]:
    phone = "139" + str(secrets.randbelow(10**8)).zfill(8)
    password = "bench-" + secrets.token_hex(6)
    out = subprocess.run(
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
            "压测社区",
            "--street",
            "压测街道",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return phone, password, int(json.loads(out.stdout.strip().splitlines()[-1])["community_id"])


async def setup(
    url: str, env: dict[str, str], residents: int
) -> tuple[dict[str, str], list[dict[str, str]], int]:
    phone, password, community_id = admin_create(env)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        token = (await http.post("/api/v1/auth/token", json={"phone": phone, "password": password})).json()
        admin = {"Authorization": f"Bearer {token['access_token']}"}
        start = datetime.now(UTC) - timedelta(minutes=5)
        event = await http.post(
            f"/api/v1/communities/{community_id}/events",
            headers=admin,
            json={
                "title": "压测六清",
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
        event.raise_for_status()
        event_id = int(event.json()["id"])
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> dict[str, str]:
            async with sem:
                p = "137" + str(secrets.randbelow(10**8)).zfill(8)
                pw = "res-" + secrets.token_hex(6)
                r = await http.post(
                    f"/api/v1/communities/{community_id}/residents",
                    headers=admin,
                    json={"phone": p, "display_name": f"居民{i}", "password": pw},
                )
                r.raise_for_status()
                t = (await http.post("/api/v1/auth/token", json={"phone": p, "password": pw})).json()
                return {"Authorization": f"Bearer {t['access_token']}"}

        people = await asyncio.gather(*[one(i) for i in range(residents)])
    return admin, list(people), event_id


async def run_load(
    url: str, admin: dict[str, str], people: list[dict[str, str]], event_id: int, clients: int, seconds: float
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        codes: dict[str, str] = {}

        async def refresh() -> None:
            for action in ("checkin", "checkout"):
                r = await http.get(
                    f"/api/v1/events/{event_id}/code", params={"action": action}, headers=admin
                )
                codes[action] = r.json()["code"]

        await refresh()
        stop = time.monotonic() + seconds
        latencies: list[float] = []
        checkins = 0
        errors = 0

        async def kiosk() -> None:
            while time.monotonic() < stop:
                await asyncio.sleep(10)
                await refresh()

        async def client(headers: dict[str, str]) -> None:
            nonlocal checkins, errors
            action = "checkin"
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                r = await http.post("/api/v1/scans", json={"code": codes[action]}, headers=headers)
                latencies.append(time.perf_counter() - t0)
                result = r.json().get("result")
                if r.status_code == 200 and result == "checked_in":
                    checkins += 1
                elif r.status_code != 200 and r.json().get("code") != "already_done":
                    errors += 1
                action = "checkout" if action == "checkin" else "checkin"

        started = time.monotonic()
        kiosk_task = asyncio.create_task(kiosk())
        await asyncio.gather(*[client(people[i % len(people)]) for i in range(clients)])
        kiosk_task.cancel()
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "clients": clients,
        "scans_per_s": len(latencies) / elapsed,
        "checkins_per_s": checkins / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "errors": errors,
    }


RAW_SCRIPT = """\\set u random(1, 1000000)
BEGIN;
INSERT INTO bench_raw_checkins (event_id, user_id, at) VALUES (1, :u, now()) ON CONFLICT DO NOTHING;
INSERT INTO bench_raw_scans (user_id, at, result) VALUES (:u, now(), 'checked_in');
END;
"""


def raw_pgbench(data_dir: Path, clients: int, seconds: int) -> float:
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("pgbench is not installed; pass --raw-tps")
    host = str(data_dir / "pg")
    base = [f"--host={host}", "--username=postgres", "jinlin"]
    psql = shutil.which("psql") or "psql"
    subprocess.run(
        [
            psql,
            *base,
            "-q",
            "-c",
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw_checkins (event_id bigint, user_id bigint, "
            "at timestamptz, UNIQUE (event_id, user_id)); "
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw_scans (id bigserial PRIMARY KEY, "
            "user_id bigint, at timestamptz, result text); TRUNCATE bench_raw_checkins, bench_raw_scans;",
        ],
        check=True,
        capture_output=True,
    )
    script = data_dir / "raw.sql"
    script.write_text(RAW_SCRIPT)
    out = subprocess.run(
        [
            pgbench,
            *base[:-1],
            "-n",
            "-f",
            str(script),
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "jinlin",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([\d.]+)", out.stdout)
    assert match, out.stdout
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[64, 200])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--raw-tps", type=float, default=None, help="raw PostgreSQL tps from the ledger bench"
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="jinlin-bench-"))
    data_dir.chmod(0o755)
    proc, url, env = start_server(data_dir, args.workers)
    try:
        admin, people, event_id = asyncio.run(setup(url, env, args.residents))
        for clients in args.clients:
            figures = asyncio.run(run_load(url, admin, people, event_id, clients, args.seconds))
            raw = args.raw_tps or raw_pgbench(data_dir, clients, max(2, int(args.seconds)))
            figures["raw_pg_tps"] = raw
            figures["ratio"] = figures["scans_per_s"] / raw
            print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
