"""The item form sent twice (a double tap on 添加商品, or a resend after a slow answer) adds one
item with one photo: its key (app.core.form_keys) finds the first, and the second sending stores
no second photo, neither its row nor its file."""

from __future__ import annotations

import re

from app.core.authz import Actor
from app.store import photos, services
from tests.api.helpers import page_login, post_form
from tests.conftest import count, sent_twice_at_once
from tests.store.conftest import make_item
from tests.store.test_photos import png, stored_files

FIELDS = {"name": "双击添加的老花镜", "points_price": "40", "stock": "7", "active": "1"}
MADE = "SELECT count(*) FROM store_items WHERE community_id = :c AND name = :n"
PHOTOS = "SELECT count(*) FROM store_photos WHERE community_id = :c"


async def test_an_item_form_sent_twice_adds_one_item_with_one_photo(client, shop, settings, db):
    cid = shop.community_id
    await page_login(client, shop.admin)
    page = await client.get(f"/store/admin/c/{cid}/items/new")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    files_before = len(stored_files(settings))
    first, second = [
        await post_form(
            client,
            f"/store/admin/c/{cid}/items",
            {**FIELDS, "key": key},
            files={"photo": ("glasses.png", png(), "image/png")},
        )
        for _ in "12"
    ]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, MADE, c=cid, n=FIELDS["name"]) == 1
    assert await count(db, PHOTOS, c=cid) == 1
    assert len(stored_files(settings)) == files_before + 1
    # A new form is a new key: the same words sent from it add a second item.
    again = await client.get(f"/store/admin/c/{cid}/items/new")
    other = re.search(r'name="key" value="([^"]+)"', again.text).group(1)
    assert other != key
    r = await post_form(client, f"/store/admin/c/{cid}/items", {**FIELDS, "key": other})
    assert r.status_code == 303 and r.headers["location"] != first.headers["location"]
    assert await count(db, MADE, c=cid, n=FIELDS["name"]) == 2


async def test_a_refused_item_form_keeps_its_key_for_the_corrected_sending(client, shop, db):
    cid = shop.community_id
    await page_login(client, shop.admin)
    r = await post_form(client, f"/store/admin/c/{cid}/items", {**FIELDS, "points_price": "0", "key": "k-1"})
    assert r.status_code == 422
    assert 'name="key" value="k-1"' in r.text
    r = await post_form(client, f"/store/admin/c/{cid}/items", {**FIELDS, "key": "k-1"})
    assert r.status_code == 303
    assert await count(db, MADE, c=cid, n=FIELDS["name"]) == 1


async def test_the_same_item_form_committing_twice_at_once_adds_one_item_and_one_photo(
    shop, engine, settings, db
):
    """Two sendings of one form in transactions of their own: the second's insert waits on the
    key's unique index for the first, then answers the first's item without storing a photo."""
    cid = shop.community_id
    actor = Actor(shop.admin.user_id, "管理员", {cid: frozenset({"admin"})})
    data = services.ItemInput(name="同时送达的雨伞", points_price=30, stock=3)
    files_before = len(stored_files(settings))

    def send(session):
        async def save(item):
            await photos.save_photo(session, actor, cid, item.id, png(), settings.uploads_dir)

        return services.create_item(session, actor, cid, data, form_key="same-form", and_then=save)

    made, again = await sent_twice_at_once(engine, send)
    assert again.id == made.id and again.photo_id == made.photo_id
    assert await count(db, MADE, c=cid, n="同时送达的雨伞") == 1
    assert await count(db, PHOTOS, c=cid) == 1
    assert len(stored_files(settings)) == files_before + 1


async def test_a_stock_change_sent_twice_moves_the_stock_once(client, shop, engine, db):
    """The item page's stock form (a restock of 12) sent twice adds 12, once; two sendings
    committing at the same moment do too, the second answering the stock the first left."""
    cid = shop.community_id
    item_id = await make_item(client, shop, stock=10)
    await page_login(client, shop.admin)
    url = f"/store/admin/c/{cid}/items/{item_id}"
    page = (await client.get(url)).text
    key = re.search(r'name="key" value="([^"]+)"', page[page.index('value="stock"') :]).group(1)
    sent = {"action": "stock", "kind": "restock", "quantity": "12", "key": key}
    first, second = [await post_form(client, url, sent) for _ in "12"]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    stock = "SELECT stock FROM store_items WHERE id = :i"
    moves = "SELECT count(*) FROM store_stock_moves WHERE item_id = :i AND kind = 'restock'"
    assert (await count(db, stock, i=item_id), await count(db, moves, i=item_id)) == (22, 1)
    actor = Actor(shop.admin.user_id, "管理员", {cid: frozenset({"admin"})})
    made, again = await sent_twice_at_once(
        engine,
        lambda s: services.move_stock(
            s, actor, cid, item_id, kind="restock", quantity=5, form_key="same-move"
        ),
    )
    assert made == again == 27
    assert (await count(db, stock, i=item_id), await count(db, moves, i=item_id)) == (27, 2)


