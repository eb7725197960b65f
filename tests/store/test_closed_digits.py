"""The 8 digits of an order that was cancelled or whose pickup days ran out, typed at the counter,
say so: they read "no open order has these digits, check them", as a wrong number does, and the
counter checked digits that were right while the resident's page said the order was closed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.store import orders
from tests.api.helpers import page_login, post_form
from tests.store.conftest import make_item, order


async def _typed(client: Any, digits: str, lang: str = "zh-Hans") -> Any:
    return await post_form(
        client,
        "/scan",
        {"code": f"{digits[:4]} {digits[4:]}", "context": "counter"},
        headers={"hx-request": "true", "Accept-Language": lang},
    )


async def test_a_cancelled_or_expired_orders_digits_say_so_at_the_counter(
    client: Any, shop: Any, engine: Any, db: Any
) -> None:
    item_id = await make_item(client, shop, name="挂面", points_price=5, stock=10)
    cancelled = (await order(client, shop.resident, item_id, 1, key="closed-cancelled")).json()
    expired = (await order(client, shop.resident, item_id, 1, key="closed-expired")).json()
    answer = await client.post(f"/api/v1/orders/{cancelled['id']}/cancel", headers=shop.resident.headers)
    assert answer.status_code == 200, answer.text
    # The expiry job closes the other once its pickup days have passed.
    await db.execute(
        text("UPDATE store_orders SET expires_at = :t WHERE id = :o"),
        {"t": clock.now() - timedelta(minutes=1), "o": expired["id"]},
    )
    await db.commit()
    async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
        assert await orders.expire_orders(session) >= 1
    digits = dict(
        (
            await db.execute(
                text("SELECT id, pickup_digits FROM store_orders WHERE user_id = :u"),
                {"u": shop.resident.user_id},
            )
        ).all()
    )
    await page_login(client, shop.staff)
    said = await _typed(client, digits[cancelled["id"]])
    assert "该订单已取消，无需交付。" in said.text, said.text
    said = await _typed(client, digits[expired["id"]])
    assert "该领取码已过期，积分已退回。" in said.text, said.text
    assert "请重新扫码" not in said.text  # nothing scanned again would change it
    english = await _typed(client, digits[cancelled["id"]], "en")
    assert "This order was cancelled. Nothing to hand over." in english.text
    # Digits no order of the counter ever had still ask to be checked.
    wrong = next(f"{n:08d}" for n in range(10**7, 10**8) if f"{n:08d}" not in digits.values())
    said = await _typed(client, wrong)
    assert "data-result" in said.text and "已取消" not in said.text and "已过期" not in said.text
