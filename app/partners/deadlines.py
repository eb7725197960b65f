"""A project's owner hears, through app.notices, that its deadline is near: once per project and
deadline (a deadline moved is a new occasion), however often the job runs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.i18n import lazy
from app.notices import services as notices
from app.notices import words
from app.partners.models import Project
from app.places.models import Community

# A project still open or in progress whose deadline is this close (in the community's days).
NEAR = timedelta(days=3)


@words.kind("project_deadline", lazy("Deadlines of projects I own"), order=50)
def _deadline(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    return (
        gettext(lazy("Deadline near: %(title)s"), title=params["title"]),
        gettext(lazy("The project is due on %(due)s."), due=params["due_on"]),
    )


async def tell_near(session: AsyncSession) -> int:
    rows = (
        await session.execute(
            select(Project, Community.time_zone)
            .join(Community, Community.id == Project.community_id)
            .where(
                Project.status.in_(("open", "in_progress")),
                Project.due_on >= clock.today() - timedelta(days=1),
                Project.due_on <= clock.today() + NEAR + timedelta(days=1),
            )
            .order_by(Project.id)
        )
    ).all()
    count = 0
    for project, tz in rows:
        today: date = clock.today(tz)
        if not today <= project.due_on <= today + NEAR:
            continue
        count += await notices.notify(
            session,
            user_id=project.owner_user_id,
            community_id=project.community_id,
            kind="project_deadline",
            key=f"project_deadline:{project.id}:{project.due_on.isoformat()}",
            url=f"/partners/projects/{project.id}",
            title=project.title,
            due_on=project.due_on.isoformat(),
        )
    return count
