"""The hot routes whose answers are always small (an order, a scan, an award; a voucher's in
tests/circle/test_api.py) skip the compression layer:
it made a gzip compressor for every request of a client that accepts gzip, only to send the few
hundred bytes as they were (under the minimum size). Larger answers are compressed as before."""

from __future__ import annotations

from tests.conftest import GZIP
from tests.store.conftest import make_item, order


async def test_an_order_its_pickup_scan_and_an_award_make_no_compressor(client, shop, compressors):
    item_id = await make_item(client, shop, points_price=5)
    compressors.clear()
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": item_id, "quantity": 1, "idempotency_key": "small-answer-1"},
        headers={**shop.resident.headers, **GZIP},
    )
    assert placed.status_code == 201, placed.text
    handed = await client.post(
        "/api/v1/scans", json={"code": placed.json()["pickup_code"]}, headers={**shop.staff.headers, **GZIP}
    )
    assert handed.status_code == 200 and handed.json()["result"] == "picked_up", handed.text
    refused = await client.post(
        "/api/v1/scans", json={"code": "NOT-A-CODE"}, headers={**shop.staff.headers, **GZIP}
    )
    assert refused.status_code in (400, 404, 409, 422), refused.text
    awarded = await client.post(
        f"/api/v1/communities/{shop.community_id}/awards",
        json={
            "user_id": shop.resident.user_id,
            "points": 3,
            "reason": "扫楼道",
            "idempotency_key": "small-1",
        },
        headers={**shop.admin.headers, **GZIP},
    )
    assert awarded.status_code == 201, awarded.text
    assert compressors == []
    for answer in (placed, handed, refused, awarded):
        assert "content-encoding" not in answer.headers
        assert len(answer.content) < 512  # far under the compression's minimum size (1,024 bytes)


async def test_other_answers_still_go_through_the_compression(client, shop, compressors):
    await make_item(client, shop)
    await order(client, shop.resident, await make_item(client, shop))
    compressors.clear()
    schema = await client.get("/schema/openapi.json", headers=GZIP)
    assert schema.status_code == 200
    assert schema.headers["content-encoding"] == "gzip"
    items = await client.get(
        f"/api/v1/communities/{shop.community_id}/items", headers={**shop.admin.headers, **GZIP}
    )
    assert items.status_code == 200 and len(items.json()["items"]) == 2
    assert len(compressors) == 2
