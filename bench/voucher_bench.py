"""Service-circle vouchers per second, bought through POST /api/v1/vouchers and redeemed through
POST /api/v1/scans, p50/p99, as a ratio to raw PostgreSQL.

    .venv/bin/python bench/voucher_bench.py                          # 64 clients, 20 s per phase
    .venv/bin/python bench/voucher_bench.py --clients 8 --seconds 3  # a quick smoke run
    .venv/bin/python bench/voucher_bench.py --raw-tps 5400           # ratio to a known pgbench figure

It starts `jinlin serve --workers 2` on a fresh embedded PostgreSQL (a temporary data directory),
makes a community with one provider (an organisation of kind provider with one member) offering
20 services (no quota, no monthly limit) and as many residents as there are clients, each with
plenty of points. Purchase phase: each client is one keep-alive connection (bench/loadgen.py) of
one resident buying a voucher of a random offer (a fresh idempotency key each time): the ledger
hold for the provider and the voucher row in one statement; every answer must be 201, and the
codes are kept. After a short warm-up of both phases the tables are analysed, as autovacuum
would have done on a running server. Redemption phase: the provider's member redeems those
codes from as many connections, each code once (the voucher row's conditional update, the hold
posted to the provider's account, the audit and scan log rows, in one statement) until every
code is redeemed, and the phase's rate is over the time that took; every answer must be 200
`redeemed`. Unless --raw-tps is
given, raw PostgreSQL is measured in the same run with the ledger benchmark's pgbench script
(bench/pgbench_transfer.sql) and 32 clients, before the first phase and after each; a phase's
ratio is to the mean of the two figures next to it. Target (issue 15): >= 0.3 of raw at 64
clients. The load generator runs on the same machine, so it competes for the same cores.
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
    random_phone,
    server,
    show,
    summary,
)

OFFERS = 20


async def setup(srv: Server, residents: int) -> tuple[list[int], list[Resident], dict[str, str]]:
    admin = create_admin(srv)  # noqa: ASYNC221 - set-up, before the clock starts
    async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        headers = await login(http, admin.phone, admin.password)
        base = f"/api/v1/communities/{admin.community_id}"
        phone, password = random_phone("136"), "member-" + secrets.token_hex(4)
        r = await http.post(
            f"{base}/organisations",
            headers=headers,
            json={
                "name": "基准理发店",
                "kinds": ["provider"],
                "category": "barber",
                "lat": 26.0859,
                "lng": 119.2979,
                "members": [{"phone": phone, "display_name": "店员", "password": password}],
            },
        )
        r.raise_for_status()
        provider_id = int(r.json()["id"])
        member = await login(http, phone, password)
        offers = []
        for n in range(OFFERS):
            r = await http.post(
                f"/api/v1/organisations/{provider_id}/offers",
                headers=headers,
                json={"name": f"服务{n}", "points_price": 1 + n % 10},
            )
            r.raise_for_status()
            offers.append(int(r.json()["id"]))
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
    return offers, people, member


async def purchases(
    url: str, offers: list[int], people: list[Resident], clients: int, seconds: float, codes: list[str]
) -> tuple[dict[str, float], Tally, loadgen.Result]:
    run = secrets.token_hex(3)
    rngs = [random.Random(n) for n in range(clients)]

    def buy(n: int, i: int) -> tuple[str, str, Any, dict[str, str]]:
        body = {"offer_id": rngs[n].choice(offers), "idempotency_key": f"{run}-{n}-{i}"}
        return "POST", "/api/v1/vouchers", body, people[n].headers

    def classify(status: int, answer: Any) -> str | None:
        if status == 201 and isinstance(answer, dict) and answer.get("status") == "held":
            codes.append(str(answer["voucher_code"]))
            return "bought"
        return None

    tally = Tally(classify)
    result = await loadgen.run(url, clients, seconds, buy, tally)
    return summary(result.count, result.elapsed, result.latencies), tally, result


async def redemptions(
    url: str, member: dict[str, str], clients: int, seconds: float, codes: list[str]
) -> tuple[dict[str, float], Tally, loadgen.Result]:
    pool = iter(codes)
    run = secrets.token_hex(3)

    def scan(n: int, i: int) -> tuple[str, str, Any, dict[str, str]] | None:
        code = next(pool, None)
        if code is None:
            return None  # every code bought is redeemed: this connection stops
        return "POST", "/api/v1/scans", {"code": code, "idempotency_key": f"{run}-{n}-{i}"}, member

    def classify(status: int, answer: Any) -> str | None:
        if status == 200 and isinstance(answer, dict) and answer.get("result") == "redeemed":
            return "redeemed"
        return None

    tally = Tally(classify)
    result = await loadgen.run(url, clients, seconds, scan, tally)
    return summary(result.count, result.elapsed, result.latencies), tally, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--raw-tps", type=float, default=None, help="skip pgbench; use this figure")
    loadgen.add_options(parser)
    args = parser.parse_args()
    loadgen.configure(args)
    errors = 0
    with server(args.workers, "jinlin-voucher-bench-") as srv:
        print(
            f"{args.clients} clients, {args.seconds} s per phase, {args.workers} server workers, "
            f"data in {srv.data_dir}"
        )
        reference = Reference(srv, args.seconds, fixed=args.raw_tps)
        reference.measure()
        offers, people, member = loadgen.drive(setup(srv, args.clients))
        analyze(srv)
        warm_codes: list[str] = []
        _, warm, _ = loadgen.drive(
            purchases(srv.url, offers, people, args.clients, WARMUP_SECONDS, warm_codes)
        )
        errors += warm.counts["unexpected"]
        _, warm, _ = loadgen.drive(redemptions(srv.url, member, args.clients, WARMUP_SECONDS / 2, warm_codes))
        errors += warm.counts["unexpected"]
        # The planner's figures as a running server's autovacuum keeps them: analysed while the
        # vouchers table was empty, PostgreSQL takes held vouchers for rare and a redemption reads
        # every held voucher's expiry index entry instead of the one its secret names (1,335
        # entries a redemption at 3,000 held, measured in pg_stat_user_indexes), until
        # autovacuum's next ANALYZE, which may come in the middle of a phase.
        analyze(srv)
        codes: list[str] = []
        figures, tally, answers = loadgen.drive(
            purchases(srv.url, offers, people, args.clients, args.seconds, codes)
        )
        show(f"POST /api/v1/vouchers, {args.clients} clients", figures)
        errors += tally.counts["unexpected"]
        raw = reference.around_last_phase()
        bought = tally.counts["bought"] / answers.elapsed
        print(
            f"  purchase: {bought:.0f} vouchers/s = {bought / raw if raw else 0:.2f} of raw {raw:.0f} tps "
            f"(target >= 0.3); p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
        )
        print(f"    {tally.report(answers)}")
        # Redeem every code bought, once: the phase ends when the codes do (at most as long as the
        # purchase phase ran), and its rate is over the time it took.
        figures, tally, answers = loadgen.drive(
            redemptions(srv.url, member, args.clients, args.seconds, codes)
        )
        show(f"POST /api/v1/scans (vouchers), {args.clients} clients", figures)
        errors += tally.counts["unexpected"]
        raw = reference.around_last_phase()
        rate = tally.counts["redeemed"] / answers.elapsed if answers.elapsed else 0.0
        print(
            f"  redemption: {rate:.0f} vouchers/s = {rate / raw if raw else 0:.2f} of raw {raw:.0f} tps "
            f"(target >= 0.3); p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
        )
        print(f"    {tally.report(answers)}, {len(codes)} codes bought")
    if errors:
        raise SystemExit(f"{errors} unexpected answers; see above")


if __name__ == "__main__":
    main()
