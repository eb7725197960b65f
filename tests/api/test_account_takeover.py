"""Adding a phone number that already has an account gives the adding community a membership
only, never power over the account: its name, password and cards stay its holder's."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import MemberCard, Membership, StreetRole, User
from tests.api.helpers import post_form, session_of
from tests.conftest import Person, login, unique, unique_phone


async def _account(db, user_id: int) -> tuple[str, str | None, list[tuple[int, object]]]:
    db.expire_all()
    user = await db.get(User, user_id)
    assert user is not None
    cards = (
        await db.execute(
            select(MemberCard.id, MemberCard.revoked_at)
            .where(MemberCard.user_id == user_id)
            .order_by(MemberCard.id)
        )
    ).all()
    return user.display_name, user.password_hash, [tuple(c) for c in cards]


async def test_enrolling_another_communitys_admin_gives_no_power_over_their_account(client, factory, db):
    a = await factory.tenant()
    b = await factory.tenant()
    a_admin = await login(client, a.admin)
    a_grid = await login(client, await factory.person(a, roles=["grid_worker", "resident"]))
    victim = b.admin
    before = await _account(db, victim.user_id)
    url = f"/api/v1/communities/{a.community_id}/residents"
    body = {"phone": victim.phone, "display_name": "冒名顶替", "password": "takeover-pass-1"}

    # A grid worker may not enrol anyone.
    refused = await client.post(url, json=body, headers=a_grid.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"

    # A's admin may: the known phone becomes a membership of A, nothing more.
    added = await client.post(url, json=body, headers=a_admin.headers)
    assert added.status_code == 201, added.text
    assert added.json()["user_id"] == victim.user_id
    assert await _account(db, victim.user_id) == before
    taken = await client.post(
        "/api/v1/auth/token", json={"phone": victim.phone, "password": "takeover-pass-1"}
    )
    assert taken.status_code == 401

    # A's resident pages refuse to reset the password, rename, revoke or print cards.
    await session_of(client, a.admin)
    page = f"/admin/c/{a.community_id}/residents/{victim.user_id}"
    detail = await client.get(page)
    assert detail.status_code == 200
    assert 'name="password"' not in detail.text and "/card" not in detail.text
    attempts = [
        (page, {"action": "password", "password": "takeover-pass-2"}),
        (page, {"action": "details", "display_name": "改名了"}),
        (page, {"action": "revoke_cards", "confirm": "1"}),
        (f"{page}/card", {}),
        (f"{page}/card", {"reissue": "1", "confirm": "1"}),
    ]
    for path, form in attempts:
        response = await post_form(client, path, form)
        assert response.status_code == 403, (path, form, response.status_code)
    # Nor may A's grid worker, on the same pages.
    await session_of(client, a_grid)
    for path, form in attempts:
        response = await post_form(client, path, form)
        assert response.status_code == 403, ("grid worker", path, form, response.status_code)
    await session_of(client, a.admin)
    assert await _account(db, victim.user_id) == before
    for password in ("takeover-pass-1", "takeover-pass-2"):
        again = await client.post("/api/v1/auth/token", json={"phone": victim.phone, "password": password})
        assert again.status_code == 401

    # The membership is A's to manage: roles and the place in A.
    roles = await post_form(client, page, {"action": "roles", "roles": ["resident", "volunteer"]})
    assert roles.status_code == 303
    same_name = await post_form(client, page, {"action": "details", "display_name": before[0], "room": "301"})
    assert same_name.status_code == 303, same_name.text
    db.expire_all()
    membership = await db.scalar(
        select(Membership).where(
            Membership.user_id == victim.user_id, Membership.community_id == a.community_id
        )
    )
    assert (
        membership is not None and membership.roles == ["resident", "volunteer"] and membership.room == "301"
    )

    # B's admin is untouched and still signs in with their own password.
    assert await _account(db, victim.user_id) == before
    own = await client.post("/api/v1/auth/token", json={"phone": victim.phone, "password": victim.password})
    assert own.status_code == 200


async def test_the_enrolling_page_says_a_known_phone_became_a_membership(client, factory):
    a = await factory.tenant()
    b = await factory.tenant()
    neighbour = await factory.person(b, name="林秀英")
    await session_of(client, a.admin)
    created = await post_form(
        client,
        f"/admin/c/{a.community_id}/residents",
        {
            "display_name": "别的名字",
            "phone": neighbour.phone,
            "password": "other-pass-1",
            "roles": "resident",
        },
    )
    assert created.status_code == 303, created.text
    shown = await client.get(created.headers["location"])
    assert shown.status_code == 200
    assert "林秀英" in shown.text and "已经有账号" in shown.text


async def test_an_account_made_by_the_community_alone_is_still_managed_by_it(client, factory, db):
    tenant = await factory.tenant()
    person = await factory.person(tenant, name="陈阿姨")
    await session_of(client, tenant.admin)
    page = f"/admin/c/{tenant.community_id}/residents/{person.user_id}"
    renamed = await post_form(client, page, {"action": "details", "display_name": "陈秀兰"})
    assert renamed.status_code == 303
    reset = await post_form(client, page, {"action": "password", "password": "fresh-pass-123"})
    assert reset.status_code == 303
    db.expire_all()
    user = await db.get(User, person.user_id)
    assert user is not None and user.display_name == "陈秀兰"
    ok = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "fresh-pass-123"})
    assert ok.status_code == 200


async def test_a_street_admin_is_never_managed_by_one_of_the_streets_communities(client, factory, db):
    tenant = await factory.tenant()
    person = await factory.person(tenant, name="街道干部")
    db.add(StreetRole(user_id=person.user_id, street_id=tenant.street_id, role="street_admin"))
    await db.commit()
    await session_of(client, tenant.admin)
    page = f"/admin/c/{tenant.community_id}/residents/{person.user_id}"
    reset = await post_form(client, page, {"action": "password", "password": "takeover-pass-3"})
    assert reset.status_code == 403


async def test_an_organisations_member_is_never_managed_by_a_community_that_enrols_them(client, factory, db):
    """A partner unit's or provider's member acts for it (claims wishes, redeems vouchers): a
    community that enrols their phone as a resident manages the membership only, like another
    community's member's."""
    home = await factory.tenant()
    a = await factory.tenant()
    home_admin = await login(client, home.admin)
    member = Person(0, unique_phone(), "member-pass-1", "单位成员")
    made = await client.post(
        f"/api/v1/communities/{home.community_id}/organisations",
        json={
            "name": unique("理发店"),
            "kinds": ["provider"],
            "members": [{"phone": member.phone, "display_name": "单位成员", "password": member.password}],
        },
        headers=home_admin.headers,
    )
    assert made.status_code == 201, made.text
    member.user_id = made.json()["member_user_ids"][0]
    a_admin = await login(client, a.admin)
    added = await client.post(
        f"/api/v1/communities/{a.community_id}/residents",
        json={"phone": member.phone, "display_name": "单位成员"},
        headers=a_admin.headers,
    )
    assert added.status_code == 201, added.text
    before = await _account(db, member.user_id)

    await session_of(client, a.admin)
    page = f"/admin/c/{a.community_id}/residents/{member.user_id}"
    for path, form in [
        (page, {"action": "password", "password": "takeover-pass-4"}),
        (page, {"action": "details", "display_name": "改名了"}),
        (f"{page}/card", {"reissue": "1", "confirm": "1"}),
    ]:
        response = await post_form(client, path, form)
        assert response.status_code == 403, (path, form, response.status_code)
    assert await _account(db, member.user_id) == before
    taken = await client.post(
        "/api/v1/auth/token", json={"phone": member.phone, "password": "takeover-pass-4"}
    )
    assert taken.status_code == 401
    own = await client.post("/api/v1/auth/token", json={"phone": member.phone, "password": member.password})
    assert own.status_code == 200
