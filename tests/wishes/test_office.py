"""Micro-wishes seen from a partner unit's office page, and in-service members (双报到) who claim
as themselves: both count on the unit's agreement progress; no phone number anywhere a unit
looks."""

from __future__ import annotations

import re
from types import SimpleNamespace

from sqlalchemy import text

from app.core import clock
from app.wishes import pages as wishes_pages
from app.wishes import partner_office
from tests.api.helpers import session_of
from tests.conftest import login
from tests.partners.conftest import make_agreement, make_organisation
from tests.wishes.conftest import Pool, claim_for_unit, code_for, phone_in, post_wish, publish, this_year


async def test_the_office_page_lists_wishes_open_to_the_unit_and_what_it_delivered(client, pool: Pool):
    open_id = await post_wish(client, pool, title="陪杨依伯去医院复查")
    await publish(client, pool, open_id)
    done_id = await post_wish(client, pool, title="修好楼道的声控灯")
    await publish(client, pool, done_id)
    await claim_for_unit(client, pool, done_id)
    taken_id = await post_wish(client, pool, title="送一袋大米")
    await publish(client, pool, taken_id)
    await claim_for_unit(client, pool, taken_id)
    code = await code_for(client, done_id, pool.members[1])  # any member of the unit
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert scanned.status_code == 200, scanned.text

    await session_of(client, pool.members[0])
    office = await client.get(f"/partners/o/{pool.organisation_id}")
    assert office.status_code == 200
    text = office.text
    open_part = text[text.index("data-open-wishes") : text.index("</ul>", text.index("data-open-wishes"))]
    assert f'href="/wishes/{open_id}"' in open_part and "陪杨依伯去医院复查" in open_part
    assert "修好楼道的声控灯" not in open_part
    claimed_part = text[
        text.index("data-claimed-wishes") : text.index("</ul>", text.index("data-claimed-wishes"))
    ]
    assert f'href="/wishes/{taken_id}"' in claimed_part
    delivered_part = text[
        text.index("data-delivered-wishes") : text.index("</ul>", text.index("data-delivered-wishes"))
    ]
    assert f'href="/wishes/{done_id}"' in delivered_part
    assert "我们已完成的心愿：1个" in text
    assert "杨依伯" not in text.replace("陪杨依伯去医院复查", "")  # no beneficiary's name on the office page
    # No phone number on any page or answer the unit's member opens about wishes.
    pages = [
        office,
        await client.get(f"/c/{pool.community_id}/wishes"),
        await client.get(f"/wishes/{open_id}"),
        await client.get(f"/wishes/{done_id}"),
        await client.get(f"/wishes/{taken_id}"),
        await client.get(f"/c/{pool.community_id}/wish-pool"),
        await client.get(f"/api/v1/communities/{pool.community_id}/wishes", headers=pool.members[0].headers),
        await client.get(f"/api/v1/wishes/{done_id}", headers=pool.members[0].headers),
        await client.get(
            f"/api/v1/organisations/{pool.organisation_id}/agreements", headers=pool.members[0].headers
        ),
    ]
    for answer in pages:
        assert answer.status_code == 200, answer.url
        assert not phone_in(answer.text), answer.url
    for person in (pool.beneficiary, *pool.members):
        assert person.phone not in "".join(a.text for a in pages)

    # The community's admin sees the office page but not the unit's own sections.
    await session_of(client, pool.town.admin)
    assert "data-open-wishes" not in (await client.get(f"/partners/o/{pool.organisation_id}")).text


