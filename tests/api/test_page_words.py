"""The words the pages show, read as the people who use them read them: a label means what it
says on the page it is on, in Chinese as in English."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from app.core.i18n import translations
from tests.api.helpers import post_form, session_of
from tests.conftest import login
from tests.payments.conftest import wish_with_goal

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import messages  # noqa: E402


def test_going_back_from_a_purchase_or_a_refund_does_not_speak_of_a_reversal():
    """ "No, go back" is the button beside buying a voucher, a refund and a settlement; only the
    ledger's reversal page says 不冲正 (it read 不冲正，返回 beside 确认，用15积分购买)."""
    zh = translations("zh")
    assert zh.gettext("No, go back") == "不了，返回"
    assert "冲正" in zh.gettext("No, do not reverse it")


async def test_the_residents_list_calls_a_residents_address_an_address(client, factory):
    """The column of compound, building and room is the address (地址), not the home page (首页)."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    await factory.person(tenant, name="郑美玉")
    await session_of(client, admin)
    page = await client.get(f"/admin/c/{tenant.community_id}/residents")
    assert page.status_code == 200
    assert "<th>地址</th>" in page.text and "<th>首页</th>" not in page.text


async def test_a_funding_goals_sources_read_with_a_chinese_colon(client, factory):
    """Each source's amount under the bar: 政府补：0.00 元, not 政府补: 0.00 元."""
    goal = await wish_with_goal(client, factory)
    page = await client.get(f"/fund/wish/{goal.wish_id}")
    assert page.status_code == 200
    assert "政府补：0.00元" in page.text and "政府补:" not in page.text
    english = await client.get(f"/fund/wish/{goal.wish_id}", headers={"Accept-Language": "en"})
    assert "(政府补): 0.00 yuan" in english.text


async def test_the_scanner_the_member_code_and_the_certificate_lead_back(client, factory):
    """A page reached from the home page has a way back to it that is not the browser's."""
    tenant = await factory.tenant()
    resident = await factory.person(tenant, name="郑美玉")
    await session_of(client, resident)
    home_link = '<p class="crumbs"><a href="/">首页</a>'
    for path in ("/scan", "/me/card"):
        page = await client.get(path)
        assert page.status_code == 200 and home_link in page.text, path
    certificate = await client.get(f"/c/{tenant.community_id}/certificate")
    assert certificate.status_code == 200
    assert f'href="/c/{tenant.community_id}/hours">我的时长</a>' in certificate.text
    admin = await login(client, tenant.admin)
    await session_of(client, admin)
    counter = await client.get("/scan?context=counter")
    assert counter.status_code == 200 and "柜台扫码" in counter.text and home_link in counter.text


async def test_a_wall_storys_title_field_is_its_headline(client, factory):
    """A story on the results wall has a headline (标题), not a name (名称)."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    await session_of(client, admin)
    page = await client.get(f"/admin/c/{tenant.community_id}/wall")
    assert page.status_code == 200
    assert '<label for="story-title">标题</label>' in page.text


async def test_a_card_is_revoked_or_reissued_only_once_the_box_is_ticked(client, factory):
    """Revoking a resident's cards and issuing a new printed card both make a card stop working for
    good: one tap without the tick changes nothing and says why; the page shows the tick box."""
    tenant = await factory.tenant()
    elder = await factory.person(tenant, name="刘阿婆", phone=None)
    await session_of(client, tenant.admin)
    page = f"/admin/c/{tenant.community_id}/residents/{elder.user_id}"
    first = await post_form(client, f"{page}/card")
    assert first.status_code == 200
    detail = await client.get(page)
    assert detail.text.count('name="confirm" value="1" required') == 2
    for path, form in ((page, {"action": "revoke_cards"}), (f"{page}/card", {"reissue": "1"})):
        refused = await post_form(client, path, form)
        assert refused.status_code == 422 and "请勾选" in refused.text, (path, refused.text[:300])
    # Nothing was revoked: printing again shows the same card.
    again = await post_form(client, f"{page}/card")
    card = re.compile(r'src="(data:image[^"]+)"')
    assert card.findall(again.text) == card.findall(first.text) != []


def test_the_join_code_has_one_name_in_chinese():
    """Residents are asked for the 邀请码 at registration; the admin's places page called the same
    code 居民加入码, so what the office reads out and what the form asks for did not match."""
    zh = translations("zh")
    named = [msgid for msgid in messages.catalogs() if "join code" in msgid.lower()]
    assert len(named) >= 5
    assert [m for m in named if "邀请码" not in zh.gettext(m)] == []


async def test_the_ledger_pages_entry_number_reads_as_a_number(client, factory):
    """On a phone the table's first cell stands alone above the row: a bare 15 said nothing, #15
    reads as the entry's number (the one a reversal names)."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await factory.person(tenant, name="郑美玉")
    award = await client.post(
        f"/api/v1/communities/{tenant.community_id}/awards",
        json={"user_id": resident.user_id, "points": 5, "reason": "清理楼道", "idempotency_key": "words-1"},
        headers=admin.headers,
    )
    assert award.status_code in (200, 201), award.text
    await session_of(client, admin)
    page = await client.get(f"/admin/c/{tenant.community_id}/ledger")
    assert page.status_code == 200 and f"<td>#{award.json()['transfer_id']}</td>" in page.text


