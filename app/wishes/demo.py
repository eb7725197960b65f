"""Demo wishes from the seeds (minhou's visits, fuqing's 邻+圆梦池): one in every status, among
them a socket repair for 杨依伯 posted by the grid worker after a visit and claimed by a partner
unit; two delivered (one by a volunteer, thanked with a photo, one by a partner unit, counting on
its agreement). Idempotent: a wish is added once by title."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, photos
from app.core.authz import Actor
from app.core.uow import connection_of
from app.wishes import access, codes, delivery, services

# (title, description, for (name), posted by (phone; None: the beneficiary), status, claimed by)
WISHES = [
    (
        "修理厨房插座",
        "厨房插座松动打火，老人独居，想请人换一个新插座。",
        "杨依伯",
        "13800000003",
        "claimed",
        "unit",
    ),
    ("一台轮椅", "腿脚不便，想要一台轻便轮椅方便下楼晒太阳。", "刘阿婆", "13800000003", "submitted", None),
    ("孩子的新书包", "孩子上三年级，书包背带断了。", "郑美玉", None, "published", None),
    ("阳台晾衣架维修", "晾衣架摇不下来。", "郑美玉", None, "rejected", None),
    (
        "陪同去医院复查",
        "下周三上午去省立医院复查，想请人陪同。",
        "刘阿婆",
        "13800000003",
        "delivered",
        "volunteer",
    ),
    (
        "上门测血压、讲讲用药",
        "老伴高血压，药多记不住，想请医生上门测测血压、讲讲怎么吃药。",
        "黄志强",
        None,
        "delivered",
        "unit",
    ),
]
# The wishes for a thing to have; the others ask for help to be given.
ITEMS = {"一台轮椅", "孩子的新书包"}
# What the beneficiary's side said once it was delivered, by title.
THANKS = {
    "陪同去医院复查": "刘阿婆说：谢谢小李一上午的陪伴，检查结果都好。",
    "上门测血压、讲讲用药": "张医生把每种药几点吃写在了药盒上，老伴现在不会吃错了，谢谢省疾控中心！",
}
GRID = "13800000003"
# Wishes co-funded by the government, partner units and residents (app.payments' demo records
# the contributions): 政府补一点、社会筹一点、居民凑一点.
FUNDED = [("三楼楼道加装扶手", "楼梯陡，老人上下楼要扶着墙。想在一到三楼加装不锈钢扶手。", "刘阿婆", 360_000)]
VOLUNTEER = "13800000004"
UNIT_MEMBER = "13800000021"  # 省疾控中心 张医生 (the partners' demo)
CONSENT = "网格员入户走访时记录，本人同意代为发布。"


async def _user(
    session: AsyncSession, community_id: int, *, phone: str | None = None, name: str | None = None
) -> Actor | None:
    row = (
        await session.execute(
            text(
                "SELECT u.id, u.display_name, m.roles FROM users u "
                "LEFT JOIN memberships m ON m.user_id = u.id AND m.community_id = :c "
                "WHERE (CAST(:phone AS varchar) IS NULL OR u.phone = :phone) "
                "AND (CAST(:name AS varchar) IS NULL OR (u.display_name = :name AND m.id IS NOT NULL)) "
                "ORDER BY u.id LIMIT 1"
            ),
            {"c": community_id, "phone": phone, "name": name},
        )
    ).first()
    if row is None:
        return None
    roles = {community_id: frozenset(row.roles)} if row.roles else {}
    return Actor(user_id=int(row.id), display_name=row.display_name, roles=roles)


async def seed(session: AsyncSession, community_id: int) -> None:
    admin_id = await session.scalar(
        text(
            "SELECT user_id FROM memberships WHERE community_id = :c AND 'admin' = ANY(roles) "
            "ORDER BY id LIMIT 1"
        ),
        {"c": community_id},
    )
    if admin_id is None:
        return
    admin = Actor(user_id=int(admin_id), display_name="", roles={community_id: frozenset({"admin"})})
    existing = set(
        (await session.execute(text("SELECT title FROM wishes WHERE community_id = :c"), {"c": community_id}))
        .scalars()
        .all()
    )
    for title, description, name, poster_phone, status, claimant in WISHES:
        kind = "item" if title in ITEMS else "service"
        if title in existing:
            continue
        beneficiary = await _user(session, community_id, name=name)
        poster = await _user(session, community_id, phone=poster_phone) if poster_phone else beneficiary
        if beneficiary is None or poster is None:
            continue
        wish_id = await services.post_wish(
            session,
            poster,
            community_id,
            title=title,
            description=description,
            for_user_id=beneficiary.user_id,
            consent_note=CONSENT if poster.user_id != beneficiary.user_id else "",
            kind=kind,
        )
        if status == "submitted":
            continue
        decision = "reject" if status == "rejected" else "publish"
        note = "晾衣架属物业维修范围，已转物业公司处理。" if decision == "reject" else ""
        await services.review(session, admin, wish_id, decision, note)
        if status in ("published", "rejected"):
            continue
        if claimant == "unit":
            member = await _user(session, community_id, phone=UNIT_MEMBER)
            # The member's unit that may act here (the same phone may belong to a unit elsewhere).
            units = await access.units_acting_in(session, member.user_id, community_id) if member else []
            if member is None or not units:
                continue
            await services.claim(session, member, wish_id, units[0].id)
        else:
            volunteer = await _user(session, community_id, phone=VOLUNTEER)
            if volunteer is None:
                continue
            await services.claim(session, volunteer, wish_id)
        if status != "delivered":
            continue
        # Delivered as in life: the claimant's code scanned by the grid worker for the resident.
        grid = await _user(session, community_id, phone=GRID)
        claimed_at = await session.scalar(text("SELECT claimed_at FROM wishes WHERE id = :i"), {"i": wish_id})
        if grid is None or claimed_at is None:
            continue
        key = secrets.token_hex(32)
        code, _ = codes.delivery_code(key, community_id, wish_id, claimed_at, clock.now())
        await delivery.deliver(await connection_of(session), grid, code, key)
        await services.thank(session, grid, wish_id, THANKS[title])
    for title, description, name, goal in FUNDED:
        if title in existing:
            continue
        beneficiary = await _user(session, community_id, name=name)
        grid = await _user(session, community_id, phone=GRID)
        if beneficiary is None or grid is None:
            continue
        wish_id = await services.post_wish(
            session,
            grid,
            community_id,
            title=title,
            description=description,
            for_user_id=beneficiary.user_id,
            consent_note=CONSENT,
            funding_goal_cents=goal,
        )
        await services.review(session, admin, wish_id, "publish", "")


THANKED = "陪同去医院复查"


def _thanks_picture() -> bytes:
    """A drawn picture for the demo's thanks (two people side by side under a warm sky): the demo
    ships no photograph of anyone."""
    image = Image.new("RGB", (640, 480), (255, 236, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 360, 640, 480), fill=(196, 224, 180))
    draw.ellipse((520, 40, 600, 120), fill=(250, 190, 70))
    for x, colour in ((230, (178, 34, 34)), (400, (52, 101, 164))):
        draw.ellipse((x - 40, 150, x + 40, 230), fill=(240, 200, 170))
        draw.rounded_rectangle((x - 60, 235, x + 60, 400), radius=30, fill=colour)
    draw.polygon([(315, 170), (300, 150), (315, 140), (330, 150)], fill=(220, 60, 80))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


async def seed_files(session: AsyncSession, community_id: int, uploads_dir: Path) -> None:
    """The thank-you photo of the demo's delivered wish, stored as an upload is (cleaned, under a
    random name), once."""
    wish_id = await session.scalar(
        text(
            "SELECT id FROM wishes WHERE community_id = :c AND title = :t AND status = 'delivered' "
            "AND thanked_at IS NOT NULL AND thanks_photo = ''"
        ),
        {"c": community_id, "t": THANKED},
    )
    if wish_id is None:
        return
    filename = photos.write(uploads_dir, services.PHOTO_FOLDER, photos.clean(_thanks_picture()))
    await session.execute(
        text("UPDATE wishes SET thanks_photo = :f WHERE id = :i AND thanks_photo = ''"),
        {"f": filename, "i": wish_id},
    )