async def test_an_in_service_member_claims_as_themself_and_it_counts_for_their_unit(client, pool: Pool):
    await make_agreement(client, pool.town, pool.organisation_id, this_year(), wishes=3)
    member = pool.town.resident  # lives here, works at the unit, not a volunteer
    wish_id = await post_wish(client, pool, title="给独居老人换灯泡")
    await publish(client, pool, wish_id)
    registered = await client.post(
        "/api/v1/registrations",
        json={"community_id": pool.community_id, "organisation_id": pool.organisation_id},
        headers=member.headers,
    )
    assert registered.status_code == 201, registered.text
    refused = await client.post(f"/api/v1/wishes/{wish_id}/claim", json={}, headers=member.headers)
    assert refused.status_code == 403  # not until the admin confirms the registration
    await session_of(client, member)
    assert 'name="step" value="claim"' not in (await client.get(f"/wishes/{wish_id}")).text
    decided = await client.post(
        f"/api/v1/registrations/{registered.json()['id']}/decision",
        json={"decision": "confirm"},
        headers=pool.town.admin.headers,
    )
    assert decided.status_code == 200, decided.text
    page = await client.get(f"/wishes/{wish_id}")
    assert 'name="step" value="claim"' in page.text and "以个人身份认领" in page.text
    claimed = await client.post(f"/api/v1/wishes/{wish_id}/claim", json={}, headers=member.headers)
    assert claimed.status_code == 200, claimed.text
    code = await code_for(client, wish_id, member)
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert scanned.status_code == 200 and scanned.json()["points_awarded"] > 0
    answer = await client.get(
        f"/api/v1/organisations/{pool.organisation_id}/agreements", headers=pool.members[0].headers
    )
    (mine,) = [a for a in answer.json()["items"] if a["community_id"] == pool.community_id]
    assert mine["progress"]["wishes"] == 1


async def test_units_see_the_wishs_compound_and_a_masked_name_never_the_phone(client, pool: Pool, db):
    compound_id = (
        await db.execute(
            text(
                "INSERT INTO compounds (community_id, name, address, households) "
                "VALUES (:c, '光复新村', '光复路', 232) RETURNING id"
            ),
            {"c": pool.community_id},
        )
    ).scalar_one()
    await db.execute(
        text("UPDATE memberships SET compound_id = :k WHERE user_id = :u AND community_id = :c"),
        {"k": compound_id, "u": pool.beneficiary.user_id, "c": pool.community_id},
    )
    await db.commit()
    wish_id = await post_wish(client, pool, title="换个新水龙头")
    await publish(client, pool, wish_id)
    listed = await client.get(
        f"/api/v1/communities/{pool.community_id}/wishes", headers=pool.members[0].headers
    )
    (item,) = [i for i in listed.json()["items"] if i["id"] == wish_id]
    assert item["compound"] == "光复新村" and item["beneficiary_name"] == "杨**"
    one = await client.get(f"/api/v1/wishes/{wish_id}", headers=pool.members[0].headers)
    assert one.json()["compound"] == "光复新村"
    await session_of(client, pool.members[0])
    page = await client.get(f"/wishes/{wish_id}")
    assert "小区：光复新村" in page.text and "杨**" in page.text
    office = await client.get(f"/partners/o/{pool.organisation_id}")
    assert "光复新村" in office.text
    for answer in (listed, one, page, office):
        assert not phone_in(answer.text) and pool.beneficiary.phone not in answer.text


async def test_the_office_page_says_when_a_wish_was_delivered_in_its_communitys_time(client, pool: Pool, db):
    """The office page, of a unit and not of one community, read delivery times in Beijing time
    whatever the wish's community's zone."""
    await db.execute(
        text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"), {"c": pool.community_id}
    )
    await db.commit()
    wish_id = await post_wish(client, pool, title="修好楼道的声控灯")
    await publish(client, pool, wish_id)
    await claim_for_unit(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.members[1])
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert scanned.status_code == 200, scanned.text
    delivered = (
        await db.execute(text("SELECT delivered_at FROM wishes WHERE id = :w"), {"w": wish_id})
    ).scalar_one()
    await session_of(client, pool.members[0])
    office = (await client.get(f"/partners/o/{pool.organisation_id}")).text
    assert clock.text(delivered, "Europe/London") in office
    assert clock.text(delivered, "Asia/Shanghai") not in office


