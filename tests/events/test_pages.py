"""Every events and scanner page renders for the people it is for, in zh-Hans and English,
and refuses the others."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SADeprecationWarning
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import clock
from app.core.authz import Actor
from app.events import admin_pages, approvals, home, hours, managing
from app.events import pages as events_pages
from tests.api.helpers import post_form, session_of
from tests.conftest import Factory, login
from tests.events.conftest import event_body, kiosk_code, make_event, scan


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_pages_render_for_admin_and_resident(client, site, lang):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    event_id = await make_event(client, admin, cid, signup_required=True)
    await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)
    accept = {"Accept-Language": lang}
    for path in [
        "/",
        f"/c/{cid}/events",
        f"/events/{event_id}",
        f"/c/{cid}/my-events",
        f"/c/{cid}/hours",
        f"/c/{cid}/certificate",
        "/scan",
    ]:
        response = await client.get(path, headers={**alice.headers, **accept})
        assert response.status_code == 200, (path, response.text[:500])
    home = await client.get("/", headers={**alice.headers, **accept})
    assert f"/c/{cid}/hours" in home.text and "/scan" in home.text
    for path in [
        f"/admin/c/{cid}/events",
        f"/admin/c/{cid}/events/new",
        f"/admin/c/{cid}/events/new?copy={event_id}",
        f"/events/{event_id}/edit",
        f"/events/{event_id}/kiosk?action=checkout",
        f"/admin/c/{cid}/approvals",
        f"/scan?event_id={event_id}&action=checkout",
        "/scan?context=counter",
        f"/events/{event_id}",
    ]:
        response = await client.get(path, headers={**admin.headers, **accept})
        assert response.status_code == 200, (path, response.text[:500])
    detail = await client.get(f"/events/{event_id}", headers={**admin.headers, **accept})
    assert "郑美玉" in detail.text  # the sign-up list
    for path in [f"/admin/c/{cid}/events/new", f"/admin/c/{cid}/approvals", f"/events/{event_id}/kiosk"]:
        assert (await client.get(path, headers=alice.headers)).status_code == 403, path


async def test_another_communitys_event_is_not_found(client, site, factory):
    tenant, admin, _alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    other = await factory.tenant()
    stranger = await login(client, await factory.person(other))
    assert (await client.get(f"/events/{event_id}", headers=stranger.headers)).status_code == 404
    signup = await client.post(f"/api/v1/events/{event_id}/signups", headers=stranger.headers)
    assert signup.status_code == 404 and signup.json()["code"] == "not_found"


async def test_create_event_validation_and_weekly_series(client, site):
    tenant, admin, alice, _bob = site

    cid = tenant.community_id
    bad = await client.post(
        f"/api/v1/communities/{cid}/events", headers=admin.headers, json=event_body(category="party")
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    refused = await client.post(f"/api/v1/communities/{cid}/events", headers=alice.headers, json=event_body())
    assert refused.status_code == 403
    series = await client.post(
        f"/api/v1/communities/{cid}/events", headers=admin.headers, json=event_body(weeks=4)
    )
    assert series.status_code == 201 and len(series.json()["series"]) == 4


async def test_an_organiser_without_a_staff_role_lists_the_events_they_organise(
    client: Any, factory: Factory, engine: Any, db: AsyncSession
) -> None:
    """Asked with `= any_()` on the organisers' array, not ARRAY's `.any()`, which SQLAlchemy 2.1
    deprecates for removal."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    organiser = await factory.person(tenant)
    theirs = await make_event(client, admin, tenant.community_id)
    other = await make_event(client, admin, tenant.community_id)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("UPDATE events SET organiser_ids = ARRAY[CAST(:u AS bigint)] WHERE id = :e"),
            {"u": organiser.user_id, "e": theirs},
        )
    actor = Actor(organiser.user_id, "", roles={tenant.community_id: frozenset({"resident"})})
    with warnings.catch_warnings():
        warnings.simplefilter("error", SADeprecationWarning)
        found = [e.id for e in await managing.organised_events(db, actor, tenant.community_id)]
    assert theirs in found and other not in found