async def test_an_items_photo_sent_twice_is_stored_once(client, shop, settings, engine, db):
    """The item page's photo form sent twice (or two sendings at the same moment) stores the
    photo once: the second finds the item showing the same picture and stores neither a row nor
    a file; a different picture is stored as before."""
    cid = shop.community_id
    item_id = await make_item(client, shop)
    await page_login(client, shop.admin)
    url = f"/store/admin/c/{cid}/items/{item_id}/photo"
    files, rows = len(stored_files(settings)), await count(db, PHOTOS, c=cid)
    for _ in "12":
        answer = await post_form(client, url, files={"photo": ("glasses.png", png(), "image/png")})
        assert answer.status_code == 303
    assert (len(stored_files(settings)), await count(db, PHOTOS, c=cid)) == (files + 1, rows + 1)
    actor = Actor(shop.admin.user_id, "管理员", {cid: frozenset({"admin"})})
    other = png((40, 40))
    made, again = await sent_twice_at_once(
        engine, lambda s: photos.save_photo(s, actor, cid, item_id, other, settings.uploads_dir)
    )
    assert again.id == made.id
    assert (len(stored_files(settings)), await count(db, PHOTOS, c=cid)) == (files + 2, rows + 2)


async def test_a_refused_stock_change_keeps_what_was_typed_and_says_why(client, shop):
    """A correction that would take the stock below zero came back as an empty form: the kind,
    the quantity and the reason typed were gone, and the reason for the refusal sat at the top of
    a long page."""
    item_id = await make_item(client, shop, stock=3)
    await page_login(client, shop.admin)
    url = f"/store/admin/c/{shop.community_id}/items/{item_id}"
    typed = {"action": "stock", "kind": "correction", "quantity": "-5", "reason": "盘点少了五袋"}
    for language, why in (
        ("zh-CN", "库存不能小于零：现有 3 件。"),
        ("en", "The stock cannot go below zero: 3 in stock now."),
    ):
        client.headers["Accept-Language"] = language
        refused = await post_form(client, url, typed)
        assert refused.status_code == 422
        card = refused.text[refused.text.index("data-stock-form") :].split("</form>", 1)[0]
        assert why in card and why not in refused.text[: refused.text.index("data-stock-form")]
        assert 'value="correction" checked' in card and 'value="restock" checked' not in card
        assert 'name="quantity" type="number" required value="-5"' in card
        assert 'value="盘点少了五袋"' in card
    del client.headers["Accept-Language"]
    page = await client.get(url)
    assert 'value="盘点少了五袋"' not in page.text and "<strong data-stock>3</strong>" in page.text
    details = {"action": "details", "name": "", "category": "粮油副食", "points_price": "60"}
    refused = await post_form(client, url, details)
    assert refused.status_code == 422 and 'value="粮油副食"' in refused.text and 'value="60"' in refused.text


async def test_an_items_page_says_the_units_of_its_price_and_stock(client, shop):
    """The item's page headed it with 库存 30 and 价格 80, bare, where the list of items beside it
    reads 80 积分: the price says 积分 and the stock 件, in either language."""
    item_id = await make_item(client, shop, name="大米", points_price=80, stock=30)
    await page_login(client, shop.admin)
    url = f"/store/admin/c/{shop.community_id}/items/{item_id}"
    for language, pieces, points in (("zh-CN", "件", "积分"), ("en", "pieces", "points")):
        page = (await client.get(url, headers={"Accept-Language": language})).text
        assert f'<strong data-stock>30</strong><span class="muted">{pieces}</span>' in page, language
        assert f'<strong data-price>80</strong><span class="muted">{points}</span>' in page, language
