"""The statement and the admin ledger list transfers newest first by time, the id breaking ties:
a transfer dated earlier (a stay closed at the event's end) sits among its own time, not on top."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.core import clock
from app.ledger import expiry
from tests.api.helpers import loose_dates, words


async def _award(client, admin, cid: int, user_id: int, points: int, key: str) -> int:
    r = await client.post(
        f"/api/v1/communities/{cid}/awards",
        json={"user_id": user_id, "points": points, "reason": key, "idempotency_key": key},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["transfer_id"])


async def test_statement_and_admin_ledger_are_in_time_order(client, site):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    try:
        middle = await _award(client, admin, cid, alice.user_id, 2, "order-middle")
        clock.advance(timedelta(hours=-2))
        oldest = await _award(client, admin, cid, alice.user_id, 1, "order-oldest")
        clock.advance(timedelta(hours=2, minutes=1))
        newest = await _award(client, admin, cid, alice.user_id, 3, "order-newest")
    finally:
        clock.reset()
    assert middle < oldest < newest  # ids say otherwise than the times

    seen, cursor = [], None
    while True:
        url = f"/api/v1/me/transfers?community_id={cid}&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=alice.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [newest, middle, oldest]

    html = (await client.get(f"/wallet/statement?community_id={cid}", headers=alice.headers)).text
    assert html.index("order-newest") < html.index("order-middle") < html.index("order-oldest")
    admin_html = (await client.get(f"/admin/c/{cid}/ledger", headers=admin.headers)).text
    assert (
        admin_html.index("order-newest") < admin_html.index("order-middle") < admin_html.index("order-oldest")
    )


async def test_a_mangled_cursor_is_refused_by_the_api_and_ignored_by_the_page(client, site):
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    for bad in ("12", "x.1", "²³.1", "1.99999999999999999999", "1.", "-1.2"):
        r = await client.get(f"/api/v1/me/transfers?community_id={cid}&cursor={bad}", headers=alice.headers)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", (bad, r.text)
    page = await client.get(f"/wallet/statement?community_id={cid}&cursor=nonsense", headers=alice.headers)
    assert page.status_code == 200


async def test_expiry_dates_are_the_communitys_dates(client, site, db):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    await expiry.set_expiry_months(db, cid, 12, actor_id=None)
    await db.commit()
    # Earned at 23:30 UTC on 14 June: 07:30 on 15 June in Fuzhou, so it expires on 15 June.
    clock.advance(datetime(2026, 6, 14, 23, 30, tzinfo=UTC) - clock.now())
    try:
        await _award(client, admin, cid, alice.user_id, 5, "expiry-date")
        page = await client.get(
            f"/wallet?community_id={cid}", headers={**alice.headers, "Accept-Language": "en"}
        )
    finally:
        clock.reset()
    assert "5 points expire on 2027-06-15" in words(page.text) and "2027-06-14" not in page.text
    assert loose_dates(page.text) == []
