"""The hours forms sent twice (a double tap, or a resend after a slow answer): a member's claim of
hours is made once, and an admin's honour hours are recorded, and paid, once."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.core.authz import Actor
from app.events import hours, pages
from tests.api.helpers import post_form
from tests.conftest import count, sent_twice_at_once
from tests.events.test_checkin_api import admin_actor, wallet_balance

KEY = re.compile(r'name="key" value="([^"]+)"')
CLAIMS = "SELECT count(*) FROM hour_claims WHERE user_id = :u AND what = :w"


async def test_a_claim_of_hours_sent_twice_is_claimed_once(client, site, db):
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    page = await client.get(f"/c/{cid}/hours", headers=alice.headers)
    key = KEY.search(page.text).group(1)
    sent = {"what": "双击提交的买菜", "worked_on": clock.today().isoformat(), "hours": "1", "key": key}
    first, second = [
        await post_form(client, f"/c/{cid}/hours/claims", sent, headers=alice.headers) for _ in "12"
    ]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, CLAIMS, u=alice.user_id, w="双击提交的买菜") == 1


async def test_honour_hours_sent_twice_are_recorded_and_paid_once(client, site, db):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    url = f"/admin/c/{cid}/approvals"
    page = await client.get(url, headers=admin.headers)
    form = page.text[page.text.index('value="honour"') :]
    key = KEY.search(form).group(1)
    sent = {
        "action": "honour",
        "user_id": str(alice.user_id),
        "what": "双击提交的防汛值守",
        "category": "service",
        "worked_on": clock.today().isoformat(),
        "hours": "2",
        "points": "30",
        "converts_to_points": "1",
        "confirm": "1",
        "key": key,
    }
    before = await wallet_balance(db, cid, alice.user_id)
    first, second = [await post_form(client, url, sent, headers=admin.headers) for _ in "12"]
    assert (first.status_code, second.status_code) == (303, 303), first.text[:300]
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, CLAIMS, u=alice.user_id, w="双击提交的防汛值守") == 1
    assert await wallet_balance(db, cid, alice.user_id) == before + 30


async def test_the_hours_forms_committing_twice_at_once_make_one_row_each(site, engine, db):
    """Two sendings of one form in transactions of their own: the second's insert waits on the
    key's unique index for the first, then answers the first's claim (and pays nothing)."""
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    resident = Actor(alice.user_id, "郑美玉", {cid: frozenset({"resident"})})

    async def race(send):
        made, again = await sent_twice_at_once(engine, send)
        assert again.id == made.id

    claim = hours.ClaimInput(what="同时送达的买菜", worked_on=clock.today(), minutes=60)
    await race(lambda s: hours.claim_hours(s, resident, cid, claim, form_key="same-claim"))
    before = await wallet_balance(db, cid, alice.user_id)
    honour = hours.ClaimInput(what="同时送达的值守", worked_on=clock.today(), minutes=60)
    await race(
        lambda s: hours.enter_honour_hours(
            s,
            admin_actor(tenant),
            cid,
            alice.user_id,
            honour,
            points=20,
            converts_to_points=True,
            form_key="same-honour",
        )
    )
    assert await count(db, CLAIMS, u=alice.user_id, w="同时送达的买菜") == 1
    assert await count(db, CLAIMS, u=alice.user_id, w="同时送达的值守") == 1
    assert await wallet_balance(db, cid, alice.user_id) == before + 20


async def test_my_events_pages_the_claims_with_their_count(client, site, monkeypatch):
    """My events listed the newest 100 claims (and stays) and then only said so: a volunteer of
    some years could not reach the older ones. Each list is paged, with its count."""
    monkeypatch.setattr(pages, "MY_EVENTS_PAGE", 1)
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    sent_whats = ("买菜", "陪诊", "值守")
    for what in sent_whats:
        page = await client.get(f"/c/{cid}/hours", headers=alice.headers)
        sent = {"what": what, "worked_on": clock.today().isoformat(), "hours": "1"}
        sent["key"] = KEY.search(page.text).group(1)
        answer = await post_form(client, f"/c/{cid}/hours/claims", sent, headers=alice.headers)
        assert answer.status_code == 303, answer.text
    seen = []
    for number in (1, 2, 3):
        mine = (await client.get(f"/c/{cid}/my-events?claimed={number}", headers=alice.headers)).text
        assert "申报的时长：3 条" in mine and f"第 {number} 页，共 3 页" in mine
        seen += [what for what in sent_whats if what in mine]
    assert seen == ["值守", "陪诊", "买菜"]  # each once, newest first
    english = await client.get(
        f"/c/{cid}/my-events?claimed=2", headers={**alice.headers, "Accept-Language": "en"}
    )
    assert 'href="?claimed=1#claimed"' in english.text and 'href="?claimed=3#claimed"' in english.text
    assert "Claimed hours: 3" in english.text and "Attended: 0" in english.text


async def test_honour_hours_with_very_many_points_are_asked_about_once_more(client, site, db):
    """Honour hours with "also give points" paid 99999 points typed for 9 at one tap, where the
    admin's ledger asks once more from 1,000 points: they ask too, naming the person and the
    number, keep what was typed, and pay only on yes (once, however often yes is sent)."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    url = f"/admin/c/{cid}/approvals"
    page = await client.get(url, headers=admin.headers)
    key = KEY.search(page.text[page.text.index('value="honour"') :]).group(1)
    sent = {
        "action": "honour",
        "user_id": str(alice.user_id),
        "what": "多打了几个零的值守",
        "category": "service",
        "worked_on": clock.today().isoformat(),
        "hours": "2",
        "points": "99999",
        "converts_to_points": "1",
        "key": key,
    }
    before = await wallet_balance(db, cid, alice.user_id)
    asked = await post_form(client, url, sent, headers=admin.headers)
    assert asked.status_code == 200 and 'data-confirm="large-honour"' in asked.text
    assert (
        f"确认为{alice.display_name}发放 99999 积分吗？" in asked.text and "确认发放 99999 积分" in asked.text
    )
    assert 'value="多打了几个零的值守"' in asked.text
    assert await count(db, CLAIMS, u=alice.user_id, w="多打了几个零的值守") == 0
    assert await wallet_balance(db, cid, alice.user_id) == before
    yes = {**sent, "again": "1"}
    first, second = [await post_form(client, url, yes, headers=admin.headers) for _ in "12"]
    assert (first.status_code, second.status_code) == (303, 303), first.text[:300]
    assert await count(db, CLAIMS, u=alice.user_id, w="多打了几个零的值守") == 1
    assert await wallet_balance(db, cid, alice.user_id) == before + 99999


