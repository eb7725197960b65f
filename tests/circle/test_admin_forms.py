"""The circle admin's own forms refused: each comes back with what was typed in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle


async def test_a_refused_location_or_setting_comes_back_as_typed_not_as_stored(
    client: Any, circle: Circle, db: Any
) -> None:
    """A compound's location or the settings refused came back showing what was stored, so the
    page looked as if the typo had never been made and the stored value saved."""
    compound_id = (
        await db.execute(
            text("SELECT id FROM compounds WHERE community_id = :c ORDER BY id LIMIT 1"),
            {"c": circle.community_id},
        )
    ).scalar_one()
    await page_login(client, circle.admin)
    url = f"/circle/admin/c/{circle.community_id}/compounds/{compound_id}"
    refused = await post_form(client, url, {"lat": "260.0822", "lng": "119.2961"})
    assert refused.status_code == 422 and 'class="alert"' in refused.text
    assert 'name="lat" inputmode="decimal" value="260.0822"' in refused.text
    assert 'value="26.0822"' not in refused.text
    settings = await post_form(
        client,
        f"/circle/admin/c/{circle.community_id}/settings",
        {"voucher_days": "400", "fen_per_point": "12", "fund": "party_dues"},
    )
    assert settings.status_code == 422
    assert (
        'name="voucher_days" type="number" min="1" max="365" inputmode="numeric" value="400"' in settings.text
    )
    assert 'value="12"' in settings.text and '<option value="party_dues" selected>' in settings.text
    # The other forms on the page show what is stored.
    assert 'value="26.0822"' in settings.text
    fresh = await client.get(f"/circle/admin/c/{circle.community_id}")
    assert 'value="26.0822"' in fresh.text and 'value="400"' not in fresh.text
