"""The organisers' event form and what follows it: a confirmation with the event's link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.authz import Actor
from app.events import services
from tests.api.helpers import post_form
from tests.conftest import count, sent_twice_at_once


def form(**overrides: str) -> dict[str, str]:
    data = {
        "title": "光复新村楼道清洁",
        "category": "cleanup",
        "starts_at": "2030-05-01T09:00",
        "ends_at": "2030-05-01T11:00",
        "points_per_attendance": "5",
        "points_per_hour": "10",
        "signup_required": "1",
        "weeks": "1",
    }
    data.update(overrides)
    return data


async def test_creating_an_event_confirms_it_with_its_link(client, site):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    created = await post_form(client, f"/admin/c/{cid}/events", form(), headers=admin.headers)
    assert created.status_code == 303
    location = created.headers["location"]
    page = await client.get(location, headers={**admin.headers, "Accept-Language": "zh-CN"})
    assert "data-created" in page.text and "活动已创建" in page.text
    event_path = location.split("?")[0]
    assert f'href="{event_path}"' in page.text
    series = await post_form(client, f"/admin/c/{cid}/events", form(weeks="3"), headers=admin.headers)
    page = await client.get(series.headers["location"], headers={**admin.headers, "Accept-Language": "en"})
    assert "3 weekly events were created" in page.text
    # Only organisers see it; a resident opening the same address sees the event alone.
    resident = await client.get(location, headers=alice.headers)
    assert resident.status_code == 200 and "data-created" not in resident.text


async def test_cancelling_an_event_needs_a_reason_and_a_second_step(client, site):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    created = await post_form(client, f"/admin/c/{cid}/events", form(), headers=admin.headers)
    event_path = created.headers["location"].split("?")[0]
    assert (
        await client.post(f"/api/v1/events/{event_path.rsplit('/', 1)[1]}/signups", headers=alice.headers)
    ).status_code == 201
    detail = await client.get(event_path, headers=admin.headers)
    # The event page only links to the step; it has no one-tap cancel form.
    assert f'href="{event_path}/cancel"' in detail.text and f'action="{event_path}/cancel"' not in detail.text
    step = await client.get(f"{event_path}/cancel", headers={**admin.headers, "Accept-Language": "en"})
    assert step.status_code == 200 and "Signed up: 1." in step.text and f'href="{event_path}"' in step.text
    empty = await post_form(client, f"{event_path}/cancel", {"reason": "  "}, headers=admin.headers)
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    assert "data-cancelled" not in (await client.get(event_path, headers=alice.headers)).text
    assert (await client.get(f"{event_path}/cancel", headers=alice.headers)).status_code == 403
    done = await post_form(
        client, f"{event_path}/cancel", {"reason": "台风预警，改期举行"}, headers=admin.headers
    )
    assert done.status_code == 303
    seen = await client.get(event_path, headers={**alice.headers, "Accept-Language": "zh-CN"})
    assert "活动已取消。原因：台风预警，改期举行" in seen.text
    mine = await client.get(f"/c/{cid}/my-events", headers={**alice.headers, "Accept-Language": "zh-CN"})
    assert "台风预警，改期举行" in mine.text and "data-cancelled" in mine.text


async def test_cancelling_a_sign_up_is_confirmed_and_sits_below_the_scan_button(client, site):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    created = await post_form(client, f"/admin/c/{cid}/events", form(), headers=admin.headers)
    event_path = created.headers["location"].split("?")[0]
    event_id = event_path.rsplit("/", 1)[1]
    await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)
    page = (await client.get(event_path, headers=alice.headers)).text
    # The scan button, or (the event is to come) the line that says when check-in opens in its place.
    scan = page.index('href="/scan"') if 'href="/scan"' in page else page.index("data-check-in-opens")
    assert scan < page.index('name="cancel"')
    assert '<details class="confirm" >' in page or '<details class="confirm">' in page
    one_tap = await post_form(client, f"{event_path}/signup", {"cancel": "1"}, headers=alice.headers)
    assert one_tap.status_code == 200 and '<details class="confirm" open>' in one_tap.text
    page = (await client.get(event_path, headers=alice.headers)).text
    assert "data-my-signup" in page
    confirmed = await post_form(
        client, f"{event_path}/signup", {"cancel": "1", "confirm": "1"}, headers=alice.headers
    )
    assert confirmed.status_code == 303
    page = (await client.get(event_path, headers=alice.headers)).text
    assert "data-my-signup" not in page


async def test_an_event_form_sent_twice_creates_once(client, site, db):
    """A double tap on 创建 (or a resend after a slow answer) sends the form twice with its key:
    one event, or one weekly series, and both sendings land on what was created."""
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    page = await client.get(f"/admin/c/{cid}/events/new", headers=admin.headers)
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    sent = form(title="双击创建的系列活动", weeks="3", key=key)
    first, second = [
        await post_form(client, f"/admin/c/{cid}/events", sent, headers=admin.headers) for _ in "12"
    ]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert second.headers["location"].endswith("?created=3")
    assert await count(db, "SELECT count(*) FROM events WHERE title = '双击创建的系列活动'") == 3


async def test_the_same_event_form_committing_twice_at_once_creates_once(site, engine):
    """Two sendings of one form in transactions of their own: the second's insert waits on the
    key's unique index for the first, then answers what the first created."""
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    actor = Actor(admin.user_id, "管理员", {cid: frozenset({"admin"})})
    start = datetime(2030, 6, 1, 1, 0, tzinfo=UTC)

    def data() -> services.EventInput:
        return services.EventInput(
            title="同时送达的活动", category="cleanup", starts_at=start, ends_at=start + timedelta(hours=2)
        )

    made, again = await sent_twice_at_once(
        engine, lambda s: services.create_event(s, actor, cid, data(), form_key="same-form")
    )
    assert [e.id for e in again] == [e.id for e in made]
    async with async_sessionmaker(engine)() as s:
        assert await count(s, "SELECT count(*) FROM events WHERE title = '同时送达的活动'") == 1


