"""Managing an organisation's members through the pages: removing one and making one an admin
(each after a confirmation), the last admin kept, and two admins removing each other at once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.authz import Actor
from app.core.errors import DomainError
from app.partners import services
from tests.api.helpers import post_form, session_of
from tests.partners.conftest import Town, make_organisation

EN = {"Accept-Language": "en"}


async def test_the_admin_removes_a_member_after_a_confirmation_and_they_act_for_it_no_more(
    client: Any, town: Town, db: Any
) -> None:
    organisation_id, (admin, member) = await make_organisation(client, town, members=2)
    office = f"/partners/o/{organisation_id}"
    remove = f"{office}/members/{member.user_id}/remove"
    await session_of(client, admin)
    page = await client.get(office)
    assert f'href="{remove}"' in page.text and "设为管理员" in page.text
    confirm = await client.get(remove)
    assert confirm.status_code == 200 and 'data-confirm="remove-member"' in confirm.text
    assert f"要把{member.display_name}移出本单位吗？" in confirm.text
    # Sent without the confirmation's field, the form only shows the question again.
    unconfirmed = await post_form(client, remove)
    assert unconfirmed.status_code == 200 and 'data-confirm="remove-member"' in unconfirmed.text
    assert await services.is_member(db, organisation_id, member.user_id)
    done = await post_form(client, remove, {"confirm": "1"})
    assert done.status_code == 303 and done.headers["location"] == f"{office}?saved=member_removed"
    shown = (await client.get(done.headers["location"])).text
    assert "已移除该成员" in shown, shown[shown.find("<main") :][:1500]
    assert not await services.is_member(db, organisation_id, member.user_id)
    recorded = await db.scalar(
        text(
            "SELECT count(*) FROM audit_entries WHERE action = 'organisation.member_removed' AND target = :t"
        ),
        {"t": f"organisation:{organisation_id}"},
    )
    assert recorded == 1
    # The removed member no longer opens the office page, and removing them again finds nobody.
    await session_of(client, member)
    assert (await client.get(office)).status_code == 404
    await session_of(client, admin)
    assert (await post_form(client, remove, {"confirm": "1"})).status_code == 404


async def test_only_the_units_admins_and_the_community_admin_manage_members(client: Any, town: Town) -> None:
    organisation_id, (admin, member) = await make_organisation(client, town, members=2)
    remove_admin = f"/partners/o/{organisation_id}/members/{admin.user_id}/remove"
    await session_of(client, member)
    assert "/remove" not in (await client.get(f"/partners/o/{organisation_id}")).text
    assert (await client.get(remove_admin)).status_code == 403
    assert (await post_form(client, remove_admin, {"confirm": "1"})).status_code == 403
    assert (
        await post_form(client, f"/partners/o/{organisation_id}/members/{member.user_id}/admin")
    ).status_code == 403
    await session_of(client, town.resident)
    assert (await client.get(remove_admin)).status_code == 404
    # The community's admin, who is no member, manages them too.
    await session_of(client, town.admin)
    page = await client.get(f"/partners/o/{organisation_id}")
    assert f'href="/partners/o/{organisation_id}/members/{member.user_id}/remove"' in page.text
    assert f'action="/partners/o/{organisation_id}/members"' in page.text


async def test_making_a_member_an_admin_asks_first(client: Any, town: Town, db: Any) -> None:
    """Making a member an admin took one tap and no question, and no step of the pages takes it
    back (only removing the member ends it): it asks first, as removing a member does."""
    organisation_id, (admin, member) = await make_organisation(client, town, members=2)
    office = f"/partners/o/{organisation_id}"
    make = f"{office}/members/{member.user_id}/admin"
    await session_of(client, admin)
    assert f'href="{make}"' in (await client.get(office)).text
    asked = await client.get(make)
    assert asked.status_code == 200 and 'data-confirm="make-admin"' in asked.text
    assert f"要把{member.display_name}设为本单位的管理员吗？" in asked.text
    unconfirmed = await post_form(client, make)
    assert unconfirmed.status_code == 200 and 'data-confirm="make-admin"' in unconfirmed.text
    assert dict((m[0], m[2]) for m in await services.members_of(db, organisation_id))[member.user_id] is False
    made = await post_form(client, make, {"confirm": "1"})
    assert made.status_code == 303 and made.headers["location"] == f"{office}?saved=admin"
    assert dict((m[0], m[2]) for m in await services.members_of(db, organisation_id))[member.user_id] is True
    again = await client.get(make, headers=EN)
    assert "is an admin of the organisation already" in again.text and 'name="confirm"' not in again.text


async def test_the_last_admin_stays_until_another_is_made_admin_then_may_leave(
    client: Any, town: Town, db: Any
) -> None:
    organisation_id, (admin, member) = await make_organisation(client, town, members=2)
    own = f"/partners/o/{organisation_id}/members/{admin.user_id}/remove"
    await session_of(client, admin)
    asked = await client.get(own, headers=EN)
    assert asked.status_code == 200 and "only admin and cannot be removed" in asked.text
    assert 'name="confirm"' not in asked.text
    refused = await post_form(client, own, {"confirm": "1"})
    assert refused.status_code == 409 and "唯一的管理员" in refused.text
    assert await services.is_member(db, organisation_id, admin.user_id)
    made = await post_form(
        client, f"/partners/o/{organisation_id}/members/{member.user_id}/admin", {"confirm": "1"}
    )
    assert made.status_code == 303 and made.headers["location"].endswith("?saved=admin")
    left = await post_form(client, own, {"confirm": "1"})
    assert left.status_code == 303 and left.headers["location"] == "/partners?saved=left"
    assert "您已退出该单位" in (await client.get(left.headers["location"])).text
    assert [m[0] for m in await services.members_of(db, organisation_id)] == [member.user_id]
    assert (await services.members_of(db, organisation_id))[0][2] is True


async def test_two_admins_removing_each_other_at_once_leave_one(
    client: Any, town: Town, engine: Any, db: Any
) -> None:
    organisation_id, (first, second) = await make_organisation(client, town, members=2)
    await services.make_admin(
        db,
        Actor(town.admin.user_id, "管理员", {town.community_id: frozenset({"admin"})}),
        organisation_id,
        second.user_id,
    )
    await db.commit()
    ready = asyncio.Barrier(2)

    async def remove(person: Any, user_id: int) -> None:
        actor = Actor(person.user_id, person.display_name, {})
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            await s.execute(text("SELECT 1"))
            await ready.wait()
            await services.remove_member(s, actor, organisation_id, user_id)

    answers = await asyncio.gather(
        remove(first, second.user_id), remove(second, first.user_id), return_exceptions=True
    )
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], DomainError), answers
    members = await services.members_of(db, organisation_id)
    assert len(members) == 1 and members[0][2] is True
