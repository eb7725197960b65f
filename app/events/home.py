"""The events' share of the home page (app.core.homes): the resident's next event and icons, the
events a volunteer organises, and for admins today's check-ins and what waits for approval."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, homes
from app.core.authz import Actor
from app.core.i18n import lazy
from app.events import hours, rules, services
from app.events.models import Checkin, Event, HourClaim, Signup

ORGANISED_SHOWN = 5


def _entry(event: Event, tz: str, tag: str = "") -> homes.Entry:
    return homes.Entry(
        event.title, event.place or "", f"/events/{event.id}", tag, when=event.starts_at, zone=tz
    )


async def next_signup(session: AsyncSession, user_id: int, community_id: int) -> tuple[Event, str] | None:
    """The first event the person signed up for (or waits for) that has not ended and that they
    have not come to yet: one they came to is among their stays, as My events lists it."""
    attended = select(Checkin.id).where(Checkin.event_id == Event.id, Checkin.user_id == user_id).exists()
    row = (
        await session.execute(
            select(Event, Signup.status)
            .join(Signup, Signup.event_id == Event.id)
            .where(
                Signup.user_id == user_id,
                Signup.status.in_(("signed_up", "waitlisted")),
                services.upcoming_of(community_id),
                ~attended,
            )
            .order_by(Event.starts_at, Event.id)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def organised_by(session: AsyncSession, user_id: int, community_id: int) -> list[Event]:
    """Open events the person is named organiser of that have not ended, soonest first."""
    return list(
        (
            await session.scalars(
                select(Event)
                .where(services.upcoming_of(community_id, user_id))
                .order_by(Event.starts_at, Event.id)
                .limit(ORGANISED_SHOWN)
            )
        ).all()
    )


async def today_figures(session: AsyncSession, community_id: int, tz: str) -> tuple[int, int]:
    """(check-ins since the community's midnight, stays and hour claims waiting for an admin)."""
    since = clock.day_start(clock.now(), tz)
    checkins = await session.scalar(
        select(func.count())
        .select_from(Checkin)
        .where(Checkin.community_id == community_id, Checkin.checked_in_at >= since)
    )
    stays = await session.scalar(
        select(func.count())
        .select_from(Checkin)
        .where(Checkin.community_id == community_id, Checkin.award_status.in_(("pending", "unconfirmed")))
    )
    claims = await session.scalar(
        select(func.count())
        .select_from(HourClaim)
        .where(HourClaim.community_id == community_id, HourClaim.status == "pending")
    )
    return int(checkins or 0), int(stays or 0) + int(claims or 0)


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    cid, tz = community.id, community.time_zone
    part = homes.HomePart(
        tiles=[
            homes.Tile(f"/c/{cid}/events", lazy("Events"), "events", 10),
            homes.Tile("/scan", lazy("Scan"), "scan", 20),
            homes.Tile(f"/c/{cid}/hours", lazy("Hours served"), "hours", 50),
            homes.Tile(f"/c/{cid}/certificate", lazy("Certificate"), "certificate", 60),
        ],
        links=[(f"/c/{cid}/my-events", lazy("My events"))],
    )
    stars = rules.stars_for((await hours.hours_summary(session, actor.user_id, cid))["total"])
    if stars.stars:
        part.mine.append(
            homes.Figure(
                lazy("Volunteer stars"),
                stars.stars,
                f"/c/{cid}/hours",
                order=30,
                icon="certificate",
                stars_of=stars.of,
                words=lazy("%(num)s of %(of)s stars"),
            )
        )
    coming = await next_signup(session, actor.user_id, cid)
    if coming is not None:
        event, status = coming
        tag = lazy("Signed up") if status == "signed_up" else lazy("On the waiting list")
        part.next.append(_entry(event, tz, tag))

    organised = await organised_by(session, actor.user_id, cid)
    if organised or actor.has(cid, "volunteer"):
        # The soonest few, how many in all, and the way to them all past the few.
        every = len(organised)
        if every == ORGANISED_SHOWN:
            every = await services.count_upcoming(session, actor, cid, organised=True)
        part.panels.append(
            homes.Panel(
                "organise",
                lazy("Events I organise"),
                [_entry(e, tz) for e in organised],
                figures=[
                    homes.Figure(
                        lazy("Events I organise"), every, f"/c/{cid}/events?organised=1", unit=lazy("events")
                    )
                ]
                if every > ORGANISED_SHOWN
                else [],
                empty=lazy("You organise no events at the moment."),
                more=(f"/c/{cid}/events?organised=1", lazy("All the events I organise"))
                if every > ORGANISED_SHOWN
                else None,
                order=20,
            )
        )
    if actor.has(cid, "admin", "staff"):
        part.links.append((f"/admin/c/{cid}/events", lazy("Manage events")))
    if actor.has(cid, "admin"):
        checkins, waiting = await today_figures(session, cid, tz)
        part.panels.append(
            homes.Panel(
                "today",
                lazy("Today"),
                figures=[
                    homes.Figure(
                        lazy("Check-ins today"),
                        checkins,
                        f"/admin/c/{cid}/events",
                        order=10,
                        unit=lazy("check-ins"),
                    ),
                    homes.Figure(
                        lazy("Waiting for approval"),
                        waiting,
                        f"/admin/c/{cid}/approvals",
                        attention=waiting > 0,
                        order=20,
                        unit=lazy("entries"),
                    ),
                ],
                order=10,
            )
        )
        part.links.append((f"/admin/c/{cid}/approvals", lazy("Approvals")))
    return part
