"""The event form's organisers: a page at a time of the community's volunteers, grid workers,
staff and admins, found by name or phone, chosen without losing what was typed."""

from __future__ import annotations

import re

from sqlalchemy import text

from app.core import clock
from app.events import admin_pages, approval_pages
from tests.api.helpers import post_form
from tests.conftest import count


async def test_an_events_organisers_are_found_a_page_at_a_time_and_chosen_without_losing_the_form(
    client, site, db, monkeypatch
):
    """The event form listed the first 200 volunteers, staff and grid workers by name as boxes
    (a long scroll on a phone), and its search was a form of its own that dropped everything
    typed into the event's form. The form's own Find and page buttons now send it back to
    itself: a page of those found, the chosen kept apart, what was typed kept (here a page holds
    three)."""
    monkeypatch.setattr(admin_pages, "ORGANISERS_PAGE", 3)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    await db.execute(
        text(
            "WITH u AS (INSERT INTO users (display_name) SELECT 'A志愿者' || n FROM generate_series(1, 5) n "
            "RETURNING id) INSERT INTO memberships (user_id, community_id, roles) "
            "SELECT id, :c, '{resident,volunteer}' FROM u"
        ),
        {"c": cid},
    )
    await db.execute(
        text(
            "UPDATE memberships SET roles = '{resident,volunteer}' WHERE user_id = :u AND community_id = :c"
        ),
        {"u": alice.user_id, "c": cid},
    )
    await db.commit()
    box = f'name="organiser_ids" value="{alice.user_id}"'
    page = (await client.get(f"/admin/c/{cid}/events/new", headers=admin.headers)).text
    # The admin and five volunteers and alice: seven, three a page, alice past the first.
    assert box not in page and page.count('name="organiser_ids"') == 3
    assert 'name="organisers_page" value="2"' in page and "data-not-saved" not in page
    typed = {"title": "光复新村楼道清洁", "starts_at": "2030-05-01T09:00", "ends_at": "2030-05-01T11:00"}
    url = f"/admin/c/{cid}/events"
    second = await post_form(client, url, {**typed, "organisers_page": "2"}, headers=admin.headers)
    assert second.status_code == 200 and 'value="光复新村楼道清洁"' in second.text
    assert "data-not-saved" in second.text and 'name="organisers_page" value="1"' in second.text
    # Said in a plain box, as the other pickers say it: a notice wears a tick, which read as done.
    assert '<p class="hint" role="status" data-not-saved>' in second.text
    # The answer opens at the organisers (the buttons' address ends in #organisers), where it says
    # that nothing is saved yet: a person who pressed Enter in the title sees it there.
    assert f'formaction="{url}#organisers"' in second.text
    fieldset = second.text[second.text.index('id="organisers"') :].split("</fieldset>")[0]
    assert "data-not-saved" in fieldset
    # Found by name, with what was typed kept and nothing saved yet.
    found = await post_form(client, url, {**typed, "who": "郑美", "find": "1"}, headers=admin.headers)
    assert found.status_code == 200 and box in found.text and "A志愿者" not in found.text
    assert 'value="光复新村楼道清洁"' in found.text and 'value="2030-05-01T09:00"' in found.text
    assert await count(db, "SELECT count(*) FROM events WHERE community_id = :c", c=cid) == 0
    # Chosen, found again for another: the chosen one stays checked, apart from those found.
    key = re.search(r'name="key" value="([^"]+)"', found.text).group(1)
    again = await post_form(
        client,
        url,
        {**typed, "key": key, "who": "A志愿者1", "find": "1", "organiser_ids": str(alice.user_id)},
        headers=admin.headers,
    )
    assert f"{box} checked" in again.text and f'name="key" value="{key}"' in again.text
    # A resident is no organiser: not found.
    nobody = await post_form(client, url, {**typed, "who": "黄志强", "find": "1"}, headers=admin.headers)
    assert 'data-found="0"' in nobody.text
    saved = await post_form(
        client,
        url,
        {**typed, "key": key, "category": "cleanup", "weeks": "1", "organiser_ids": str(alice.user_id)},
        headers=admin.headers,
    )
    assert saved.status_code == 303, saved.text[:500]
    organisers = await db.scalar(text("SELECT organiser_ids FROM events WHERE community_id = :c"), {"c": cid})
    assert list(organisers) == [alice.user_id]
    # Editing it, the organiser stays chosen whatever page of the others is shown.
    event_id = int(saved.headers["location"].split("?")[0].rsplit("/", 1)[1])
    edit = (await client.get(f"/events/{event_id}/edit", headers=admin.headers)).text
    assert f"{box} checked" in edit
    paged = await post_form(
        client,
        f"/events/{event_id}/edit",
        {**typed, "organisers_page": "3", "organiser_ids": str(alice.user_id)},
        headers=admin.headers,
    )
    assert paged.status_code == 200 and f"{box} checked" in paged.text


async def test_the_honour_hours_person_is_chosen_from_a_second_page_keeping_what_was_typed(
    client, site, db, monkeypatch
):
    """The honour hours' form listed the first 200 members by name, and its search was a form of
    its own that dropped what was typed for the hours. Its Find and its pages now send the form
    back to itself (here three people a page), nothing saved until Save, for the person chosen
    on a later page."""
    monkeypatch.setattr(approval_pages, "PEOPLE_PAGE", 3)
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    await db.execute(
        text(
            "WITH u AS (INSERT INTO users (display_name) SELECT '郑美' || n FROM generate_series(1, 4) n "
            "RETURNING id) INSERT INTO memberships (user_id, community_id, roles) "
            "SELECT id, :c, '{resident}' FROM u"
        ),
        {"c": cid},
    )
    await db.commit()
    url = f"/admin/c/{cid}/approvals"
    typed = {"action": "honour", "what": "社区防疫", "category": "service", "hours": "3"}
    typed["worked_on"] = clock.today().isoformat()
    option = f'<option value="{alice.user_id}"'
    found = await post_form(client, url, {**typed, "q": "郑美", "find": "1"}, headers=admin.headers)
    # 郑美1 .. 郑美4 and alice (郑美玉): five found, three a page, alice on the second.
    assert found.status_code == 200 and "data-not-saved" in found.text and option not in found.text
    assert 'value="社区防疫"' in found.text and f'formaction="{url}#person"' in found.text
    key = re.search(r'name="key" value="([^"]+)"', found.text).group(1)
    second = await post_form(
        client, url, {**typed, "key": key, "q": "郑美", "people_page": "2"}, headers=admin.headers
    )
    assert second.status_code == 200 and option in second.text and 'value="社区防疫"' in second.text
    assert f'name="key" value="{key}"' in second.text
    claims = "SELECT count(*) FROM hour_claims WHERE user_id = :u"
    assert await count(db, claims, u=alice.user_id) == 0
    saved = await post_form(
        client, url, {**typed, "key": key, "q": "郑美", "user_id": str(alice.user_id)}, headers=admin.headers
    )
    assert saved.status_code == 303, saved.text[:500]
    assert await count(db, claims, u=alice.user_id) == 1
