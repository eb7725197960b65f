"""The hours forms sent twice (a double tap, or a resend after a slow answer): a member's claim of
hours is made once, and an admin's honour hours are recorded, and paid, once."""

from __future__ import annotations

import re

from app.core import clock
from app.core.authz import Actor
from app.events import hours, services
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


async def test_my_events_says_when_it_lists_only_the_latest_claims(client, site, monkeypatch):
    """My events listed the newest 100 claims (and stays) and stopped without a word: a volunteer of
    some years thought the older ones lost."""
    monkeypatch.setattr(services, "MY_EVENTS_LISTED", 1)
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    for what in ("买菜", "陪诊"):
        page = await client.get(f"/c/{cid}/hours", headers=alice.headers)
        sent = {"what": what, "worked_on": clock.today().isoformat(), "hours": "1"}
        sent["key"] = KEY.search(page.text).group(1)
        answer = await post_form(client, f"/c/{cid}/hours/claims", sent, headers=alice.headers)
        assert answer.status_code == 303, answer.text
    mine = (await client.get(f"/c/{cid}/my-events", headers=alice.headers)).text
    assert "陪诊" in mine and "买菜" not in mine  # the newest one
    assert "这里只列出最近的 1 条；服务时长和证书按全部记录计算。" in mine