async def test_a_refused_number_on_the_event_form_names_its_field(client, site, db):
    """Five number fields answered a bad one with "请填写整数。" or "积分须在 0 到 100,000 之间。",
    leaving the organiser to guess which; 99999999999 per hour, a whole number, was told to be
    none. The sentence names the field, in the reader's language, and nothing is made."""
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    made = "SELECT count(*) FROM events WHERE community_id = :c"
    before = await count(db, made, c=cid)
    url = f"/admin/c/{cid}/events"
    for sent, words in (
        (form(points_per_hour="99999999999"), "每小时积分：积分须在 0 到 100,000 之间。"),
        (form(points_per_attendance="200000"), "参加积分：积分须在 0 到 100,000 之间。"),
        (form(max_points="十"), "每人最多积分：请填写整数。"),
        (form(capacity="-1"), "名额：名额须在 0 到 1,000,000 之间。"),
        (form(ends_at="明天"), "结束时间：请填写日期和时间。"),
    ):
        page = await post_form(client, url, sent, headers={**admin.headers, "Accept-Language": "zh-CN"})
        assert page.status_code == 422 and words in page.text, (sent, page.text[:2000])
    english = await post_form(
        client, url, form(points_per_hour="abc"), headers={**admin.headers, "Accept-Language": "en"}
    )
    assert "Points per hour: Please enter a whole number." in english.text
    assert await count(db, made, c=cid) == before


async def test_an_events_counts_of_people_say_they_are_people(client, site):
    """The organiser's figures read 0 当前在场 and 3 已到场, bare numbers: they say 人 (0 人在场,
    3 人已到场), on the event's page as on the kiosk screen that uses the same words."""
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    created = await post_form(client, f"/admin/c/{cid}/events", form(), headers=admin.headers)
    assert created.status_code == 303
    page = await client.get(
        created.headers["location"], headers={**admin.headers, "Accept-Language": "zh-CN"}
    )
    assert re.search(r"<strong>0</strong>人在场</div>", page.text) and re.search(
        r"<strong>0</strong>人已到场</div>", page.text
    )
