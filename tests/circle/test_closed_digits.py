"""The 8 digits of a shop's voucher that was cancelled or has expired, typed at the shop, say so:
they read "no open voucher of yours has these digits, check them", as a wrong number does, and the
shop checked digits that were right while the resident's page said 已取消."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import vouchers
from app.core import clock
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, buy, give_points, make_offer


async def _typed(client: Any, circle: Circle, digits: str, lang: str = "zh-Hans") -> Any:
    return await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/scan",
        {"code": f"{digits[:4]} {digits[4:]}", "via": "typed"},
        headers={"HX-Request": "true", "Accept-Language": lang},
    )


async def test_a_cancelled_or_expired_vouchers_digits_say_so_at_the_shop(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer = await make_offer(client, circle, circle.barber_id, points_price=5, monthly_quota=10)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    cancelled = (await buy(client, circle.resident, offer, key="closed-cancelled")).json()
    expired = (await buy(client, circle.resident, offer, key="closed-expired")).json()
    answer = await client.post(f"/api/v1/vouchers/{cancelled['id']}/cancel", headers=circle.resident.headers)
    assert answer.status_code == 200, answer.text
    # The expiry job closes the other once its time has passed.
    await db.execute(
        text("UPDATE circle_vouchers SET expires_at = :t WHERE id = :v"),
        {"t": clock.now() - timedelta(minutes=1), "v": expired["id"]},
    )
    await db.commit()
    async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
        assert await vouchers.expire_vouchers(session) >= 1
    digits = dict(
        (
            await db.execute(
                text("SELECT id, digits FROM circle_vouchers WHERE user_id = :u"),
                {"u": circle.resident.user_id},
            )
        ).all()
    )
    await page_login(client, circle.barber)
    said = await _typed(client, circle, digits[cancelled["id"]])
    assert "这张服务券已取消，无法核销。" in said.text, said.text
    assert 'data-result="voucher_ready"' not in said.text
    said = await _typed(client, circle, digits[expired["id"]])
    assert "这张服务券已过期，积分已退回居民。" in said.text, said.text
    # Nothing scanned again would change it: the answer does not ask for it, by QR code either.
    assert "请重新扫码" not in said.text
    camera = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/scan",
        {"code": expired["voucher_code"], "via": "camera"},
        headers={"HX-Request": "true"},
    )
    assert "这张服务券已过期" in camera.text and "请重新扫码" not in camera.text, camera.text
    english = await _typed(client, circle, digits[cancelled["id"]], "en")
    assert "This voucher was cancelled. Nothing to redeem." in english.text
    # Digits no voucher of the shop ever had still ask to be checked.
    wrong = next(f"{n:08d}" for n in range(10**7, 10**8) if f"{n:08d}" not in digits.values())
    said = await _typed(client, circle, wrong)
    assert "没有找到这组数字对应的本店有效服务券" in said.text, said.text


async def test_wrong_digits_typed_at_the_shop_are_said_back_in_the_vouchers_two_groups(
    client: Any, circle: Circle
) -> None:
    """Typed as one run, wrong digits were said back as 12345678 beside a resident's phone that shows
    1234 5678: they are said back as the voucher shows them, to be checked one group at a time."""
    await page_login(client, circle.barber)
    for lang, said in (("zh-Hans", "您输入的是：0000 0001"), ("en", "You typed: 0000 0001")):
        answer = await post_form(
            client,
            f"/circle/shop/{circle.barber_id}/scan",
            {"code": "00000001", "via": "typed"},
            headers={"HX-Request": "true", "Accept-Language": lang},
        )
        assert 'data-result="code_invalid"' in answer.text, answer.text
        assert said in answer.text.split("data-typed-code>", 1)[1].split("</p>", 1)[0], answer.text
