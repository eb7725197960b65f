"""API.md writes its optional query parameters as templates (`?community_id=&limit=&cursor=`,
`?lat=&lng=`), and an HTML form sends an empty field the same way: on the JSON API an optional
parameter sent empty is the same as one left out, and takes its default. A required one sent
empty is still refused with its own sentence."""

from __future__ import annotations

import uuid

from tests.conftest import login


async def test_optional_parameters_sent_empty_take_their_defaults(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    person = await login(client, await factory.person(tenant))
    cid = tenant.community_id
    award = {"user_id": person.user_id, "points": 7, "reason": "好", "idempotency_key": uuid.uuid4().hex}
    assert (
        await client.post(f"/api/v1/communities/{cid}/awards", json=award, headers=admin.headers)
    ).status_code == 201

    wallet = await client.get("/api/v1/me/wallet?community_id=", headers=person.headers)
    assert wallet.status_code == 200 and wallet.json() == {
        "community_id": cid,
        "balance": 7,
        "held": 0,
        "available": 7,
    }
    lines = await client.get("/api/v1/me/transfers?community_id=&limit=&cursor=", headers=person.headers)
    assert lines.status_code == 200, lines.text
    assert [line["amount"] for line in lines.json()["items"]] == [7] and lines.json()["next_cursor"] is None
    for path in (
        f"/api/v1/communities/{cid}/offers?lat=&lng=",
        f"/api/v1/communities/{cid}/wishes?status=",
        f"/api/v1/communities/{cid}/stats?from=&to=",
    ):
        answer = await client.get(path, headers=admin.headers)
        assert answer.status_code == 200, (path, answer.text)

    # Given, a value is still checked; a required parameter sent empty is refused as before.
    assert (await client.get("/api/v1/me/transfers?limit=0", headers=person.headers)).status_code == 422
    month = await client.get(
        "/api/v1/organisations/1/statements?month=", headers={**admin.headers, "Accept-Language": "en"}
    )
    assert month.status_code in (403, 404, 422)
    made = await client.post(
        f"/api/v1/communities/{cid}/organisations",
        json={
            "name": "街角裁缝",
            "kinds": ["provider"],
            "members": [{"phone": "13700000011", "display_name": "裁"}],
        },
        headers=admin.headers,
    )
    statements = f"/api/v1/organisations/{made.json()['id']}/statements?month="
    refused = await client.get(statements, headers={**admin.headers, "Accept-Language": "en"})
    assert (
        refused.status_code == 422
        and refused.json()["detail"] == "The month is written YYYY-MM, such as 2026-03."
    )
