"""Words people read instead of codes: the attendance table and the ledger check in Chinese."""

from __future__ import annotations

from app.core.i18n import translations
from app.ledger.verify import run_checks
from tests.events.conftest import kiosk_code, make_event, scan


async def test_attendance_table_is_in_chinese(client, site):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, kiosk_confirmation=False)
    assert (await scan(client, alice, await kiosk_code(client, admin, event_id))).status_code == 200
    out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert out.status_code == 200 and out.json()["result"] == "checked_out"
    page = (
        await client.get(f"/events/{event_id}", headers={**admin.headers, "Accept-Language": "zh-CN"})
    ).text
    assert "（自助扫码）" in page and "（已发放）" in page
    for code in ("(kiosk)", "(awarded)", "(witnessed)"):
        assert code not in page
    en = (await client.get(f"/events/{event_id}", headers={**admin.headers, "Accept-Language": "en"})).text
    assert "(kiosk)" in en and "(awarded)" in en


async def test_every_ledger_check_reads_in_chinese(db, site):
    tenant, *_ = site
    zh = translations("zh")
    for check in await run_checks(db, tenant.community_id):
        assert zh.gettext(check.description) != check.description, check.name