def _panel(home: str, unit: str) -> str:
    """The home page's card about the unit's wishes."""
    start = home.index(f"微心愿：{unit}")
    return home[start : home.index("</section>", start)]


def _figure(panel: str, label: str) -> int:
    found = re.search(rf"<span>{label}</span>\s*<strong>([\d,]+)</strong>", panel)
    assert found, f"no figure {label}"
    return int(found.group(1).replace(",", ""))


async def test_a_unit_members_home_shows_the_wishes_to_hand_over_and_those_open_to_the_unit(
    client, pool: Pool, factory, db
):
    """On top of a partner unit's member's home page: the wishes it took up with the way to their
    delivery code, those open to it where it may act now (another community only with this year's
    agreement), and how many came true; a provider's member gets no such card."""
    open_id = await post_wish(client, pool, title="陪杨依伯去医院复查")
    await publish(client, pool, open_id)
    taken_id = await post_wish(client, pool, title="送一袋大米")
    await publish(client, pool, taken_id)
    await claim_for_unit(client, pool, taken_id)
    done_id = await post_wish(client, pool, title="修好楼道的声控灯")
    await publish(client, pool, done_id)
    await claim_for_unit(client, pool, done_id)
    code = await code_for(client, done_id, pool.members[1])
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert scanned.status_code == 200, scanned.text
    # A wish in another community, where the unit had an agreement last year only.
    other = await factory.tenant()
    other_admin = await login(client, other.admin)
    asker = await login(client, await factory.person(other, name="刘阿婆"))
    posted = await client.post(
        f"/api/v1/communities/{other.community_id}/wishes",
        json={"title": "换一个水龙头", "description": "一直滴水"},
        headers=asker.headers,
    )
    assert posted.status_code == 201, posted.text
    far_id = posted.json()["id"]
    reviewed = await client.post(
        f"/api/v1/wishes/{far_id}/review", json={"decision": "publish"}, headers=other_admin.headers
    )
    assert reviewed.status_code == 200, reviewed.text
    there = SimpleNamespace(admin=other_admin, community_id=other.community_id)
    await make_agreement(client, there, pool.organisation_id, this_year() - 1)  # type: ignore[arg-type]

    await session_of(client, pool.members[0])
    unit = (
        await db.execute(text("SELECT name FROM organisations WHERE id = :o"), {"o": pool.organisation_id})
    ).scalar_one()
    panel = _panel((await client.get("/")).text, unit)
    assert (
        _figure(panel, "待送达") == 1 and _figure(panel, "可认领") == 1 and _figure(panel, "已圆梦心愿") == 1
    )
    taken = panel[panel.index(f'href="/wishes/{taken_id}"') :].split("</li>", 1)[0]
    assert "送一袋大米" in taken and "出示送达码" in taken
    opened = panel[panel.index(f'href="/wishes/{open_id}"') :].split("</li>", 1)[0]
    assert "可认领" in opened
    assert f'href="/wishes/{far_id}"' not in panel and f'href="/wishes/{done_id}"' not in panel
    assert f'href="/partners/o/{pool.organisation_id}#wishes"' in panel

    await make_agreement(client, there, pool.organisation_id, this_year())  # type: ignore[arg-type]
    panel = _panel((await client.get("/")).text, unit)
    assert _figure(panel, "可认领") == 2 and f'href="/wishes/{far_id}"' in panel

    _shop, (provider_member,) = await make_organisation(client, pool.town, kinds=["provider"])
    await session_of(client, provider_member)
    assert "微心愿：" not in (await client.get("/")).text


