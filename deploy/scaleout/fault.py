"""The scale-out rig's proof under fault, run by deploy/scaleout/run.sh inside the client host.

A steady mix of writes from many clients through nginx: scans (check-in, check-out with its
award), store orders and awards, each carrying an idempotency key; a client whose request fails
(no answer, a reset, a timeout, a 5xx) sends it again with the same key until it is answered.
Meanwhile: one app host is killed (every process of its namespace, kill -9) and started again;
the primary's PostgreSQL is killed (kill -9 of the postmaster), Patroni promotes the synchronous
replica and brings the old primary back as a replica (pg_rewind). Then every acknowledged write
must be stored, no key may have two effects, `jinlin ledger verify` must pass on the new primary
and the replica must have caught up. A logout on one host must be refused on the other within a
second, before and after the failover. Prints the table of docs/scaling.md; exits 1 if any
check fails.

The set-up and the load go through the API only (bench/loadgen.py's connections, bench/common's
set-up helpers); the checks read the database through HAProxy with the app's own credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "deploy" / "scaleout")]
import loadgen  # noqa: E402  - bench/ is not a package
from checks import Logout, logout_seen_elsewhere, stored_once  # noqa: E402
from common import Resident, add_residents, login  # noqa: E402

from app.core.database import libpq_url  # noqa: E402

PHASES = {
    # seconds of steady load before anything fails, with app1 down, and after the failover
    "full": {"clients": 24, "before": 20, "app_down": 15, "after": 20, "rejoin": 180},
    "short": {"clients": 12, "before": 6, "app_down": 6, "after": 6, "rejoin": 120},
}
WRITE_RESUME_LIMIT = 30.0  # seconds: the bound on a failover without writes
LOGOUT_LIMIT = 1.0  # seconds


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Ack:
    kind: str
    key: str
    at: float
    answer: Any


@dataclass
class Stats:
    sent: int = 0
    retried: int = 0
    unexpected: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    acks: list[Ack] = field(default_factory=list)
    pending: set[str] = field(default_factory=set)

    def acked_between(self, start: float, end: float) -> int:
        return sum(1 for ack in self.acks if start <= ack.at < end)


class Rig:
    """What the run knows of the hosts."""

    def __init__(self, base: Path, net: str) -> None:
        self.base = base
        self.net = net
        self.url = f"http://{net}.40"
        self.app = {"app1": f"http://{net}.31:8000", "app2": f"http://{net}.32:8000"}
        self.patroni = {"db1": f"http://{net}.11:8008", "db2": f"http://{net}.12:8008"}
        self.primary_dsn = libpq_url(os.environ["DATABASE_URL"])
        self.replica_dsn = libpq_url(os.environ["DATABASE_REPLICA_URL"])
        password = (base / "superuser.password").read_text().strip()
        self.super_dsn = f"postgresql://postgres:{password}@{net}.20:5432/jinlin"

    def cluster(self) -> dict[str, dict[str, Any]]:
        for url in self.patroni.values():
            try:
                members = httpx.get(url + "/cluster", timeout=2).json()["members"]
                return {m["name"]: m for m in members}
            except (httpx.HTTPError, ValueError, KeyError):
                continue
        return {}

    def leader(self) -> str | None:
        return next((name for name, m in self.cluster().items() if m.get("role") == "leader"), None)

    def kill_host(self, host: str) -> int:
        pids = subprocess.run(
            ["ip", "netns", "pids", f"jlso-{host}"], capture_output=True, text=True, check=True
        ).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def start_app(self, host: str) -> None:
        subprocess.run(["bash", str(self.base / host / "start.sh")], check=True)

    def kill_postgres(self, node: str) -> int:
        pid = int((self.base / node / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        return pid


# ---------------------------------------------------------------- set-up


@dataclass
class World:
    admin: dict[str, str]
    community_id: int
    event_id: int
    items: list[int]
    people: list[Resident]
    phone: str
    password: str


async def setup(rig: Rig, residents: int) -> World:
    phone = "137" + str(secrets.randbelow(10**8)).zfill(8)
    password = "rig-" + secrets.token_hex(8)
    out = subprocess.run(  # noqa: ASYNC221 - set-up, before any clock starts
        [sys.executable, "-m", "app.cli", "admin", "create", "--phone", phone, "--password", password]
        + ["--community", "扩容社区", "--street", "扩容街道"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    community_id = int(json.loads(out.strip().splitlines()[-1])["community_id"])
    async with httpx.AsyncClient(base_url=rig.url, timeout=60) as http:
        admin = await login(http, phone, password)
        base = f"/api/v1/communities/{community_id}"
        start = datetime.now(UTC) - timedelta(minutes=5)
        event = await http.post(
            f"{base}/events",
            headers=admin,
            json={
                "title": "扩容演练",
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
        items = []
        for n in range(5):
            r = await http.post(
                f"{base}/items",
                headers=admin,
                json={"name": f"物品{n}", "points_price": 1, "stock": 1_000_000},
            )
            r.raise_for_status()
            items.append(int(r.json()["id"]))
        people = await add_residents(http, community_id, admin, residents)
        for n, person in enumerate(people):
            r = await http.post(
                f"{base}/awards",
                headers=admin,
                json={
                    "user_id": person.user_id,
                    "points": 1_000_000,
                    "reason": "rig",
                    "idempotency_key": f"rig-endow-{n}-{secrets.token_hex(4)}",
                },
            )
            r.raise_for_status()
    return World(admin, community_id, int(event.json()["id"]), items, people, phone, password)


# ---------------------------------------------------------------- load


class Load:
    """The clients: a third scan, a third order, a third award (by the admin)."""

    def __init__(self, rig: Rig, world: World, clients: int) -> None:
        self.rig = rig
        self.world = world
        self.clients = clients
        self.run = secrets.token_hex(3)
        self.stats = Stats()
        self.stop = asyncio.Event()
        self.codes: dict[str, str] = {}

    def key(self, kind: str, n: int, i: int) -> str:
        return f"so-{self.run}-{kind}-{n}-{i}"

    async def kiosk(self) -> None:
        """Refreshes the event's kiosk codes as a kiosk does (and keeps trying through faults)."""
        conn: loadgen.Connection | None = None
        path = f"/api/v1/events/{self.world.event_id}/code?action="
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = await loadgen.Connection.open(self.rig.url)
                for action in ("checkin", "checkout"):
                    async with asyncio.timeout(10):
                        status, answer = await conn.request("GET", path + action, headers=self.world.admin)
                    if status == 200:
                        self.codes[action] = answer["code"]
                    else:
                        raise OSError(f"kiosk code: {status}")
                await asyncio.sleep(5)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                if conn is not None:
                    conn.close()
                conn = None
                await asyncio.sleep(0.5)

    def request(self, n: int, i: int) -> tuple[str, str, str, Any, dict[str, str]]:
        world = self.world
        person = world.people[n % len(world.people)]
        kind = ("scan", "order", "award")[n % 3]
        if kind == "scan":
            action = "checkout" if i % 2 else "checkin"
            key = self.key("scan", n, i)
            return (
                kind,
                key,
                "/api/v1/scans",
                {"code": self.codes[action], "idempotency_key": key},
                person.headers,
            )
        if kind == "order":
            key = self.key("order", n, i)
            body = {"item_id": world.items[i % len(world.items)], "quantity": 1, "idempotency_key": key}
            return kind, key, "/api/v1/orders", body, person.headers
        key = self.key("award", n, i)
        body = {"user_id": person.user_id, "points": 1, "reason": "rig", "idempotency_key": key}
        return kind, key, f"/api/v1/communities/{world.community_id}/awards", body, world.admin

    @staticmethod
    def acknowledged(kind: str, status: int, answer: Any, attempt: int) -> bool | None:
        """True: the write is acknowledged; None: send it again; False: an unexpected answer."""
        if status >= 500 or status in (408, 429):
            return None
        if kind == "scan":
            result = answer.get("result") if isinstance(answer, dict) else None
            if status == 200 and result in ("checked_in", "checked_out"):
                return True
            # A retry of a scan whose first answer was lost finds it done.
            if (
                status == 409
                and isinstance(answer, dict)
                and answer.get("code") == "already_done"
                and attempt > 1
            ):
                return True
            if (
                status in (400, 409, 410)
                and isinstance(answer, dict)
                and answer.get("code") == "code_expired"
            ):
                return None  # the kiosk code went stale while the database was away: send it anew
            return False
        return status in (200, 201)

    async def client(self, n: int) -> None:
        stats = self.stats
        conn: loadgen.Connection | None = None
        i = 0
        while not self.stop.is_set():
            attempt = 0
            kind, key, *_ = self.request(n, i)
            stats.pending.add(key)
            deadline = time.monotonic() + 120
            while True:
                attempt += 1
                stats.sent += 1
                if attempt > 1:
                    stats.retried += 1
                kind, key, path, body, headers = self.request(n, i)  # a fresh kiosk code, same key
                try:
                    if conn is None:
                        conn = await loadgen.Connection.open(self.rig.url)
                    async with asyncio.timeout(15):
                        status, answer = await conn.request("POST", path, body, headers)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    stats.failures[type(exc).__name__] += 1
                    if conn is not None:
                        conn.close()
                    conn = None
                    outcome: bool | None = None
                else:
                    outcome = self.acknowledged(kind, status, answer, attempt)
                    if outcome is None:
                        stats.failures[str(status)] += 1
                if outcome is True:
                    stats.acks.append(Ack(kind, key, time.monotonic(), answer))
                    stats.pending.discard(key)
                    break
                if outcome is False:
                    stats.unexpected.append(f"{kind} {key}: {status} {str(answer)[:200]}")
                    stats.pending.discard(key)
                    break
                if time.monotonic() > deadline:
                    break  # stays pending: reported, never counted as acknowledged
                await asyncio.sleep(0.2)
            i += 1
        if conn is not None:
            conn.close()


