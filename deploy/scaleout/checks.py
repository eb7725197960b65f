"""The scale-out rig's checks (deploy/scaleout/fault.py): a logout on one app host refused on the
other, and, once the load has stopped, every acknowledged write stored once, the ledger's
invariants and the replica caught up."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Logout:
    refused_after: float  # seconds from the logout's answer to the first refusal on the other host
    accepted_after: int  # requests the other host still accepted after the logout had answered


async def logout_seen_elsewhere(here: str, there: str, phone: str, password: str) -> Logout:
    """Logs in on `here` (a cookie session), has `there` answer for it (so its workers remember
    the session), logs out on `here`, then asks `there` until it refuses the cookie."""
    async with httpx.AsyncClient(base_url=here, timeout=10) as one:
        page = await one.get("/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf, "no CSRF field on the login page"
        form = {"phone": phone, "password": password, "next": "/", "_csrf_token": csrf.group(1)}
        answer = await one.post("/login", data=form)
        assert answer.status_code == 303, answer.text[:300]
        cookies = "; ".join(f"{k}={v}" for k, v in one.cookies.items())
        async with httpx.AsyncClient(base_url=there, timeout=10) as two:
            for _ in range(8):  # each of its workers very likely remembers the session now
                seen = await two.get("/api/v1/me", headers={"Cookie": cookies})
                assert seen.status_code == 200, (seen.status_code, seen.text[:300])
            page = await one.get("/")
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert csrf, "no CSRF token on the home page"
            out = await one.post("/logout", data={"_csrf_token": csrf.group(1)})
            assert out.status_code == 303, (out.status_code, out.text[:300])
            logged_out = time.monotonic()
            accepted = 0
            while time.monotonic() - logged_out < 10:
                seen = await two.get("/api/v1/me", headers={"Cookie": cookies})
                if seen.status_code == 401:
                    return Logout(time.monotonic() - logged_out, accepted)
                accepted += 1
                await asyncio.sleep(0.01)
            return Logout(float("inf"), accepted)


async def stored_once(rig: Any, load: Any) -> dict[str, Any]:
    acks = load.stats.acks
    pattern = f"so-{load.run}-%"
    primary = await asyncpg.connect(rig.primary_dsn, timeout=10)
    try:
        by_kind: dict[str, list[Any]] = {"scan": [], "order": [], "award": []}
        for ack in acks:
            by_kind[ack.kind].append(ack)
        transfer_ids = [int(a.answer["transfer_id"]) for a in by_kind["award"]]
        order_ids = [int(a.answer["id"]) for a in by_kind["order"]]
        scan_keys = [a.key for a in by_kind["scan"]]
        stored = {
            "award": await primary.fetchval(
                "SELECT count(*) FROM ledger_transfers WHERE id = ANY($1::bigint[])", transfer_ids
            ),
            "order": await primary.fetchval(
                "SELECT count(*) FROM store_orders WHERE id = ANY($1::bigint[]) AND idempotency_key LIKE $2",
                order_ids,
                pattern,
            ),
            "scan": await primary.fetchval(
                "SELECT count(DISTINCT idempotency_key) FROM scans "
                "WHERE idempotency_key = ANY($1::varchar[]) AND result IN ('checked_in', 'checked_out')",
                scan_keys,
            ),
        }
        lost = sum(len(set(a.key for a in by_kind[k])) - int(stored[k]) for k in stored)
        duplicated = int(
            await primary.fetchval(
                "SELECT count(*) FROM ("
                " SELECT idempotency_key FROM ledger_transfers WHERE idempotency_key LIKE '%' || $1"
                " GROUP BY 1 HAVING count(*) > 1"
                " UNION ALL SELECT idempotency_key FROM store_orders WHERE idempotency_key LIKE $1"
                " GROUP BY 1 HAVING count(*) > 1"
                " UNION ALL SELECT idempotency_key FROM scans WHERE idempotency_key LIKE $1"
                " AND result IN ('checked_in', 'checked_out') GROUP BY 1 HAVING count(*) > 1) d",
                pattern,
            )
        )
        counts_sql = (
            "SELECT (SELECT count(*) FROM ledger_transfers), (SELECT count(*) FROM store_orders), "
            "(SELECT count(*) FROM scans)"
        )
        primary_counts = tuple(await primary.fetchrow(counts_sql))
    finally:
        await primary.close()

    # The replica has caught up: it has replayed everything the primary has written.
    superuser = await asyncpg.connect(rig.super_dsn, timeout=10)
    caught_up_in = None
    began = time.monotonic()
    try:
        while time.monotonic() - began < 60:
            lag = await superuser.fetchrow(
                "SELECT count(*) AS replicas, "
                "coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), -1) AS behind "
                "FROM pg_stat_replication WHERE state = 'streaming'"
            )
            if lag["replicas"] >= 1 and lag["behind"] == 0:
                caught_up_in = time.monotonic() - began
                break
            await asyncio.sleep(0.5)
    finally:
        await superuser.close()
    replica = await asyncpg.connect(rig.replica_dsn, timeout=10)
    try:
        replica_counts = tuple(await replica.fetchrow(counts_sql))
        in_recovery = await replica.fetchval("SELECT pg_is_in_recovery()")
    finally:
        await replica.close()

    verify = subprocess.run(  # noqa: ASYNC221 - the load has stopped
        [sys.executable, "-m", "app.cli", "ledger", "verify"], cwd=ROOT, capture_output=True, text=True
    )
    return {
        "stored": stored,
        "lost": lost,
        "duplicated": duplicated,
        "replica_caught_up_s": caught_up_in,
        "replica_same_rows": replica_counts == primary_counts and bool(in_recovery),
        "ledger_verify": verify.returncode == 0,
        "ledger_verify_output": (verify.stdout + verify.stderr).strip(),
    }
