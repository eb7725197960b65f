"""The OpenAPI document lists every answer a route gives: a creating route whose key was sent
before answers 200 with the first answer's body (API.md: awards, orders, vouchers), and the scan
entry answers 429 `rate_limited` once a scanner has typed too many wrong digits."""

from __future__ import annotations

REPEATED = ("/api/v1/communities/{community_id}/awards", "/api/v1/orders", "/api/v1/vouchers")


async def test_a_repeat_and_a_refused_scanner_are_documented(client):
    document = (await client.get("/schema/openapi.json")).json()
    for path in REPEATED:
        answers = document["paths"][path]["post"]["responses"]
        assert {"200", "201"} <= set(answers), (path, sorted(answers))
        assert answers["200"]["content"] == answers["201"]["content"], path
    scans = document["paths"]["/api/v1/scans"]["post"]["responses"]
    assert "429" in scans and "rate_limited" in scans["429"]["description"]
    assert (
        scans["429"]["content"]["application/json"]["schema"]
        == scans["422"]["content"]["application/json"]["schema"]
    )
    # A route that makes something without a key keeps to its one answer.
    events = document["paths"]["/api/v1/communities/{community_id}/events"]["post"]["responses"]
    assert "200" not in events
