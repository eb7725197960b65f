"""The inbox: a notice is stored as its kind and parameters and shown in the reader's language,
once per key; the unread count on every page; mark-read; the kinds a person turns off."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.notices import services
from tests.api.helpers import post_form, session_of
from tests.conftest import count


async def _notify(
    engine, user_id: int, key: str, kind: str = "test", community_id: int | None = None
) -> bool:
    async with async_sessionmaker(engine)() as s, s.begin():
        return await services.notify(s, user_id=user_id, kind=kind, key=key, community_id=community_id)


async def test_a_notice_is_made_once_per_key_and_read_in_each_language(client, site, engine, db):
    tenant, _admin, alice, bob = site
    assert await _notify(engine, alice.user_id, "test:once") is True
    assert await _notify(engine, alice.user_id, "test:once") is False
    assert await count(db, "SELECT count(*) FROM notices WHERE key = 'test:once'") == 1
    stored = (
        await db.execute(text("SELECT params::text FROM notices WHERE key = :k"), {"k": "test:once"})
    ).scalar_one()
    assert "通知" not in str(stored) and "notice" not in str(stored).lower()

    zh = await client.get("/api/v1/me/notifications", headers=alice.headers)
    assert zh.status_code == 200
    (item,) = zh.json()["items"]
    assert set(item) == {"id", "kind", "title", "body", "created_at", "read"}
    assert item["kind"] == "test" and item["read"] is False
    assert item["title"] == "测试通知"
    en = await client.get("/api/v1/me/notifications", headers={**alice.headers, "Accept-Language": "en"})
    assert en.json()["items"][0]["title"] == "Test notice"
    assert (await client.get("/api/v1/me/notifications", headers=bob.headers)).json()["items"] == []


async def test_every_page_shows_the_unread_count_and_reading_clears_it(client, site, engine):
    _tenant, _admin, alice, bob = site
    await _notify(engine, alice.user_id, "test:a")
    await _notify(engine, alice.user_id, "test:b")
    await session_of(client, alice)
    home = await client.get("/")
    assert 'data-unread="2"' in home.text
    wallet = await client.get("/wallet")
    assert 'data-unread="2"' in wallet.text
    inbox = await client.get("/notices")
    ids = [int(i) for i in re.findall(r'data-notice="(\d+)"', inbox.text)]
    assert len(ids) == 2 and "测试通知" in inbox.text
    read = await post_form(client, f"/notices/{ids[0]}/read")
    assert read.status_code == 303
    assert 'data-unread="1"' in (await client.get("/notices")).text

    await session_of(client, bob)
    refused = await post_form(client, f"/notices/{ids[1]}/read")
    assert refused.status_code == 404
    await session_of(client, alice)
    assert 'data-unread="1"' in (await client.get("/")).text
    assert (await post_form(client, "/notices/read")).status_code == 303
    assert 'data-unread="0"' in (await client.get("/")).text


async def test_the_inbox_in_english(client, site, engine):
    _tenant, _admin, alice, _bob = site
    await _notify(engine, alice.user_id, "test:en")
    await session_of(client, alice)
    client.cookies.set("lang", "en")
    page = await client.get("/notices")
    assert page.status_code == 200
    assert "Test notice" in page.text and "Unread: 1" in page.text


async def test_a_kind_turned_off_is_not_kept(client, site, engine, db):
    _tenant, _admin, alice, _bob = site
    await session_of(client, alice)
    page = await client.get("/notices/settings")
    assert 'value="test" checked' in page.text
    saved = await post_form(client, "/notices/settings", {})
    assert saved.status_code == 303
    assert 'value="test" checked' not in (await client.get("/notices/settings")).text
    assert await _notify(engine, alice.user_id, "test:muted") is False
    assert await count(db, "SELECT count(*) FROM notices WHERE user_id = :u", u=alice.user_id) == 0
    await post_form(client, "/notices/settings", {"kinds": "test"})
    assert await _notify(engine, alice.user_id, "test:heard") is True


async def test_a_notice_is_marked_read_through_the_api_and_not_anothers(client, site, engine):
    _tenant, _admin, alice, bob = site
    await _notify(engine, alice.user_id, "test:api-read")
    (item,) = (await client.get("/api/v1/me/notifications", headers=alice.headers)).json()["items"]
    refused = await client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=bob.headers)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    done = await client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=alice.headers)
    assert done.status_code == 200 and done.json() == {"unread": 0}
    (item,) = (await client.get("/api/v1/me/notifications", headers=alice.headers)).json()["items"]
    assert item["read"] is True


async def test_each_notice_shows_its_time_in_its_own_communitys_zone(client, site, factory, engine):
    """A notice from another community (London) is dated in that community's zone, not the
    reader's first community's (Shanghai); one that names no community in the reader's."""
    tenant, _admin, alice, _bob = site
    elsewhere = await factory.tenant()
    at = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"),
            {"c": elsewhere.community_id},
        )
    for key, community_id in (("test:here", tenant.community_id), ("test:there", elsewhere.community_id)):
        await _notify(engine, alice.user_id, key, community_id=community_id)
    await _notify(engine, alice.user_id, "test:nowhere")
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("UPDATE notices SET created_at = :at WHERE user_id = :u"), {"at": at, "u": alice.user_id}
        )
        keys = dict(
            (
                await s.execute(text("SELECT key, id FROM notices WHERE user_id = :u"), {"u": alice.user_id})
            ).all()
        )
    await session_of(client, alice)
    page = (await client.get("/notices")).text

    def shown(key: str) -> str:
        item = page.split(f'id="n{keys[key]}"', 1)[1].split("</li>", 1)[0]
        return re.search(r'<p class="muted">([^<]+)</p>', item).group(1)  # type: ignore[union-attr]

    assert shown("test:here") == "2026-01-10 20:00"
    assert shown("test:there") == "2026-01-10 12:00"
    assert shown("test:nowhere") == "2026-01-10 20:00"