async def test_past_the_newest_open_wishes_the_office_page_leads_to_each_communitys(
    client, pool: Pool, monkeypatch
):
    """The office page listed the newest 50 wishes open to the unit and said nothing of the others
    (here two): now it says so and leads to each community's wishes waiting for someone."""
    monkeypatch.setattr(partner_office, "OPEN_LISTED", 2)
    posted = [await post_wish(client, pool, title=f"心愿{i}") for i in range(3)]
    for wish_id in posted:
        await publish(client, pool, wish_id)
    await session_of(client, pool.members[0])
    text = (await client.get(f"/partners/o/{pool.organisation_id}")).text
    open_part = text[text.index("data-open-wishes") : text.index("</ul>", text.index("data-open-wishes"))]
    assert re.findall(r'href="/wishes/(\d+)"', open_part) == [str(posted[2]), str(posted[1])]
    assert "这里只列出最新的 2 个。" in text
    assert re.search(rf'href="/c/{pool.community_id}/wishes\?status=published">[^<]*：3 个等待认领', text)
    monkeypatch.setattr(partner_office, "OPEN_LISTED", 5)
    assert "data-more-open" not in (await client.get(f"/partners/o/{pool.organisation_id}")).text
    # Exactly as many open as the page lists: none is left out, and the page says none is.
    monkeypatch.setattr(partner_office, "OPEN_LISTED", 3)
    whole = (await client.get(f"/partners/o/{pool.organisation_id}")).text
    open_part = whole[whole.index("data-open-wishes") : whole.index("</ul>", whole.index("data-open-wishes"))]
    assert len(re.findall(r'href="/wishes/(\d+)"', open_part)) == 3
    assert "data-more-open" not in whole


async def test_the_office_page_shows_the_latest_delivered_of_how_many_and_leads_to_all(
    client, pool: Pool, db, monkeypatch
):
    """The office page read the unit's first 100 wishes taken up and delivered and showed those,
    whatever the count above them said: a busy unit's older deliveries were out of reach. It
    shows the latest few of how many, and its wishes' page lists them all, a page at a time."""
    monkeypatch.setattr(partner_office, "DELIVERED_SHOWN", 2)
    monkeypatch.setattr(wishes_pages, "OURS_PAGE", 2)
    made = []
    for n in range(3):
        made.append(
            (
                await db.execute(
                    text(
                        "INSERT INTO wishes (community_id, title, beneficiary_id, status, claimed_by, "
                        "claimed_organisation_id, claimed_at, delivered_at) VALUES (:c, :t, :b, "
                        "'delivered', :by, :o, now() - interval '2 days', "
                        "now() - make_interval(hours => :n)) "
                        "RETURNING id"
                    ),
                    {
                        "c": pool.community_id,
                        "t": f"送米{n}",
                        "b": pool.beneficiary.user_id,
                        "o": pool.organisation_id,
                        "by": pool.members[0].user_id,
                        "n": 3 - n,
                    },
                )
            ).scalar_one()
        )
    await db.commit()
    latest_first = made[::-1]
    await session_of(client, pool.members[0])
    office = (await client.get(f"/partners/o/{pool.organisation_id}")).text
    delivered = office[office.index("data-delivered-wishes") :]
    assert re.findall(r'href="/wishes/(\d+)"', delivered[: delivered.index("</ul>")]) == [
        str(i) for i in latest_first[:2]
    ]
    assert "这里列出最近的 2 个，共 3 个。" in office
    assert f'href="/partners/o/{pool.organisation_id}/wishes?status=delivered"' in office
    seen: list[int] = []
    for number in (1, 2):
        page = (
            await client.get(f"/partners/o/{pool.organisation_id}/wishes?status=delivered&page={number}")
        ).text
        assert "共 3 个" in page and f"第 {number} 页，共 2 页" in page
        listed = re.findall(r'data-wish="(\d+)"', page)
        seen += [int(i) for i in listed]
    assert seen == latest_first  # each once, the latest first
    assert 'href="?status=delivered&amp;page=1#listed"' in page  # the filter kept
    # Only the unit's members see its list.
    await session_of(client, pool.beneficiary)
    assert (await client.get(f"/partners/o/{pool.organisation_id}/wishes")).status_code == 404
