"""What PostgreSQL writes for each hot request: heap rows inserted, updated (HOT or not) and locked,
index entries, WAL records and bytes, pages written to and full-page images, read from the WAL
itself (pg_waldump) and grouped by the transaction that wrote them.

    .venv/bin/python bench/rows_bench.py     # 3 rounds: 256 check-ins and check-outs, 512 of the rest
    .venv/bin/python bench/rows_bench.py --rounds 1 --clients 8 --per-client 2   # a quick smoke run
    .venv/bin/python bench/rows_bench.py --rounds 2 --variant \
        "ALTER TABLE circle_vouchers SET (fillfactor = 80)" "ALTER TABLE circle_vouchers RESET (fillfactor)"

It starts `jinlin serve --workers 2` on a fresh embedded PostgreSQL (as the other benches), makes
the check-in bench's residents, the order bench's items and the voucher bench's provider and offers,
warms each load up and analyses, then per round (after a CHECKPOINT): a fresh event (so that each
check-out awards the stay's points, as a real resident's first stay does), every resident checking
in, every resident checking out, orders, voucher purchases and the redemption of what they bought,
`--clients` connections at a time, each kind in a phase of its own, and pgbench's transfer script
(the raw reference, 32 clients for 2 s) for comparison. Around each phase it reads
`pg_current_wal_lsn()` and the postmaster's children's CPU from /proc (a coarse figure: a phase
lasts well under a second); the phase's WAL is then read with the embedded server's pg_waldump, each
record's relation named from pg_class, and the records of each transaction that wrote the kind's own
table (`scans`, `store_orders`, `circle_vouchers`) are counted per request (`bench_transfers` for
pgbench): Heap INSERT / UPDATE / HOT_UPDATE / LOCK (and updates whose new version went to another
page) by table, B-tree entries by index, the distinct pages a request wrote to (the buffers it
dirtied), full-page images, records and bytes. Records of no transaction (page pruning) and those of
other transactions in the phase (a session's last-seen time) are counted apart. With `--variant`,
rounds alternate between the two SQL statements given (on first), and each kind's figures are kept
apart. Prints one JSON line per kind and round, and a table of the medians at the end
(docs/scaling.md, "Rows touched per request").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
from collections import Counter, defaultdict
from collections.abc import Coroutine
from typing import Any

import checkin_bench
import httpx
import loadgen
import order_bench
import voucher_bench
from common import (
    PGBIN,
    TRANSFER_SCRIPT,
    TRANSFER_SETUP,
    TRANSFER_TEARDOWN,
    WARMUP_SECONDS,
    Resident,
    Server,
    Tally,
    analyze,
    open_event,
    server,
)

# A request's transaction is the one that wrote its kind's own table.
OWN_TABLE = {
    "check-in": "scans",
    "check-out": "scans",
    "order": "store_orders",
    "purchase": "circle_vouchers",
    "redemption": "circle_vouchers",
    "(a) pgbench": "bench_transfers",
}

ENTRY_RECORDS = ("INSERT_LEAF", "INSERT_POST", "SPLIT_L", "SPLIT_R")
_RECORD = re.compile(
    r"rmgr: (?P<rmgr>\S+)\s+len \(rec/tot\):\s+\d+/\s*(?P<tot>\d+), tx:\s+(?P<tx>\d+), "
    r"lsn: \S+, prev \S+, desc: (?P<desc>\S+)(?P<rest>.*)$"
)
_BLOCK = re.compile(r"blkref #\d+: rel \d+/\d+/(?P<rel>\d+)(?: fork \w+)? blk (?P<blk>\d+)(?P<fpw> FPW)?")


def psql(srv: Server, sql: str) -> str:
    return subprocess.run(
        [str(PGBIN / "psql"), "-h", str(srv.socket_dir), "-U", "postgres", "-d", "jinlin", "-At", "-c", sql],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def relation_names(srv: Server) -> dict[str, str]:
    rows = psql(
        srv, "SELECT pg_relation_filenode(oid), relname FROM pg_class WHERE pg_relation_filenode(oid) <> 0"
    )
    return dict(line.split("|", 1) for line in rows.splitlines())


def postgres_cpu(srv: Server) -> float:
    """User + system seconds of the postmaster's children (the backends and background workers)."""
    postmaster = int((srv.socket_dir / "postmaster.pid").read_text().split()[0])
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = (open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1]).split()  # noqa: PTH123, SIM115
        except OSError:
            continue
        if int(fields[1]) == postmaster:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def waldump(srv: Server, start: str, end: str, names: dict[str, str]) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(PGBIN / "pg_waldump"), "-p", str(srv.socket_dir / "pg_wal"), "-s", start, "-e", end],
        capture_output=True,
        text=True,
        check=False,  # it ends with an error at the end of the WAL written so far
    ).stdout
    records = []
    for line in out.splitlines():
        m = _RECORD.match(line)
        if not m:
            continue
        blocks = [
            (names.get(b["rel"], b["rel"]), int(b["blk"]), bool(b["fpw"])) for b in _BLOCK.finditer(m["rest"])
        ]
        records.append(
            {
                "rmgr": m["rmgr"],
                "type": m["desc"],
                "bytes": int(m["tot"]),
                "tx": int(m["tx"]),
                "blocks": blocks,
            }
        )
    return records


