"""Partners fixtures: a community with its admin, staff, a grid worker and residents, and helpers
that make organisations and agreements through the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Factory, Person, Tenant, login, unique, unique_phone

# A mainland mobile number anywhere in a text (JSON or HTML), with or without separators.
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")

# A page's random tokens (the CSRF token in its head, hex) may hold eleven digits in a row by
# chance; they are not personal data, so they are left out before looking for a phone number.
_TOKENS = re.compile(r"[0-9a-f]{32,}")


def phone_in(text: str) -> str | None:
    """The first phone number in a page or an answer, if any (tokens left out)."""
    found = PHONE_RE.search(_TOKENS.sub("", text))
    return found.group(0) if found else None


@dataclass
class Town:
    tenant: Tenant
    admin: Person
    staff: Person
    grid: Person
    resident: Person

    @property
    def community_id(self) -> int:
        return self.tenant.community_id


@pytest.fixture
async def town(client: Any, factory: Factory) -> Town:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    staff = await login(client, await factory.person(tenant, roles=["staff"], name="陈晓"))
    grid = await login(client, await factory.person(tenant, roles=["grid_worker"], name="林网格"))
    resident = await login(client, await factory.person(tenant, name="郑美玉"))
    return Town(tenant, admin, staff, grid, resident)


async def make_organisation(
    client: Any, town: Town, kinds: list[str] | None = None, members: int = 1, **fields: Any
) -> tuple[int, list[Person]]:
    people = [Person(0, unique_phone(), "member-pass-1", f"成员{i}") for i in range(members)]
    body = {
        "name": unique("省疾控中心"),
        "kinds": kinds or ["partner"],
        "category": "government",
        "address": "鼓楼区",
        "members": [
            {"phone": p.phone, "display_name": p.display_name, "password": p.password} for p in people
        ],
        **fields,
    }
    response = await client.post(
        f"/api/v1/communities/{town.community_id}/organisations", json=body, headers=town.admin.headers
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    for person, user_id in zip(people, answer["member_user_ids"], strict=True):
        person.user_id = user_id
        await login(client, person)
    return int(answer["id"]), people


async def make_agreement(client: Any, town: Town, organisation_id: int, year: int, **commitments: int) -> int:
    response = await client.post(
        f"/api/v1/communities/{town.community_id}/agreements",
        json={"organisation_id": organisation_id, "year": year, "commitments": commitments},
        headers=town.admin.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])
