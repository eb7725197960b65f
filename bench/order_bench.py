"""Store orders per second through POST /api/v1/orders, p50/p99, as a ratio to raw PostgreSQL.

    .venv/bin/python bench/order_bench.py                          # 64 and 200 clients, 20 s each
    .venv/bin/python bench/order_bench.py --clients 8 --seconds 3  # a quick smoke run
    .venv/bin/python bench/order_bench.py --raw-tps 5400           # ratio to a known pgbench figure

It starts `jinlin serve --workers 2` on a fresh embedded PostgreSQL (a temporary data directory),
makes a community with 20 items (plenty of stock, no monthly limit) and as many residents as the
largest client count, each with plenty of points. Each client is one keep-alive connection
(bench/loadgen.py) of one resident placing orders of one random item (a fresh idempotency key each
time): the ledger hold, the stock reservation and the order row in one transaction. Every answer
is checked: 201 counts as an order placed, 409 out_of_stock is counted apart, anything else as
unexpected. Unless --raw-tps is given, raw PostgreSQL is measured in the same run with the ledger
benchmark's pgbench script (bench/pgbench_transfer.sql) and 32 clients, before the first phase
and after each; a phase's ratio is to the mean of the two figures next to it. Targets
(issue 5): >= 0.3 of raw, p99 under 100 ms at 64 clients. The load generator runs on the same
machine, so it competes for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
from typing import Any

import httpx
import loadgen
from common import (
    WARMUP_SECONDS,
    Reference,
    Resident,
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

ITEMS = 20


async def setup(srv: Server, residents: int) -> tuple[list[int], list[Resident]]:
    admin = create_admin(srv)  # noqa: ASYNC221 - set-up, before the clock starts
    async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        headers = await login(http, admin.phone, admin.password)
        base = f"/api/v1/communities/{admin.community_id}"
        items = []
        for n in range(ITEMS):
            r = await http.post(
                f"{base}/items",
                headers=headers,
                json={"name": f"物品{n}", "points_price": 1 + n % 10, "stock": 1_000_000},
            )
            r.raise_for_status()
            items.append(int(r.json()["id"]))
        people = await add_residents(http, admin.community_id, headers, residents)
        sem = asyncio.Semaphore(8)

        async def endow(n: int, person: Resident) -> None:
            async with sem:
                r = await http.post(
                    f"{base}/awards",
                    headers=headers,
                    json={
                        "user_id": person.user_id,
                        "points": 1_000_000_000,
                        "reason": "bench",
                        "idempotency_key": f"bench-{n}-{secrets.token_hex(4)}",
                    },
                )
                r.raise_for_status()

        await asyncio.gather(*(endow(n, p) for n, p in enumerate(people)))
    return items, people


def classify(status: int, answer: Any) -> str | None:
    if status == 201:
        return "placed"
    if status == 409 and isinstance(answer, dict) and answer.get("code") == "out_of_stock":
        return "out_of_stock"
    return None


async def orders(
    url: str, items: list[int], people: list[Resident], clients: int, seconds: int, quiet: bool = False
) -> tuple[dict[str, float], Tally, loadgen.Result]:
    run = secrets.token_hex(3)
    rngs = [random.Random(n) for n in range(clients)]

    def order(n: int, i: int) -> tuple[str, str, Any, dict[str, str]]:
        body = {"item_id": rngs[n].choice(items), "quantity": 1, "idempotency_key": f"{run}-{n}-{i}"}
        return "POST", "/api/v1/orders", body, people[n].headers

    tally = Tally(classify)
    result = await loadgen.run(url, clients, seconds, order, tally)
    figures = summary(result.count, result.elapsed, result.latencies)
    if not quiet:
        show(f"POST /api/v1/orders, {clients} clients", figures)
    figures["orders_per_s"] = tally.counts["placed"] / result.elapsed
    return figures, tally, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="*", default=[64, 200])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--raw-tps", type=float, default=None, help="skip pgbench; use this figure")
    loadgen.add_options(parser)
    args = parser.parse_args()
    loadgen.configure(args)
    errors = 0
    with server(args.workers, "jinlin-order-bench-") as srv:
        print(
            f"clients {args.clients}, {args.seconds} s each, {args.workers} server workers, "
            f"data in {srv.data_dir}"
        )
        reference = Reference(srv, args.seconds, fixed=args.raw_tps)
        reference.measure()
        items, people = loadgen.drive(setup(srv, max(args.clients)))
        analyze(srv)
        _, warm, _ = loadgen.drive(
            orders(srv.url, items, people, args.clients[0], WARMUP_SECONDS, quiet=True)
        )
        errors += warm.counts["unexpected"]
        for clients in args.clients:
            result, tally, answers = loadgen.drive(orders(srv.url, items, people, clients, args.seconds))
            errors += tally.counts["unexpected"]
            placed = result["orders_per_s"]
            raw = reference.around_last_phase()
            ratio = placed / raw if raw else 0.0
            print(
                f"  {clients} clients: {placed:.0f} orders/s = {ratio:.2f} of raw {raw:.0f} tps "
                f"(target >= 0.3); p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
            )
            print(f"    {tally.report(answers)}, out_of_stock {tally.counts['out_of_stock']}")
    if errors:
        raise SystemExit(f"{errors} unexpected answers; see above")


if __name__ == "__main__":
    main()
