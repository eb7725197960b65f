"""Store orders per second through POST /api/v1/orders, p50/p99, as a ratio to raw PostgreSQL.

    uv run python bench/order_bench.py                          # 64 and 200 clients, 20 s each
    uv run python bench/order_bench.py --clients 8 --seconds 3  # a quick smoke run
    uv run python bench/order_bench.py --raw-tps 5400           # ratio to a known pgbench figure

It starts `jinlin serve --workers 2` on a fresh embedded PostgreSQL (a temporary data directory),
makes a community with 20 items (plenty of stock, no monthly limit) and as many residents as the
largest client count, each with plenty of points. Each client is one resident placing orders of
one random item (a fresh idempotency key each time): the ledger hold, the stock reservation and
the order row in one transaction. Unless --raw-tps is given, raw PostgreSQL is measured in the
same run with the ledger benchmark's pgbench script (bench/pgbench_transfer.sql) at the same
client count. Targets (issue 5): >= 0.3 of raw, p99 under 100 ms at 64 clients. The load
generator runs on the same machine, so it competes for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from ledger_bench import pgbench, start_server, summary  # noqa: E402

ITEMS = 20


def make_admin(env: dict[str, str]) -> tuple[str, str, int]:
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
            "基准社区" + secrets.token_hex(3),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return phone, password, int(json.loads(out.strip().splitlines()[-1])["community_id"])


async def setup(
    url: str, admin: tuple[str, str, int], residents: int
) -> tuple[list[int], list[dict[str, str]]]:
    phone, password, community_id = admin
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        token = (await http.post("/api/v1/auth/token", json={"phone": phone, "password": password})).json()
        admin = {"Authorization": f"Bearer {token['access_token']}"}
        base = f"/api/v1/communities/{community_id}"
        items = []
        for n in range(ITEMS):
            r = await http.post(
                f"{base}/items",
                headers=admin,
                json={"name": f"物品{n}", "points_price": 1 + n % 10, "stock": 1_000_000},
            )
            items.append(r.json()["id"])
        sem = asyncio.Semaphore(8)

        async def resident(n: int) -> dict[str, str]:
            async with sem:
                rphone = "137" + str(secrets.randbelow(10**8)).zfill(8)
                rpass = "resident-" + secrets.token_hex(4)
                r = await http.post(
                    f"{base}/residents",
                    headers=admin,
                    json={"phone": rphone, "display_name": f"居民{n}", "password": rpass},
                )
                if r.status_code != 201:
                    raise SystemExit(f"resident failed: {r.text}")
                award = await http.post(
                    f"{base}/awards",
                    headers=admin,
                    json={
                        "user_id": r.json()["user_id"],
                        "points": 1_000_000_000,
                        "reason": "bench",
                        "idempotency_key": f"bench-{n}-{secrets.token_hex(4)}",
                    },
                )
                if award.status_code != 201:
                    raise SystemExit(f"award failed: {award.text}")
                login = await http.post("/api/v1/auth/token", json={"phone": rphone, "password": rpass})
                return {"Authorization": f"Bearer {login.json()['access_token']}"}

        headers = await asyncio.gather(*(resident(n) for n in range(residents)))
    return items, list(headers)


async def orders(
    url: str, items: list[int], headers: list[dict[str, str]], clients: int, seconds: int
) -> dict[str, float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=clients)
    ) as http:
        stop = time.monotonic() + seconds

        async def client(n: int) -> None:
            rng = random.Random(n)
            i = 0
            while time.monotonic() < stop:
                body = {"item_id": rng.choice(items), "quantity": 1, "idempotency_key": f"c{clients}-{n}-{i}"}
                started = time.perf_counter()
                response = await http.post("/api/v1/orders", json=body, headers=headers[n])
                if response.status_code != 201:
                    raise SystemExit(f"order failed: {response.status_code} {response.text}")
                latencies.append(time.perf_counter() - started)
                i += 1

        began = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.monotonic() - began
    return summary(f"POST /api/v1/orders, {clients} clients", len(latencies), elapsed, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="*", default=[64, 200])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--raw-tps", type=float, default=None, help="skip pgbench; use this figure")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jinlin-order-bench-"))
    proc, url, env = start_server(work, args.workers)
    try:
        print(f"clients {args.clients}, {args.seconds} s each, {args.workers} server workers, data in {work}")
        items, headers = asyncio.run(setup(url, make_admin(env), max(args.clients)))
        for clients in args.clients:
            raw_dir = work / f"raw-{clients}"
            raw_dir.mkdir()
            raw = args.raw_tps or pgbench(work / "pg", clients, args.seconds, raw_dir)["tps"]
            result = asyncio.run(orders(url, items, headers, clients, args.seconds))
            ratio = result["tps"] / raw if raw else 0.0
            print(
                f"  {clients} clients: {result['tps']:.0f} orders/s = {ratio:.2f} of raw {raw:.0f} tps "
                f"(target >= 0.3); p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
            )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
