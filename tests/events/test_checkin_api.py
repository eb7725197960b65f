"""Check-in and check-out through POST /api/v1/scans: kiosk codes, member codes, refusals,
idempotency, hours and points into the ledger, auto close, headcount and approvals."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import member_cards
from app.core import clock
from app.core.authz import Actor
from app.core.uow import connection_of
from app.events import approvals, checkins, hours, services
from app.events.models import Checkin
from app.ledger import services as ledger
from tests.api.helpers import post_form, session_of
from tests.conftest import (
    ARTIFACTS,  # noqa: F401 - keeps the import list honest
    login,
    until_a_lock_wait,
)
from tests.events.conftest import kiosk_code, make_event, scan


async def wallet_balance(db, community_id: int, user_id: int) -> int:
    await db.rollback()
    return int((await ledger.wallet(await connection_of(db), community_id, user_id)).balance)


async def member_code(db, user_id: int) -> str:
    code, _ = await member_cards.phone_card_code(db, user_id)
    await db.commit()
    return code


def admin_actor(tenant) -> Actor:
    return Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})


async def test_kiosk_check_in_then_out_awards_points_with_a_statement_line(client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    first = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkin"))
    assert first.status_code == 200, first.text
    assert first.json()["result"] == "checked_in"

    clock.advance(timedelta(hours=3))
    out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert out.status_code == 200, out.text
    body = out.json()
    # Event started 5 minutes before check-in and ends 2 h later: credit stops at end + 30 min.
    assert body["result"] == "checked_out"
    assert body["minutes"] in (144, 145)  # from a few ms after start + 5 min
    assert body["points_awarded"] == 5 + (20 * body["minutes"]) // 60
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == body["points_awarded"]
    stored = (
        await db.execute(
            text("SELECT memo, reason FROM ledger_transfers WHERE reference = :r"),
            {"r": f"checkin:{body['checkin_id']}"},
        )
    ).one()
    # What it was for is stored as data, and put into words in the reader's language.
    assert (stored.memo, stored.reason) == ("", {"title": "军门社区六清大扫除", "minutes": body["minutes"]})
    for lang, words in (
        ("zh", f"军门社区六清大扫除，2小时{body['minutes'] - 120}分钟"),
        ("en", f"军门社区六清大扫除, 2 h {body['minutes'] - 120} min"),
    ):
        lines = await client.get(
            "/api/v1/me/transfers",
            params={"community_id": tenant.community_id},
            headers={**alice.headers, "accept-language": lang},
        )
        assert [line["memo"] for line in lines.json()["items"]] == [words]


async def test_second_scan_in_same_window_is_harmless(client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    code = await kiosk_code(client, admin, event_id)
    assert (await scan(client, alice, code)).json()["result"] == "checked_in"
    again = await scan(client, alice, code)
    assert again.status_code == 409 and again.json()["code"] == "already_done"
    assert again.json()["detail"] == "已签到。"
    clock.advance(timedelta(minutes=30))
    out_code = await kiosk_code(client, admin, event_id, "checkout")
    first_out = await scan(client, alice, out_code)
    assert first_out.json()["points_awarded"] == 15
    repeat = await scan(client, alice, out_code)
    assert repeat.json()["code"] == "already_done"
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 15
    stored = (
        (
            await db.execute(
                text("SELECT result FROM scans WHERE event_id = :e AND scanner_id = :u ORDER BY id"),
                {"e": event_id, "u": alice.user_id},
            )
        )
        .scalars()
        .all()
    )
    assert stored == ["checked_in", "already_done", "checked_out", "already_done"]


async def test_check_in_code_cannot_check_out(client, site):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    code = await kiosk_code(client, admin, event_id, "checkin")
    await scan(client, alice, code)
    refused = await scan(client, alice, code, action="checkout")
    assert refused.status_code == 422 and refused.json()["code"] == "code_invalid"
    forged = await scan(client, alice, code.replace("-I-", "-O-"))
    assert forged.json()["code"] == "code_invalid"


async def test_kiosk_code_expires_after_thirty_seconds(client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    code = await kiosk_code(client, admin, event_id)
    clock.advance(timedelta(seconds=31))
    expired = await scan(client, alice, code)
    assert expired.status_code == 422 and expired.json()["code"] == "code_expired"
    assert "过期" in expired.json()["detail"]
    reasons = (
        await db.execute(
            text("SELECT result, subject_id FROM scans WHERE event_id = :e AND scanner_id = :u"),
            {"e": event_id, "u": alice.user_id},
        )
    ).all()
    assert [r.result for r in reasons] == ["code_expired"]


async def test_code_api_says_how_long_the_code_is_accepted(client, site):
    tenant, admin, _alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    response = await client.get(
        f"/api/v1/events/{event_id}/code", params={"action": "checkin"}, headers=admin.headers
    )

    body = response.json()
    left = (datetime.fromisoformat(body["expires_at"]) - clock.now()).total_seconds()
    assert 15 <= left <= 30


async def test_residents_cannot_get_kiosk_codes_and_other_communities_cannot_scan(client, site, factory):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    denied = await client.get(f"/api/v1/events/{event_id}/code", headers=alice.headers)
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    other = await factory.tenant()
    stranger = await login(client, await factory.person(other))
    hidden = await client.get(f"/api/v1/events/{event_id}/code", headers=stranger.headers)
    assert hidden.status_code == 404
    refused = await scan(client, stranger, await kiosk_code(client, admin, event_id))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert "社区" in refused.json()["detail"]


async def test_sign_up_required_and_waitlist_moves_up(client, site, factory):
    tenant, admin, alice, bob = site
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True, capacity=1)
    code = await kiosk_code(client, admin, event_id)
    not_signed = await scan(client, alice, code)
    assert not_signed.status_code == 409 and not_signed.json()["code"] == "not_signed_up"
    first = await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)
    assert first.status_code == 201 and first.json() == {"status": "signed_up"}
    second = await client.post(f"/api/v1/events/{event_id}/signups", headers=bob.headers)
    assert second.json() == {"status": "waitlisted"}
    assert (await scan(client, bob, code)).json()["code"] == "not_signed_up"
    # Alice cancels (page form): Bob moves up and can check in.
    page = await client.get(f"/events/{event_id}", headers=alice.headers)
    assert page.status_code == 200
    actor = Actor(alice.user_id, "a", {tenant.community_id: frozenset({"resident"})})

    engine = factory.engine
    async with async_sessionmaker(engine)() as s, s.begin():
        await services.cancel_signup(s, actor, event_id)
    assert (await scan(client, bob, await kiosk_code(client, admin, event_id))).json()[
        "result"
    ] == "checked_in"


async def test_organiser_scans_member_code_and_printed_card(client, site, factory, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(
        client, admin, tenant.community_id, points_per_attendance=10, points_per_hour=0
    )
    code = await member_code(db, alice.user_id)
    checked_in = await scan(client, admin, code, event_id=event_id, action="checkin")
    assert checked_in.json()["result"] == "checked_in", checked_in.text
    assert checked_in.json()["display_name"] == "郑美玉"
    # An elderly resident without a phone, with a printed card.
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    card = await member_cards.printed_card_for(db, admin_actor(tenant), tenant.community_id, elder.user_id)
    await db.commit()
    assert (await scan(client, admin, card, event_id=event_id, action="checkin")).json()[
        "result"
    ] == "checked_in"
    clock.advance(timedelta(minutes=40))
    out = await scan(client, admin, card, event_id=event_id, action="checkout")
    assert out.json()["points_awarded"] == 10 and out.json()["minutes"] == 40
    assert await wallet_balance(db, tenant.community_id, elder.user_id) == 10
    # A resident cannot scan others in.
    other_code = await member_code(db, admin.user_id)
    refused = await scan(client, alice, other_code, event_id=event_id, action="checkin")
    assert refused.status_code == 403


async def test_reentry_setting_and_caps(client, site, db):
    tenant, admin, alice, bob = site
    no_reentry = await make_event(client, admin, tenant.community_id)
    await scan(client, alice, await kiosk_code(client, admin, no_reentry))
    clock.advance(timedelta(minutes=10))
    await scan(client, alice, await kiosk_code(client, admin, no_reentry, "checkout"))
    back = await scan(client, alice, await kiosk_code(client, admin, no_reentry))
    assert back.json()["code"] == "already_done"
    clock.reset()

    reentry = await make_event(client, admin, tenant.community_id, reentry_allowed=True, max_points=40)
    totals = []
    for minutes in (60, 45, 60):
        assert (await scan(client, bob, await kiosk_code(client, admin, reentry))).json()[
            "result"
        ] == "checked_in"
        clock.advance(timedelta(minutes=minutes))
        out = await scan(client, bob, await kiosk_code(client, admin, reentry, "checkout"))
        totals.append(out.json()["points_awarded"])
    assert totals == [25, 15, 0]
    assert await wallet_balance(db, tenant.community_id, bob.user_id) == 40


async def test_auto_close_checks_out_at_scheduled_end_flagged_for_approval(client, site, db):
    tenant, admin, alice, bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    await scan(client, alice, await kiosk_code(client, admin, event_id))
    await scan(client, bob, await kiosk_code(client, admin, event_id))
    clock.advance(timedelta(minutes=30))
    await scan(client, bob, await kiosk_code(client, admin, event_id, "checkout"))
    clock.advance(timedelta(hours=3))
    await db.rollback()
    closed = await approvals.close_due_events(db)
    await db.commit()
    assert event_id in closed
    stay = (
        await db.scalars(
            select(Checkin).where(Checkin.event_id == event_id, Checkin.user_id == alice.user_id)
        )
    ).one()
    assert stay.flagged and stay.flag_reason == "auto_closed" and stay.award_status == "pending"
    assert stay.minutes in (114, 115)  # checked in 5 min after the start, out at the scheduled end
    stay_id, minutes = stay.id, stay.minutes
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 0
    # The admin approves from the queue (bulk approve through the page).
    page = await client.get(f"/admin/c/{tenant.community_id}/approvals", headers=admin.headers)
    assert page.status_code == 200 and "郑美玉" in page.text
    await approvals.approve(db, admin_actor(tenant), [stay_id])
    await db.commit()
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 5 + (20 * minutes) // 60
    # Closing again does nothing.
    assert await approvals.close_event(db, event_id) == 0


async def test_headcount_confirms_kiosk_stays_or_flags_them(client, site, db):
    tenant, admin, alice, bob = site
    event_id = await make_event(client, admin, tenant.community_id, kiosk_confirmation=True)
    for person in (alice, bob):
        await scan(client, person, await kiosk_code(client, admin, event_id))
    clock.advance(timedelta(hours=1))
    for person in (alice, bob):
        out = await scan(client, person, await kiosk_code(client, admin, event_id, "checkout"))
        assert out.json()["points_awarded"] == 0 and out.json()["points_pending"] == 25
    await db.rollback()
    result = await approvals.confirm_headcount(db, admin_actor(tenant), event_id, 1)
    await db.commit()
    assert result == {"awarded": 0, "flagged": 2, "kiosk_people": 2}
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 0
    stays = (await db.scalars(select(Checkin).where(Checkin.event_id == event_id))).all()
    assert {s.flag_reason for s in stays} == {"headcount_exceeded"}
    # Adjust one with a reason, reject the other with a reason.
    actor = admin_actor(tenant)
    by_user = {s.user_id: s.id for s in stays}
    await approvals.adjust(db, actor, by_user[alice.user_id], 12, "只到了一半时间")
    await approvals.reject(db, actor, by_user[bob.user_id], "未到场")
    await db.commit()
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 12
    assert await wallet_balance(db, tenant.community_id, bob.user_id) == 0


async def test_headcount_at_or_above_check_ins_awards_everyone(client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, kiosk_confirmation=True)
    await scan(client, alice, await kiosk_code(client, admin, event_id))
    clock.advance(timedelta(hours=1))
    await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    await db.rollback()
    assert (await approvals.confirm_headcount(db, admin_actor(tenant), event_id, 3))["awarded"] == 1
    await db.commit()
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 25


async def test_a_headcount_confirmed_while_an_admin_rejects_the_stay_pays_nothing(client, site, db, engine):
    """The organiser confirms the headcount while an admin rejects a kiosk stay from the approval
    queue, on PostgreSQL at once: the confirmation read the stay as unconfirmed before the
    rejection committed, paid its points and marked it awarded over the admin's rejection."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, kiosk_confirmation=True)
    await scan(client, alice, await kiosk_code(client, admin, event_id))
    clock.advance(timedelta(hours=1))
    await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    stay_id = (await db.scalars(select(Checkin.id).where(Checkin.event_id == event_id))).one()
    await db.rollback()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as queue, queue.begin():
        await approvals.reject(queue, admin_actor(tenant), stay_id, "未到场")

        async def confirm() -> dict[str, int]:
            async with sessions() as organiser, organiser.begin():
                return await approvals.confirm_headcount(organiser, admin_actor(tenant), event_id, 3)

        confirming = asyncio.create_task(confirm())
        await until_a_lock_wait(db, "the confirmation")  # for the stay's row the rejection holds
    assert (await confirming)["awarded"] == 0
    stay = (await db.scalars(select(Checkin).where(Checkin.id == stay_id))).one()
    assert (stay.award_status, stay.transfer_id) == ("rejected", None)
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 0