async def _an_hour_each(client: Any, admin: Any, event_id: int, *people: Any) -> None:
    """Each person checks in at the kiosk and out an hour later."""
    for person in people:
        await scan(client, person, await kiosk_code(client, admin, event_id))
    clock.advance(timedelta(hours=1))
    for person in people:
        await scan(client, person, await kiosk_code(client, admin, event_id, "checkout"))
    clock.reset()


async def test_a_refused_decision_keeps_what_the_admin_typed(
    client: Any, site: Any, db: AsyncSession
) -> None:
    """A decision sent without its confirmation comes back refused (422) with the reason and the
    points still in the form it came from, not in the others; a refused claim and honour hours
    keep theirs too."""
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    event_id = await make_event(client, admin, cid, kiosk_confirmation=True)
    await _an_hour_each(client, admin, event_id, alice, bob)
    stays = {
        int(user): int(stay)
        for user, stay in await db.execute(
            text("SELECT user_id, id FROM event_checkins WHERE event_id = :e"), {"e": event_id}
        )
    }
    mine, other = stays[alice.user_id], stays[bob.user_id]
    claim = await hours.claim_hours(
        db,
        Actor(alice.user_id, "郑美玉", {cid: frozenset({"resident"})}),
        cid,
        hours.ClaimInput(what="陪老人就医", worked_on=clock.today(), minutes=90),
    )
    await db.commit()
    await session_of(client, admin)
    url = f"/admin/c/{cid}/approvals"

    reason = '没有签退 "<b>"'
    page = await post_form(
        client, url, {"action": "reject", "checkin_id": str(mine), "points": "7", "reason": reason}
    )
    assert page.status_code == 422, page.text[:300]
    assert f'id="reason-{mine}" name="reason" value="没有签退 &#34;&lt;b&gt;&#34;"' in page.text
    assert f'id="points-{mine}" name="points" type="number" min="0" value="7"' in page.text
    assert f'id="reason-{other}" name="reason" value=""' in page.text
    assert (
        await db.execute(text("SELECT award_status FROM event_checkins WHERE id = :i"), {"i": mine})
    ).scalar_one() != "rejected"

    page = await post_form(
        client, url, {"action": "claim_reject", "claim_id": str(claim.id), "reason": "无人证明"}
    )
    assert page.status_code == 422
    assert f'id="creason-{claim.id}" name="reason" value="无人证明"' in page.text

    page = await post_form(
        client, url, {"action": "honour", "user_id": str(alice.user_id), "what": "社区防疫", "hours": "2"}
    )
    assert page.status_code == 422  # no date
    assert 'id="what" name="what" required maxlength="200" value="社区防疫"' in page.text
    assert f'<option value="{alice.user_id}" selected>' in page.text