async def test_the_registration_page_leads_to_logging_in(client):
    """Someone who registered before and opened the registration form again finds the way to log
    in on it (it led nowhere but back)."""
    page = await client.get("/register")
    assert page.status_code == 200 and '<a href="/login">已经注册过？去登录</a>' in page.text


async def test_a_mistyped_code_is_called_mistyped_not_an_invalid_qr_code(client, factory):
    """Nothing was scanned when a code was typed: a wrong one is a code to check and type again
    (it read 二维码无效 and "Please scan again"); a code the camera read keeps those words."""
    tenant = await factory.tenant()
    resident = await factory.person(tenant, name="郑美玉")
    await session_of(client, resident)
    typed = await post_form(client, "/scan", {"code": "ABC123", "via": "typed"})
    assert typed.status_code == 422 and 'data-result="code_invalid"' in typed.text
    assert "输入的码不对，请核对后重新输入。" in typed.text
    assert "二维码无效" not in typed.text and "请重新扫码" not in typed.text
    bare = await post_form(client, "/scan", {"code": "ABC123"}, headers={"HX-Request": "true"})
    assert "输入的码不对" in bare.text  # without JavaScript, every code is typed
    english = await post_form(client, "/scan", {"code": "ABC123"}, headers={"Accept-Language": "en"})
    assert "The code you typed is not right. Check it and type it again." in english.text
    scanned = await post_form(client, "/scan", {"code": "ABC123", "via": "camera"})
    assert scanned.status_code == 422 and "二维码无效" in scanned.text and "输入的码不对" not in scanned.text
    page = await client.get("/scan")
    assert '<input type="hidden" name="via" value="typed">' in page.text


async def test_the_scanner_says_it_reads_a_wishs_delivery_code_too(client, factory):
    """The scanner page a resident (or their grid worker) opens to confirm a wish brought to
    them spoke only of the event screen's code, which is not what they point it at."""
    tenant = await factory.tenant()
    resident = await factory.person(tenant, name="杨依伯")
    await session_of(client, resident)
    page = await client.get("/scan")
    assert page.status_code == 200 and "送达码" in page.text and "活动现场屏幕" in page.text
    english = await client.get("/scan", headers={"Accept-Language": "en"})
    assert "the delivery code of a wish" in english.text


async def test_my_name_and_password_pages_lead_back_home(client, factory):
    """Changing one's name or password ended on a page with no way back but the browser's: every
    other page of a resident's opens with 首页 (home), these two did not."""
    tenant = await factory.tenant()
    resident = await factory.person(tenant, name="郑美玉")
    await session_of(client, resident)
    for path in ("/me/name", "/me/password"):
        page = await client.get(path)
        assert page.status_code == 200 and '<p class="crumbs"><a href="/">首页</a></p>' in page.text, path
    done = await post_form(client, "/me/name", {"display_name": "郑美玉"})
    assert done.status_code == 303
    after = await client.get(done.headers["location"])
    assert '<p class="crumbs"><a href="/">首页</a></p>' in after.text
