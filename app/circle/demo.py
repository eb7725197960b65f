"""The demo's 15-minute service circle around 军门社区 (Gulou, Fuzhou): its compounds' and
providers' locations (real-looking coordinates around 26.08 N, 119.30 E), each provider's hours
and service menu, a proposal waiting for the admin, and a few vouchers bought, redeemed and
rated. Idempotent: offers by name, vouchers by their keys. The offers' pictures are drawn at seed
time (app.circle.demo_photos), one per provider; the proposal waiting for the admin has none, so
it shows its category's icon.

The providers are organisations of the partners' demo (树人家政, 龙湖物业, 金太阳, 能人服务队 and
a barber), found through app.core.organisations."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.circle import demo_photos, photos, redeeming, services, statements, vouchers
from app.circle.models import Offer, Rating, Voucher
from app.core import clock, organisations
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.places.models import Compound
from app.places.services import time_zone_of

COMPOUNDS = {"光复新村": (26.0881, 119.3009), "石井新村": (26.0852, 119.2968)}

# name -> (lat, lng, opening hours, comes to the home)
PROVIDERS = {
    "老张理发店": (26.0859, 119.2979, "每天 8:00–19:00", True),
    "能人服务队": (26.0866, 119.2997, "每周六 9:00–11:30（军门社区党群服务中心）", True),
    "龙湖物业": (26.0874, 119.2988, "24小时报修", True),
    "树人家政": (26.0899, 119.3047, "周一至周六 8:30–17:30", True),
    "金太阳": (26.0752, 119.2870, "每天 8:00–18:00", True),
}

# provider -> [(name, points, cash cents, monthly quota, per-resident limit, home visit, times, text)]
Menu = list[tuple[str, int, int, int | None, int | None, bool, str, str]]
MENUS: dict[str, Menu] = {
    "老张理发店": [
        ("理发", 15, 0, None, 2, False, "每天 8:00–19:00", "男女理发，老人优先。"),
        ("老人上门理发", 25, 0, 20, 1, True, "每周二、周四下午", "为行动不便的老人上门理发。"),
    ],
    "能人服务队": [
        (
            "健康咨询（刘医生）",
            10,
            0,
            30,
            2,
            False,
            "每周六 9:00–11:30",
            "退休医生坐诊：血压、血糖、用药咨询。",
        ),
        ("上门测血压", 15, 0, 10, 1, True, "每周六下午", "为独居老人上门测量血压、血糖。"),
    ],
    "龙湖物业": [
        ("水电维修上门", 20, 0, 40, 2, True, "24小时报修，2小时内上门", "更换开关插座、疏通下水等小修。"),
        ("更换水龙头", 15, 0, None, 1, True, "工作日 9:00–17:00", "不含材料费。"),
    ],
    "树人家政": [
        ("上门保洁（2小时）", 30, 0, 40, 2, True, "周一至周六", "独居老人、困难家庭优先。"),
        ("家电清洗", 50, 2000, 20, 1, True, "周一至周六", "油烟机、空调清洗，另付材料费20元。"),
    ],
    "金太阳": [
        ("助浴服务", 40, 0, 15, 1, True, "每天 9:00–17:00", "专业护理员上门助浴。"),
        ("陪同就医", 60, 0, 10, 1, True, "工作日", "陪同老人到医院就诊、取药。"),
    ],
}
# The providers' demo logins (the partners' demo makes them).
MEMBER_PHONES = {
    "树人家政": "13800000025",
    "龙湖物业": "13800000026",
    "金太阳": "13800000027",
    "能人服务队": "13800000028",
    "老张理发店": "13800000029",
}
# A proposal by the provider that waits for the admin's approval.
PROPOSAL = ("老张理发店", "洗剪吹", 20, "每天 8:00–19:00", "洗发、剪发、吹干。")

# (resident, provider, offer, months back, day, redeemed, stars or None, note): the circle's
# history over the last three months, placed by app.core.clock.months_back so that a past month's
# statement is closed and paid, last month's waits to be closed, and this month has its own,
# whichever day the demo is run. A resident without a phone has hers bought by the grid worker.
VOUCHERS = [
    ("郑美玉", "老张理发店", "理发", 2, 8, True, 5, "张师傅手艺好，很快。"),
    ("黄志强", "龙湖物业", "水电维修上门", 2, 11, True, 4, "师傅准时上门，插座修好了。"),
    ("刘阿婆", "金太阳", "助浴服务", 2, 21, True, 5, ""),
    ("郑美玉", "能人服务队", "健康咨询（刘医生）", 1, 6, True, None, ""),
    ("黄志强", "树人家政", "上门保洁（2小时）", 1, 13, True, 5, "打扫得很干净，谢谢阿姨。"),
    ("杨依伯", "能人服务队", "上门测血压", 1, 20, True, None, ""),
    ("郑美玉", "老张理发店", "理发", 1, 25, True, 5, ""),
    ("黄志强", "老张理发店", "理发", 0, 0, False, None, ""),
]
# Bought by the grid worker for residents without a phone (home visits only).
WITHOUT_PHONE = {"刘阿婆", "杨依伯"}
GRID_WORKER = "王网格"
# The month two months back is closed on the 3rd of the next and paid on the 10th.
CLOSED_ON, PAID_ON = 3, 10


async def _admin(session: AsyncSession, community_id: int) -> Actor | None:
    admin_id = await session.scalar(
        select(Membership.user_id)
        .where(Membership.community_id == community_id, Membership.roles.contains(["admin"]))
        .order_by(Membership.id)
        .limit(1)
    )
    return None if admin_id is None else Actor(int(admin_id), "", {community_id: frozenset({"admin"})})


async def seed(session: AsyncSession, community_id: int) -> None:
    admin = await _admin(session, community_id)
    if admin is None:
        return
    for compound in (
        await session.scalars(select(Compound).where(Compound.community_id == community_id))
    ).all():
        if compound.name in COMPOUNDS and compound.lat is None:
            await services.save_compound_place(
                session, admin, community_id, compound.id, *COMPOUNDS[compound.name]
            )
    found = {p.name: p for p in await organisations.providers_in(session, community_id)}
    offers: dict[tuple[str, str], int] = {}
    for name, (lat, lng, hours, home_visit) in PROVIDERS.items():
        provider = found.get(name)
        if provider is None:
            continue
        if provider.lat is None:
            await services.save_provider(
                session,
                admin,
                provider.id,
                address_text=provider.address,
                lat=lat,
                lng=lng,
                opening_hours=hours,
                home_visit=home_visit,
            )
        existing = {
            o.name: o.id
            for o in (await session.scalars(select(Offer).where(Offer.organisation_id == provider.id))).all()
        }
        for title, points, cash, quota, limit, visit, times, text in MENUS.get(name, []):
            if title not in existing:
                offer = await services.create_offer(
                    session,
                    admin,
                    provider.id,
                    services.OfferInput(
                        name=title,
                        points_price=points,
                        cash_price_cents=cash,
                        monthly_quota=quota,
                        per_resident_limit=limit,
                        home_visit=visit,
                        description=text,
                        opening_times=times,
                        community_id=community_id,
                    ),
                )
                existing[title] = offer.id
            offers[(name, title)] = existing[title]
        if name == PROPOSAL[0] and PROPOSAL[1] not in existing:
            # Proposed as the provider's admin would: pending until the community admin approves.
            offer = await services.create_offer(
                session,
                admin,
                provider.id,
                services.OfferInput(
                    name=PROPOSAL[1],
                    points_price=PROPOSAL[2],
                    opening_times=PROPOSAL[3],
                    description=PROPOSAL[4],
                ),
            )
            offer.status, offer.reviewed_by, offer.reviewed_at = "pending", None, None
            await session.flush()
    await _vouchers(session, community_id, offers, found)


async def _vouchers(
    session: AsyncSession,
    community_id: int,
    offers: dict[tuple[str, str], int],
    found: dict[str, organisations.ProviderRef],
) -> None:
    people = {
        name: user_id
        for name, user_id in (
            await session.execute(
                select(User.display_name, User.id)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.community_id == community_id)
            )
        ).all()
    }
    zone = await time_zone_of(session, community_id)
    for n, (resident, provider_name, title, months, day, *_rest) in enumerate(VOUCHERS):
        user_id, offer_id = people.get(resident), offers.get((provider_name, title))
        if user_id is None or offer_id is None:
            continue
        # This month's is bought now; the others at 10:00 on their day, redeemed that afternoon.
        bought_at = clock.now() if months == 0 else clock.months_back(months, day, time(10), zone)
        await _voucher(
            session,
            community_id,
            people,
            n,
            VOUCHERS[n],
            (user_id, offer_id, found[provider_name].id),
            (bought_at, bought_at + timedelta(hours=5)),
        )
    await _statements(session, community_id, found, zone)


async def _voucher(
    session: AsyncSession,
    community_id: int,
    people: dict[str, int],
    n: int,
    line: tuple[str, str, str, int, int, bool, int | None, str],
    ids: tuple[int, int, int],
    moments: tuple[datetime, datetime],
) -> None:
    """One voucher bought (by the resident, or by the grid worker for one without a phone) and, if
    its line says so, redeemed by the provider's member five hours later."""
    resident, provider_name, _title, _months, _day, redeemed, stars, note = line
    user_id, offer_id, provider_id = ids
    bought_at, redeemed_at = moments
    grid = people.get(GRID_WORKER)
    if resident in WITHOUT_PHONE and grid is not None:
        buyer = Actor(grid, GRID_WORKER, {community_id: frozenset({"grid_worker"})})
    else:
        buyer = Actor(user_id, resident, {community_id: frozenset({"resident"})})
    conn = await connection_of(session)
    try:
        with clock.as_of(bought_at):
            async with session.begin_nested():
                bought = await vouchers.buy(
                    conn,
                    buyer,
                    offer_id=offer_id,
                    idempotency_key=f"demo-circle-history-{n}",
                    for_user_id=user_id if buyer.user_id != user_id else None,
                )
    except DomainError:
        return  # not enough points in this demo's wallet: the voucher is left out
    if not redeemed:
        return
    voucher = await session.get(Voucher, bought.id)
    if voucher is None or voucher.status != "held":
        return
    member_id = await _member_of(session, provider_name, provider_id)
    if member_id is None:
        return
    with clock.as_of(redeemed_at):
        await redeeming.redeem(conn, Actor(member_id, ""), bought.id)
    if stars is not None and await session.get(Rating, bought.id) is None:
        await session.refresh(voucher)
        with clock.as_of(redeemed_at + timedelta(hours=2)):
            await vouchers.rate(
                session,
                Actor(user_id, resident, {community_id: frozenset({"resident"})}),
                bought.id,
                stars,
                note,
            )


