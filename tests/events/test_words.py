"""Words people read instead of codes: the attendance table and the ledger check in Chinese."""

from __future__ import annotations

from app.core import clock
from app.core.authz import Actor
from app.core.i18n import translations
from app.events import hours
from app.ledger.verify import run_checks
from tests.api.helpers import post_form, session_of
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


async def test_deciding_claimed_hours_asks_for_a_tick_first(client, site, db):
    """A rejection (and an approval, which only a reversal undoes) is final: each decision form
    on the approvals page carries a required tick, and the server refuses a post without it."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    resident = Actor(alice.user_id, "郑美玉", {cid: frozenset({"resident"})})
    claim = await hours.claim_hours(
        db, resident, cid, hours.ClaimInput(what="帮独居老人买菜", worked_on=clock.now().date(), minutes=90)
    )
    await db.commit()
    await session_of(client, admin)
    page = (await client.get(f"/admin/c/{cid}/approvals")).text
    form = page[page.index(f'name="claim_id" value="{claim.id}"') :]
    form = form[: form.index("</form>")]
    assert '<input type="checkbox" name="confirm" value="1" required> 确认：此决定不能撤销' in form
    assert 'value="claim_reject"' in form
    path = f"/admin/c/{cid}/approvals"
    refused = await post_form(
        client, path, {"action": "claim_reject", "claim_id": str(claim.id), "reason": "没有证明人"}
    )
    assert refused.status_code == 422 and "请勾选确认框。" in refused.text
    await db.refresh(claim)
    assert claim.status == "pending"
    done = await post_form(
        client,
        path,
        {"action": "claim_reject", "claim_id": str(claim.id), "reason": "没有证明人", "confirm": "1"},
    )
    assert done.status_code == 303
    await db.refresh(claim)
    assert claim.status == "rejected"


async def test_a_stay_waiting_for_approval_is_selected_by_the_persons_name_not_its_row_id(client, site):
    """The box that selects a stay for approving several at once read "#4", the row's id, to the
    admin and to a screen reader; it reads 选择 and is named after the person."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, kiosk_confirmation=True)
    assert (await scan(client, alice, await kiosk_code(client, admin, event_id))).status_code == 200
    assert (
        await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    ).status_code == 200
    await session_of(client, admin)
    page = (await client.get(f"/admin/c/{tenant.community_id}/approvals")).text
    box = page.split('name="checkin_ids" value="', 1)[1].split("</label>", 1)[0]
    assert f'aria-label="选择{alice.display_name}"> 选择' in box and "#" not in box


async def test_the_organisers_headcount_says_what_it_did_to_the_kiosk_stays(client, site):
    """The headcount form sent the organiser back to the event page without a word (?confirmed=1
    was read by nothing): it says how many kiosk stays were paid, or that more people checked in
    than were counted and their stays wait for the admin."""
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    paid_event = await make_event(client, admin, cid, kiosk_confirmation=True)
    crowded = await make_event(client, admin, cid, kiosk_confirmation=True)
    for event_id, people in ((paid_event, [alice]), (crowded, [alice, bob])):
        for person in people:
            assert (await scan(client, person, await kiosk_code(client, admin, event_id))).status_code == 200
            out = await scan(client, person, await kiosk_code(client, admin, event_id, "checkout"))
            assert out.status_code == 200
    await session_of(client, admin)
    counted = await post_form(client, f"/events/{paid_event}/headcount", {"headcount": "1"})
    assert counted.status_code == 303
    page = (await client.get(counted.headers["location"])).text
    assert '<p class="notice" role="status">人数已确认：1 条扫屏签到记录的积分已发放。</p>' in page
    short = await post_form(client, f"/events/{crowded}/headcount", {"headcount": "1"})
    page = (await client.get(short.headers["location"])).text
    assert "扫屏签到的人数多于您清点的人数：2 条扫屏签到记录等待管理员审核。" in page
    # Words in the address are not believed by those who did not count.
    await session_of(client, alice)
    seen = (await client.get(f"/events/{crowded}?confirmed=paid&stays=9")).text
    assert "人数已确认" not in seen


async def test_a_resident_not_signed_up_at_the_event_screen_is_led_to_sign_up(client, site):
    """Scanning the event screen's code without having signed up read 您还没有报名这个活动 and
    nothing more: a dead end at the door. The refusal leads to the event's page to sign up."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True)
    code = await kiosk_code(client, admin, event_id)
    await session_of(client, alice)
    page = await post_form(client, "/scan", {"code": code, "via": "camera"})
    assert page.status_code == 409 and "您还没有报名这个活动。" in page.text
    assert f'<a class="button primary big" href="/events/{event_id}" data-to-sign-up>' in page.text
    assert "查看活动并报名" in page.text
    fragment = await post_form(
        client, "/scan", {"code": code, "via": "camera"}, headers={"HX-Request": "true"}
    )
    assert f'href="/events/{event_id}" data-to-sign-up' in fragment.text
