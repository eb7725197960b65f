"""An event's page before check-in opens says when it does, where it offered its big "scan the
event code" button: a resident signed up for tomorrow's cleanup tapped it at home and every scan
was refused (未通过), with nothing on the page to say they were early."""

from __future__ import annotations

from datetime import timedelta

from app.core import clock
from tests.api.helpers import words
from tests.events.conftest import make_event


async def test_an_events_page_says_when_check_in_opens_instead_of_offering_the_scanner(client, site):
    tenant, admin, alice, _bob = site
    day = (clock.now() + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    later = await make_event(
        client,
        admin,
        tenant.community_id,
        starts_at=day.isoformat(),
        ends_at=(day + timedelta(hours=2)).isoformat(),
    )
    started = await make_event(client, admin, tenant.community_id)
    opens = clock.text(day - timedelta(hours=1), "Asia/Shanghai")[-5:]  # 09:00 in Fuzhou
    for lang, said in (
        ("zh-CN", "起可以签到（活动开始前一小时）。"),
        ("en", "one hour before the event starts."),
    ):
        page = await client.get(f"/events/{later}", headers={**alice.headers, "Accept-Language": lang})
        assert page.status_code == 200, page.text
        hint = words(page.text.split("data-check-in-opens>", 1)[1].split("</p>", 1)[0])
        assert said in hint and opens in hint, hint
        assert 'href="/scan"' not in page.text
    now = await client.get(f"/events/{started}", headers=alice.headers)
    assert 'href="/scan"' in now.text and "data-check-in-opens" not in now.text
