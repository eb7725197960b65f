"""The organisers' event form and what follows it: a confirmation with the event's link."""

from __future__ import annotations

from tests.api.helpers import post_form


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
