"""Home pages and who sees what: the street admin drills down read-only and has no member code;
scanners open only for those they work for."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts.models import StreetRole, User
from app.core import clock
from app.core.security import hash_password
from tests.api.helpers import page_login, post_form
from tests.conftest import Person, login, unique_phone


async def street_admin_of(engine, street_id: int) -> Person:
    """Someone of the street office: a street role, no community membership."""
    phone, password = unique_phone(), "street-" + secrets.token_hex(4)
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        user = User(phone=phone, display_name="东街街道办", password_hash=hash_password(password))
        s.add(user)
        await s.flush()
        s.add(StreetRole(user_id=user.id, street_id=street_id, role="street_admin"))
    return Person(user.id, phone, password, "东街街道办")


async def test_someone_of_no_community_is_told_so_plainly_not_with_a_success_tick(client, engine):
    phone, password = unique_phone(), "alone-" + secrets.token_hex(4)
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        user = User(phone=phone, display_name="孤身一人", password_hash=hash_password(password))
        s.add(user)
    await page_login(client, Person(user.id, phone, password, "孤身一人"))
    home = (await client.get("/", headers={"accept-language": "zh-Hans"})).text
    told = re.search(r'<p class="([a-z]+)">您还没有加入任何社区', home)
    assert told is not None and told.group(1) == "hint"


async def test_street_admin_drills_down_to_a_community_read_only(client, factory, engine):
    tenant = await factory.tenant()
    await page_login(client, tenant.admin)
    added = await post_form(client, f"/admin/c/{tenant.community_id}/compounds", {"name": "联邦新城"})
    assert added.status_code == 303

    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    overview = await client.get(f"/street/{tenant.street_id}")
    assert overview.status_code == 200
    link = f"/admin/c/{tenant.community_id}/places"
    assert link in overview.text
    places = await client.get(link)
    assert places.status_code == 200, places.text[:300]
    assert "联邦新城" in places.text
    # Read-only: no forms that change the community, no links into its residents.
    assert f"/admin/c/{tenant.community_id}/compounds" not in places.text
    assert "/cards" not in places.text and "/residents" not in places.text
    # The breadcrumb leads back up to the street.
    assert f'href="/street/{tenant.street_id}"' in places.text
    # Another street's admin gets nothing.
    other = await factory.tenant()
    assert (await client.get(f"/admin/c/{other.community_id}/places")).status_code == 403


async def test_street_admin_home_offers_no_member_code(client, factory, engine):
    tenant = await factory.tenant()
    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    home = await client.get("/")
    assert home.status_code == 200
    assert f"/street/{tenant.street_id}" in home.text
    assert "/me/card" not in home.text
    # Typing the address gives the friendly page, not a code to show nowhere.
    typed = await client.get("/me/card", headers={"accept-language": "zh-Hans"})
    assert typed.status_code == 403
    assert "data-member-code" not in typed.text
    assert "会员码只给社区成员" in typed.text
    resident = await factory.person(tenant, name="郑美玉")
    await page_login(client, resident)
    assert "/me/card" in (await client.get("/")).text


async def test_scanners_refuse_residents_up_front_and_open_for_those_they_serve(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await factory.person(tenant, name="郑美玉")
    staff = await factory.person(tenant, roles=["staff", "resident"], name="陈晓梅")
    grid = await factory.person(tenant, roles=["grid_worker", "resident"], name="王网格")
    start = clock.now() + timedelta(days=1)
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/events",
        headers=admin.headers,
        json={
            "title": "楼道清理",
            "category": "cleanup",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "capacity": 10,
            "points_per_attendance": 5,
            "points_per_hour": 0,
        },
    )
    assert made.status_code == 201, made.text
    event_id = made.json()["id"]

    await page_login(client, resident)
    # The resident's own scanner (for the event screen's code) opens.
    assert (await client.get("/scan")).status_code == 200
    for path in (f"/scan?event_id={event_id}&action=checkin", "/scan?context=counter"):
        page = await client.get(path)
        assert page.status_code == 403, path
        assert 'name="code"' not in page.text, path  # no form to fill in only to be refused
    assert "活动屏幕" in (await client.get(f"/scan?event_id={event_id}")).text
    assert "柜台" in (await client.get("/scan?context=counter")).text

    await page_login(client, staff)
    for path in (f"/scan?event_id={event_id}&action=checkin", "/scan?context=counter"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert 'name="code"' in page.text
    # A grid worker scans member cards at events (for residents without a phone), not at the counter.
    await page_login(client, grid)
    assert (await client.get(f"/scan?event_id={event_id}&action=checkin")).status_code == 200
    assert (await client.get("/scan?context=counter")).status_code == 403


async def _event(client, admin, community_id: int, title: str, days: float, **extra) -> int:
    start = clock.now() + timedelta(days=days)
    made = await client.post(
        f"/api/v1/communities/{community_id}/events",
        headers=admin.headers,
        json={
            "title": title,
            "category": "service",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "capacity": 10,
            "points_per_attendance": 5,
            "points_per_hour": 0,
            **extra,
        },
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _award(client, admin, community_id: int, user_id: int, points: int) -> None:
    awarded = await client.post(
        f"/api/v1/communities/{community_id}/awards",
        headers=admin.headers,
        json={
            "user_id": user_id,
            "points": points,
            "reason": "测试",
            "idempotency_key": secrets.token_hex(8),
        },
    )
    assert awarded.status_code == 201, awarded.text


def _figure(html: str, label: str) -> int:
    """The number shown under a figure's label on the home page."""
    found = re.search(re.escape(label) + r"</span>\s*<strong[^>]*>([\d,]+)</strong>", html)
    assert found, f"no figure {label!r}"
    return int(found.group(1).replace(",", ""))


