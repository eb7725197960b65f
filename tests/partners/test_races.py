"""Races on the live server (2 workers): simultaneous project steps, registrations and members."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import Factory, login, unique, unique_phone


async def test_simultaneous_steps_move_a_project_once_and_registrations_are_made_once(
    live_server: Any, factory: Factory
) -> None:
    tenant = await factory.tenant()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        admin = await login(http, tenant.admin)
        resident = await login(http, await factory.person(tenant))
        staff = await login(http, await factory.person(tenant, roles=["staff"]))
        made = await http.post(
            f"/api/v1/communities/{tenant.community_id}/organisations",
            json={
                "name": unique("县司法局"),
                "kinds": ["partner"],
                "members": [{"phone": unique_phone(), "display_name": "周科长"}],
            },
            headers=admin.headers,
        )
        organisation_id = made.json()["id"]
        project = await http.post(
            f"/api/v1/communities/{tenant.community_id}/projects",
            json={"title": "普法讲座", "owner_user_id": staff.user_id, "due_on": "2030-04-01"},
            headers=admin.headers,
        )
        url = f"/api/v1/projects/{project.json()['id']}/steps"
        steps = await asyncio.gather(
            *[
                http.post(url, json={"status": "in_progress", "note": f"开始 {i}"}, headers=admin.headers)
                for i in range(12)
            ]
        )
        codes = sorted(answer.status_code for answer in steps)
        assert codes == [200] + [409] * 11, [a.text for a in steps if a.status_code not in (200, 409)]
        registrations = await asyncio.gather(
            *[
                http.post(
                    "/api/v1/registrations",
                    json={"community_id": tenant.community_id, "organisation_id": organisation_id},
                    headers=resident.headers,
                )
                for _ in range(12)
            ]
        )
        codes = sorted(answer.status_code for answer in registrations)
        assert codes == [201] + [409] * 11, [a.text for a in registrations if a.status_code not in (201, 409)]
        phone = unique_phone()
        orgs = await asyncio.gather(
            *[
                http.post(
                    f"/api/v1/communities/{tenant.community_id}/organisations",
                    json={
                        "name": unique("物业"),
                        "kinds": ["partner"],
                        "members": [{"phone": phone, "display_name": "同一人"}],
                    },
                    headers=admin.headers,
                )
                for _ in range(8)
            ]
        )
        assert all(answer.status_code in (201, 409) for answer in orgs), [a.text for a in orgs]
        users = {answer.json()["member_user_ids"][0] for answer in orgs if answer.status_code == 201}
        assert len(users) == 1
