"""The offer form: the admin's takes the cash part as a typed amount of yuan (what is not one is
refused in words on the form again, and nothing is made); the admin's and a provider's proposal
sent twice make one offer with one photo."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from app.circle import photos, services
from app.core.authz import Actor
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle
from tests.conftest import count, sent_twice_at_once
from tests.store.test_photos import png


@pytest.mark.parametrize("typed", ["inf", "1e400", "-inf", "nan", "12.345", "abc", "-3"])
async def test_a_cash_part_that_is_no_amount_of_yuan_is_refused_on_the_form(
    client: Any, circle: Circle, db: Any, typed: str
) -> None:
    await page_login(client, circle.admin)
    name = f"上门修理 {typed}"
    answer = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": name, "points_price": "15", "cash_yuan": typed},
    )
    assert answer.status_code == 422, answer.text
    assert "现金部分请填写以元为单位的金额" in answer.text and f'value="{typed}"' in answer.text
    made = await count(
        db,
        "SELECT count(*) FROM circle_offers WHERE organisation_id = :p AND name = :n",
        p=circle.barber_id,
        n=name,
    )
    assert made == 0


async def test_a_cash_part_in_yuan_and_fen_is_kept_to_the_fen(client: Any, circle: Circle, db: Any) -> None:
    await page_login(client, circle.admin)
    answer = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": "上门修理 12.35", "points_price": "15", "cash_yuan": "12.35"},
    )
    assert answer.status_code == 303, answer.text
    cents = await count(
        db,
        "SELECT cash_price_cents FROM circle_offers WHERE organisation_id = :p AND name = '上门修理 12.35'",
        p=circle.barber_id,
    )
    assert cents == 1235


def _circle_files(settings: Any) -> int:
    folder = settings.uploads_dir / "circle"
    return len(list(folder.iterdir())) if folder.exists() else 0


OFFERS = "SELECT count(*) FROM circle_offers WHERE organisation_id = :p AND name = :n"
PHOTOS = "SELECT count(*) FROM circle_photos WHERE community_id = :c"


@pytest.mark.parametrize("who", ["admin", "barber"])
async def test_an_offer_form_sent_twice_makes_one_offer_with_one_photo(
    client: Any, circle: Circle, db: Any, settings: Any, who: str
) -> None:
    """The admin's offer and the provider's proposal alike: a double tap on the form (or a resend
    after a slow answer) makes one offer, stores one photo and lands where the first did."""
    await page_login(client, getattr(circle, who))
    url = f"/circle/shop/{circle.barber_id}/offers/new"
    key = re.search(r'name="key" value="([^"]+)"', (await client.get(url)).text).group(1)
    files = _circle_files(settings)
    name = f"双击提交的洗剪吹 {who}"
    first, second = [
        await post_form(
            client,
            url,
            {"name": name, "points_price": "20", "key": key},
            files={"photo": ("cut.png", png(), "image/png")},
        )
        for _ in "12"
    ]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, OFFERS, p=circle.barber_id, n=name) == 1
    assert await count(db, PHOTOS, c=circle.community_id) == 1
    assert _circle_files(settings) == files + 1


async def test_the_same_offer_form_committing_twice_at_once_makes_one_offer(
    circle: Circle, engine: Any, settings: Any, db: Any
) -> None:
    """A provider's proposal sent twice, in transactions of their own: the second's insert waits on
    the key's unique index for the first, then answers the first's offer and stores no photo."""
    actor = Actor(circle.barber.user_id, "理发店", {})
    data = services.OfferInput(name="同时送达的剃须", points_price=12)
    files = _circle_files(settings)

    def send(session: Any) -> Any:
        async def save(offer: Any) -> None:
            await photos.save_photo(session, actor, offer, png(), settings.uploads_dir)

        return services.create_offer(
            session, actor, circle.barber_id, data, form_key="same-form", and_then=save
        )

    made, again = await sent_twice_at_once(engine, send)
    assert (again.id, again.photo_id, again.status) == (made.id, made.photo_id, "pending")
    assert await count(db, OFFERS, p=circle.barber_id, n="同时送达的剃须") == 1
    assert await count(db, PHOTOS, c=circle.community_id) == 1
    assert _circle_files(settings) == files + 1


async def test_an_offers_photo_sent_twice_is_stored_once(
    client: Any, circle: Circle, db: Any, settings: Any
) -> None:
    """The offer page's photo form sent twice stores the photo once, and a provider's double tap
    sends the offer back for approval once, with nothing more stored."""
    await page_login(client, circle.admin)
    made = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": "照片送了两次的染发", "points_price": "30"},
    )
    assert made.status_code == 303
    offer_id = await count(
        db,
        "SELECT id FROM circle_offers WHERE organisation_id = :p AND name = '照片送了两次的染发'",
        p=circle.barber_id,
    )
    files, rows = _circle_files(settings), await count(db, PHOTOS, c=circle.community_id)
    await page_login(client, circle.barber)
    for _ in "12":
        sent = await post_form(
            client, f"/circle/offers/{offer_id}/photo", files={"photo": ("dye.png", png(), "image/png")}
        )
        assert sent.status_code == 303
    assert (_circle_files(settings), await count(db, PHOTOS, c=circle.community_id)) == (files + 1, rows + 1)
    status = "SELECT status FROM circle_offers WHERE id = :o"
    assert (await db.execute(text(status), {"o": offer_id})).scalar_one() == "pending"
