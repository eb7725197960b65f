"""Offer photos: the admin's offer and a provider's proposal carry one (cleaned by
app.core.photos), shown small and lazily on the circle's list, on the offer page, on the shop page
and in the admin's approval queue; a provider's new photo of an offered service waits for the
admin's approval; offers without a photo show a category icon, never a broken image."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from sqlalchemy import text

from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.conftest import count, login
from tests.store.test_photos import TOO_LARGE_ZH, gps_exif, jpeg, photo_message, png


def _img(html: str, offer_name: str) -> str | None:
    """The <img> of the offer's photo on a page, if it shows one."""
    for tag in re.findall(r"<img [^>]*data-offer-photo[^>]*>", html):
        if f'alt="{offer_name}"' in tag:
            return tag
    return None


async def _value(db: Any, sql: str, **params: Any) -> Any:
    return (await db.execute(text(sql), params)).scalar_one()


async def _photo_of(db: Any, offer_id: int) -> int | None:
    return await _value(db, "SELECT photo_id FROM circle_offers WHERE id = :o", o=offer_id)


async def _status(db: Any, offer_id: int) -> str:
    return str(await _value(db, "SELECT status FROM circle_offers WHERE id = :o", o=offer_id))


async def test_the_admins_offer_with_a_photo_is_shown_everywhere_cleaned(
    client: Any, circle: Circle, db: Any, settings: Any
) -> None:
    await page_login(client, circle.admin)
    fields = {"name": "男士理发", "points_price": "15", "opening_times": "每天"}
    made = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        fields,
        files={"photo": ("我的照片.jpg", jpeg(exif=gps_exif()), "image/jpeg")},
    )
    assert made.status_code == 303, made.text
    offer_id = await count(
        db,
        "SELECT id FROM circle_offers WHERE organisation_id = :p AND name = '男士理发'",
        p=circle.barber_id,
    )
    assert await _status(db, offer_id) == "active"
    photo_id = await _photo_of(db, offer_id)
    assert photo_id is not None
    filename = await _value(db, "SELECT filename FROM circle_photos WHERE id = :p", p=photo_id)
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", filename)
    assert (settings.uploads_dir / "circle" / filename).exists()

    # Served as the app chose, without the upload's EXIF (its GPS).
    served = await client.get(f"/circle/photos/{photo_id}", headers=circle.resident.headers)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "JPEG" and dict(image.getexif()) == {}

    # The resident's list: small, lazy, the offer's name as its alt text; and the API says where.
    await page_login(client, circle.resident)
    listed = await client.get(f"/circle/c/{circle.community_id}")
    tag = _img(listed.text, "男士理发")
    assert (
        tag and 'loading="lazy"' in tag and f'src="/circle/photos/{photo_id}"' in tag and 'width="72"' in tag
    )
    api = await client.get(
        f"/api/v1/communities/{circle.community_id}/offers", headers=circle.resident.headers
    )
    item = next(i for i in api.json()["items"] if i["id"] == offer_id)
    assert item["photo_url"] == f"/circle/photos/{photo_id}"
    page = await client.get(f"/circle/offers/{offer_id}")
    assert (
        _img(page.text, "男士理发") and 'action="/circle/offers/' not in page.text
    )  # residents upload nothing
    # The provider's shop page and the admin's queue.
    await page_login(client, circle.barber)
    assert _img((await client.get(f"/circle/shop/{circle.barber_id}")).text, "男士理发")
    await page_login(client, circle.admin)
    assert _img((await client.get(f"/circle/admin/c/{circle.community_id}")).text, "男士理发")


