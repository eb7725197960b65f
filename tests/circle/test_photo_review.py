"""A provider's photo waits for the community admin before residents see it: not on the offer's
pages, and not at its own address either (photo ids are counted up, so easily guessed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle
from tests.conftest import count
from tests.store.test_photos import jpeg, png


async def test_a_photo_waiting_for_approval_is_not_served_to_residents(
    client: Any, circle: Circle, db: Any
) -> None:
    await page_login(client, circle.barber)
    proposed = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": "烫发", "points_price": "20"},
        files={"photo": ("perm.png", png(), "image/png")},
    )
    assert proposed.status_code == 303, proposed.text
    offer_id = await count(
        db, "SELECT id FROM circle_offers WHERE organisation_id = :p AND name = '烫发'", p=circle.barber_id
    )
    first = await db.scalar(text("SELECT photo_id FROM circle_offers WHERE id = :o"), {"o": offer_id})
    url = f"/circle/photos/{first}"
    # Waiting: its provider and the admin see it; a resident does not.
    assert (await client.get(url, headers=circle.barber.headers)).status_code == 200
    assert (await client.get(url, headers=circle.admin.headers)).status_code == 200
    assert (await client.get(url, headers=circle.resident.headers)).status_code == 404
    # Approved, everyone in the community sees it.
    await page_login(client, circle.admin)
    approved = await post_form(client, f"/circle/admin/offers/{offer_id}/review", {"decision": "approve"})
    assert approved.status_code == 303
    assert (await client.get(url, headers=circle.resident.headers)).status_code == 200
    # A new photo from the provider sends the offer back for approval: the new one waits, unseen,
    # and the approved one is no longer shown either (the offer is not offered meanwhile).
    await page_login(client, circle.barber)
    replaced = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("new.jpg", jpeg(), "image/jpeg")}
    )
    assert replaced.status_code == 303, replaced.text
    second = await db.scalar(text("SELECT photo_id FROM circle_offers WHERE id = :o"), {"o": offer_id})
    assert second != first
    assert (await client.get(f"/circle/photos/{second}", headers=circle.resident.headers)).status_code == 404
    assert (await client.get(f"/circle/photos/{second}", headers=circle.barber.headers)).status_code == 200