def per_request(kind: str, records: list[dict[str, Any]], requests: int) -> dict[str, Any]:
    by_tx: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_tx[record["tx"]].append(record)
    own = OWN_TABLE[kind]
    mine = {
        tx: recs for tx, recs in by_tx.items() if tx and any(b[0] == own for r in recs for b in r["blocks"])
    }
    n = len(mine) or 1
    rows: Counter[str] = Counter()
    pages = records_n = size = fpi = 0
    for recs in mine.values():
        touched = set()
        for r in recs:
            records_n += 1
            size += r["bytes"]
            for rel, blk, fpw in r["blocks"]:
                touched.add((rel, blk))
                fpi += fpw
            if r["blocks"] and r["rmgr"] in ("Heap", "Btree"):
                rows[f"{r['blocks'][0][0]} {r['type']}"] += 1
                if r["type"].startswith("UPDATE") and len({b[:2] for b in r["blocks"]}) > 1:
                    rows[f"{r['blocks'][0][0]} UPDATE to another page"] += 1
        pages += len(touched)
    other = [r for tx, recs in by_tx.items() if tx not in mine for r in recs]
    other_kinds = Counter(f"{r['rmgr']} {r['type']}" for r in other)
    return {
        "kind": kind,
        "requests": requests,
        "transactions": len(mine),
        "wal_records": round(records_n / n, 2),
        "wal_bytes": round(size / n),
        "pages_written": round(pages / n, 2),
        "full_page_images": round(fpi / n, 2),
        "records": {k: round(v / n, 2) for k, v in sorted(rows.items())},
        # An index entry is written by a leaf insert, a posting list's (a deduplicated key) or a
        # page split's (which carries the new entry); INSERT_UPPER is the parent's new downlink.
        "index_entries": round(sum(v for k, v in rows.items() if k.endswith(ENTRY_RECORDS)) / n, 2),
        "other_records_per_request": round(len(other) / max(requests, 1), 2),
        "other_bytes_per_request": round(sum(r["bytes"] for r in other) / max(requests, 1)),
        "other_kinds": dict(other_kinds.most_common(6)),
    }


async def new_event(srv: Server, admin: dict[str, str], community: str) -> int:
    async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        return await open_event(http, community, admin, "压测行数")


