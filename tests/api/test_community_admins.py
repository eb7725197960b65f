"""A street admin appoints a community's admins: a new community had no admin and no page could
make one, so nobody could manage it. The street's page names each community's admins and links
the page that appoints them: a person of the street found by name or phone, or one registered by
phone, made its admin behind a confirmation, audited; a second sending changes nothing."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from app.accounts import appointing
from app.core.authz import Actor
from tests.api.helpers import page_login, post_form
from tests.api.test_home_pages import street_admin_of
from tests.conftest import Factory, count, login, sent_twice_at_once, unique_phone


def _new_community_admins(page: Any) -> str:
    location = page.headers["location"]
    assert re.fullmatch(r"/street/\d+/c/\d+/admins\?new=1", location), location
    return location.split("?")[0]


async def _roles(db: Any, community_id: int, user_id: int) -> list[str] | None:
    found = await db.execute(
        text("SELECT roles FROM memberships WHERE community_id = :c AND user_id = :u"),
        {"c": community_id, "u": user_id},
    )
    row = found.first()
    await db.rollback()
    return None if row is None else list(row[0])


async def test_a_street_admin_appoints_a_new_communitys_first_admin_from_the_streets_people(
    client: Any, factory: Factory, engine: Any, db: Any
) -> None:
    tenant = await factory.tenant()
    neighbour = await factory.person(tenant, name="郑美玉")
    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    made = await post_form(client, f"/street/{tenant.street_id}/communities", {"name": "新华社区"})
    assert made.status_code == 303
    admins_url = _new_community_admins(made)
    community_id = int(admins_url.split("/")[4])

    # The street's page says the new community has no admin and links where to appoint one.
    listed = (await client.get(f"/street/{tenant.street_id}", headers={"Accept-Language": "zh-CN"})).text
    row = listed[listed.index(f'data-community="{community_id}"') :].split("</tr>")[0]
    assert "尚无管理员" in row and f'href="{admins_url}"' in row
    # The street admin's home says it too, with the same link, until the first admin is made.
    home = (await client.get("/", headers={"Accept-Language": "zh-CN"})).text
    assert f'href="{admins_url}" data-no-admin' in home and "新华社区尚无管理员" in home
    # A new community's count of members reads as a number under its heading, in either language.
    english = (await client.get(f"/street/{tenant.street_id}", headers={"Accept-Language": "en"})).text
    row = english[english.index(f'data-community="{community_id}"') :].split("</tr>")[0]
    assert '<td data-label="Members">0</td>' in row and "people" not in row
    # So does the community's own page (the street's link to it), in a link to the same page.
    places = (await client.get(f"/admin/c/{community_id}/places")).text
    assert f'href="{admins_url}"' in places

    page = await client.get(admins_url + "?new=1", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "data-no-admin" in page.text and "任命第一位管理员" in page.text
    # Found by name among the street's people, with the phone's last digits only.
    found = (await client.get(admins_url, params={"who": "美玉"})).text
    assert f'data-person="{neighbour.user_id}"' in found and neighbour.phone not in found
    assert neighbour.phone[-4:] in found
    # Making them admin sits behind a confirmation.
    person = found[found.index(f'data-person="{neighbour.user_id}"') :].split("</li>")[0]
    assert '<details class="confirm">' in person and 'name="user_id"' in person
    # Found by a tail of the phone too.
    assert (
        f'data-person="{neighbour.user_id}"'
        in (await client.get(admins_url, params={"who": neighbour.phone[-5:]})).text
    )

    for _ in range(2):  # a double tap appoints once
        appointed = await post_form(client, admins_url, {"user_id": neighbour.user_id})
        assert appointed.status_code == 303
    assert await _roles(db, community_id, neighbour.user_id) == ["admin"]
    assert (
        await count(
            db,
            "SELECT count(*) FROM audit_entries "
            "WHERE action = 'community.admin_appointed' AND community_id = :c",
            c=community_id,
        )
        == 1
    )
    shown = (await client.get(appointed.headers["location"], headers={"Accept-Language": "zh-CN"})).text
    assert "data-appointed" in shown and "已是" in shown  # the second sending changed nothing
    listed = (await client.get(f"/street/{tenant.street_id}")).text
    row = listed[listed.index(f'data-community="{community_id}"') :].split("</tr>")[0]
    assert "郑美玉" in row and "尚无管理员" not in row
    assert f'href="{admins_url}" data-no-admin' not in (await client.get("/")).text
    # The page adds admins; their roles are taken away on the community's own pages, so the
    # link does not promise to change them.
    assert "增加管理员" in row and "调整" not in row

    # The new admin now manages the community: its residents' page opens for them.
    admin = await login(client, neighbour)
    residents = await client.get(f"/admin/c/{community_id}/residents", headers=admin.headers)
    assert residents.status_code == 200


async def test_a_street_admin_registers_an_admin_by_phone_and_a_refusal_keeps_what_was_typed(
    client: Any, factory: Factory, engine: Any, db: Any
) -> None:
    tenant = await factory.tenant()
    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    url = f"/street/{tenant.street_id}/c/{tenant.community_id}/admins"
    bad = await post_form(client, url, {"phone": "12", "display_name": "王书记", "password": "pass-word-1"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert 'value="12"' in bad.text and 'value="王书记"' in bad.text and "pass-word-1" not in bad.text
    nobody = await post_form(client, url, {})
    assert nobody.status_code == 422 and 'role="alert"' in nobody.text

    phone = unique_phone()
    made = await post_form(client, url, {"phone": phone, "display_name": "王书记", "password": "pass-word-1"})
    assert made.status_code == 303, made.text
    user_id = await db.scalar(text("SELECT id FROM users WHERE phone = :p"), {"p": phone})
    await db.rollback()
    assert await _roles(db, tenant.community_id, user_id) == ["admin"]
    shown = (await client.get(made.headers["location"], headers={"Accept-Language": "en"})).text
    assert "王书记 is now an admin of" in shown
    assert "王书记" in shown[shown.index("data-admins") :].split("</section>")[0]


async def test_nobody_but_the_streets_admin_appoints_and_only_the_streets_people(
    client: Any, factory: Factory, engine: Any, db: Any
) -> None:
    tenant, other = await factory.tenant(), await factory.tenant()
    stranger = await factory.person(other, name="外街居民")
    street = await street_admin_of(engine, tenant.street_id)
    url = f"/street/{tenant.street_id}/c/{tenant.community_id}/admins"
    # The community's own admin and another street's admin do not reach the page.
    await page_login(client, tenant.admin)
    assert (await client.get(url)).status_code in (403, 404)
    assert (await post_form(client, url, {"user_id": tenant.admin.user_id})).status_code in (403, 404)
    await page_login(client, await street_admin_of(engine, other.street_id))
    assert (await client.get(url)).status_code in (403, 404)
    # The street admin finds and appoints nobody of another street.
    await page_login(client, street)
    assert f'data-person="{stranger.user_id}"' not in (await client.get(url, params={"who": "外街"})).text
    refused = await post_form(client, url, {"user_id": stranger.user_id})
    assert refused.status_code == 404
    assert await _roles(db, tenant.community_id, stranger.user_id) is None
    # Nor a community of another street through their own street's address.
    elsewhere = f"/street/{tenant.street_id}/c/{other.community_id}/admins"
    assert (await client.get(elsewhere)).status_code == 404


async def test_the_api_lists_and_appoints_a_communitys_admins_for_its_street_admin(
    client: Any, factory: Factory, engine: Any, db: Any
) -> None:
    """Around API.md: GET and POST /api/v1/communities/{id}/admins, in API.md's error shape."""
    tenant, other = await factory.tenant(), await factory.tenant()
    street = await login(client, await street_admin_of(engine, tenant.street_id))
    neighbour = await factory.person(tenant, name="林阿姨")
    url = f"/api/v1/communities/{tenant.community_id}/admins"
    listed = await client.get(url, headers=street.headers)
    assert listed.status_code == 200
    assert [a["user_id"] for a in listed.json()["items"]] == [tenant.admin.user_id]

    made = await client.post(url, json={"user_id": neighbour.user_id}, headers=street.headers)
    assert made.status_code == 201 and made.json() == {"user_id": neighbour.user_id, "appointed": True}
    again = await client.post(url, json={"user_id": neighbour.user_id}, headers=street.headers)
    assert again.status_code == 200 and again.json()["appointed"] is False
    phone = unique_phone()
    new = await client.post(url, json={"phone": phone, "display_name": "新管理员"}, headers=street.headers)
    assert new.status_code == 201, new.text
    names = [a["display_name"] for a in (await client.get(url, headers=street.headers)).json()["items"]]
    assert {"林阿姨", "新管理员"} <= set(names)
    # The community's admin reads them; a resident and another street's admin do not, and only
    # the street admin appoints.
    admin = await login(client, tenant.admin)
    assert (await client.get(url, headers=admin.headers)).status_code == 200
    refused = await client.post(url, json={"user_id": neighbour.user_id}, headers=admin.headers)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    resident = await login(client, await factory.person(tenant, name="居民"))
    assert (await client.get(url, headers=resident.headers)).status_code == 403
    stranger = await factory.person(other, name="外人")
    foreign = await client.post(url, json={"user_id": stranger.user_id}, headers=street.headers)
    assert foreign.status_code == 404 and await _roles(db, tenant.community_id, stranger.user_id) is None
    empty = await client.post(url, json={}, headers=street.headers)
    assert empty.status_code == 422 and empty.json()["code"] == "validation_error"


