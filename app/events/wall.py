"""The events' section of the public results wall (app.core.wall): how many volunteers hold each
number of stars. A count per level, never a name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import wall
from app.core.i18n import lazy
from app.events import hours, rules


@wall.section
async def stars_section(session: AsyncSession, community_id: int) -> wall.Section | None:
    levels: dict[int, int] = {}
    for minutes in (await hours.minutes_by_person(session, community_id)).values():
        stars = rules.stars_for(minutes).stars
        if stars:
            levels[stars] = levels.get(stars, 0) + 1
    return wall.Section(
        "stars",
        lazy("Volunteers with stars"),
        [
            wall.Entry(
                "★" * stars,
                lazy("Volunteers: %(count)s"),
                count=levels[stars],
                words=rules.STAR_LABELS[stars],
            )
            for stars in sorted(levels, reverse=True)
        ],
        note=lazy(
            "Stars by certified hours, after the national standard: 100, 300, 600, 1,000 and 1,500 hours."
        ),
        order=30,
    )
