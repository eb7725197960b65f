"""Where a handler refuses a query value with a sentence of its own, the OpenAPI schema states
the same range, so that the document served matches what the handlers take."""

from __future__ import annotations

import re

from tests.conftest import login


async def test_the_openapi_document_states_the_ranges_the_handlers_hold_query_parameters_to(client, factory):
    """Where a handler refuses a query value with a sentence of its own, the schema states the same
    range: a page of 1 to 100 transfers, a latitude and longitude, a month written YYYY-MM, a
    kiosk code's action."""
    document = (await client.get("/schema/openapi.json")).json()

    def schema(path: str, name: str) -> dict:
        (parameter,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
        return dict(parameter["schema"])

    assert {"minimum": 1, "maximum": 100}.items() <= schema("/api/v1/me/transfers", "limit").items()
    offers = "/api/v1/communities/{community_id}/offers"
    assert {"minimum": -90, "maximum": 90}.items() <= schema(offers, "lat").items()
    assert {"minimum": -180, "maximum": 180}.items() <= schema(offers, "lng").items()
    assert schema("/api/v1/events/{event_id}/code", "action")["enum"] == ["checkin", "checkout"]
    pattern = schema("/api/v1/organisations/{organisation_id}/statements", "month")["pattern"]

    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/organisations",
        json={
            "name": "巷口修鞋",
            "kinds": ["provider"],
            "members": [{"phone": "13700000009", "display_name": "鞋"}],
        },
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    statements = f"/api/v1/organisations/{made.json()['id']}/statements"
    for month in ("2026-03", "2026-+3", "2026- 3", "2026-３3", "1999-12", "2026-13"):
        answer = await client.get(statements, params={"month": month}, headers=admin.headers)
        fits = re.fullmatch(pattern, month) is not None
        assert answer.status_code == (200 if fits else 422), (month, answer.text)