async def test_a_claim_approved_with_very_many_points_is_asked_about_once_more(client, site, db):
    """A claim approved with 2000 points typed for 20 (the tick that confirms every decision
    ticked as always) paid them at once: it is asked about once more, as honour hours and the
    admin's ledger are, and paid only on yes."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    page = await client.get(f"/c/{cid}/hours", headers=alice.headers)
    sent = {
        "what": "多打一个零的买菜",
        "worked_on": clock.today().isoformat(),
        "hours": "1",
        "key": KEY.search(page.text).group(1),
    }
    claimed = await post_form(client, f"/c/{cid}/hours/claims", sent, headers=alice.headers)
    assert claimed.status_code == 303, claimed.text[:300]
    claim_id = await count(
        db, "SELECT id FROM hour_claims WHERE user_id = :u AND what = :w", u=alice.user_id, w=sent["what"]
    )
    url = f"/admin/c/{cid}/approvals"
    decision = {
        "action": "claim_approve",
        "claim_id": str(claim_id),
        "points": "2000",
        "reason": "",
        "confirm": "1",
    }
    before = await wallet_balance(db, cid, alice.user_id)
    asked = await post_form(client, url, decision, headers=admin.headers)
    assert asked.status_code == 200 and 'data-confirm="large-claim_approve"' in asked.text
    assert f"确认为{alice.display_name}发放 2000 积分吗？" in asked.text
    assert f'href="#cpoints-{claim_id}"' in asked.text
    status = text("SELECT status FROM hour_claims WHERE id = :c")
    assert (await db.execute(status, {"c": claim_id})).scalar_one() == "pending"
    assert await wallet_balance(db, cid, alice.user_id) == before
    done = await post_form(client, url, {**decision, "again": "1"}, headers=admin.headers)
    assert done.status_code == 303, done.text[:300]
    assert await wallet_balance(db, cid, alice.user_id) == before + 2000


async def test_a_stay_adjusted_to_very_many_points_is_asked_about_once_more(client, site, engine, db):
    """ "Adjust and approve" with 5000 points typed for 50 paid them at once: asked once more,
    naming the person, and paid only on yes."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    now = clock.now()
    async with async_sessionmaker(engine)() as s, s.begin():
        event_id = (
            await s.execute(
                text(
                    "INSERT INTO events (community_id, title, category, starts_at, ends_at, auto_award) "
                    "VALUES (:c, '手动审核的清洁', 'cleanup', :s, :e, false) RETURNING id"
                ),
                {"c": cid, "s": now - timedelta(hours=3), "e": now - timedelta(hours=1)},
            )
        ).scalar_one()
        stay_id = (
            await s.execute(
                text(
                    "INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at, "
                    "checked_out_at, method_in, minutes, points, award_status) "
                    "VALUES (:c, :ev, :u, 1, :i, :o, 'witnessed', 120, 50, 'pending') RETURNING id"
                ),
                {"c": cid, "ev": event_id, "u": alice.user_id, "i": now - timedelta(hours=3), "o": now},
            )
        ).scalar_one()
    url = f"/admin/c/{cid}/approvals"
    decision = {
        "action": "adjust",
        "checkin_id": str(stay_id),
        "points": "5000",
        "reason": "补录整场时长",
        "confirm": "1",
    }
    before = await wallet_balance(db, cid, alice.user_id)
    asked = await post_form(client, url, decision, headers=admin.headers)
    assert asked.status_code == 200 and 'data-confirm="large-adjust"' in asked.text
    assert (
        f"确认为{alice.display_name}发放 5000 积分吗？" in asked.text
        and f'href="#points-{stay_id}"' in asked.text
    )
    assert await wallet_balance(db, cid, alice.user_id) == before
    done = await post_form(client, url, {**decision, "again": "1"}, headers=admin.headers)
    assert done.status_code == 303, done.text[done.text.find('class="alert"') :][:300]
    assert await wallet_balance(db, cid, alice.user_id) == before + 5000
