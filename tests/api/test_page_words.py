"""The words the pages show, read as the people who use them read them: a label means what it
says on the page it is on, in Chinese as in English."""

from __future__ import annotations

from app.core.i18n import translations
from tests.api.helpers import session_of
from tests.conftest import login


def test_going_back_from_a_purchase_or_a_refund_does_not_speak_of_a_reversal():
    """"No, go back" is the button beside buying a voucher, a refund and a settlement; only the
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