async def test_claimed_hours_and_honour_hours(client, site, db):
    tenant, admin, alice, _bob = site
    actor = Actor(alice.user_id, "郑美玉", {tenant.community_id: frozenset({"resident"})})
    today = clock.now().date()
    claim = await hours.claim_hours(
        db,
        actor,
        tenant.community_id,
        hours.ClaimInput(what="帮独居老人买菜", worked_on=today, minutes=90, witness="王网格"),
    )
    await db.commit()
    await hours.decide_claim(db, admin_actor(tenant), claim.id, approve_it=True, points=15)
    honour = await hours.enter_honour_hours(
        db,
        admin_actor(tenant),
        tenant.community_id,
        alice.user_id,
        hours.ClaimInput(what="防汛值守", worked_on=today, minutes=120),
        points=50,
        converts_to_points=False,
    )
    await db.commit()
    assert honour.points == 0 and honour.transfer_id is None
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == 15
    summary = await hours.hours_summary(db, alice.user_id, tenant.community_id)
    assert summary["total"] == 210 and summary["per_category"]["service"] == 210
    page = await client.get(f"/c/{tenant.community_id}/hours", headers=alice.headers)
    assert page.status_code == 200 and "3.5" in page.text


async def test_certificate_links_to_a_public_verification_page(client, site, db):
    tenant, admin, alice, _bob = site
    await db.execute(
        text(
            "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, "
            "status, created_at) VALUES (:c, :u, '助老', 'service', current_date, 90, 'approved', now())"
        ),
        {"c": tenant.community_id, "u": alice.user_id},
    )
    await db.commit()
    page = await client.get(f"/c/{tenant.community_id}/certificate", headers=alice.headers)
    assert page.status_code == 200

    url = re.search(r"(/verify/[0-9A-Z\-]+)", page.text).group(1)
    public = await client.get(url)
    assert public.status_code == 200 and "郑美玉" in public.text
    assert (await client.get(url[:-2] + "AA")).status_code == 404