# ---------------------------------------------------------------- a logout seen everywhere


# ---------------------------------------------------------------- the run


async def wait_until(condition: Any, seconds: float, step: float = 0.5) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if await asyncio.to_thread(condition):
            return time.monotonic() - began
        await asyncio.sleep(step)
    return None


def ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


CLUSTER_TIMES: dict[str, float] = {}


async def watch_cluster(rig: Rig, old: str, since: float, seconds: float) -> None:
    """Notes when (seconds after `since`) another node became the leader and when the old one
    was a running replica again (Patroni rewinds it, use_pg_rewind)."""
    while time.monotonic() - since < seconds:
        members = await asyncio.to_thread(rig.cluster)
        now = time.monotonic() - since
        if any(m.get("role") == "leader" and name != old for name, m in members.items()):
            CLUSTER_TIMES.setdefault("promoted", now)
        mine = members.get(old, {})
        leader = next((m for m in members.values() if m.get("role") == "leader"), {})
        # Back means streaming from the new leader on its timeline: right after the kill Patroni
        # may start the old primary as a replica for a moment before it finds the timelines
        # diverged and runs pg_rewind, and Patroni shows its lag as "unknown" until it streams.
        if (
            "promoted" in CLUSTER_TIMES
            and mine.get("role") in ("replica", "sync_standby")
            and mine.get("state") in ("running", "streaming")
            and isinstance(mine.get("lag"), int)
            and mine.get("timeline") == leader.get("timeline")
        ):
            CLUSTER_TIMES.setdefault("rejoined", now)
            return
        await asyncio.sleep(0.25)