async def test_an_appointment_sent_twice_at_once_appoints_once(
    factory: Factory, engine: Any, db: Any
) -> None:
    """A double tap on Make admin: the second sending waits on the first's new membership (or,
    for a person registered by phone, on the first's new account), then finds the person its
    admin and changes nothing, instead of refusing with a conflict after the first succeeded."""
    tenant = await factory.tenant()
    street = await street_admin_of(engine, tenant.street_id)
    actor = Actor(
        street.user_id,
        street.display_name,
        street_ids=frozenset({tenant.street_id}),
        street_communities=frozenset({tenant.community_id}),
    )
    made = await factory.tenant()  # a second community of the street
    await db.execute(
        text("UPDATE communities SET street_id = :s WHERE id = :c"),
        {"s": tenant.street_id, "c": made.community_id},
    )
    await db.commit()
    neighbour = await factory.person(tenant, name="郑美玉")
    phone = unique_phone()
    for how in ({"user_id": neighbour.user_id}, {"person": appointing.NewPerson(phone, "王书记")}):

        async def send(session: Any, how: dict[str, Any] = how) -> tuple[int, bool]:
            user, appointed = await appointing.appoint(session, actor, made.community_id, **how)
            return user.id, appointed

        first, second = await sent_twice_at_once(engine, send)
        assert first[1] is True and second == (first[0], False), how
        assert await _roles(db, made.community_id, first[0]) == ["admin"]
    assert (
        await count(
            db,
            "SELECT count(*) FROM audit_entries "
            "WHERE action = 'community.admin_appointed' AND community_id = :c",
            c=made.community_id,
        )
        == 2
    )


