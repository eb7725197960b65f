"""Write-ahead log and rows per scan, per order and per award: where one primary stops.

    .venv/bin/python bench/wal_bench.py                      # 20 s of each, 32 clients
    .venv/bin/python bench/wal_bench.py --seconds 3 --clients 4   # a quick smoke run

It starts `jinlin serve --workers 2` on a fresh embedded PostgreSQL (as the other benches), makes
the check-in bench's event and residents and the order bench's items, then runs each load alone
(scans: half check-ins, half check-outs with their award; orders; awards) after a warm-up, and
reads around each measured phase: `pg_current_wal_lsn()` (bytes of WAL written), `pg_stat_wal`
(records and full-page images) and `pg_stat_user_tables` (rows inserted and updated, by table).
Prints one JSON line per load: operations, WAL bytes per operation, full-page images per
operation and rows inserted and updated per operation by table. docs/scaling.md turns these into
a district's yearly volume.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

import checkin_bench
import loadgen
import order_bench
from common import PGBIN, WARMUP_SECONDS, Server, Tally, analyze, server

SNAPSHOT = (
    "SELECT json_build_object("
    "'lsn', pg_current_wal_lsn()::text,"
    "'wal', (SELECT json_build_object('records', wal_records, 'fpi', wal_fpi, 'bytes', wal_bytes)"
    " FROM pg_stat_wal),"
    "'tables', (SELECT json_object_agg(relname, json_build_array(n_tup_ins, n_tup_upd))"
    " FROM pg_stat_user_tables))"
)


def snapshot(srv: Server) -> dict[str, Any]:
    # An idle backend flushes its table statistics within 10 s (PGSTAT_IDLE_INTERVAL): the pooled
    # connections of the phase that just ended must all have told before the figures are read.
    time.sleep(11)
    out = subprocess.run(
        [
            str(PGBIN / "psql"),
            "-h",
            str(srv.socket_dir),
            "-U",
            "postgres",
            "-d",
            "jinlin",
            "-At",
            "-c",
            SNAPSHOT,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def measure(srv: Server, name: str, phase: Callable[[float], Awaitable[int]], seconds: float) -> None:
    loadgen.drive(phase(WARMUP_SECONDS))
    before = snapshot(srv)
    operations = loadgen.drive(phase(seconds))
    after = snapshot(srv)
    wal = lsn(after["lsn"]) - lsn(before["lsn"])
    rows = {}
    for table, (inserted, updated) in sorted(after["tables"].items()):
        was = before["tables"].get(table, [0, 0])
        ins, upd = (inserted - was[0]) / operations, (updated - was[1]) / operations
        if ins >= 0.01 or upd >= 0.01:
            rows[table] = {"inserted": round(ins, 2), "updated": round(upd, 2)}
    print(
        json.dumps(
            {
                "load": name,
                "operations": operations,
                "wal_bytes_per_op": round(wal / operations),
                "wal_records_per_op": round(
                    (after["wal"]["records"] - before["wal"]["records"]) / operations, 1
                ),
                "full_page_images_per_op": round(
                    (after["wal"]["fpi"] - before["wal"]["fpi"]) / operations, 2
                ),
                "rows_per_op": rows,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with server(2, "jinlin-wal-bench-") as srv:
        admin, people, event_id = loadgen.drive(checkin_bench.setup(srv, args.clients))
        items, buyers = loadgen.drive(order_bench.setup(srv, args.clients))
        analyze(srv)

        async def scans(seconds: float) -> int:
            _figures, tally = await checkin_bench.run_load(
                srv, admin, people, event_id, args.clients, seconds
            )
            return _done(tally, "checked_in", "checked_out")

        async def orders(seconds: float) -> int:
            _figures, tally, _result = await order_bench.orders(
                srv.url, items, buyers, args.clients, int(seconds), True
            )
            return _done(tally, "placed")

        async def awards(seconds: float) -> int:
            community = int(event_community(srv, event_id))
            run = str(time.monotonic_ns())

            def award(n: int, i: int) -> tuple[str, str, Any, dict[str, str]]:
                body = {
                    "user_id": people[n].user_id,
                    "points": 1,
                    "reason": "wal",
                    "idempotency_key": f"w{run}-{n}-{i}",
                }
                return "POST", f"/api/v1/communities/{community}/awards", body, admin

            tally = Tally(lambda status, _answer: "awarded" if status == 201 else None)
            await loadgen.run(srv.url, args.clients, seconds, award, tally)
            return _done(tally, "awarded")

        for name, phase in (("scans", scans), ("orders", orders), ("awards", awards)):
            measure(srv, name, phase, args.seconds)


def _done(tally: Tally, *labels: str) -> int:
    if tally.counts["unexpected"]:
        raise SystemExit(f"unexpected answers: {tally.samples}")
    return sum(tally.counts[label] for label in labels)


def event_community(srv: Server, event_id: int) -> str:
    return subprocess.run(
        [str(PGBIN / "psql"), "-h", str(srv.socket_dir), "-U", "postgres", "-d", "jinlin", "-At", "-c"]
        + [f"SELECT community_id FROM events WHERE id = {int(event_id)}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


if __name__ == "__main__":
    main()
