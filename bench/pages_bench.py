"""The pages at a real community's size: one street of 8 communities, one of them with 2,000
households (5,000 residents) and a year of use; every page each role opens from its home, timed
and with the statements it sends PostgreSQL counted.

    nice .venv/bin/python bench/pages_bench.py                         # full size
    nice .venv/bin/python bench/pages_bench.py --residents 500 --weeks 8 --repeats 3   # quick run

It starts `jinlin serve` on a fresh embedded PostgreSQL (bench/common.py) and seeds, straight into
the tables with a few set-based statements (the set-up, not measured): 7 more communities on the
street, the residents (2,000 households: rooms of 40 buildings in 2 compounds), a street admin,
a staff member, a year of weekly events (closed, ~30 sign-ups and stays each), notices,
wishes and donations to 40 funding goals. The points move through the app's own API
(`/awards` for every stay with points, `/orders` for store orders of 30 residents), so the
ledger is the app's, and `jinlin ledger verify` is run at the end of the set-up. Then it signs
in (the login form, cookies) as the community admin, the street admin, the staff member and a
resident, and walks the links of each role's home two steps deep (one page per route, exports
included): each page is fetched `--repeats` times; p50/p95 in ms, the statements it sent and
PostgreSQL's own time for them (its log, `log_min_duration_statement = 0`: the fewest
statements of the repeats, the median time) and its p50 as a ratio to one simple indexed
query's latency (pgbench, one client, measured in the same run) are printed, one line per
page, and then the slowest statements. Then the admin searches the residents list and each
people picker for one resident by name, by a tail of their phone and by their whole number
typed with spaces or dashes, and for a name's first character (which everyone's name has); with
`--searches-only` the walk is left out (the set-up and the searches only).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import PGBIN, ROOT, Admin, Server, _psql, create_admin, login, server

HREF = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/logout", "/static", "/api/", "/login", "/healthz", "/readyz", "/lang", "/elder")


def psql(srv: Server, statement: str) -> str:
    return subprocess.run(
        [*_psql(srv), statement, "-t", "-A", "-v", "ON_ERROR_STOP=1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def seed_tables(srv: Server, admin: Admin, residents: int, weeks: int) -> None:
    """Everything that moves no points, set-based. Residents share the admin's password hash."""
    c = admin.community_id
    households = max(1, residents * 2 // 5)
    psql(
        srv,
        f"""
        INSERT INTO communities (street_id, name, join_code)
          SELECT street_id, '基准社区' || g, 'B' || md5(random()::text)::varchar(12)
          FROM communities, generate_series(2, 8) g WHERE id = {c};
        INSERT INTO compounds (community_id, name, address, households)
          SELECT {c}, '小区' || g, '', {households // 2} FROM generate_series(1, 2) g;
        INSERT INTO buildings (community_id, compound_id, name, leader_name)
          SELECT {c}, id, g || '号楼', '' FROM compounds, generate_series(1, 20) g
          WHERE community_id = {c};
        INSERT INTO users (phone, display_name, password_hash)
          SELECT '175' || lpad(g::text, 8, '0'), '居民' || g,
                 (SELECT password_hash FROM users WHERE phone = '{admin.phone}')
          FROM generate_series(1, {residents + 2}) g;
        INSERT INTO memberships (user_id, community_id, roles, compound_id, building_id, room)
          SELECT u.id, {c}, ARRAY['resident']::varchar[], b.compound_id, b.id,
                 ((n - 1) / 2 % {households} / 40 + 101)::text
          FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM users
                WHERE phone LIKE '175%' AND phone <= '175{residents:08d}') u
          JOIN (SELECT id, compound_id, row_number() OVER (ORDER BY id) - 1 k FROM buildings
                WHERE community_id = {c}) b ON b.k = (u.n - 1) / 2 % {households} % 40;
        INSERT INTO memberships (user_id, community_id, roles)
          SELECT id, {c}, ARRAY['staff']::varchar[] FROM users WHERE phone = '175{residents + 1:08d}';
        INSERT INTO street_roles (user_id, street_id, role)
          SELECT u.id, c.street_id, 'street_admin' FROM users u, communities c
          WHERE u.phone = '175{residents + 2:08d}' AND c.id = {c};
        INSERT INTO events (community_id, title, category, starts_at, ends_at, capacity,
                            points_per_attendance, status, attendee_count, closed_at, created_at)
          SELECT {c}, '周末活动' || g, 'service', now() - g * interval '7 days',
                 now() - g * interval '7 days' + interval '2 hours', 40, 10, 'closed', 30,
                 now() - g * interval '7 days' + interval '3 hours', now() - g * interval '7 days'
          FROM generate_series(1, {weeks}) g;
        INSERT INTO events (community_id, title, category, starts_at, ends_at, capacity,
                            points_per_attendance)
          SELECT {c}, '下周活动' || g, 'cleanup', now() + g * interval '7 days',
                 now() + g * interval '7 days' + interval '2 hours', 40, 10
          FROM generate_series(1, 4) g;
        INSERT INTO event_signups (community_id, event_id, user_id, status, created_at, updated_at)
          SELECT {c}, e.id, m.user_id, 'signed_up', e.starts_at - interval '2 days',
                 e.starts_at - interval '2 days'
          FROM events e CROSS JOIN LATERAL (
            SELECT user_id FROM memberships WHERE community_id = {c} AND 'resident' = ANY(roles)
            ORDER BY md5(user_id::text || e.id::text) LIMIT 30) m
          WHERE e.community_id = {c};
        INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at,
                                    checked_out_at, method_in, method_out, minutes, points, award_status)
          SELECT s.community_id, s.event_id, s.user_id, 1, e.starts_at, e.ends_at, 'kiosk', 'kiosk',
                 120, 0, 'none'
          FROM event_signups s JOIN events e ON e.id = s.event_id WHERE e.status = 'closed';
        INSERT INTO notices (user_id, community_id, kind, key, created_at)
          SELECT s.user_id, {c}, 'event_reminder', 'bench-' || s.id, s.created_at
          FROM event_signups s;
        INSERT INTO wishes (community_id, title, beneficiary_id, posted_by, status, created_at)
          SELECT {c}, '心愿' || n, id, id, 'submitted', now() - n * interval '1 day'
          FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM users WHERE phone LIKE '175%') u
          WHERE n <= 300;
        UPDATE wishes SET status = 'published', funding_goal_cents = 100000
          WHERE id IN (SELECT id FROM wishes WHERE community_id = {c} ORDER BY id LIMIT 40);
        INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents,
                                           name, show_name)
          SELECT {c}, 'wish', w.id, s, 5000, '捐赠人' || g, true
          FROM wishes w, unnest(ARRAY['government', 'partner']) s, generate_series(1, 3) g
          WHERE w.funding_goal_cents IS NOT NULL;
        """,
    )


async def move_points(srv: Server, admin: Admin, orders: int) -> None:
    """Points awarded for every stay of the year (one award each, through the API) and `orders`
    store orders placed by each of 30 residents (through the API, each with its own login),
    who are first awarded the points for them."""
    c = admin.community_id
    stays = [
        line.split("|")
        for line in psql(
            srv, f"SELECT user_id, event_id FROM event_checkins WHERE community_id = {c} ORDER BY id"
        ).splitlines()
    ]
    async with httpx.AsyncClient(base_url=srv.url, timeout=120) as http:
        headers = await login(http, admin.phone, admin.password)
        sem = asyncio.Semaphore(8)

        async def award(user_id: str, event_id: str) -> None:
            async with sem:
                r = await http.post(
                    f"/api/v1/communities/{c}/awards",
                    headers=headers,
                    json={
                        "user_id": int(user_id),
                        "points": 10,
                        "reason": "活动积分",
                        "idempotency_key": f"stay-{event_id}-{user_id}",
                    },
                )
                r.raise_for_status()

        await asyncio.gather(*(award(u, e) for u, e in stays))
        item_ids = []
        for n in range(20):
            r = await http.post(
                f"/api/v1/communities/{c}/items",
                headers=headers,
                json={"name": f"商品{n}", "points_price": 5, "stock": 100_000},
            )
            r.raise_for_status()
            item_ids.append(int(r.json()["id"]))
        buyers = psql(
            srv, "SELECT DISTINCT u.phone FROM event_checkins s JOIN users u ON u.id = s.user_id LIMIT 30"
        ).splitlines()

        async def shop(phone: str) -> None:
            async with sem:
                mine = await login(http, phone, admin.password)
                me = await http.get("/api/v1/me", headers=mine)
                me.raise_for_status()
                r = await http.post(
                    f"/api/v1/communities/{c}/awards",
                    headers=headers,
                    json={
                        "user_id": int(me.json()["id"]),
                        "points": 5 * orders,
                        "reason": "购物积分",
                        "idempotency_key": f"shopper-{phone}",
                    },
                )
                r.raise_for_status()
            for n in range(orders):
                async with sem:
                    r = await http.post(
                        "/api/v1/orders",
                        headers=mine,
                        json={
                            "item_id": item_ids[n % 20],
                            "quantity": 1,
                            "idempotency_key": secrets.token_hex(8),
                        },
                    )
                    assert r.status_code in (201, 409), r.text
                    if r.status_code == 409:
                        return

        await asyncio.gather(*(shop(p) for p in buyers))


def verify_ledger(srv: Server) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "ledger", "verify"],
        cwd=ROOT,
        env=srv.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise SystemExit(f"jinlin ledger verify failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "ok"


def raw_reference(srv: Server, residents: int) -> float:
    """One simple indexed query's latency in ms: pgbench, one client, 5 s."""
    script = Path(tempfile.mkstemp(suffix=".sql", dir=srv.data_dir)[1])
    script.write_text(
        f"\\set id random(1, {residents})\n"
        "SELECT id, display_name FROM users WHERE phone = '175' || lpad(:id::text, 8, '0');\n"
    )
    host = ["-h", str(srv.socket_dir), "-U", "postgres"]
    out = subprocess.run(
        [str(PGBIN / "pgbench"), *host, "-n", "-c", "1", "-T", "5", "-f", str(script), "jinlin"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"latency average = ([\d.]+) ms", out)
    assert match, out
    return float(match.group(1))


DURATION = re.compile(r"LOG:  duration: ([\d.]+) ms  (statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*)")


@dataclass
class Sent:
    statements: int  # run (simple queries and executions of prepared ones)
    db_ms: float  # PostgreSQL's own time for them, parse and bind included
    slowest: tuple[float, str]  # the slowest execution and its text


class StatementLog:
    """PostgreSQL's own log with `log_min_duration_statement = 0`: every statement sent between
    two marks, with its duration (parse, bind and execute apart for a prepared one)."""

    def __init__(self, srv: Server) -> None:
        self.path = srv.data_dir / "pg" / "log"
        psql(srv, "ALTER SYSTEM SET log_min_duration_statement = 0")
        psql(srv, "SELECT pg_reload_conf()")
        time.sleep(0.5)

    def mark(self) -> int:
        return self.path.stat().st_size

    def since(self, mark: int) -> Sent:
        with self.path.open("rb") as f:
            f.seek(mark)
            text = f.read().decode(errors="replace")
        count, total, slowest = 0, 0.0, (0.0, "")
        for ms, kind, query in DURATION.findall(text):
            total += float(ms)
            if kind.startswith(("statement", "execute")):
                count += 1
                if not query.startswith("WITH RECURSIVE typeinfo_tree"):  # asyncpg's, once a connection
                    slowest = max(slowest, (float(ms), query[:160]))
        return Sent(count, total, slowest)


@dataclass
class Row:
    role: str
    path: str
    status: int
    p50: float
    p95: float
    statements: int
    db_ms: float
    slowest: tuple[float, str]
    size: int


async def sign_in(http: httpx.AsyncClient, phone: str, password: str) -> None:
    page = await http.get("/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token, "no CSRF token on /login"
    r = await http.post(
        "/login", data={"phone": phone, "password": password, "_csrf_token": token.group(1), "next": "/"}
    )
    assert r.status_code in (200, 302, 303), r.text[:300]


def pattern(path: str) -> str:
    return re.sub(r"\d+", "N", path.split("?", 1)[0])


async def measured(
    http: httpx.AsyncClient, log: StatementLog, role: str, path: str, repeats: int
) -> tuple[httpx.Response, Row]:
    """`path` fetched `repeats` times: its last answer and its row (times, statements sent)."""
    times: list[float] = []
    counts: list[Sent] = []
    answer = None
    for _ in range(repeats):
        mark = log.mark()
        started = time.perf_counter()
        answer = await http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)  # the log is written by the backend, after the answer
        counts.append(log.since(mark))
    assert answer is not None
    ordered = sorted(times)
    row = Row(
        role,
        path,
        answer.status_code,
        statistics.median(ordered),
        ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        min(sent.statements for sent in counts),
        statistics.median(sent.db_ms for sent in counts),
        max(sent.slowest for sent in counts[1:] or counts),
        len(answer.content),
    )
    return answer, row


async def walk(
    srv: Server, log: StatementLog, role: str, phone: str, password: str, repeats: int
) -> list[Row]:
    rows: list[Row] = []
    async with httpx.AsyncClient(base_url=srv.url, timeout=300, follow_redirects=True) as http:
        await sign_in(http, phone, password)
        seen: set[str] = set()
        frontier = ["/"]
        for depth in range(3):
            following: list[str] = []
            for path in frontier:
                if pattern(path) in seen:
                    continue
                seen.add(pattern(path))
                answer, row = await measured(http, log, role, path, repeats)
                rows.append(row)
                if depth < 2 and "text/html" in answer.headers.get("content-type", ""):
                    for link in HREF.findall(answer.text):
                        link = link.replace("&amp;", "&")
                        if not link.startswith(SKIP) and pattern(link) not in seen:
                            following.append(link)
            frontier = following
    return rows


def search_paths(srv: Server, c: int) -> list[str]:
    """A search of each kind on each page that searches people: resident 1,234 is 居民1234, with
    phone 175 0000 1234; 居民123 finds eleven, 居 finds everyone."""
    event = psql(srv, f"SELECT min(id) FROM events WHERE community_id = {c} AND status <> 'closed'")
    residents = f"/admin/c/{c}/residents?q="
    return [
        *(
            residents + words
            for words in ("居民1234", "居民123", "01234", "175 0000 1234", "175-0000-1234", "居")
        ),
        f"/admin/c/{c}/ledger?q=居民1234",
        f"/admin/c/{c}/ledger?q=01234",
        f"/admin/c/{c}/approvals?q=居民1234",
        f"/c/{c}/wishes?who=01234",
        f"/admin/c/{c}/events/new?who=居民1234",
        f"/events/{event}/signup-for?q=居民1234",
    ]


async def search(
    srv: Server, log: StatementLog, phone: str, password: str, paths: list[str], repeats: int
) -> list[Row]:
    """Each of `paths` fetched `repeats` times, signed in as `phone`."""
    rows: list[Row] = []
    async with httpx.AsyncClient(base_url=srv.url, timeout=300, follow_redirects=True) as http:
        await sign_in(http, phone, password)
        for path in paths:
            answer, row = await measured(http, log, "search", path, repeats)
            assert answer.status_code == 200, (path, answer.status_code)
            rows.append(row)
    return rows


def run(residents: int, weeks: int, orders: int, repeats: int, searches_only: bool = False) -> None:
    with server(2, "jinlin-pages-bench-") as srv:
        started = time.perf_counter()
        admin = create_admin(srv)
        seed_tables(srv, admin, residents, weeks)
        asyncio.run(move_points(srv, admin, orders))
        verified = verify_ledger(srv)
        # As autovacuum leaves tables in use: statistics current, pages all visible, and the rows
        # added since waiting in no GIN index's pending list (the searches' indexes).
        psql(srv, "VACUUM ANALYZE")
        seeded = time.perf_counter() - started
        counts = psql(
            srv,
            "SELECT (SELECT count(*) FROM memberships) || ' memberships, ' || (SELECT count(*) FROM events)"
            " || ' events, ' || (SELECT count(*) FROM event_checkins) || ' stays, '"
            " || (SELECT count(*) FROM store_orders) || ' orders, ' || (SELECT count(*) FROM notices)"
            " || ' notices, ' || (SELECT count(*) FROM wishes) || ' wishes'",
        )
        print(flush=True)
        print(f"seeded in {seeded:.0f} s: {counts}; ledger verify: {verified}")
        raw = raw_reference(srv, residents)
        print(f"raw reference: one indexed SELECT, pgbench 1 client: {raw:.3f} ms")
        log = StatementLog(srv)
        staff, street = f"175{residents + 1:08d}", f"175{residents + 2:08d}"
        resident = psql(
            srv, "SELECT u.phone FROM event_checkins s JOIN users u ON u.id = s.user_id ORDER BY s.id LIMIT 1"
        )
        table: list[Row] = []
        roles = [("admin", admin.phone), ("street", street), ("staff", staff), ("resident", resident)]
        for role, phone in [] if searches_only else roles:
            table += asyncio.run(walk(srv, log, role, phone, admin.password, repeats))
        paths = search_paths(srv, admin.community_id)
        table += asyncio.run(search(srv, log, admin.phone, admin.password, paths, repeats))
        raw_after = raw_reference(srv, residents)
    print(f"raw reference after the pages: {raw_after:.3f} ms")
    print(
        f"{'role':<9} {'page':<58} {'st':>3} {'p50 ms':>8} {'p95 ms':>8} {'stmts':>5}"
        f" {'db ms':>6} {'x raw':>7}"
    )
    for row in table:
        ratio = row.p50 / ((raw + raw_after) / 2)
        print(
            f"{row.role:<9} {row.path[:58]:<58} {row.status:>3} {row.p50:8.1f} {row.p95:8.1f}"
            f" {row.statements:5d} {row.db_ms:6.1f} {ratio:7.0f}"
        )
    print("the slowest statements (ms, after the first request of a page):")
    for row in sorted(table, key=lambda row: row.slowest, reverse=True)[:15]:
        print(f"{row.slowest[0]:8.1f}  {row.role} {row.path[:60]}  {row.slowest[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--orders", type=int, default=20, help="orders per shopping resident (30 of them)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--searches-only", action="store_true", help="the searches without the walk")
    args = parser.parse_args()
    run(args.residents, args.weeks, args.orders, args.repeats, args.searches_only)


if __name__ == "__main__":
    main()