async def test_a_phone_of_another_streets_person_names_nobody_until_their_name_is_typed(
    client: Any, factory: Factory, engine: Any, db: Any
) -> None:
    """Registering by phone a number that has an account outside the street neither names its
    holder nor appoints them on a name that is not theirs: the street admin types the name the
    person registered under, as a street office asks the person for it."""
    tenant, other = await factory.tenant(), await factory.tenant()
    stranger = await factory.person(other, name="外街秦阿婆")
    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    url = f"/street/{tenant.street_id}/c/{tenant.community_id}/admins"
    guessed = await post_form(client, url, {"phone": stranger.phone, "display_name": "王书记"})
    assert guessed.status_code == 422 and 'role="alert"' in guessed.text
    assert "外街秦阿婆" not in guessed.text and 'value="王书记"' in guessed.text
    assert await _roles(db, tenant.community_id, stranger.user_id) is None
    api = await login(client, street)
    answer = await client.post(
        f"/api/v1/communities/{tenant.community_id}/admins",
        json={"phone": stranger.phone, "display_name": "王书记"},
        headers=api.headers,
    )
    assert answer.status_code == 422 and "外街秦阿婆" not in answer.text
    assert answer.json()["code"] == "validation_error"
    assert await _roles(db, tenant.community_id, stranger.user_id) is None

    await page_login(client, street)
    named = await post_form(client, url, {"phone": stranger.phone, "display_name": "外街秦阿婆"})
    assert named.status_code == 303, named.text
    assert await _roles(db, tenant.community_id, stranger.user_id) == ["admin"]