async def scans(
    srv: Server, admin: dict[str, str], people: list[Resident], event_id: int, action: str, clients: int
) -> int:
    conn = await loadgen.Connection.open(srv.url)
    status, answer = await conn.request(
        "GET", f"/api/v1/events/{event_id}/code?action={action}", headers=admin
    )
    conn.close()
    assert status == 200, answer
    code = answer["code"]
    wanted = "checked_in" if action == "checkin" else "checked_out"

    def scan(n: int, i: int) -> tuple[str, str, Any, dict[str, str]] | None:
        person = n + i * clients
        if person >= len(people):
            return None
        return "POST", "/api/v1/scans", {"code": code}, people[person].headers

    tally = Tally(lambda status, answer: wanted if status == 200 and answer.get("result") == wanted else None)
    await loadgen.run(srv.url, clients, 600, scan, tally)
    if tally.counts["unexpected"]:
        raise SystemExit(f"unexpected answers: {tally.samples}")
    return tally.counts[wanted]


async def orders(srv: Server, items: list[int], buyers: list[Resident], clients: int, each: int) -> int:
    run = os.urandom(3).hex()

    def order(n: int, i: int) -> tuple[str, str, Any, dict[str, str]] | None:
        if i >= each:
            return None
        body = {"item_id": items[(n + i) % len(items)], "quantity": 1, "idempotency_key": f"{run}-{n}-{i}"}
        return "POST", "/api/v1/orders", body, buyers[n].headers

    tally = Tally(order_bench.classify)
    await loadgen.run(srv.url, clients, 600, order, tally)
    if tally.counts["unexpected"] or tally.counts["out_of_stock"]:
        raise SystemExit(f"unexpected answers: {tally.samples}")
    return tally.counts["placed"]


async def purchases(
    srv: Server, offers: list[int], shoppers: list[Resident], clients: int, each: int, codes: list[str]
) -> int:
    run = os.urandom(3).hex()

    def buy(n: int, i: int) -> tuple[str, str, Any, dict[str, str]] | None:
        if i >= each:
            return None
        body = {"offer_id": offers[(n + i) % len(offers)], "idempotency_key": f"{run}-{n}-{i}"}
        return "POST", "/api/v1/vouchers", body, shoppers[n].headers

    def classify(status: int, answer: Any) -> str | None:
        if status == 201 and answer.get("status") == "held":
            codes.append(str(answer["voucher_code"]))
            return "bought"
        return None

    tally = Tally(classify)
    await loadgen.run(srv.url, clients, 600, buy, tally)
    if tally.counts["unexpected"]:
        raise SystemExit(f"unexpected answers: {tally.samples}")
    return tally.counts["bought"]


async def redemptions(srv: Server, member: dict[str, str], clients: int, codes: list[str]) -> int:
    _figures, tally, _result = await voucher_bench.redemptions(srv.url, member, clients, 600, codes)
    if tally.counts["unexpected"]:
        raise SystemExit(f"unexpected answers: {tally.samples}")
    return tally.counts["redeemed"]


