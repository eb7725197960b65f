"""The demo district, drawn from the seed reports: Gulou district, Dongjie street, Junmen
community and its compounds (光复新村, 石井新村), its neighbour 旗汛口, and the compounds whose
numbers the seeds give in their own communities: 联邦新城 (232 households, 金浦社区, Cangshan)
and 金辉华府 (2,443 households, 名辉社区, Fuqing). Idempotent: running it twice changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import domains
from app.accounts import services as accounts
from app.accounts.models import Membership, StreetRole, User
from app.core.authz import Actor
from app.core.security import hash_password, verify_password
from app.places import services as places
from app.places.models import Building, Compound

DEMO_PASSWORD = "jinlin2026"
DISTRICT = "鼓楼区"
STREET = "东街街道"
COMMUNITY = "军门社区"
JOIN_CODE = "JUNMEN88"

# (compound, address, households, buildings). The Dongjie report gives no household counts for
# Junmen's compounds (0: not shown); the numbers the seeds do give sit on their own compounds below.
COMPOUNDS = [
    ("光复新村", "东街街道光复路", 0, ["1号楼", "2号楼", "3号楼", "4号楼"]),
    ("石井新村", "东街街道石井巷", 0, ["1号楼", "2号楼"]),
]
# Compounds that earlier versions of the demo placed in Junmen with another seed's numbers.
RETIRED_COMPOUNDS = ["联邦新城"]

# (role label, phone, name, roles, compound, building, room) — phone None: no phone, printed card
PEOPLE = [
    ("admin", "13800000001", "林书记", ["admin", "resident"], "光复新村", "1号楼", "101"),
    ("staff", "13800000002", "陈晓梅", ["staff", "resident"], "光复新村", "2号楼", "203"),
    ("grid_worker", "13800000003", "王网格", ["grid_worker", "resident"], "石井新村", "1号楼", "302"),
    ("volunteer", "13800000004", "李星", ["volunteer", "resident"], "石井新村", "2号楼", "501"),
    ("resident", "13800000005", "郑美玉", ["resident"], "石井新村", "1号楼", "1202"),
    ("resident", "13800000006", "黄志强", ["resident", "volunteer"], "光复新村", "3号楼", "503"),
    ("resident", None, "杨依伯", ["resident"], "光复新村", "4号楼", "402"),
    ("resident", None, "刘阿婆", ["resident"], "光复新村", "4号楼", "502"),
]
STREET_ADMIN = ("street_admin", "13800000009", "东街街道办", ["street_admin"])
NEIGHBOUR = ("旗汛口社区", "QIXUNKOU", "13800000010", "旗汛口管理员")
# The compounds whose numbers the seeds give, in their own streets and communities, each with an
# admin: (district, street, community, join code, admin phone, admin name, compound, address,
# households, buildings).
ELSEWHERE = [
    # fuzhou-cangshan-sanchajie: 联邦新城, 金浦社区, 三叉街街道, "现有住户232户".
    (
        "仓山区",
        "三叉街街道",
        "金浦社区",
        "JINPU232",
        "13800000011",
        "金浦社区管理员",
        "联邦新城",
        "三叉街街道金浦社区",
        232,
        ["1号楼", "2号楼", "3号楼"],
    ),
    # fuqing-jinhui: 金辉华府, 名辉社区, 石竹街道, "总户数2443户".
    (
        "福清市",
        "石竹街道",
        "名辉社区",
        "MINGHUI580",
        "13800000012",
        "名辉社区管理员",
        "金辉华府",
        "石竹街道名辉社区",
        2443,
        ["1号楼", "2号楼", "3号楼", "4号楼"],
    ),
]


async def ensure_admin(
    session: AsyncSession,
    *,
    phone: str,
    password: str,
    community_name: str,
    street_name: str,
    display_name: str,
) -> dict[str, int]:
    street = await places.ensure_street(session, street_name)
    community = await places.ensure_community(session, street, community_name)
    phone = accounts.normalise_phone(phone)
    accounts.check_password_strength(password)
    user = await session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(
            phone=phone,
            display_name=accounts.check_display_name(display_name),
            password_hash=hash_password(password),
        )
        session.add(user)
        await session.flush()
        await accounts.issue_card(session, user.id, "phone")
    elif not (user.password_hash and verify_password(user.password_hash, password)[0]):
        # A new password (an operator taking the account back): every session and token the
        # account had ends, as with an admin's reset. The same one again (the demo, a deploy
        # script run twice) ends nothing.
        user.password_hash = hash_password(password)
        await accounts.end_every_session(session, user.id)
    membership = await session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.community_id == community.id)
    )
    if membership is None:
        session.add(Membership(user_id=user.id, community_id=community.id, roles=["admin", "resident"]))
    elif "admin" not in membership.roles:
        membership.roles = [*membership.roles, "admin"]
    await session.flush()
    return {"user_id": user.id, "community_id": community.id, "street_id": street.id}


async def _ensure_compound(
    session: AsyncSession,
    admin: Actor,
    community_id: int,
    name: str,
    address: str,
    households: int,
    buildings: list[str],
) -> tuple[int, dict[str, int]]:
    """The compound and its buildings, made once; a household count that a later version of the
    demo corrected is corrected in place."""
    compound = await session.scalar(
        select(Compound).where(Compound.community_id == community_id, Compound.name == name)
    )
    if compound is None:
        compound = await places.save_compound(
            session, admin, community_id, name=name, address=address, households=households
        )
    elif compound.households != households:
        compound.households = households
    building_ids: dict[str, int] = {}
    for bname in buildings:
        building = await session.scalar(
            select(Building).where(Building.compound_id == compound.id, Building.name == bname)
        )
        if building is None:
            building = await places.save_building(
                session, admin, community_id, compound_id=compound.id, name=bname
            )
        building_ids[bname] = building.id
    return compound.id, building_ids


async def seed(session: AsyncSession, uploads_dir: Path | None = None) -> list[tuple[str, str, str, str]]:
    """Seeds the district; with `uploads_dir`, also the files the demo shows (item pictures)."""
    street = await places.ensure_street(session, STREET, DISTRICT)
    community = await places.ensure_community(session, street, COMMUNITY, JOIN_CODE)
    first = PEOPLE[0]
    ids = await ensure_admin(
        session,
        phone=str(first[1]),
        password=DEMO_PASSWORD,
        community_name=COMMUNITY,
        street_name=STREET,
        display_name=first[2],
    )
    admin = Actor(user_id=ids["user_id"], display_name=first[2], roles={community.id: frozenset({"admin"})})

    compound_ids: dict[str, int] = {}
    building_ids: dict[tuple[str, str], int] = {}
    for name, address, households, buildings in COMPOUNDS:
        compound_ids[name], found = await _ensure_compound(
            session, admin, community.id, name, address, households, buildings
        )
        building_ids.update({(name, b): building_id for b, building_id in found.items()})
    for retired in await session.scalars(
        select(Compound).where(Compound.community_id == community.id, Compound.name.in_(RETIRED_COMPOUNDS))
    ):
        retired.households = 0

    logins: list[tuple[str, str, str, str]] = []
    for label, phone, name, roles, compound_name, building_name, room in PEOPLE:
        existing = None
        if phone:
            existing = await session.scalar(select(User).where(User.phone == phone))
        else:
            existing = await session.scalar(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    Membership.community_id == community.id, User.display_name == name, User.phone.is_(None)
                )
            )
        if existing is not None:
            membership = await session.scalar(
                select(Membership).where(
                    Membership.user_id == existing.id, Membership.community_id == community.id
                )
            )
            if membership is not None:
                membership.compound_id = compound_ids[compound_name]
                membership.building_id = building_ids[(compound_name, building_name)]
                membership.room = room
        else:
            await accounts.add_resident(
                session,
                admin,
                community.id,
                accounts.ResidentInput(
                    display_name=name,
                    phone=phone,
                    password=DEMO_PASSWORD if phone else None,
                    roles=roles,
                    compound_id=compound_ids[compound_name],
                    building_id=building_ids[(compound_name, building_name)],
                    room=room,
                ),
            )
        if phone:
            logins.append((label, phone, DEMO_PASSWORD, name))
        else:
            logins.append((label, "(no phone)", "printed card", name))

    # A street admin who sees every community of Dongjie street.
    label, phone, name, _roles = STREET_ADMIN
    user = await session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(phone=phone, display_name=name, password_hash=hash_password(DEMO_PASSWORD))
        session.add(user)
        await session.flush()
        await accounts.issue_card(session, user.id, "phone")
    if not await session.scalar(
        select(StreetRole.id).where(StreetRole.user_id == user.id, StreetRole.street_id == street.id)
    ):
        session.add(StreetRole(user_id=user.id, street_id=street.id, role="street_admin"))
    logins.append((label, phone, DEMO_PASSWORD, name))

    # A neighbouring community with its own admin: its people are not Junmen's to see.
    cname, code, nphone, nname = NEIGHBOUR
    await places.ensure_community(session, street, cname, code)
    await ensure_admin(
        session,
        phone=nphone,
        password=DEMO_PASSWORD,
        community_name=cname,
        street_name=STREET,
        display_name=nname,
    )
    logins.append(("admin (旗汛口)", nphone, DEMO_PASSWORD, nname))

    # The seeds' other compounds, with their own numbers, in their own communities.
    for district, sname, cname, code, aphone, aname, compound, address, households, buildings in ELSEWHERE:
        other_street = await places.ensure_street(session, sname, district)
        await places.ensure_community(session, other_street, cname, code)
        other = await ensure_admin(
            session,
            phone=aphone,
            password=DEMO_PASSWORD,
            community_name=cname,
            street_name=sname,
            display_name=aname,
        )
        other_admin = Actor(
            user_id=other["user_id"], display_name=aname, roles={other["community_id"]: frozenset({"admin"})}
        )
        await _ensure_compound(
            session, other_admin, other["community_id"], compound, address, households, buildings
        )
        logins.append((f"admin ({cname})", aphone, DEMO_PASSWORD, aname))
    await session.flush()

    domains.connect_organisations()
    domains.load_figures()
    domains.load_funding_targets()
    for module in domains.demo_modules():
        # A domain may answer with demo logins of its own (partner units' members).
        logins += await module.seed(session, community.id) or []
        if uploads_dir is not None and hasattr(module, "seed_files"):
            await module.seed_files(session, community.id, uploads_dir)
    return logins
