"""Volunteer stars after the national standard (1 star at 100 h, 2 at 300, 3 at 600, 4 at 1,000,
5 at 1,500 certified hours): the rule at its edges, and the stars on the certificate, the hours
page, the public verification and the resident's page for staff."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from app.events import rules
from app.events.rules import STAR_HOURS, stars_for
from tests.api.helpers import loose_dates, session_of


@pytest.mark.parametrize(
    ("hours", "minutes_off", "stars"),
    [
        (0, 0, 0),
        (100, -1, 0),
        (100, 0, 1),
        (300, -1, 1),
        (300, 0, 2),
        (600, -1, 2),
        (600, 0, 3),
        (1000, -1, 3),
        (1000, 0, 4),
        (1500, -1, 4),
        (1500, 0, 5),
        (5000, 0, 5),
    ],
)
def test_a_star_is_earned_at_its_hours_exactly(hours: int, minutes_off: int, stars: int) -> None:
    assert stars_for(hours * 60 + minutes_off).stars == stars


def test_the_next_star_and_the_hours_it_needs() -> None:
    assert STAR_HOURS == (100, 300, 600, 1000, 1500)
    assert stars_for(0).next_at == 100 and stars_for(0).hours_to_next == 100
    assert stars_for(250 * 60).next_at == 300 and stars_for(250 * 60).hours_to_next == 50
    assert stars_for(1500 * 60).next_at is None and stars_for(1500 * 60).hours_to_next is None
    assert stars_for(-5).stars == 0


async def _hours(db, community_id: int, user_id: int, hours: int) -> None:
    """Approved hours outside events, a day's worth a row (the claims' limit)."""
    left = hours * 60
    while left:
        minutes = min(left, 1440)
        await db.execute(
            text(
                "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, "
                "status, created_at) VALUES (:c, :u, '助老', 'service', current_date, :m, 'approved', now())"
            ),
            {"c": community_id, "u": user_id, "m": minutes},
        )
        left -= minutes
    await db.commit()


async def test_the_stars_show_on_the_certificate_the_hours_page_and_the_residents_page(client, site, db):
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    await _hours(db, cid, alice.user_id, 320)
    await session_of(client, alice)
    certificate = await client.get(f"/c/{cid}/certificate")
    assert 'data-stars="2"' in certificate.text and "二星志愿者" in certificate.text
    assert loose_dates(certificate.text) == []  # its date kept whole on a narrow line
    assert "再服务" not in certificate.text  # the printed certificate leaves out the next star
    hours = await client.get(f"/c/{cid}/hours")
    assert 'data-stars="2"' in hours.text and "再服务 280.0 小时" in hours.text
    verify_url = re.search(r'(/verify/[^"<\s]+)', certificate.text).group(1)
    public = await client.get(verify_url)
    assert 'data-stars="2"' in public.text
    home = await client.get("/")
    assert "志愿星级" in home.text

    await session_of(client, bob)
    await _hours(db, cid, bob.user_id, 3)
    assert 'data-stars="0"' in (await client.get(f"/c/{cid}/certificate")).text
    assert "志愿星级" not in (await client.get("/")).text

    await session_of(client, admin)
    page = await client.get(f"/admin/c/{cid}/residents/{alice.user_id}")
    assert 'data-stars="2"' in page.text

    client.cookies.clear()
    wall = await client.get(f"/c/{cid}/wall")
    section = wall.text.split('id="wall-stars"')[1].split("</section>")[0]
    assert section.count("<li>") == 1 and "1 位志愿者" in section
    # The level in words beside its stars, which a screen reader skips (★★ alone said nothing).
    assert '<span class="stars" aria-hidden="true">★★</span> 二星志愿者' in section
    assert "郑美玉" not in section and alice.display_name not in section


async def test_with_no_hours_the_certificate_page_says_how_hours_come_instead_of_certifying_none(
    client, site, db
):
    """A resident with no hours tapped 证书 on the home page and got a certificate of 0.0 hours
    with its QR code; the page says there is nothing to certify yet and leads to the events and
    to reporting hours. The first hours make the certificate."""
    tenant, _admin, _alice, bob = site
    cid = tenant.community_id
    await session_of(client, bob)
    empty = (await client.get(f"/c/{cid}/certificate")).text
    assert "data-no-hours" in empty and "您还没有志愿服务时长。" in empty
    assert "0.0 小时" not in empty and "/verify/" not in empty and "data-print" not in empty
    assert f'href="/c/{cid}/events"' in empty and f'href="/c/{cid}/hours"' in empty
    await _hours(db, cid, bob.user_id, 1)
    certificate = (await client.get(f"/c/{cid}/certificate")).text
    assert "data-no-hours" not in certificate and "累计参加志愿服务 1.0 小时" in certificate
    assert "/verify/" in certificate


async def test_the_home_page_shows_the_stars_as_stars_and_says_their_number(client, site, db):
    """The home page showed 志愿星级 with a bare 2, which reads as a count of something, not a
    level: it shows ★★☆☆☆, and a screen reader hears "2 of 5 stars", in both languages and in
    长辈版."""
    tenant, _admin, alice, _bob = site
    await _hours(db, tenant.community_id, alice.user_id, 320)
    await session_of(client, alice)
    for lang, words in (("zh", "2星（满分5星）"), ("en", "2 of 5 stars")):
        for elder in ("0", "1"):
            client.cookies.set("lang", lang)
            client.cookies.set("elder", elder)
            home = (await client.get("/")).text
            assert ('<body class="elder ' in home) == (elder == "1")
            value = home.split('data-figure-value="2">', 1)[1].split("</strong>", 1)[0]
            assert '<span class="stars" aria-hidden="true">★★☆☆☆</span>' in value
            assert f'<span class="visually-hidden">{words}</span>' in value
    client.cookies.delete("lang")
    client.cookies.delete("elder")


async def test_the_home_page_counts_the_stars_out_of_the_rule_not_out_of_five(client, site, db, monkeypatch):
    """The most stars a volunteer can have is the star rule's (one a threshold of STAR_HOURS), and
    the home page, the hours page and the certificate show a level out of that, not out of a 5
    written beside them: with a rule of three thresholds, 320 hours are ★★☆, "2 of 3 stars"."""
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    await _hours(db, cid, alice.user_id, 320)
    await session_of(client, alice)
    monkeypatch.setattr(rules, "STAR_HOURS", (100, 300, 600))
    for lang, words in (("zh", "2星（满分3星）"), ("en", "2 of 3 stars")):
        client.cookies.set("lang", lang)
        home = (await client.get("/")).text
        value = home.split('data-figure-value="2">', 1)[1].split("</strong>", 1)[0]
        assert '<span class="stars" aria-hidden="true">★★☆</span>' in value
        assert f'<span class="visually-hidden">{words}</span>' in value
    client.cookies.delete("lang")
    for page in (f"/c/{cid}/hours", f"/c/{cid}/certificate"):
        assert '<span aria-hidden="true">★★☆</span>' in (await client.get(page)).text
