"""The public results wall (成果晾晒): no login, the demo's stories and live totals, partner units
thanked by name, and never a resident's phone or full name; the admin writes, changes, hides and
(after a confirmation) deletes stories, with a photo."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import demo
from app.core import wall
from tests.api.helpers import post_form, session_of
from tests.conftest import Factory, login


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 30)).save(out, "PNG")
    return out.getvalue()


async def test_demo_wall_shows_totals_and_partners_but_no_resident(
    client: Any, engine: Any, tmp_path: Any
) -> None:
    maker = async_sessionmaker(engine, expire_on_commit=False)
    for _ in range(2):  # seeding twice adds no story twice
        async with maker() as s, s.begin():
            await demo.seed(s, uploads_dir=tmp_path)
    async with maker() as s:
        cid = (await s.execute(text("SELECT id FROM communities WHERE join_code = 'JUNMEN88'"))).scalar_one()
        # The community's own people (other tests' users, named "居民" or "周" say, are not its).
        people = (
            await s.execute(
                text(
                    "SELECT u.phone, u.display_name FROM users u "
                    "JOIN memberships m ON m.user_id = u.id WHERE m.community_id = :c"
                ),
                {"c": cid},
            )
        ).all()
        delivered = await s.scalar(
            text("SELECT count(*) FROM wishes WHERE community_id = :c AND status = 'delivered'"), {"c": cid}
        )
        units = (
            (
                await s.execute(
                    text(
                        "SELECT DISTINCT o.name FROM agreements a "
                        "JOIN organisations o ON o.id = a.organisation_id WHERE a.community_id = :c "
                        "AND a.year = extract(year FROM now() AT TIME ZONE 'Asia/Shanghai')"
                    ),
                    {"c": cid},
                )
            )
            .scalars()
            .all()
        )
        titles = (
            (await s.execute(text("SELECT title FROM wall_stories WHERE community_id = :c"), {"c": cid}))
            .scalars()
            .all()
        )
    assert len(titles) == 3 and len(set(titles)) == 3
    client.cookies.clear()
    page = await client.get(f"/c/{cid}/wall")
    assert page.status_code == 200, page.text
    body = page.text
    assert all(title in body for title in titles)
    assert re.search(rf'data-figure="wishes_delivered">{delivered}<', body)
    assert units and all(name in body for name in units)
    # numbers carry their unit: the demo's two star volunteers are counted as people, not "× 1"
    assert "× " not in body and body.count("1 位志愿者") == 2
    assert re.search(r'data-figure="wishes_delivered">\d+</strong><span class="muted">个</span>', body)
    assert re.search(r'data-figure="projects_done">\d+</strong><span class="muted">个</span>', body)
    digits = re.sub(r"\D", "", body)
    for phone, name in people:
        if phone:
            assert phone not in body and phone not in digits, phone
        assert name not in body, name


async def test_admin_writes_hides_and_deletes_a_story_with_a_photo(client: Any, factory: Factory) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    await session_of(client, tenant.admin)
    fields = {
        "title": "楼道微改造完工",
        "happened_on": "2026-11-20",
        "body": "居民议事会商定，三栋楼道装上了扶手。",
    }
    answer = await post_form(
        client, f"/admin/c/{cid}/wall/stories", fields, files={"photo": ("楼道.png", _png(), "image/png")}
    )
    assert answer.status_code == 303, answer.text
    listing = await client.get(f"/admin/c/{cid}/wall")
    story_id = int(re.search(r'id="story-(\d+)"', listing.text).group(1))  # type: ignore[union-attr]
    client.cookies.clear()
    wall = await client.get(f"/c/{cid}/wall")
    assert "楼道微改造完工" in wall.text and f"/c/{cid}/wall/photos/{story_id}" in wall.text
    photo = await client.get(f"/c/{cid}/wall/photos/{story_id}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"

    await session_of(client, tenant.admin)
    changed = await post_form(
        client, f"/admin/c/{cid}/wall/stories/{story_id}", {**fields, "title": "楼道扶手装好了"}
    )
    assert changed.status_code == 303
    hidden = await post_form(client, f"/admin/c/{cid}/wall/stories/{story_id}/hidden", {"hidden": "1"})
    assert hidden.status_code == 303
    client.cookies.clear()
    wall = await client.get(f"/c/{cid}/wall")
    assert "楼道扶手装好了" not in wall.text
    assert (await client.get(f"/c/{cid}/wall/photos/{story_id}")).status_code == 404

    await session_of(client, tenant.admin)
    confirm = await client.get(f"/admin/c/{cid}/wall?delete={story_id}")
    assert "删除这个故事？" in confirm.text and f"/wall/stories/{story_id}/delete" in confirm.text
    gone = await post_form(client, f"/admin/c/{cid}/wall/stories/{story_id}/delete")
    assert gone.status_code == 303
    assert f'id="story-{story_id}"' not in (await client.get(f"/admin/c/{cid}/wall")).text


async def test_a_story_naming_a_resident_or_a_phone_is_refused(client: Any, factory: Factory) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    resident = await factory.person(tenant, name="郑美玉")
    await session_of(client, tenant.admin)
    for body in (
        f"感谢{resident.display_name}热心帮忙",
        f"有事请打 {resident.phone[:3]} {resident.phone[3:7]} {resident.phone[7:]}",
    ):
        answer = await post_form(
            client,
            f"/admin/c/{cid}/wall/stories",
            {"title": "好人好事", "happened_on": "2026-11-01", "body": body},
        )
        assert answer.status_code == 422, body
        assert "晾晒墙是公开的" in answer.text
    listing = await client.get(f"/admin/c/{cid}/wall")
    assert 'class="card story"' not in listing.text


async def test_only_the_admin_writes_stories(client: Any, factory: Factory) -> None:
    tenant = await factory.tenant()
    staff = await login(client, await factory.person(tenant, roles=["staff"], name="陈晓"))
    await session_of(client, staff)
    assert (await client.get(f"/admin/c/{tenant.community_id}/wall")).status_code == 403
    answer = await post_form(
        client,
        f"/admin/c/{tenant.community_id}/wall/stories",
        {"title": "x", "happened_on": "2026-11-01", "body": ""},
    )
    assert answer.status_code == 403


async def test_a_domain_adds_a_section_to_the_wall_through_the_seam(client: Any, factory: Factory) -> None:
    tenant = await factory.tenant()

    async def honours(session: Any, community_id: int) -> wall.Section | None:
        if community_id != tenant.community_id:
            return None
        return wall.Section("honours", "Stories", [wall.Entry("联邦新城 3号楼 2单元", "邻里一家亲")])

    wall.section(honours)
    try:
        client.cookies.clear()
        page = await client.get(f"/c/{tenant.community_id}/wall")
        other = await client.get(f"/c/{(await factory.tenant()).community_id}/wall")
    finally:
        wall.forget(honours)
    assert "联邦新城 3号楼 2单元" in page.text and 'id="wall-honours"' in page.text
    assert "联邦新城 3号楼 2单元" not in other.text
