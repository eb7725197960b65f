"""An event past its end and grace takes no more scans (the job closes it): its page and its
kiosk screen show what it came to, and offer no kiosk screen, scanner or code to scan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.events import approvals, rules
from app.events.models import Event
from tests.conftest import login
from tests.events.conftest import hour_long_stays, kiosk_code, make_event, scan

SCANNING_LINKS = ("/kiosk?action=checkin", "/kiosk?action=checkout", "/scan?event_id=")


def _scanning_links(page: str) -> list[str]:
    return [link for link in SCANNING_LINKS if link in page]


async def test_an_ended_event_shows_what_it_came_to_and_no_way_to_scan(
    client: Any, site: Any, factory: Any
) -> None:
    """An ended event's page offered the organiser its kiosk screens and the scanner, and a grid
    worker the scanner, as if one could still check in; nobody saw how it went."""
    tenant, admin, alice, _bob = site
    grid = await login(client, await factory.person(tenant, roles=["grid_worker"], name="网格员"))
    # Alice stays an hour: 5 points for taking part and 20 for the hour, awarded at once.
    event_id = await hour_long_stays(client, admin, alice, tenant.community_id, open_hours=2)
    url = f"/events/{event_id}"
    live = (await client.get(url, headers=admin.headers)).text
    assert _scanning_links(live) == list(SCANNING_LINKS) and "data-outcome" not in live
    assert "/scan?event_id=" in (await client.get(url, headers=grid.headers)).text

    clock.advance(timedelta(hours=1) + rules.GRACE)  # 5 minutes past the end and grace
    for lang, words in (("zh-CN", ("活动回顾", "已发积分")), ("en", ("How it went", "points awarded"))):
        for person in (admin, alice, grid):
            page = await client.get(url, headers={**person.headers, "Accept-Language": lang})
            assert page.status_code == 200
            assert _scanning_links(page.text) == [], (person.display_name, lang)
            assert 'href="/scan"' not in page.text
            outcome = page.text[page.text.index("data-outcome") :].split("</div>\n</div>", 1)[0]
            assert "data-outcome-attended>1<" in outcome and "data-outcome-points>25<" in outcome
            assert all(w in page.text for w in words), (person.display_name, lang)
    # The organiser still confirms the headcount and reads who came.
    ended = (await client.get(url, headers=admin.headers)).text
    assert f'action="/events/{event_id}/headcount"' in ended and alice.display_name in ended


async def test_an_ended_events_kiosk_shows_no_code(client: Any, site: Any) -> None:
    """A kiosk left open after the event showed a live code (for check-out with no word at all)
    that every scan was refused with."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    assert (await scan(client, alice, await kiosk_code(client, admin, event_id))).status_code == 200
    # In the grace after the end, whoever is still in checks out, by the kiosk or their page.
    clock.advance(timedelta(hours=2))
    for action in ("checkin", "checkout"):
        kiosk = await client.get(f"/events/{event_id}/kiosk?action={action}", headers=admin.headers)
        assert "data-kiosk-qr" in kiosk.text and "data-kiosk-ended" not in kiosk.text
    assert 'href="/scan"' in (await client.get(f"/events/{event_id}", headers=alice.headers)).text

    clock.advance(rules.GRACE)
    for elder in ("0", "1"):
        client.cookies.set("elder", elder)
        for action in ("checkin", "checkout"):
            kiosk = await client.get(f"/events/{event_id}/kiosk?action={action}", headers=admin.headers)
            assert kiosk.status_code == 200
            assert "data-kiosk-qr" not in kiosk.text and "kiosk.svg" not in kiosk.text
            assert "data-kiosk-code" not in kiosk.text and "Switch to" not in kiosk.text
            assert "data-kiosk-ended" in kiosk.text and "签到和签退都已关闭" in kiosk.text
            assert "data-kiosk-attended" not in kiosk.text and "data-outcome-attended>1<" in kiosk.text
            # Leaving kiosk mode still asks for the organiser's password.
            assert f'action="/events/{event_id}/kiosk/leave"' in kiosk.text
    client.cookies.delete("elder")


async def test_the_close_job_and_the_page_agree_at_the_last_moment_of_grace(
    client: Any, site: Any, db: Any, monkeypatch: Any
) -> None:
    """At the very instant of the end plus grace the page still offered scanning while the close
    job closed the event, checking out at the scheduled end whoever was scanning out just then:
    the job wrote end + grace itself instead of asking rules.past_grace."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    assert (await scan(client, alice, await kiosk_code(client, admin, event_id))).status_code == 200
    ends_at = await db.scalar(select(Event.ends_at).where(Event.id == event_id))
    url = f"/events/{event_id}"

    last_moment = ends_at + rules.GRACE
    monkeypatch.setattr(clock, "now", lambda: last_moment)
    assert _scanning_links((await client.get(url, headers=admin.headers)).text) == list(SCANNING_LINKS)
    await db.rollback()
    assert event_id not in await approvals.close_due_events(db)
    assert await approvals.close_event(db, event_id) == 0
    await db.commit()
    assert await db.scalar(select(Event.status).where(Event.id == event_id)) == "open"

    monkeypatch.setattr(clock, "now", lambda: last_moment + timedelta(microseconds=1))
    assert _scanning_links((await client.get(url, headers=admin.headers)).text) == []
    await db.rollback()
    assert event_id in await approvals.close_due_events(db)
    await db.commit()
    assert await db.scalar(select(Event.status).where(Event.id == event_id)) == "closed"
