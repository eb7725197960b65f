"""Points expiry (first in, first out), the notice a month ahead, and expired holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from app.core import clock
from app.core.uow import connection_of
from app.ledger import expiry, jobs
from app.ledger import services as ledger
from tests.api.helpers import loose_dates, words


def _args(c: int, u: int, points: int, key: str) -> dict[str, Any]:
    return {
        "community_id": c,
        "user_id": u,
        "points": points,
        "kind": "award",
        "reference": "t",
        "memo": "六清",
        "actor_id": None,
        "idempotency_key": key,
    }


async def test_points_expire_first_in_first_out_with_notice(db: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    moved = timedelta(0)
    try:
        await ledger.award(await connection_of(db), **_args(c, u, 30, f"e-{c}-1"))
        clock.advance(timedelta(days=100))
        moved += timedelta(days=100)
        await ledger.award(await connection_of(db), **_args(c, u, 20, f"e-{c}-2"))
        await ledger.deduct(
            await connection_of(db), **{**_args(c, u, 10, f"e-{c}-3"), "kind": "correction"}
        )  # spends the oldest
        await expiry.set_expiry_months(await connection_of(db), c, 4, actor_id=None)
        schedule = await expiry.expiry_schedule(await connection_of(db), c, u)
        assert [e.points for e in schedule] == [20, 20]
        assert schedule[0].on - clock.now() < timedelta(days=31)  # the notice shows it
        assert await jobs.expire_points(db) == 0
        clock.advance(timedelta(days=25))
        moved += timedelta(days=25)
        await jobs.expire_points(db)
        assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(20, 0, 20)
        lines, _ = await ledger.statement(await connection_of(db), c, u)
        assert (lines[0].kind, lines[0].amount) == ("expiry", -20)
        await jobs.expire_points(db)  # again: nothing more
        assert (await ledger.wallet(await connection_of(db), c, u)).balance == 20
        await db.commit()
    finally:
        clock.advance(-moved)


async def test_expired_holds_are_voided_by_the_job(db: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    await ledger.award(await connection_of(db), **_args(c, u, 10, f"x-{c}-1"))
    await ledger.hold(
        await connection_of(db),
        **{**_args(c, u, 8, f"x-{c}-2"), "kind": "order"},
        expires_at=clock.now() + timedelta(minutes=15),
    )
    assert (await ledger.wallet(await connection_of(db), c, u)).available == 2
    clock.advance(timedelta(minutes=16))
    try:
        assert await jobs.void_expired_holds(db) >= 1
    finally:
        clock.advance(-timedelta(minutes=16))
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(10, 0, 10)
    await db.commit()


async def test_expiry_dates_residents_read_are_the_communitys(db: Any, factory: Any) -> None:
    """The jobs run at night in UTC, which is still the day before in Los Angeles: the expired
    transfer's "earned before" date and the notice's "expire by" date were UTC dates, a day off
    from the calendar of a community there."""
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    zone = "America/Los_Angeles"
    await db.execute(text("UPDATE communities SET time_zone = :z WHERE id = :c"), {"z": zone, "c": c})
    moved = timedelta(0)
    try:
        await ledger.award(await connection_of(db), **_args(c, u, 30, f"z-{c}-1"))
        await expiry.set_expiry_months(await connection_of(db), c, 2, actor_id=None)
        # Some 40 days on, at 03:17 UTC, when the warning's day differs in Los Angeles.
        later = (clock.now() + timedelta(days=40)).replace(hour=3, minute=17)
        moved += later - clock.now()
        clock.advance(later - clock.now())
        assert await expiry.warn_expiring(await connection_of(db), community_id=c) == 1
        by = clock.now() + expiry.WARN_AHEAD
        assert clock.local(by, zone).date() != by.date()
        notice = (
            await db.execute(
                text("SELECT params FROM notices WHERE user_id = :u AND kind = 'points_expiring'"), {"u": u}
            )
        ).scalar_one()
        assert notice["by"] == clock.local(by, zone).date().isoformat()
        # And on past two months, the expiry itself.
        step = timedelta(days=30)
        moved += step
        clock.advance(step)
        assert await expiry.expire_points(await connection_of(db), community_id=c) == 30
        cutoff = expiry.add_months(clock.now(), -2)
        assert clock.local(cutoff, zone).date() != cutoff.date()
        lines, _ = await ledger.statement(await connection_of(db), c, u)
        assert lines[0].kind == "expiry"
        reason = (
            await db.execute(text("SELECT reason FROM ledger_transfers WHERE id = :t"), {"t": lines[0].id})
        ).scalar_one()
        assert reason == {"before": clock.local(cutoff, zone).date().isoformat()}
        await db.commit()
    finally:
        clock.advance(-moved)


async def test_points_earned_on_one_day_expire_in_one_line(client: Any, site: Any, db: Any) -> None:
    """Thirteen awards of one morning read as thirteen lines of "N points expire on" the same date
    on My points: the schedule was kept by the second each was earned, not by the day."""
    tenant, _admin, alice, _bob = site
    c, u = tenant.community_id, alice.user_id
    await db.execute(text("UPDATE communities SET time_zone = 'Asia/Shanghai' WHERE id = :c"), {"c": c})
    # 08:00 in Fuzhou; the awards a minute apart.
    start = clock.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    moved = start - clock.now()
    clock.advance(moved)
    try:
        for n in range(3):
            await ledger.award(await connection_of(db), **_args(c, u, 10 + n, f"day-{c}-{n}"))
            clock.advance(timedelta(minutes=1))
            moved += timedelta(minutes=1)
        await expiry.set_expiry_months(await connection_of(db), c, 3, actor_id=None)
        await db.commit()
        schedule = await expiry.expiry_schedule(await connection_of(db), c, u, "Asia/Shanghai")
        assert [e.points for e in schedule] == [33]
        page = (await client.get(f"/wallet?community_id={c}", headers=alice.headers)).text
        when = clock.text(expiry.add_months(start, 3), "Asia/Shanghai", "date")
        assert page.count("积分将于") == 1 and f"33 积分将于 {when} 过期" in words(page), page
        assert loose_dates(page) == []  # the date kept whole on a narrow line
    finally:
        clock.advance(-moved)


async def test_one_point_expires_in_the_singular_in_english(client: Any, site: Any, db: Any) -> None:
    """My points read "1 points expire on …" in English."""
    tenant, _admin, alice, _bob = site
    c, u = tenant.community_id, alice.user_id
    await ledger.award(await connection_of(db), **_args(c, u, 1, f"one-{c}"))
    await expiry.set_expiry_months(await connection_of(db), c, 3, actor_id=None)
    await db.commit()
    english = await client.get(
        f"/wallet?community_id={c}", headers={**alice.headers, "Accept-Language": "en"}
    )
    assert "1 point expires on" in words(english.text) and "1 points" not in english.text, english.text
    assert loose_dates(english.text) == []  # the date still kept whole
    chinese = (await client.get(f"/wallet?community_id={c}", headers=alice.headers)).text
    assert "1 积分将于" in words(chinese)
