"""Check-ins per second through POST /api/v1/scans, p50/p99, as a ratio to raw PostgreSQL.

    .venv/bin/python bench/checkin_bench.py                        # 64 and 200 clients, 20 s each
    .venv/bin/python bench/checkin_bench.py --clients 8 --seconds 3 --residents 16   # a quick smoke run
    .venv/bin/python bench/checkin_bench.py --raw-tps 5400         # ratio to a known pgbench figure

It starts `jinlin serve --workers 2` on a fresh embedded PostgreSQL (a temporary data directory),
makes a community, residents and one event (no sign-up, re-entry allowed), then each client is
one keep-alive connection (bench/loadgen.py) of one resident scanning the event's kiosk code:
check in, check out, check in, ... (a check-out also awards points through the ledger). The kiosk
code is refreshed every 10 s like a kiosk. Every answer is checked: 200 (checked in or out) or
409 already_done (two clients sharing a resident); anything else is counted as unexpected.
Unless --raw-tps is given, raw PostgreSQL is measured as in the ledger bench: its pgbench script
(bench/pgbench_transfer.sql: a row-locked debit, a credit and an insert per transaction) with 32
clients on the same server, before the first phase and after each (common.Reference); a phase's
ratio is its scans/s over the mean of the two pgbench figures next to it.
Half the scans are check-ins, half check-outs (which also award points). The load generator runs
on the same machine, so it competes for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
    non_2xx,
    open_event,
    server,
    summary,
)


async def setup(srv: Server, residents: int) -> tuple[dict[str, str], list[Resident], int]:
    admin = create_admin(srv)  # noqa: ASYNC221 - set-up, before the clock starts
    async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        headers = await login(http, admin.phone, admin.password)
        event_id = await open_event(http, admin.community_id, headers, "压测六清")
        people = await add_residents(http, admin.community_id, headers, residents)
    return headers, people, event_id


def classify(status: int, answer: Any) -> str | None:
    if status == 200 and isinstance(answer, dict) and answer.get("result") in ("checked_in", "checked_out"):
        return str(answer["result"])
    if status == 409 and isinstance(answer, dict) and answer.get("code") == "already_done":
        return "already_done"
    return None


async def run_load(
    srv: Server, admin: dict[str, str], people: list[Resident], event_id: int, clients: int, seconds: float
) -> tuple[dict[str, Any], Tally]:
    codes: dict[str, str] = {}
    kiosk_conn = await loadgen.Connection.open(srv.url)

    async def refresh() -> None:
        for action in ("checkin", "checkout"):
            status, answer = await kiosk_conn.request(
                "GET", f"/api/v1/events/{event_id}/code?action={action}", headers=admin
            )
            if status != 200:
                raise SystemExit(f"kiosk code refresh failed: {status} {answer}")
            codes[action] = answer["code"]

    async def kiosk() -> None:
        while True:
            await asyncio.sleep(10)
            await refresh()

    def scan(n: int, i: int) -> tuple[str, str, Any, dict[str, str]]:
        action = "checkout" if i % 2 else "checkin"
        return "POST", "/api/v1/scans", {"code": codes[action]}, people[n % len(people)].headers

    await refresh()
    tally = Tally(classify)
    kiosk_task = asyncio.create_task(kiosk())
    try:
        result = await loadgen.run(srv.url, clients, seconds, scan, tally)
    finally:
        kiosk_task.cancel()
        kiosk_conn.close()
    if kiosk_task.done() and not kiosk_task.cancelled():
        kiosk_task.result()  # re-raise a failed refresh
    tally.report(result)  # the unexpected answers to stderr; the counts go in the JSON line
    figures = summary(result.count, result.elapsed, result.latencies)
    return {
        "clients": clients,
        "scans_per_s": figures["tps"],
        "checkins_per_s": tally.counts["checked_in"] / result.elapsed,
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "errors": tally.counts["unexpected"],
        "already_done": tally.counts["already_done"],
        "non_2xx": non_2xx(result),
    }, tally


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[64, 200])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--raw-tps", type=float, default=None, help="skip pgbench; use this raw PostgreSQL tps"
    )
    loadgen.add_options(parser)
    args = parser.parse_args()
    loadgen.configure(args)

    errors = 0
    with server(args.workers, "jinlin-bench-") as srv:
        raw = Reference(srv, max(2, int(args.seconds)), fixed=args.raw_tps)
        raw.measure()
        admin, people, event_id = loadgen.drive(setup(srv, args.residents))
        analyze(srv)
        _, warm = loadgen.drive(run_load(srv, admin, people, event_id, args.clients[0], WARMUP_SECONDS))
        errors += warm.counts["unexpected"]
        for clients in args.clients:
            figures, tally = loadgen.drive(run_load(srv, admin, people, event_id, clients, args.seconds))
            errors += tally.counts["unexpected"]
            figures["raw_pg_tps"] = raw.around_last_phase()
            figures["ratio"] = figures["scans_per_s"] / figures["raw_pg_tps"]
            print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}))
    if errors:
        raise SystemExit(f"{errors} unexpected answers; see above")


if __name__ == "__main__":
    main()