async def wal_position(rig: Rig) -> int:
    conn = await asyncpg.connect(rig.super_dsn, timeout=10)
    try:
        return int(await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"))
    finally:
        await conn.close()


async def feed_listeners(rig: Rig) -> int:
    conn = await asyncpg.connect(rig.super_dsn, timeout=10)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jinlin change feed'"
            )
        )
    finally:
        await conn.close()


async def main(mode: str, base: Path, net: str) -> int:
    phases = PHASES[mode]
    rig = Rig(base, net)
    log("set-up: an admin, a community, an open event, items and residents, through nginx")
    world = await setup(rig, phases["clients"])
    results: dict[str, Any] = {"mode": mode}

    results["logout_before"] = await logout(rig, world, "before")

    load = Load(rig, world, phases["clients"])
    kiosk = asyncio.create_task(load.kiosk())
    while len(load.codes) < 2:  # noqa: ASYNC110 - the kiosk task sets no event to await
        await asyncio.sleep(0.1)
    clients = [asyncio.create_task(load.client(n)) for n in range(phases["clients"])]
    t0 = time.monotonic()
    log(f"load: {phases['clients']} clients (scans, orders, awards), steady for {phases['before']} s")
    await asyncio.sleep(2)  # warm-up
    wal_from = await wal_position(rig)
    await asyncio.sleep(phases["before"] - 2)
    before = (t0 + 2, time.monotonic())
    wal_bytes = await wal_position(rig) - wal_from
    wal_per_write = wal_bytes / max(1, load.stats.acked_between(*before))

    killed = rig.kill_host("app1")
    t_app = time.monotonic()
    log(f"fault 1: app1 killed ({killed} processes, kill -9); nginx must route around it")
    await asyncio.sleep(phases["app_down"])
    app_down_acks = load.stats.acked_between(t_app, time.monotonic())
    # app1 starts again while the primary is killed: its first connections (the migration check
    # of serve's start) may meet the failover, and its restart loop starts it again if so.
    rig.start_app("app1")
    t_restart = time.monotonic()
    log(f"app1 starting again; acknowledged while it was down: {app_down_acks}")

    leader = rig.leader()
    assert leader is not None, "no Patroni leader"
    await asyncio.sleep(3)
    pid = rig.kill_postgres(leader)
    t_kill = time.monotonic()
    log(f"fault 2: kill -9 of the primary's PostgreSQL ({leader}, postmaster {pid})")
    cluster = asyncio.create_task(watch_cluster(rig, leader, t_kill, phases["rejoin"]))
    while "promoted" not in CLUSTER_TIMES and not cluster.done():  # noqa: ASYNC110 - polled, as Patroni is
        await asyncio.sleep(0.2)
    promoted = CLUSTER_TIMES.get("promoted")
    log(f"Patroni promoted {rig.leader()} {_s(promoted)} s after the kill")
    while not any(ack.at > t_kill + (promoted or 0) for ack in load.stats.acks):
        if time.monotonic() - t_kill > 90:
            break
        await asyncio.sleep(0.1)
    log(f"writes acknowledged again {time.monotonic() - t_kill:.1f} s after the kill")
    await asyncio.sleep(3)
    after_start = time.monotonic()
    await asyncio.sleep(phases["after"])
    after = (after_start, time.monotonic())
    await cluster
    rejoin = CLUSTER_TIMES.get("rejoined")
    state = rig.cluster().get(leader)
    log(f"the old primary {leader} was a replica again {_s(rejoin)} s after the kill: {state}")
    load.stop.set()
    await asyncio.gather(*clients)
    kiosk.cancel()

    # The longest stretch without an acknowledged write, from the kill on.
    times = sorted([t_kill] + [a.at for a in load.stats.acks if a.at >= t_kill])
    gap = max((b - a for a, b in zip(times, times[1:], strict=False)), default=float("inf"))
    back = await wait_until(lambda: ready(rig.app["app1"]), 180)
    since_restart = None if back is None else time.monotonic() - t_restart
    log(f"app1 ready {_s(since_restart)} s after it was started again")
    # app2's two workers listened on the old primary; now all four must listen on the new one
    # (app1's second worker may come up a few seconds after the first answers /readyz).
    began = time.monotonic()
    while (listeners := await feed_listeners(rig)) < 4 and time.monotonic() - began < 30:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    results["listeners"] = listeners
    results["logout_after"] = await logout(rig, world, "after")
    # What Patroni did with the old primary: pg_rewind when its WAL had gone past the promotion
    # point, otherwise a plain restart as a replica of the new timeline.
    patroni_log = (base / leader / "patroni.log").read_text(errors="replace").splitlines()
    words = ("rewind", "timeline", "demot", "crash", "starting as a", "following", "promot")
    story = [
        line
        for line in patroni_log
        if any(w in line.lower() for w in words) and "no action" not in line.lower()
    ]
    rewound = any("running pg_rewind" in line.lower() or "pg_rewind:" in line.lower() for line in story)
    print(f"{leader}'s Patroni log, as it came back ({len(story)} lines):")
    for line in story[-12:]:
        print("   ", line[:200])

    checked = await stored_once(rig, load)
    stats = load.stats
    rows = [
        ("requests sent", stats.sent, ""),
        ("acknowledged", len(stats.acks), ""),
        ("retried (same key)", stats.retried, ""),
        ("unanswered at the end", len(stats.pending), "0"),
        ("unexpected answers", len(stats.unexpected), "0"),
        ("lost (acknowledged, not stored)", checked["lost"], "0"),
        ("duplicated (a key with two effects)", checked["duplicated"], "0"),
        ("acknowledged while app1 was down", app_down_acks, "> 0"),
        ("primary killed -> replica promoted, s", _s(promoted), ""),
        ("seconds without writes", _s(gap), f"<= {WRITE_RESUME_LIMIT:.0f}"),
        ("throughput before, writes/s", f"{stats.acked_between(*before) / (before[1] - before[0]):.0f}", ""),
        ("WAL per acknowledged write before the faults, bytes", f"{wal_per_write:.0f}", ""),
        ("throughput after, writes/s", f"{stats.acked_between(*after) / (after[1] - after[0]):.0f}", ""),
        ("primary killed -> old primary a replica again, s", _s(rejoin), ""),
        ("  pg_rewind ran", "yes" if rewound else "no (not needed: no divergent WAL)", ""),
        ("replica caught up (lag 0), s", _s(checked["replica_caught_up_s"]), ""),
        ("replica has the same rows", checked["replica_same_rows"], "True"),
        (
            "jinlin ledger verify on the new primary",
            "passed" if checked["ledger_verify"] else "FAILED",
            "passed",
        ),
        ("change feed listeners on the new primary", results["listeners"], "4"),
        *_logout_rows(results["logout_before"], "before"),
        *_logout_rows(results["logout_after"], "after"),
    ]
    print()
    print(f"| scale-out run ({mode}) | value | must be |")
    print("| --- | --- | --- |")
    for name, value, bound in rows:
        print(f"| {name} | {value} | {bound} |")
    print()
    print("acknowledged by kind:", dict(Counter(a.kind for a in stats.acks)), "stored:", checked["stored"])
    print("failed attempts by cause (each retried):", dict(stats.failures))
    for line in stats.unexpected[:5]:
        print("unexpected:", line)
    if not checked["ledger_verify"]:
        print(checked["ledger_verify_output"][-2000:])

    failed = [
        name
        for name, ok in (
            ("lost", checked["lost"] == 0),
            ("duplicated", checked["duplicated"] == 0),
            ("unexpected answers", not stats.unexpected),
            ("unanswered", not stats.pending),
            ("nginx routing around app1", app_down_acks > 0),
            ("promotion", promoted is not None),
            ("writes resumed in time", gap <= WRITE_RESUME_LIMIT),
            ("old primary rejoined", rejoin is not None),
            (
                "replica caught up",
                checked["replica_caught_up_s"] is not None and checked["replica_same_rows"],
            ),
            ("ledger verify", checked["ledger_verify"]),
            ("change feeds reconnected", results["listeners"] == 4),
            ("logout before", results["logout_before"].refused_after < LOGOUT_LIMIT),
            ("logout after", results["logout_after"].refused_after < LOGOUT_LIMIT),
        )
        if not ok
    ]
    if failed:
        print("scaleout: FAILED:", ", ".join(failed))
        return 1
    print("scaleout: every check passed")
    return 0


async def logout(rig: Rig, world: World, when: str) -> Logout:
    seen = await logout_seen_elsewhere(rig.app["app1"], rig.app["app2"], world.phone, world.password)
    log(
        f"logout on app1 ({when} the failover): app2 refused the session {seen.refused_after * 1000:.0f} ms "
        f"after the logout answered, having accepted it {seen.accepted_after} more times"
    )
    return seen


def _logout_rows(seen: Logout, when: str) -> list[tuple[str, object, str]]:
    return [
        (
            f"logout on app1 refused on app2 ({when} the failover), ms",
            f"{seen.refused_after * 1000:.0f}",
            "< 1000",
        ),
        (f"  requests app2 still accepted after it ({when})", seen.accepted_after, ""),
    ]


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=sorted(PHASES), default="full")
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--net", required=True)
    args = parser.parse_args()
    sys.exit(loadgen.drive(main(args.mode, args.base, args.net)))