def pgbench_phase(srv: Server, clients: int, seconds: int) -> tuple[int, dict[str, str]]:
    """The raw reference's transaction (bench/pgbench_transfer.sql, common.Reference's clients):
    how many ran, and the relation names while its tables exist."""
    psql(srv, TRANSFER_SETUP + "ANALYZE bench_accounts, bench_transfers;")
    try:
        out = subprocess.run(
            [
                *(str(PGBIN / "pgbench"), "-h", str(srv.socket_dir), "-U", "postgres", "-n"),
                *("-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(TRANSFER_SCRIPT), "jinlin"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        names = relation_names(srv)
    finally:
        psql(srv, TRANSFER_TEARDOWN)
    match = re.search(r"number of transactions actually processed: (\d+)", out)
    assert match, out
    return int(match[1]), names


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--per-client", type=int, default=8, help="requests per client and phase")
    parser.add_argument("--residents-per-client", type=int, default=4, help="check-ins per client and phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variant",
        nargs=2,
        metavar=("ON", "OFF"),
        help="SQL that switches a variant on and off (e.g. a table's fillfactor): rounds alternate "
        "between the two, the variant first, each kind's figures kept apart",
    )
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with server(2, "jinlin-rows-bench-") as srv:
        admin, people, first = loadgen.drive(
            checkin_bench.setup(srv, args.clients * args.residents_per_client)
        )
        community = psql(srv, f"SELECT community_id FROM events WHERE id = {int(first)}")
        items, buyers = loadgen.drive(order_bench.setup(srv, args.clients))
        offers, shoppers, member = loadgen.drive(voucher_bench.setup(srv, args.clients))
        analyze(srv)
        # Warm: every connection open and statement prepared, every resident's wallet made.
        for _ in range(2):
            event_id = loadgen.drive(new_event(srv, admin, community))
            loadgen.drive(scans(srv, admin, people, event_id, "checkin", args.clients))
            loadgen.drive(scans(srv, admin, people, event_id, "checkout", args.clients))
            loadgen.drive(orders(srv, items, buyers, args.clients, 2))
            warm: list[str] = []
            loadgen.drive(purchases(srv, offers, shoppers, args.clients, 2, warm))
            loadgen.drive(redemptions(srv, member, args.clients, warm))
        loadgen.drive(order_bench.orders(srv.url, items, buyers, args.clients, WARMUP_SECONDS, quiet=True))
        analyze(srv)
        psql(srv, "CHECKPOINT")
        for round_ in range(args.rounds * (2 if args.variant else 1)):
            variant = ""
            if args.variant:
                variant = "on" if round_ % 2 == 0 else "off"
                psql(srv, args.variant[0] if variant == "on" else args.variant[1])
            psql(srv, "CHECKPOINT")  # each round starts from clean pages
            event_id = loadgen.drive(new_event(srv, admin, community))
            codes: list[str] = []

            def phase(
                kind: str, event_id: int = event_id, codes: list[str] = codes
            ) -> Coroutine[Any, Any, int]:
                if kind in ("check-in", "check-out"):
                    action = kind.replace("-", "")
                    return scans(srv, admin, people, event_id, action, args.clients)
                if kind == "order":
                    return orders(srv, items, buyers, args.clients, args.per_client)
                if kind == "purchase":
                    return purchases(srv, offers, shoppers, args.clients, args.per_client, codes)
                return redemptions(srv, member, args.clients, codes)

            for kind in OWN_TABLE:
                names = relation_names(srv)
                start, cpu = psql(srv, "SELECT pg_current_wal_lsn()"), postgres_cpu(srv)
                if kind == "(a) pgbench":
                    done, names = pgbench_phase(srv, 32, 2)
                else:
                    done = loadgen.drive(phase(kind))
                end, spent = psql(srv, "SELECT pg_current_wal_lsn()"), postgres_cpu(srv) - cpu
                figures = per_request(kind, waldump(srv, start, end, names), done)
                figures["round"] = round_ + 1
                figures["variant"] = variant
                figures["postgres_cpu_us"] = round(spent / done * 1e6)
                results[f"{kind} {variant}".strip()].append(figures)
                print(json.dumps(figures, ensure_ascii=False), flush=True)
    print("\n| per request (median of rounds) | records | bytes | pages | FPI | index entries | PG CPU µs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, rounds in results.items():
        med = {
            k: statistics.median(r[k] for r in rounds)
            for k in (
                "wal_records",
                "wal_bytes",
                "pages_written",
                "full_page_images",
                "index_entries",
                "postgres_cpu_us",
            )
        }
        print(
            f"| {kind} | {med['wal_records']:.1f} | {med['wal_bytes']:.0f} | {med['pages_written']:.1f} | "
            f"{med['full_page_images']:.2f} | {med['index_entries']:.1f} | {med['postgres_cpu_us']:.0f} |"
        )


if __name__ == "__main__":
    main()