async def test_the_homes_unread_count_has_a_bell_not_the_points_star(client, site, engine):
    """On the home page the unread notices' line wore the points' star, so it read as more points."""
    _tenant, _admin, alice, _bob = site
    await _notify(engine, alice.user_id, "test:bell")
    await session_of(client, alice)
    home = (await client.get("/")).text
    notices = home[home.index('<a class="balance" href="/notices">') :].split("</a>", 1)[0]
    points = home[home.index('<a class="balance" href="/wallet') :].split("</a>", 1)[0]
    bell, star = 'd="M10 20.5a2 2 0 0 0 4 0"', '<circle cx="12" cy="12" r="9"/>'
    assert bell in notices and star not in notices
    assert star in points and bell not in points


async def test_the_inbox_counts_every_unread_notice_past_the_newest_it_lists(
    client, site, engine, monkeypatch
):
    """The inbox counted the unread among the newest 100 it lists, so a resident who never reads
    them saw 未读：100 条 under a badge of 130, and nothing said older ones were left out (here
    the page lists two)."""
    monkeypatch.setattr(services, "INBOX_SIZE", 2)
    _tenant, _admin, alice, _bob = site
    for key in ("a", "b", "c"):
        assert await _notify(engine, alice.user_id, f"test:{alice.user_id}:{key}")
    await session_of(client, alice)
    inbox = (await client.get("/notices")).text
    assert len(re.findall(r'data-notice="(\d+)"', inbox)) == 2
    assert "未读：3" in inbox and 'data-unread="3"' in inbox
    assert "通知：共 3 条" in inbox
    # Exactly as many as the page lists: none is left out, and the page leads nowhere on.
    monkeypatch.setattr(services, "INBOX_SIZE", 3)
    whole = (await client.get("/notices")).text
    assert len(re.findall(r'data-notice="(\d+)"', whole)) == 3
    assert 'rel="next"' not in whole


async def test_the_inbox_is_paged_with_its_count(client, site, engine, monkeypatch):
    """The inbox listed the newest 100 notices and said only that: a resident could not read the
    older ones. They are a page on, counted."""
    monkeypatch.setattr(services, "INBOX_SIZE", 2)
    _tenant, _admin, alice, _bob = site
    for key in ("a", "b", "c", "d", "e"):
        assert await _notify(engine, alice.user_id, f"test:{alice.user_id}:{key}")
    await session_of(client, alice)
    seen: list[str] = []
    for number in (1, 2, 3):
        page = (await client.get(f"/notices?page={number}")).text
        assert "通知：共 5 条" in page and f"第 {number} 页，共 3 页" in page
        seen += re.findall(r'data-notice="(\d+)"', page)
    assert len(seen) == 5 and seen == sorted(seen, key=int, reverse=True)  # each once, newest first
    english = (await client.get("/notices?page=2", headers={"Accept-Language": "en"})).text
    assert 'href="?page=1#listed"' in english and 'href="?page=3#listed"' in english


async def test_a_notice_marked_read_on_a_later_page_leads_back_to_that_page(
    client, site, engine, monkeypatch
):
    """Mark as read went back to the inbox's first page, where a notice of the second is not: the
    form says which page it was on, and the answer leads back there, to the notice."""
    monkeypatch.setattr(services, "INBOX_SIZE", 2)
    _tenant, _admin, alice, _bob = site
    for key in ("a", "b", "c"):
        assert await _notify(engine, alice.user_id, f"test:{alice.user_id}:back-{key}")
    await session_of(client, alice)
    second = (await client.get("/notices?page=2")).text
    (oldest,) = re.findall(r'data-notice="(\d+)"', second)
    assert 'name="page" value="2"' in second
    read = await post_form(client, f"/notices/{oldest}/read", {"page": "2"})
    assert read.status_code == 303 and read.headers["location"] == f"/notices?page=2#n{oldest}"
    back = (await client.get(read.headers["location"].split("#")[0])).text
    assert f'data-notice="{oldest}" data-kind="test" data-read="1"' in back
    first = await post_form(client, f"/notices/{oldest}/read")  # a form without its page: the first
    assert first.headers["location"] == f"/notices#n{oldest}"


async def test_the_inbox_count_stands_alone_with_no_separator_left_hanging(client, site):
    """ "Unread: 2 ·" ended its line with a lone "·" when the settings' link beside it wrapped under
    it (always, in 长辈版 on a phone)."""
    _tenant, _admin, alice, _bob = site
    await session_of(client, alice)
    inbox = (await client.get("/notices")).text
    count = inbox[inbox.index("<p data-unread-count>") :].split("</p>", 1)[0]
    assert count == "<p data-unread-count>没有未读通知。"  # no "·" after it, no link beside it
    assert 'href="/notices/settings"' in inbox