async def test_a_residents_event_page_says_they_are_checked_in_and_how_to_check_out(client, site):
    """Checked in by the kiosk, a resident's event page still said only "you are signed up" and
    offered to cancel the sign-up: now it says since when they are in, to scan again on leaving,
    and after check-out how long they were there and their points."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True)
    assert (await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)).status_code == 201
    before = await client.get(f"/events/{event_id}", headers=alice.headers)
    assert "data-my-signup" in before.text and "data-my-stays" not in before.text
    assert (await scan(client, alice, await kiosk_code(client, admin, event_id))).json()[
        "result"
    ] == "checked_in"
    inside = await client.get(f"/events/{event_id}", headers=alice.headers)
    assert 'data-stay="open"' in inside.text and "离开时请再扫一次活动码签退" in inside.text
    assert "data-my-signup" not in inside.text and "取消报名" not in inside.text
    clock.advance(timedelta(hours=1))
    out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert out.json()["result"] == "checked_out", out.text
    after = await client.get(f"/events/{event_id}", headers=alice.headers)
    assert 'data-stay="closed"' in after.text and 'data-stay="open"' not in after.text
    # How long, as the statement says it (1小时2分钟), not a count of minutes (62) to work out.
    hours, minutes = divmod(out.json()["minutes"], 60)
    assert f"共 {hours}小时{f'{minutes}分钟' if minutes else ''}。" in after.text
    assert f"积分：{out.json()['points_awarded']}（已发放）" in after.text
    english = await client.get(f"/events/{event_id}", headers={**alice.headers, "Accept-Language": "en"})
    assert (
        f"{hours} h{f' {minutes} min' if minutes else ''}." in english.text
        and "My attendance" in english.text
    )
    organiser = await client.get(f"/events/{event_id}", headers=admin.headers)
    assert f'<td data-label="在场时长" data-minutes="{out.json()["minutes"]}">{hours}小时' in organiser.text


async def test_honour_hours_find_anyone_of_a_large_community_by_name_or_phone(client, site, db):
    """The honour hours' form listed the first 500 members by name and no one else: most of a
    community of 2,000 households could not be chosen. Now it finds them by name or phone."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    await db.execute(
        text(
            "WITH u AS (INSERT INTO users (display_name) SELECT 'A居民' || lpad(n::text, 3, '0') "
            "FROM generate_series(1, 205) n RETURNING id) "
            "INSERT INTO memberships (user_id, community_id, roles) SELECT id, :c, '{resident}' FROM u"
        ),
        {"c": cid},
    )
    await db.commit()
    option = f'<option value="{alice.user_id}"'
    first = await client.get(f"/admin/c/{cid}/approvals", headers=admin.headers)
    assert option not in first.text and 'name="people_page" value="2"' in first.text
    found = await client.get(f"/admin/c/{cid}/approvals", params={"q": "郑美"}, headers=admin.headers)
    assert option in found.text and "A居民" not in found.text
    assert alice.phone
    by_phone = await client.get(
        f"/admin/c/{cid}/approvals", params={"q": alice.phone[-6:]}, headers=admin.headers
    )
    assert option in by_phone.text and "A居民" not in by_phone.text
    # A whole number typed as people write it finds its holder, as on the residents list.
    spaced = await client.get(
        f"/admin/c/{cid}/approvals",
        params={"q": f"{alice.phone[:3]} {alice.phone[3:7]} {alice.phone[7:]}"},
        headers=admin.headers,
    )
    assert option in spaced.text and "A居民" not in spaced.text
    nobody = await client.get(f"/admin/c/{cid}/approvals", params={"q": "没有这个人"}, headers=admin.headers)
    assert 'data-found="0"' in nobody.text
    honour = {"action": "honour", "user_id": str(alice.user_id), "what": "社区防疫", "category": "service"}
    # Refused (no date), the form comes back with the person found still chosen.
    refused = await post_form(
        client, f"/admin/c/{cid}/approvals", {**honour, "hours": "3", "worked_on": ""}, headers=admin.headers
    )
    assert refused.status_code == 422 and f"{option} selected" in refused.text
    saved = await post_form(
        client,
        f"/admin/c/{cid}/approvals",
        {**honour, "hours": "3", "worked_on": clock.today().isoformat()},
        headers=admin.headers,
    )
    assert saved.status_code == 303, saved.text


