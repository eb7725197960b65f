"""An offer's page lists every rating: the newest a page at a time with their count (it showed the
newest 10 under "4.5 of 5 stars (37 ratings)" and no way to the other 27)."""

from __future__ import annotations

import re
from typing import Any

from app.circle import views
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, buy, give_points, make_offer


async def test_an_offers_ratings_are_paged_with_their_count(
    client: Any, circle: Circle, engine: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(views, "RATINGS_PAGE", 2)
    offer_id = await make_offer(client, circle, points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    notes = [f"手艺好{n}" for n in range(3)]
    for n, note in enumerate(notes):
        bought = await buy(client, circle.resident, offer_id, key=f"rated-{n}")
        assert bought.status_code == 201, bought.text
        done = await client.post(
            "/api/v1/scans", json={"code": bought.json()["voucher_code"]}, headers=circle.barber.headers
        )
        assert done.status_code == 200, done.text
        rated = await client.post(
            f"/api/v1/vouchers/{bought.json()['id']}/rating",
            json={"stars": 5, "note": note},
            headers=circle.resident.headers,
        )
        assert rated.status_code in (200, 201), rated.text
    await page_login(client, circle.resident)
    seen: list[str] = []
    for number in (1, 2):
        page = (await client.get(f"/circle/offers/{offer_id}?ratings={number}")).text
        assert "评价：3 条" in page and f"第 {number} 页，共 2 页" in page
        seen += sorted((note for note in notes if note in page), key=page.index)
    assert seen == notes[::-1]  # each once, the newest first
    english = (await client.get(f"/circle/offers/{offer_id}", headers={"Accept-Language": "en"})).text
    assert 'href="?ratings=2#ratings"' in english and "Ratings: 3" in english


async def test_a_refused_rating_keeps_the_note_and_stars_that_were_sent(
    client: Any, circle: Circle, engine: Any
) -> None:
    """A rating sent without its stars came back with 请给出1至5星 and the note typed beside it
    gone; a note too long came back without the stars chosen."""
    offer_id = await make_offer(client, circle, points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 20)
    bought = (await buy(client, circle.resident, offer_id, key="kept-rating")).json()
    done = await client.post(
        "/api/v1/scans", json={"code": bought["voucher_code"]}, headers=circle.barber.headers
    )
    assert done.status_code == 200, done.text
    await page_login(client, circle.resident)
    rate = f"/circle/vouchers/{bought['id']}/rate"
    no_stars = await post_form(client, rate, {"note": "师傅很耐心"})
    assert no_stars.status_code == 422 and "请给出1至5星" in no_stars.text
    assert 'name="note" maxlength="300" value="师傅很耐心"' in no_stars.text
    long_note = await post_form(client, rate, {"stars": "4", "note": "好" * 301})
    assert long_note.status_code == 422
    assert re.search(r'value="4" required\s+checked', long_note.text), "the four stars chosen"
    fresh = await client.get(f"/circle/vouchers/{bought['id']}")
    assert 'value="" >' not in fresh.text and "checked" not in fresh.text.split("data-rating", 1)[1]


async def test_an_offer_rated_once_does_not_read_one_ratings(
    client: Any, circle: Circle, engine: Any
) -> None:
    """The circle's list and an offer's page read "5.0 of 5 stars (1 ratings)" in English."""
    offer_id = await make_offer(client, circle, points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 20)
    bought = (await buy(client, circle.resident, offer_id, key="rated-once")).json()
    done = await client.post(
        "/api/v1/scans", json={"code": bought["voucher_code"]}, headers=circle.barber.headers
    )
    assert done.status_code == 200, done.text
    rated = await client.post(
        f"/api/v1/vouchers/{bought['id']}/rating", json={"stars": 5}, headers=circle.resident.headers
    )
    assert rated.status_code in (200, 201), rated.text
    await page_login(client, circle.resident)
    english = {"Accept-Language": "en"}
    for path in (f"/circle/c/{circle.community_id}", f"/circle/offers/{offer_id}"):
        page = (await client.get(path, headers=english)).text
        assert "5.0 of 5 stars (rated by 1)" in page and "1 ratings" not in page, path
        chinese = (await client.get(path)).text
        assert "5.0星（满分5星，1条评价）" in chinese, path


async def test_the_shop_and_the_admin_read_each_services_average_on_their_own_pages(
    client: Any, circle: Circle, engine: Any
) -> None:
    """The provider and the admin see the average: the shop page's menu and the admin's list of
    offers named the services only, and each one's stars were to be found by opening it."""
    rated_offer = await make_offer(client, circle, points_price=5)
    unrated_offer = await make_offer(client, circle, points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 20)
    await give_points(engine, circle.community_id, circle.neighbour.user_id, 20)
    for person, stars in ((circle.resident, 5), (circle.neighbour, 4)):
        bought = (await buy(client, person, rated_offer)).json()
        done = await client.post(
            "/api/v1/scans", json={"code": bought["voucher_code"]}, headers=circle.barber.headers
        )
        assert done.status_code == 200, done.text
        rated = await client.post(
            f"/api/v1/vouchers/{bought['id']}/rating", json={"stars": stars}, headers=person.headers
        )
        assert rated.status_code in (200, 201), rated.text
    for person, path in (
        (circle.barber, f"/circle/shop/{circle.barber_id}"),
        (circle.admin, f"/circle/admin/c/{circle.community_id}"),
    ):
        await page_login(client, person)
        page = (await client.get(path)).text
        rated = page.split(f'data-offer="{rated_offer}"', 1)[1].split(
            "</li>" if "shop" in path else "</tr>", 1
        )[0]
        assert "4.5星（满分5星，2条评价）" in rated, path
        unrated = page.split(f'data-offer="{unrated_offer}"', 1)[1].split(
            "</li>" if "shop" in path else "</tr>", 1
        )[0]
        assert "星（满分5星" not in unrated, path
