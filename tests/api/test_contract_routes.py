"""Every route API.md names is served where it says, and every JSON one is in the OpenAPI schema
(`/schema/openapi.json`), which kiosks and scripts generate clients from: a route renamed or
dropped from the schema fails here. Each of them but the two that API.md says need none asks for
a bearer token first, and says so in the error shape."""

from __future__ import annotations

import re
from typing import Any

# API.md, section by section: (method, path) as the contract writes them.
CONTRACT = [
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/register"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/me/wallet"),
    ("GET", "/api/v1/me/transfers"),
    ("GET", "/api/v1/me/card"),
    ("GET", "/api/v1/me/card.svg"),
    ("POST", "/api/v1/communities/{community_id}/residents"),
    ("POST", "/api/v1/communities/{community_id}/awards"),
    ("POST", "/api/v1/communities/{community_id}/events"),
    ("POST", "/api/v1/communities/{community_id}/items"),
    ("POST", "/api/v1/events/{event_id}/signups"),
    ("GET", "/api/v1/events/{event_id}/code"),
    ("POST", "/api/v1/scans"),
    ("GET", "/api/v1/communities/{community_id}/items"),
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/orders/{order_id}/cancel"),
    ("GET", "/api/v1/orders/{order_id}"),
    ("POST", "/api/v1/communities/{community_id}/organisations"),
    ("POST", "/api/v1/communities/{community_id}/agreements"),
    ("GET", "/api/v1/organisations/{organisation_id}/agreements"),
    ("POST", "/api/v1/communities/{community_id}/wishes"),
    ("POST", "/api/v1/wishes/{wish_id}/review"),
    ("GET", "/api/v1/communities/{community_id}/wishes"),
    ("GET", "/api/v1/wishes/{wish_id}"),
    ("POST", "/api/v1/wishes/{wish_id}/claim"),
    ("POST", "/api/v1/wishes/{wish_id}/release"),
    ("GET", "/api/v1/wishes/{wish_id}/delivery-code"),
    ("POST", "/api/v1/wishes/{wish_id}/thanks"),
    ("POST", "/api/v1/organisations/{organisation_id}/resources"),
    ("POST", "/api/v1/communities/{community_id}/needs"),
    ("POST", "/api/v1/communities/{community_id}/projects"),
    ("GET", "/api/v1/communities/{community_id}/resources"),
    ("GET", "/api/v1/communities/{community_id}/needs"),
    ("GET", "/api/v1/communities/{community_id}/projects"),
    ("POST", "/api/v1/organisations/{organisation_id}/offers"),
    ("POST", "/api/v1/offers/{offer_id}/approve"),
    ("GET", "/api/v1/communities/{community_id}/offers"),
    ("POST", "/api/v1/vouchers"),
    ("POST", "/api/v1/vouchers/{voucher_id}/cancel"),
    ("GET", "/api/v1/vouchers/{voucher_id}"),
    ("GET", "/api/v1/organisations/{organisation_id}/statements"),
    ("POST", "/api/v1/wishes/{wish_id}/donations"),
    ("POST", "/api/v1/projects/{project_id}/donations"),
    ("GET", "/api/v1/communities/{community_id}/stats"),
    ("GET", "/api/v1/streets/{street_id}/stats"),
    ("GET", "/api/v1/me/notifications"),
]
NO_TOKEN = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/register")}
# Outside /api/v1 and the schema: the monitors', Stripe's and the public wall.
OTHERS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/stripe/webhook"),
    ("GET", "/c/{community_id}/wall"),
    ("GET", "/schema/openapi.json"),
]


def _served(app: Any) -> set[tuple[str, str]]:
    return {(method, re.sub(r":\w+\}", "}", route.path)) for route in app.routes for method in route.methods}


async def test_every_route_of_the_contract_is_served_and_in_the_openapi_schema(app, client):
    document = (await client.get("/schema/openapi.json")).json()
    served = _served(app)
    missing = [
        (method, path)
        for method, path in CONTRACT
        if method.lower() not in document["paths"].get(path, {}) or (method, path) not in served
    ]
    assert missing == []
    assert [route for route in OTHERS if route not in served] == []
    # The schema is the JSON API's (and the monitors'): no page of the site is in it.
    assert {path for path in document["paths"] if not path.startswith("/api/v1/")} <= {"/healthz", "/readyz"}


async def test_every_route_but_the_two_to_log_in_with_asks_for_a_token_first(client):
    for method, path in CONTRACT:
        if (method, path) in NO_TOKEN:
            continue
        url = re.sub(r"\{\w+\}", "1", path)
        # No body and no query: a required parameter left out is not told before the login is.
        for headers in ({}, {"Authorization": "Bearer not-a-token-of-ours"}):
            answer = await client.request(method, url, headers={**headers, "Accept-Language": "en"})
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text[:200])
            assert answer.json() == {
                "status_code": 401,
                "code": "not_authenticated",
                "detail": "Please log in first.",
            }, (method, path)
            assert answer.headers["www-authenticate"] == "Bearer"