async def test_the_scan_path_remembers_an_event_until_it_is_edited(client, app, site, db):
    """Kiosk scans read the event from the worker's memory (app.core.changes); cancelling the
    event tells every worker, and the next scan is refused."""
    tenant, admin, alice, bob = site
    memo = app.state["event_rows"]
    event_id = await make_event(client, admin, tenant.community_id)
    code = await kiosk_code(client, admin, event_id)
    assert (await scan(client, alice, code)).json()["result"] == "checked_in"
    hits = memo.hits
    assert (await scan(client, bob, code)).json()["result"] == "checked_in"
    assert memo.hits == hits + 1

    generation = memo.generation
    await services.cancel_event(db, admin_actor(tenant), event_id, "下雨")
    await db.commit()
    async with asyncio.timeout(5):
        while memo.generation == generation:  # noqa: ASYNC110 - set by the listener task
            await asyncio.sleep(0.005)
    refused = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert refused.status_code == 409
    assert refused.json()["detail"] == "该活动已取消。"


async def test_a_scan_before_check_in_opens_says_when_it_opens_in_the_communitys_time(client, site, db):
    """ "Check-in opens one hour before the event starts" left an elderly resident to work out
    the hour: the refusal names it, in the community's zone, on the API and on the scanner page."""
    tenant, admin, alice, _bob = site
    await db.execute(
        text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"), {"c": tenant.community_id}
    )
    await db.commit()
    start = (clock.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    event_id = await make_event(
        client,
        admin,
        tenant.community_id,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
    )
    code = await kiosk_code(client, admin, event_id)
    opens = clock.text(start - timedelta(hours=1), "Europe/London")
    refused = await scan(client, alice, code)
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"
    assert refused.json()["detail"] == f"{opens} 起可以签到（活动开始前一小时）。"
    english = await client.post(
        "/api/v1/scans", json={"code": code}, headers={**alice.headers, "Accept-Language": "en"}
    )
    assert english.json()["detail"] == f"Check-in opens at {opens}, one hour before the event starts."
    await session_of(client, alice)
    page = await post_form(client, "/scan", {"code": code, "via": "camera"})
    assert page.status_code == 409 and f"{opens} 起可以签到（活动开始前一小时）。" in page.text


async def test_closing_an_event_while_its_resident_checks_out_closes_the_stay_once(client, site, db, engine):
    """The close job and a resident's late check-out meet on PostgreSQL: the check-out has closed
    the stay and paid its points but not committed yet when the job reads the open stays. The job
    read the stay as open, waited for its row, then closed it again at the scheduled end and sent
    it to the approval queue as pending, without its transfer: the resident was paid and the
    queue offered to pay (or refuse) the same stay again."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    assert (await scan(client, alice, await kiosk_code(client, admin, event_id))).json()[
        "result"
    ] == "checked_in"
    clock.advance(timedelta(hours=3))  # past the end and its grace: the job closes the event
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as late, late.begin():
        conn = await connection_of(late)
        event = await checkins.load_event_row(conn, event_id)
        out = await checkins.check_out(conn, event, alice.user_id, method="kiosk", by=alice.user_id)
        assert out.status == "awarded" and out.points > 0

        async def close() -> int:
            async with sessions() as job, job.begin():
                return await approvals.close_event(job, event_id)

        closing = asyncio.create_task(close())
        await until_a_lock_wait(db, "the job")  # for the stay's row the check-out holds
    assert await closing == 0  # the stay was closed by its resident
    stay = (await db.scalars(select(Checkin).where(Checkin.event_id == event_id))).one()
    assert (stay.award_status, stay.points, stay.flagged) == ("awarded", out.points, False)
    assert stay.transfer_id is not None and stay.checked_out_at == out.at
    assert await wallet_balance(db, tenant.community_id, alice.user_id) == out.points
