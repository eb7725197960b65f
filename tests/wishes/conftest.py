"""Wishes fixtures: the partners' town (an admin, staff, a grid worker, a resident) with a
volunteer, a partner unit with two members, and helpers that move a wish through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.core import clock
from tests.conftest import Factory, Person, login
from tests.partners.conftest import Town, make_organisation, phone_in, town  # noqa: F401 - the town fixture, phone_in for the tests


@dataclass
class Pool:
    town: Town
    volunteer: Person
    organisation_id: int
    members: list[Person]
    beneficiary: Person  # 杨依伯, a resident

    @property
    def community_id(self) -> int:
        return self.town.community_id


@pytest.fixture
async def pool(client: Any, factory: Factory, town: Town) -> Pool:  # noqa: F811
    volunteer = await login(
        client, await factory.person(town.tenant, roles=["resident", "volunteer"], name="王志愿")
    )
    beneficiary = await login(client, await factory.person(town.tenant, name="杨依伯"))
    organisation_id, members = await make_organisation(client, town, members=2)
    return Pool(town, volunteer, organisation_id, members, beneficiary)


async def post_wish(client: Any, pool: Pool, by: Person | None = None, **body: Any) -> int:
    by = by or pool.beneficiary
    payload = {"title": "修插座", "description": "厨房插座松了", **body}
    response = await client.post(
        f"/api/v1/communities/{pool.community_id}/wishes", json=payload, headers=by.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "submitted"
    return int(response.json()["id"])


async def publish(client: Any, pool: Pool, wish_id: int) -> None:
    response = await client.post(
        f"/api/v1/wishes/{wish_id}/review", json={"decision": "publish"}, headers=pool.town.admin.headers
    )
    assert response.status_code == 200, response.text


async def claim_for_unit(client: Any, pool: Pool, wish_id: int, member: int = 0) -> None:
    response = await client.post(
        f"/api/v1/wishes/{wish_id}/claim",
        json={"organisation_id": pool.organisation_id},
        headers=pool.members[member].headers,
    )
    assert response.status_code == 200, response.text


async def claim_as_volunteer(client: Any, pool: Pool, wish_id: int) -> None:
    response = await client.post(f"/api/v1/wishes/{wish_id}/claim", json={}, headers=pool.volunteer.headers)
    assert response.status_code == 200, response.text


async def code_for(client: Any, wish_id: int, person: Person) -> str:
    response = await client.get(f"/api/v1/wishes/{wish_id}/delivery-code", headers=person.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


def this_year() -> int:
    """The community's year (Asia/Shanghai, as the tests' communities keep): an agreement counts in
    it, and from 16:00 UTC on 31 December it is not the machine's (UTC) year any more."""
    return clock.today().year
