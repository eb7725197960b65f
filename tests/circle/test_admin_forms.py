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


async def _compound_of(db: Any, community_id: int) -> int:
    found = await db.execute(
        text("SELECT id FROM compounds WHERE community_id = :c ORDER BY id LIMIT 1"), {"c": community_id}
    )
    return int(found.scalar_one())


async def _place(db: Any, table: str, row_id: int) -> tuple[float | None, float | None]:
    found = await db.execute(text(f"SELECT lat, lng FROM {table} WHERE id = :i"), {"i": row_id})
    lat, lng = found.one()
    return lat, lng


async def test_a_location_typed_in_full_width_is_read_as_its_ascii_form(
    client: Any, circle: Circle, db: Any
) -> None:
    """Full-width digits, point, minus and comma from a Chinese IME were refused on the compound's
    and the provider's forms, where a typed amount or card code takes them as ASCII."""
    compound_id = await _compound_of(db, circle.community_id)
    await page_login(client, circle.admin)
    url = f"/circle/admin/c/{circle.community_id}/compounds/{compound_id}"
    saved = await post_form(client, url, {"lat": " ３９．９０ ", "lng": "１１６．４０"})
    assert saved.status_code == 303, saved.text
    assert await _place(db, "compounds", compound_id) == (39.9, 116.4)
    # Both typed into the latitude's field, as a map shows them.
    pair = await post_form(client, url, {"lat": "26.08，119.30", "lng": ""})
    assert pair.status_code == 303, pair.text
    assert await _place(db, "compounds", compound_id) == (26.08, 119.3)
    provider = await post_form(
        client,
        f"/circle/admin/providers/{circle.barber_id}",
        {"address": "光复路12号", "lat": "－３３．８６", "lng": "１５１．２１", "opening_hours": ""},
    )
    assert provider.status_code == 303, provider.text
    assert await _place(db, "organisations", circle.barber_id) == (-33.86, 151.21)
    # Digits of another script are no number, as for an amount; nothing is saved.
    other = await post_form(client, url, {"lat": "٣٩", "lng": "116.4"})
    assert other.status_code == 422 and 'class="alert"' in other.text
    assert await _place(db, "compounds", compound_id) == (26.08, 119.3)


async def test_one_coordinate_typed_with_a_decimal_comma_is_refused_not_read_as_a_pair(
    client: Any, circle: Circle, db: Any
) -> None:
    """A latitude typed with a decimal comma (26,08) and the longitude's field left empty was read
    as the pair (26, 8) and saved, a place in the wrong province with no word said: a pair is both
    coordinates each with its point, as a map shows them."""
    compound_id = await _compound_of(db, circle.community_id)
    before = await _place(db, "compounds", compound_id)
    await page_login(client, circle.admin)
    url = f"/circle/admin/c/{circle.community_id}/compounds/{compound_id}"
    for typed in ("26,08", "２６，０８", "26,08,119"):
        refused = await post_form(client, url, {"lat": typed, "lng": ""})
        assert refused.status_code == 422 and 'class="alert"' in refused.text, typed
        assert f'name="lat" inputmode="decimal" value="{typed}"' in refused.text
        assert await _place(db, "compounds", compound_id) == before
    pair = await post_form(client, url, {"lat": "26.0822, 119.2961", "lng": ""})
    assert pair.status_code == 303, pair.text
    assert await _place(db, "compounds", compound_id) == (26.0822, 119.2961)