async def test_the_honour_hours_form_chooses_nobody_until_the_admin_does(client, site):
    """The person's list started on its first name, so hours typed without choosing went to
    whoever came first: now it starts on "Choose the person", a search that finds one person
    chooses them, and hours for nobody are refused with the form's words."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    page = (await client.get(f"/admin/c/{cid}/approvals", headers=admin.headers)).text
    start = page.index('<select id="user_id"')
    select = page[start : page.index("</select>", start)]
    assert select.startswith(
        '<select id="user_id" name="user_id" required><option value="">请选择人员</option>'
    )
    assert " selected" not in select
    found = await client.get(f"/admin/c/{cid}/approvals", params={"q": "郑美"}, headers=admin.headers)
    assert f'<option value="{alice.user_id}" selected>' in found.text
    honour = {"action": "honour", "user_id": "", "what": "社区防疫", "category": "service", "hours": "2"}
    refused = await post_form(
        client,
        f"/admin/c/{cid}/approvals",
        {**honour, "worked_on": clock.today().isoformat()},
        headers=admin.headers,
    )
    assert refused.status_code == 422 and "请选择人员。" in refused.text


async def test_the_stays_nothing_flags_are_approved_in_one_step(client, site, db):
    """After a crowded event the admin ticked each stay's box by hand to approve them together
    (hundreds of ticks after a morning cleanup); the stays nothing flags now go in one step, with
    one confirmation, and a flagged stay waits for its own look."""
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    event_id = await make_event(client, admin, cid, auto_award=False)
    await _an_hour_each(client, admin, event_id, alice, bob)
    stays = {
        int(user): int(stay)
        for user, stay in await db.execute(
            text("SELECT user_id, id FROM event_checkins WHERE event_id = :e AND award_status = 'pending'"),
            {"e": event_id},
        )
    }
    assert set(stays) == {alice.user_id, bob.user_id}
    await db.execute(
        text("UPDATE event_checkins SET flagged = true WHERE id = :i"), {"i": stays[bob.user_id]}
    )
    await db.commit()
    await session_of(client, admin)
    url = f"/admin/c/{cid}/approvals"
    assert "data-approve-plain" not in (await client.get(url)).text  # one plain stay: its own row does
    await db.execute(
        text("UPDATE event_checkins SET flagged = false WHERE id = :i"), {"i": stays[bob.user_id]}
    )
    await db.commit()
    page = (await client.get(url)).text
    assert "data-approve-plain" in page and "通过全部 2 条无异常记录" in page
    plain = page[page.index("data-approve-plain") : page.index("</form>", page.index("data-approve-plain"))]
    ids = re.findall(r'name="checkin_ids" value="(\d+)"', plain)
    assert sorted(map(int, ids)) == sorted(stays.values())
    unconfirmed = await post_form(client, url, {"action": "bulk", "checkin_ids": ids})
    assert unconfirmed.status_code == 422  # the confirmation is asked for
    done = await post_form(client, url, {"action": "bulk", "checkin_ids": ids, "confirm": "1"})
    assert done.status_code in (200, 303), done.text[:300]
    statuses = await db.execute(
        text("SELECT award_status FROM event_checkins WHERE event_id = :e"), {"e": event_id}
    )
    assert {row[0] for row in statuses} == {"awarded"}


async def test_the_manage_page_lists_events_a_page_at_a_time_opening_at_those_to_come(
    client, site, monkeypatch, engine
):
    """The manage page listed the first 300 events by start from 60 days back and nothing past
    them: a community's weekly series fill a year at once, and the page opened on last month's
    events. Now a page at a time with the count, opening where the events to come begin (here
    two a page: two ended, three to come)."""
    monkeypatch.setattr(admin_pages, "EVENTS_PAGE", 2)
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    now = clock.now()
    made = []
    for days in (-90, -10, 1, 2, 3):
        start = now + timedelta(days=days)
        made.append(
            await make_event(
                client,
                admin,
                cid,
                starts_at=start.isoformat(),
                ends_at=(start + timedelta(hours=2)).isoformat(),
            )
        )
    async with async_sessionmaker(engine)() as s, s.begin():  # closed long since, as the job does
        await s.execute(text("UPDATE events SET status = 'closed' WHERE id = :e"), {"e": made[0]})
    url = f"/admin/c/{cid}/events"
    opened = (await client.get(url, headers=admin.headers)).text
    assert "全部活动共 5 场。" in opened and "第 2 页，共 3 页" in opened
    assert re.findall(r'data-event="(\d+)"', opened) == [str(made[2]), str(made[3])]
    assert 'href="?page=1#listed"' in opened and 'href="?page=3#listed"' in opened
    # An event of three months ago is an earlier page away: the list began 60 days back.
    first = (await client.get(url, params={"page": "1"}, headers=admin.headers)).text
    assert re.findall(r'data-event="(\d+)"', first) == [str(made[0]), str(made[1])]
    last = (await client.get(url, params={"page": "9"}, headers=admin.headers)).text
    assert re.findall(r'data-event="(\d+)"', last) == [str(made[4])]


async def test_an_events_page_says_how_many_places_are_left_or_that_it_is_full(client, site, factory):
    """The page said 名额：40 and nothing of how many were taken: a resident signing up for a full
    event learned only afterwards that they were on the waiting list."""
    tenant, admin, alice, bob = site
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True, capacity=2)
    url = f"/events/{event_id}"

    def places(page: str) -> str:
        return page[page.index("data-places") :].split("</p>", 1)[0]

    assert "名额：2 · 还剩 2 个" in places((await client.get(url, headers=alice.headers)).text)
    assert (await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)).status_code == 201
    assert "还剩 1 个" in places((await client.get(url, headers=bob.headers)).text)
    assert (await client.post(f"/api/v1/events/{event_id}/signups", headers=bob.headers)).status_code == 201
    carol = await login(client, await factory.person(tenant, name="林阿姨"))
    full = places((await client.get(url, headers=carol.headers)).text)
    assert "已满：现在报名将进入候补名单" in full and "还剩" not in full
    english = (await client.get(url, headers={**carol.headers, "Accept-Language": "en"})).text
    assert "full: whoever signs up now joins the waiting list" in places(english)


async def test_the_approval_queue_pages_what_waits_with_its_count(client, site, db, monkeypatch):
    """The queue listed the oldest 500 of each and said the others would follow once these were
    decided: the admin could not reach them. Each list is paged, counted, oldest first."""
    monkeypatch.setattr(approvals, "QUEUE_PAGE", 2)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    for day in range(5):
        await db.execute(
            text(
                "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, "
                "status, created_at) VALUES (:c, :u, :w, 'service', current_date - CAST(:d AS integer), "
                "60, 'pending', now() - make_interval(mins => :d))"
            ),
            {"c": cid, "u": alice.user_id, "w": f"楼道清扫{day}", "d": day},
        )
    await db.commit()
    seen: list[str] = []
    for number in (1, 2, 3):
        page = (await client.get(f"/admin/c/{cid}/approvals?claims={number}", headers=admin.headers)).text
        assert "待审核：5 条，最早的在前。" in page and f"第 {number} 页，共 3 页" in page
        assert page.count('name="claim_id"') == (2 if number < 3 else 1)
        listed = [f"楼道清扫{day}" for day in range(5) if f"楼道清扫{day}" in page]
        seen += sorted(listed, key=page.index)
    assert seen == [f"楼道清扫{day}" for day in (4, 3, 2, 1, 0)]  # each once, the oldest first
    found = (await client.get(f"/admin/c/{cid}/approvals?claims=2&q=郑", headers=admin.headers)).text
    assert 'href="?q=%E9%83%91&amp;claims=3#claims"' in found  # the search kept


@pytest.mark.parametrize("waiting", [2, 3])
async def test_the_approval_queue_pages_right_at_the_edge(client, site, db, monkeypatch, waiting):
    """At exactly a page of claims there is one page and no link on; one more, and a second page."""
    monkeypatch.setattr(approvals, "QUEUE_PAGE", 2)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    await db.execute(
        text(
            "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, status, "
            "created_at) SELECT :c, :u, '楼道清扫' || n, 'service', current_date, 60, 'pending', now() "
            "FROM generate_series(1, :n) AS n"
        ),
        {"c": cid, "u": alice.user_id, "n": waiting},
    )
    await db.commit()
    page = (await client.get(f"/admin/c/{cid}/approvals", headers=admin.headers)).text
    assert page.count('name="claim_id"') == 2 and f"待审核：{waiting} 条" in page
    assert ('href="?claims=2#claims"' in page) is (waiting > 2)


async def test_a_decision_on_a_later_page_of_the_queue_comes_back_on_that_page(client, site, db, monkeypatch):
    """The decision forms post to the queue's own address: a refused one on the second page of
    claims came back on the first, without the claim and what was typed for it, and a done one
    sent the admin back to the first page."""
    monkeypatch.setattr(approvals, "QUEUE_PAGE", 2)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    await db.execute(
        text(
            "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, status, "
            "created_at) SELECT :c, :u, '楼道清扫' || n, 'service', current_date, 60, 'pending', "
            "now() - make_interval(mins => 10 - n) FROM generate_series(1, 5) AS n"
        ),
        {"c": cid, "u": alice.user_id},
    )
    await db.commit()
    last = (
        await db.execute(
            text("SELECT id FROM hour_claims WHERE community_id = :c AND what = '楼道清扫5'"), {"c": cid}
        )
    ).scalar_one()
    await session_of(client, admin)
    url = f"/admin/c/{cid}/approvals?claims=3&q=郑"
    assert f'name="claim_id" value="{last}"' in (await client.get(url)).text

    refused = await post_form(
        client, url, {"action": "claim_reject", "claim_id": str(last), "reason": "无人证明"}
    )
    assert refused.status_code == 422, refused.text[:300]
    assert f'id="creason-{last}" name="reason" value="无人证明"' in refused.text
    assert "第 3 页，共 3 页" in refused.text

    form = {"action": "claim_reject", "claim_id": str(last), "reason": "无人证明", "confirm": "1"}
    done = await post_form(client, url, form)
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/c/{cid}/approvals?done=1&q=%E9%83%91&claims=3"
    again = (await client.get(done.headers["location"])).text
    assert "第 2 页，共 2 页" in again and "楼道清扫4" in again  # the last page now


async def test_the_events_list_is_paged_with_its_count(client, site, monkeypatch):
    """The list stopped at its 50th event with "only 50 are listed": a community's weekly series
    fill it, and a resident had no way to the events past it. They are a page on, counted."""
    monkeypatch.setattr(events_pages, "EVENTS_LISTED", 2)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    start = clock.now() + timedelta(days=1)
    made = [
        await make_event(
            client,
            admin,
            cid,
            title=f"活动{n}",
            starts_at=(start + timedelta(hours=n)).isoformat(),
            ends_at=(start + timedelta(hours=n + 1)).isoformat(),
        )
        for n in range(5)
    ]
    seen: list[int] = []
    for number in (1, 2, 3):
        page = (await client.get(f"/c/{cid}/events?page={number}", headers=alice.headers)).text
        assert "即将举行的活动：5 场" in page and f"第 {number} 页，共 3 页" in page
        seen += [e for e in made if f'href="/events/{e}"' in page]
    assert seen == made  # each once, soonest first
    english = await client.get(f"/c/{cid}/events?page=2", headers={**alice.headers, "Accept-Language": "en"})
    assert "Upcoming events: 5" in english.text and "Page 2 of 3." in english.text
    assert 'href="?page=1#listed"' in english.text and 'href="?page=3#listed"' in english.text
    last = (await client.get(f"/c/{cid}/events?page=9", headers=alice.headers)).text
    assert f'href="/events/{made[4]}"' in last and 'rel="next"' not in last


async def test_the_home_panel_of_events_i_organise_counts_them_and_leads_to_them_all(
    client, site, db, monkeypatch
):
    """The panel listed the soonest 5 events a volunteer organises and stopped there: a weekly
    series' organiser never saw the others. It says how many and leads to the list of them all."""
    monkeypatch.setattr(home, "ORGANISED_SHOWN", 2)
    monkeypatch.setattr(events_pages, "EVENTS_LISTED", 2)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    start = clock.now() + timedelta(days=1)
    theirs = []
    for n in range(4):
        event_id = await make_event(
            client,
            admin,
            cid,
            title=f"巡逻{n}",
            starts_at=(start + timedelta(hours=n)).isoformat(),
            ends_at=(start + timedelta(hours=n + 1)).isoformat(),
        )
        if n != 1:
            theirs.append(event_id)
            await db.execute(
                text("UPDATE events SET organiser_ids = ARRAY[CAST(:u AS bigint)] WHERE id = :e"),
                {"u": alice.user_id, "e": event_id},
            )
    await db.commit()
    await session_of(client, alice)
    home_page = (await client.get("/")).text
    assert f'href="/c/{cid}/events?organised=1"' in home_page
    seen: list[int] = []
    for number in (1, 2):
        page = (await client.get(f"/c/{cid}/events?organised=1&page={number}")).text
        assert "你组织的活动：3 场" in page and f"第 {number} 页，共 2 页" in page
        seen += [e for e in theirs if f'href="/events/{e}"' in page]
    assert seen == theirs  # each once, the soonest first; not the one another organises
    assert 'href="?organised=1&amp;page=1#listed"' in page
