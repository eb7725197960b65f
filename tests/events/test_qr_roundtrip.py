"""The QR images the server serves decode (zxing-cpp) to the exact code, and the decoded code works."""

from __future__ import annotations

from tests.events.conftest import kiosk_code, make_event, scan
from tests.qrtools import decode_svg


async def test_kiosk_svg_decodes_to_the_current_code_and_checks_in(client, site):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    expected = await kiosk_code(client, admin, event_id)
    svg = await client.get(
        f"/events/{event_id}/kiosk.svg", params={"action": "checkin"}, headers=admin.headers
    )
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert decode_svg(svg.text) == expected
    result = await scan(client, alice, expected)
    assert result.json()["result"] == "checked_in"


async def test_member_card_svg_decodes_and_checks_out_through_the_organiser(client, site):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    await scan(client, alice, await kiosk_code(client, admin, event_id))
    card = await client.get("/api/v1/me/card.svg", headers=alice.headers)
    code = decode_svg(card.text)
    assert code.startswith("JM1-")
    out = await scan(client, admin, code, event_id=event_id, action="checkout")
    assert out.status_code == 200, out.text
    assert out.json()["result"] == "checked_out" and out.json()["user_id"] == alice.user_id


async def test_kiosk_images_are_refused_to_residents(client, site):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    assert (await client.get(f"/events/{event_id}/kiosk.svg", headers=alice.headers)).status_code == 403