async def test_a_providers_photo_waits_for_the_admin_and_a_new_one_asks_again(
    client: Any, circle: Circle, db: Any, engine: Any
) -> None:
    await page_login(client, circle.barber)
    proposed = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": "洗剪吹", "points_price": "20"},
        files={"photo": ("cut.png", png(), "image/png")},
    )
    assert proposed.status_code == 303, proposed.text
    offer_id = await count(
        db, "SELECT id FROM circle_offers WHERE organisation_id = :p AND name = '洗剪吹'", p=circle.barber_id
    )
    assert await _status(db, offer_id) == "pending" and await _photo_of(db, offer_id) is not None
    # The admin sees the photo in the queue before approving.
    await page_login(client, circle.admin)
    queue = await client.get(f"/circle/admin/c/{circle.community_id}")
    assert _img(queue.text, "洗剪吹") and f'data-approve="{offer_id}"' in queue.text
    approved = await post_form(client, f"/circle/admin/offers/{offer_id}/review", {"decision": "approve"})
    assert approved.status_code == 303 and await _status(db, offer_id) == "active"

    # A voucher bought before the new photo stays good.
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    bought = await buy(client, circle.resident, offer_id)
    assert bought.status_code == 201

    # The provider replaces the photo of the offered service: the page said so, and it waits again.
    await page_login(client, circle.barber)
    page = await client.get(f"/circle/offers/{offer_id}")
    assert "data-photo-review" in page.text and 'enctype="multipart/form-data"' in page.text
    first = await _photo_of(db, offer_id)
    replaced = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("new.jpg", jpeg(), "image/jpeg")}
    )
    assert (
        replaced.status_code == 303
        and replaced.headers["location"] == f"/circle/offers/{offer_id}?saved=photo"
    )
    assert await _photo_of(db, offer_id) not in (None, first)
    assert await _status(db, offer_id) == "pending"
    assert (
        await client.post(
            "/api/v1/scans", json={"code": bought.json()["voucher_code"]}, headers=circle.barber.headers
        )
    ).status_code == 200

    # The admin's own new photo shows at once.
    await page_login(client, circle.admin)
    await post_form(client, f"/circle/admin/offers/{offer_id}/review", {"decision": "approve"})
    again = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("b.png", png(), "image/png")}
    )
    assert again.status_code == 303 and await _status(db, offer_id) == "active"


async def test_only_the_admins_upload_and_bad_photos_change_nothing(
    client: Any, circle: Circle, db: Any, factory: Any
) -> None:
    offer_id = await make_offer(client, circle, name="理发")
    # A resident, and the other provider's admin: not theirs to change.
    await page_login(client, circle.resident)
    r = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("a.png", png(), "image/png")}
    )
    assert r.status_code == 404
    await page_login(client, circle.cleaner)
    r = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("a.png", png(), "image/png")}
    )
    assert r.status_code == 404
    assert await _photo_of(db, offer_id) is None

    await page_login(client, circle.admin)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("x.svg", svg, "image/svg+xml")}
    )
    assert r.status_code == 422 and "JPEG" in (photo_message(r.text) or "")
    r = await post_form(client, f"/circle/offers/{offer_id}/photo", {"x": "1"})
    assert r.status_code == 422 and photo_message(r.text)
    six_mb = b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024)
    r = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("big.jpg", six_mb, "image/jpeg")}
    )
    assert r.status_code == 422 and photo_message(r.text) == TOO_LARGE_ZH and "<h1>理发</h1>" in r.text
    huge = b"\xff\xd8\xff" + b"\x00" * (13 * 1024 * 1024)
    r = await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("huge.jpg", huge, "image/jpeg")}
    )
    assert r.status_code == 422 and photo_message(r.text) == TOO_LARGE_ZH
    assert await _photo_of(db, offer_id) is None
    assert (
        await count(db, "SELECT count(*) FROM circle_photos WHERE community_id = :c", c=circle.community_id)
        == 0
    )

    # A new offer whose photo is refused is not made either, and the form keeps what was typed.
    r = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": "染发", "points_price": "30"},
        files={"photo": ("big.jpg", six_mb, "image/jpeg")},
    )
    assert r.status_code == 422 and photo_message(r.text) == TOO_LARGE_ZH
    assert re.search(r'id="name" name="name"[^>]* value="染发"', r.text)
    assert await count(db, "SELECT count(*) FROM circle_offers WHERE name = '染发'") == 0

    # A photo is for the community's members and the provider's: others are told nothing.
    await post_form(
        client, f"/circle/offers/{offer_id}/photo", files={"photo": ("a.png", png(), "image/png")}
    )
    photo_id = await _photo_of(db, offer_id)
    other = await factory.tenant()
    stranger = await login(client, other.admin)
    assert (await client.get(f"/circle/photos/{photo_id}", headers=stranger.headers)).status_code == 404
    assert (await client.get(f"/circle/photos/{photo_id}", headers=circle.barber.headers)).status_code == 200


async def test_an_offer_without_a_photo_shows_its_category_icon(client: Any, circle: Circle) -> None:
    await make_offer(client, circle, name="上门保洁", organisation_id=circle.cleaner_id)
    await make_offer(client, circle, name="剪发")
    await page_login(client, circle.resident)
    listed = (await client.get(f"/circle/c/{circle.community_id}")).text
    assert not re.search(r"<img [^>]*data-offer-photo", listed)
    assert 'data-offer-icon="broom"' in listed and 'data-offer-icon="scissors"' in listed
    assert re.search(r'<span class="circle-icon" data-offer-icon="\w+" aria-hidden="true">', listed)
