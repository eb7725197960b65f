"""Ledger throughput and latency, as a ratio to raw PostgreSQL (issue 3's benchmark).

    .venv/bin/python bench/ledger_bench.py                          # 32 clients, 15 s per part
    .venv/bin/python bench/ledger_bench.py --clients 8 --seconds 3  # a quick smoke run

In one run on one embedded PostgreSQL (a temporary data directory, `jinlin serve --workers 2`):
  (a) pgbench with bench/pgbench_transfer.sql: a row-locked debit, a credit and an insert per
      transaction;
  (b) app.ledger.services.award called from --clients concurrent asyncio tasks, split over
      --workers processes like the server's, one unit of work per transfer (app.core.uow: asyncpg
      and the ledger's statements, the path the awards API takes);
  (c) POST /api/v1/communities/{id}/awards over HTTP from --clients keep-alive connections
      (bench/loadgen.py); every answer must be 201.
(a) runs before (b), between (b) and (c), and after (c); each ratio is to the mean of the two (a)
figures next to its part (common.Reference: the machine's speed drifts during a run).
Prints transfers/s, p50 and p99 latency for each and the ratios b/a and c/a (targets: b/a >= 0.5,
c/a >= 0.3 on a 2-core machine). The load generators run on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import secrets
import sys
import time
from typing import Any

import httpx
import loadgen
from common import (
    ROOT,
    WARMUP_SECONDS,
    Reference,
    Server,
    Tally,
    add_residents,
    analyze,
    create_admin,
    login,
    server,
    show,
    summary,
)

sys.path.insert(0, str(ROOT))


async def _award_loop(
    database_url: str, community: int, first: int, tasks: int, seconds: int
) -> tuple[list[float], float]:
    """`tasks` concurrent asyncio tasks awarding one point at a time through the fast path the
    awards API uses: app.ledger.services.award in a unit of work (app.core.uow: asyncpg)."""
    from app.core.uow import Database
    from app.ledger import services

    db = Database(database_url, size=tasks)
    await db.open()
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def task(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            async with db.unit_of_work() as conn:
                await services.award(
                    conn,
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
    await asyncio.gather(*(task(first + n) for n in range(tasks)))
    elapsed = time.monotonic() - began
    await db.close()
    return latencies, elapsed


def _award_process(args: tuple[str, int, int, int, int]) -> tuple[list[float], float]:
    import uvloop

    return uvloop.run(_award_loop(*args))


def ledger_direct(
    database_url: str, clients: int, seconds: int, processes: int, quiet: bool = False
) -> dict[str, float]:
    """(b): the clients split over as many processes as the server has workers."""
    community = 4_000_000_000 + secrets.randbelow(10**6)
    share = [clients // processes + (1 if p < clients % processes else 0) for p in range(processes)]
    jobs = [(database_url, community, sum(share[:p]), share[p], seconds) for p in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_award_process, jobs)
    elapsed = max(part_elapsed for _, part_elapsed in parts)
    latencies = [x for part, _ in parts for x in part]
    figures = summary(len(latencies), elapsed, latencies)
    return figures if quiet else show("(b) ledger.award, in process", figures)


async def awards_api(srv: Server, clients: int, seconds: int) -> tuple[dict[str, float], Tally]:
    admin = create_admin(srv)  # noqa: ASYNC221 - set-up, before the clock starts
    async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        headers = await login(http, admin.phone, admin.password)
        residents = await add_residents(http, admin.community_id, headers, clients, log_in=False)
    path = f"/api/v1/communities/{admin.community_id}/awards"

    def award(n: int, i: int) -> tuple[str, str, Any, dict[str, str]]:
        body = {
            "user_id": residents[n].user_id,
            "points": 1,
            "reason": "六清",
            "idempotency_key": f"b{n}-{i}",
        }
        return "POST", path, body, headers

    analyze(srv)
    warm = Tally(lambda status, _: "awarded" if status == 201 else None)
    await loadgen.run(srv.url, clients, WARMUP_SECONDS, lambda n, i: award(n, -1 - i), warm)
    tally = Tally(lambda status, _: "awarded" if status == 201 else None)
    tally.counts["unexpected"] += warm.counts["unexpected"]
    result = await loadgen.run(srv.url, clients, seconds, award, tally)
    figures = show("(c) POST .../awards over HTTP", summary(result.count, result.elapsed, result.latencies))
    print(f"    {tally.report(result)}")
    return figures, tally


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    loadgen.add_options(parser)
    args = parser.parse_args()
    loadgen.configure(args)
    with server(args.workers, "jinlin-ledger-bench-") as srv:
        print(
            f"{args.clients} clients, {args.seconds} s each, "
            f"server with {args.workers} workers, data in {srv.data_dir}"
        )
        reference = Reference(srv, args.seconds, clients=args.clients)
        reference.measure()
        ledger_direct(srv.database_url, args.clients, WARMUP_SECONDS, args.workers, quiet=True)
        b = ledger_direct(srv.database_url, args.clients, args.seconds, args.workers)
        a_b = reference.around_last_phase()
        c, tally = loadgen.drive(awards_api(srv, args.clients, args.seconds))
        a_c = reference.around_last_phase()
    print(f"ratio b/a = {b['tps'] / a_b:.2f} (target >= 0.5; a = {a_b:.0f}, the mean of the two next to b)")
    print(f"ratio c/a = {c['tps'] / a_c:.2f} (target >= 0.3; a = {a_c:.0f}, the mean of the two next to c)")
    if tally.counts["unexpected"]:
        raise SystemExit("some answers were not 201; see above")


if __name__ == "__main__":
    main()