async def _statements(
    session: AsyncSession, community_id: int, found: dict[str, organisations.ProviderRef], zone: str
) -> None:
    """The month two months back closed and paid for each provider that redeemed a voucher in
    it; last month is left for the admin to close."""
    admin = await _admin(session, community_id)
    if admin is None:
        return
    month = clock.month_of(clock.months_back(2, 1, time(12), zone), zone)
    for provider in found.values():
        figures = (await statements.month_figures(session, community_id, month, provider.id))[0]
        if figures.status == "open" and figures.vouchers:
            with clock.as_of(clock.months_back(1, CLOSED_ON, time(9, 30), zone)):
                await statements.close_month(session, admin, community_id, provider.id, month)
            figures = (await statements.month_figures(session, community_id, month, provider.id))[0]
        if figures.status == "closed":
            with clock.as_of(clock.months_back(1, PAID_ON, time(15), zone)):
                await statements.mark_paid(session, admin, community_id, provider.id, month)


async def _member_of(session: AsyncSession, name: str, organisation_id: int) -> int | None:
    """The provider's demo login, if it (still) acts for the provider."""
    user_id = await session.scalar(select(User.id).where(User.phone == MEMBER_PHONES.get(name, "")))
    if user_id is not None and organisation_id in await organisations.acts_for(session, int(user_id)):
        return int(user_id)
    return None


async def seed_files(session: AsyncSession, community_id: int, uploads_dir: Path) -> None:
    """Pictures for the demo's offers that have none yet, stored like the admin's upload."""
    admin = await _admin(session, community_id)
    if admin is None:
        return
    found = {p.id: p.name for p in await organisations.providers_in(session, community_id)}
    offers = (
        await session.scalars(
            select(Offer).where(
                Offer.community_id == community_id,
                Offer.organisation_id.in_(list(found)),
                Offer.status == "active",
                Offer.photo_id.is_(None),
            )
        )
    ).all()
    for offer in offers:
        picture = demo_photos.picture(found[offer.organisation_id])
        if picture is not None and (found[offer.organisation_id], offer.name) in _MENU_NAMES:
            await photos.save_photo(session, admin, offer, picture, uploads_dir)


_MENU_NAMES = {(provider, item[0]) for provider, menu in MENUS.items() for item in menu}
