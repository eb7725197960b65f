"""Names with a control character or a text-direction mark are refused wherever they are typed: a
U+202E in a name made "张三" show as "三张" on the counter's screen and in exports. The API answers
422 in its error shape; a page says why and keeps the rest of what was typed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from app.accounts.models import User
from tests.api.helpers import page_login, post_form
from tests.conftest import login, unique_phone

REVERSED = "\u202e三张"  # shows as 张三, the other way round
ZH = "这段文字里有看不见的控制字符或文字方向符号（常随复制粘贴带入），请重新输入。"


async def test_the_api_refuses_such_names_in_its_error_shape(client: Any, factory: Any, db: Any) -> None:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    cid = tenant.community_id
    provider = await client.post(
        f"/api/v1/communities/{cid}/organisations",
        json={
            "name": "街角理发店",
            "kinds": ["provider"],
            "members": [{"phone": unique_phone(), "display_name": "店长"}],
        },
        headers=admin.headers,
    )
    assert provider.status_code == 201, provider.text
    for name in (REVERSED, "张\x01三", "张\u2066三\u2069", "张三\n管理员"):
        sent = [
            (
                "/api/v1/auth/register",
                {
                    "phone": unique_phone(),
                    "password": "s3cret-pass",
                    "display_name": name,
                    "join_code": tenant.join_code,
                },
            ),
            (f"/api/v1/communities/{cid}/residents", {"phone": unique_phone(), "display_name": name}),
            (
                f"/api/v1/communities/{cid}/organisations",
                {
                    "name": name,
                    "kinds": ["partner"],
                    "members": [{"phone": unique_phone(), "display_name": "王"}],
                },
            ),
            (
                f"/api/v1/communities/{cid}/organisations",
                {
                    "name": "东街物业",
                    "kinds": ["partner"],
                    "members": [{"phone": unique_phone(), "display_name": name}],
                },
            ),
            (f"/api/v1/organisations/{provider.json()['id']}/offers", {"name": name, "points_price": 10}),
            (f"/api/v1/communities/{cid}/items", {"name": name, "points_price": 10, "stock": 1}),
        ]
        for url, body in sent:
            answer = await client.post(url, json=body, headers=admin.headers)
            assert answer.status_code == 422, (url, name, answer.text)
            assert answer.json()["code"] == "validation_error" and answer.json()["detail"], answer.text
    assert (
        await db.scalar(select(func.count()).select_from(User).where(User.display_name.like("%三张%"))) == 0
    )


async def test_a_name_is_stored_composed(client: Any, factory: Any, db: Any) -> None:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents",
        json={"phone": unique_phone(), "display_name": "Rene\u0301 李"},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    assert await db.scalar(select(User.display_name).where(User.id == made.json()["user_id"])) == "René 李"


async def test_pages_say_why_and_keep_the_rest_of_what_was_typed(client: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    await page_login(client, tenant.admin)
    phone = unique_phone()
    for language, words in (("zh-CN", ZH), ("en", "invisible control or text-direction character")):
        client.headers["Accept-Language"] = language
        resident = await post_form(
            client, f"/admin/c/{cid}/residents", {"phone": phone, "display_name": REVERSED, "key": ""}
        )
        assert resident.status_code == 422 and words in resident.text
        assert f'value="{phone}"' in resident.text
        item = await post_form(
            client,
            f"/store/admin/c/{cid}/items",
            {"name": "\u202e米大", "points_price": "50", "stock": "10", "category": "粮油", "active": "1"},
        )
        assert item.status_code == 422 and words in item.text
        assert 'value="粮油"' in item.text and 'value="50"' in item.text
        mine = await post_form(client, "/me/name", {"display_name": REVERSED})
        assert mine.status_code == 422 and words in mine.text
    del client.headers["Accept-Language"]


async def test_an_event_or_a_wish_titled_with_a_direction_mark_is_refused_on_its_page(
    client: Any, site: Any, db: Any
) -> None:
    """Titles show on the kiosk, the results wall and the wish pool: the same check as names."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    event = {
        "title": "\u202e洁清道楼",
        "category": "cleanup",
        "starts_at": "2030-05-01T09:00",
        "ends_at": "2030-05-01T11:00",
        "points_per_attendance": "5",
        "points_per_hour": "10",
        "weeks": "1",
        "place": "三号楼",
    }
    refused = await post_form(client, f"/admin/c/{cid}/events", event, headers=admin.headers)
    assert refused.status_code == 422 and ZH in refused.text and 'value="三号楼"' in refused.text
    wish = {"title": "\u202e椅轮台一", "kind": "item", "description": "腿脚不便"}
    refused = await post_form(client, f"/c/{cid}/wishes", wish, headers=alice.headers)
    assert ZH in refused.text and "腿脚不便" in refused.text
    assert await db.scalar(text("SELECT count(*) FROM wishes WHERE description = '腿脚不便'")) == 0
