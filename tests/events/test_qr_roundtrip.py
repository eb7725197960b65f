"""The QR images the server serves decode (zxing-cpp) to the exact code, and the decoded code works."""

from __future__ import annotations

from datetime import timedelta

from app.core import clock, rotating
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


async def test_kiosk_image_draws_the_code_its_page_names_after_the_window_turns(client, site):
    """The kiosk page names the code it shows beside the image (`w`): fetched after the window
    turned, the image still draws that code, not the next one, so image and text agree."""
    tenant, admin, _alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    shown = await kiosk_code(client, admin, event_id)
    clock.advance(timedelta(seconds=rotating.WINDOW_SECONDS))
    assert await kiosk_code(client, admin, event_id) != shown
    svg = await client.get(
        f"/events/{event_id}/kiosk.svg", params={"action": "checkin", "w": shown}, headers=admin.headers
    )
    assert decode_svg(svg.text) == shown


async def test_kiosk_image_draws_the_current_code_for_a_named_one_not_of_its_own(client, site):
    """An expired code, another event's, the other action's or a made-up one is never drawn."""
    tenant, admin, _alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    other_id = await make_event(client, admin, tenant.community_id)
    old = await kiosk_code(client, admin, event_id)
    clock.advance(timedelta(seconds=2 * rotating.WINDOW_SECONDS))
    current = await kiosk_code(client, admin, event_id)
    named = [
        old,
        await kiosk_code(client, admin, other_id),
        await kiosk_code(client, admin, event_id, action="checkout"),
        current[:-4] + "AAAA",
        "JE1-x",
        "hello",
    ]
    for w in named:
        svg = await client.get(
            f"/events/{event_id}/kiosk.svg", params={"action": "checkin", "w": w}, headers=admin.headers
        )
        assert svg.status_code == 200
        assert decode_svg(svg.text) == current, w