async def test_resident_home_puts_balance_next_event_member_code_and_icons_first(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    cid = tenant.community_id
    resident = await login(client, await factory.person(tenant, name="郑美玉"))
    await _award(client, admin, cid, resident.user_id, 1280)
    later = await _event(client, admin, cid, "居民恳谈日", 9)
    sooner = await _event(client, admin, cid, "楼道清理", 2)
    unsigned = await _event(client, admin, cid, "健康讲座", 1)
    for event_id in (later, sooner):
        signed = await client.post(f"/api/v1/events/{event_id}/signups", headers=resident.headers)
        assert signed.status_code == 201, signed.text

    await page_login(client, resident)
    html = (await client.get("/")).text
    assert _figure(html, "我的积分") == 1280
    # The soonest event they signed up for, not one they did not sign up for.
    assert f'href="/events/{sooner}"' in html and "楼道清理" in html
    assert f'href="/events/{later}"' not in html and f'href="/events/{unsigned}"' not in html
    tiles = [
        f"/c/{cid}/events",
        "/scan",
        f"/store/c/{cid}",
        "/store/me/orders",
        f"/c/{cid}/hours",
        f"/c/{cid}/certificate",
    ]
    order = [
        html.index("我的积分"),
        html.index("楼道清理"),
        html.index('href="/me/card"'),
        *(html.index(f'class="tile" href="{url}"') for url in tiles),
    ]
    assert order == sorted(order)
    for label in ("活动", "扫一扫", "爱心超市", "我的订单", "时长", "证书"):
        assert f"<span>{label}</span>" in html
    # A resident sees no work panels.
    assert "柜台扫码" not in html and "今日签到" not in html and "我组织的活动" not in html


async def test_volunteer_home_lists_the_events_they_organise(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    cid = tenant.community_id
    volunteer = await factory.person(tenant, roles=["volunteer", "resident"], name="李星")
    await page_login(client, volunteer)
    assert "您目前没有组织的活动。" in (await client.get("/")).text
    mine = await _event(client, admin, cid, "义诊志愿服务", 3, organiser_ids=[volunteer.user_id])
    other = await _event(client, admin, cid, "健康讲座", 2)
    html = (await client.get("/")).text
    assert "我组织的活动" in html
    assert f'href="/events/{mine}"' in html and f'href="/events/{other}"' not in html


async def test_staff_home_shows_the_counter_and_orders_waiting_for_pickup(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    cid = tenant.community_id
    staff = await factory.person(tenant, roles=["staff", "resident"], name="陈晓梅")
    resident = await login(client, await factory.person(tenant, name="黄志强"))
    await _award(client, admin, cid, resident.user_id, 100)
    item = await client.post(
        f"/api/v1/communities/{cid}/items",
        headers=admin.headers,
        json={"name": "挂面 1kg", "points_price": 30, "stock": 10},
    )
    assert item.status_code == 201, item.text
    order = await client.post(
        "/api/v1/orders",
        headers=resident.headers,
        json={"item_id": item.json()["id"], "quantity": 1, "idempotency_key": secrets.token_hex(8)},
    )
    assert order.status_code == 201, order.text

    await page_login(client, staff)
    html = (await client.get("/")).text
    assert 'href="/scan?context=counter"' in html
    assert f'href="/store/orders/{order.json()["id"]}"' in html and "黄志强" in html
    assert _figure(html, "待领取") == 1 and _figure(html, "今日已领取") == 0
    assert "今日签到" not in html  # today's figures are the admin's


async def test_admin_home_shows_todays_figures(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    cid = tenant.community_id
    await page_login(client, tenant.admin)
    html = (await client.get("/")).text
    before = {label: _figure(html, label) for label in ("今日签到", "待审核", "待领取订单", "库存不足的商品")}
    assert before == {"今日签到": 0, "待审核": 0, "待领取订单": 0, "库存不足的商品": 0}
    assert "待处理" not in html

    resident = await login(client, await factory.person(tenant, name="郑美玉"))
    await _award(client, admin, cid, resident.user_id, 100)
    item = await client.post(
        f"/api/v1/communities/{cid}/items",
        headers=admin.headers,
        json={"name": "食用油", "points_price": 40, "stock": 2},
    )
    assert item.status_code == 201, item.text
    order = await client.post(
        "/api/v1/orders",
        headers=resident.headers,
        json={"item_id": item.json()["id"], "quantity": 1, "idempotency_key": secrets.token_hex(8)},
    )
    assert order.status_code == 201, order.text
    html = (await client.get("/")).text
    assert _figure(html, "待领取订单") == 1
    assert _figure(html, "库存不足的商品") == 1  # one left, under the mark of 3
    assert "待处理" in html  # said in words, not only in colour


async def test_a_grid_workers_main_jobs_are_the_first_tiles_not_lines_of_more(client, factory):
    """The residents and buying for a resident (scanning their card) sat in the 更多 list below
    every resident's tile; they are the grid worker's first tiles, on the first screen."""
    tenant = await factory.tenant()
    cid = tenant.community_id
    grid = await factory.person(tenant, roles=["grid_worker", "resident"], name="王网格")
    await page_login(client, grid)
    home = (await client.get("/")).text
    tiles = home[home.index('<nav class="tiles"') :]
    tiles = tiles[: tiles.index("</nav>")]
    hrefs = re.findall(r'<a class="tile" href="([^"]+)"', tiles)
    assert hrefs[:2] == [f"/admin/c/{cid}/residents", f"/circle/c/{cid}/for-resident"], hrefs
    assert "<span>居民</span>" in tiles and "<span>为居民代购</span>" in tiles
    more = home[home.index("<h2>更多</h2>") :]
    assert f"/admin/c/{cid}/residents" not in more and "/for-resident" not in more
    staff = await factory.person(tenant, roles=["staff", "resident"], name="陈晓梅")
    await page_login(client, staff)
    staff_home = (await client.get("/")).text
    assert f'<a class="tile" href="/admin/c/{cid}/residents"' not in staff_home
    assert f'href="/admin/c/{cid}/residents"' in staff_home  # still in 更多 for the counter staff


async def test_the_street_admins_home_counts_a_communitys_members_in_words_that_fit_one(
    client, factory, engine
):
    """A community of one member read "1 members" on the street admin's home in English."""
    tenant = await factory.tenant()
    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    english = (await client.get("/", headers={"accept-language": "en"})).text
    chinese = (await client.get("/", headers={"accept-language": "zh-Hans"})).text
    assert "Members: 1<" in english and "1 members" not in english
    assert "成员：1 人<" in chinese


async def test_a_refused_new_community_keeps_its_name_to_be_corrected(client, factory, engine):
    """A street office adding a community whose name was taken got the form back empty."""
    tenant = await factory.tenant()
    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    page = (await client.get(f"/street/{tenant.street_id}")).text
    taken = re.search(r"<td><a href=\"/admin/c/\d+/places\">([^<]+)</a></td>", page)
    assert taken is not None and 'name="name" required maxlength="100"' in page
    refused = await post_form(client, f"/street/{tenant.street_id}/communities", {"name": taken.group(1)})
    assert refused.status_code == 409 and 'class="alert"' in refused.text
    assert f'name="name" required maxlength="100" value="{taken.group(1)}"' in refused.text


async def test_every_figure_on_an_admins_home_says_what_it_counts(client, factory):
    """Today's figures read 今日签到 0, 待审核 0, 待领取订单 0, bare: each says what it counts under
    it (人次, 项, 单, 种, 个), as the dashboard's do, in either language."""
    tenant = await factory.tenant()
    await page_login(client, tenant.admin)
    html = (await client.get("/", headers={"accept-language": "zh-Hans"})).text
    stats = re.findall(
        r'class="stat[^"]*"[^>]*>\s*<span>([^<]*)</span>\s*<strong>[^<]*</strong>\s*(.*?)</', html, re.S
    )
    figures = {label: rest for label, rest in stats}
    assert {"今日签到", "待审核", "待领取订单", "库存不足的商品", "待审核心愿"} <= set(figures), figures
    units = {label: re.sub(r'^<span class="muted">', "", rest) for label, rest in figures.items()}
    assert units["今日签到"] == "人次" and units["待审核"] == "项" and units["待领取订单"] == "单"
    assert units["库存不足的商品"] == "种" and units["待审核心愿"] == "个"
    english = (await client.get("/", headers={"accept-language": "en"})).text
    assert re.search(
        r"<span>Check-ins today</span>\s*<strong>0</strong>\s*<span class=\"muted\">check-ins</span>", english
    )
