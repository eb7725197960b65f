"""The results wall (成果晾晒): the stories a community's admins write, and what the public page
shows: the visible stories, live totals and the partner units thanked by name. Nothing on the wall
names a resident: a story that carries a phone number or a member's full name is refused, and the
totals are counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock, figures, form_keys, photos, wall
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.figures import Scope
from app.core.i18n import lazy
from app.core.uow import Sql
from app.places.models import Community
from app.places.services import community_for
from app.reports import rules
from app.reports.models import Story

FOLDER = "wall"
# The totals the wall shows, over the community's whole history.
TOTALS = ("volunteer_hours", "wishes_delivered", "projects_done")
# A mainland mobile number, however it is spaced.
PHONE = re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_NAMES = Sql(
    "SELECT DISTINCT u.display_name FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.community_id = :c AND char_length(u.display_name) >= 2"
)


@dataclass
class StoryInput:
    title: str
    body: str
    happened_on: str


@dataclass
class Wall:
    community: Community
    stories: list[Story]
    totals: dict[str, Any]
    thanked: list[str]
    sections: list[wall.Section]


def photo_url(story: Story) -> str | None:
    return f"/c/{story.community_id}/wall/photos/{story.id}" if story.photo else None


async def _check_privacy(session: AsyncSession, community_id: int, *texts: str) -> None:
    joined = "\n".join(texts)
    if PHONE.search(joined):
        raise Invalid(lazy("Please leave phone numbers out of a story: the wall is public."), field="body")
    for row in await _NAMES.fetch(session, {"c": community_id}):
        name = row["display_name"]
        if name in joined:
            raise DomainError(
                "validation_error",
                422,
                lazy("Please leave the full name %(name)s out of a story: the wall is public."),
                words={"name": name},
                field="body",
            )


def _clean(data: StoryInput) -> tuple[str, str, date]:
    title = " ".join((data.title or "").split())
    if not 1 <= len(title) <= 100:
        raise Invalid(lazy("Please enter a title of 1 to 100 characters."), field="title")
    body = (data.body or "").strip().replace("\r\n", "\n")
    if len(body) > 2000:
        raise Invalid(lazy("A story can be at most 2000 characters long."), field="body")
    try:
        day = date.fromisoformat((data.happened_on or "").strip())
    except ValueError as exc:
        raise Invalid(lazy("Please give dates like 2026-03-01."), field="happened_on") from exc
    if not rules.EARLIEST <= day <= date(2100, 12, 31):
        raise Invalid(lazy("Please give dates like 2026-03-01."), field="happened_on")
    return title, body, day


async def stories_of(session: AsyncSession, community_id: int, *, hidden_too: bool) -> list[Story]:
    stmt = select(Story).where(Story.community_id == community_id)
    if not hidden_too:
        stmt = stmt.where(Story.hidden.is_(False))
    found = await session.scalars(stmt.order_by(Story.happened_on.desc(), Story.id.desc()))
    return list(found.all())


async def story_in(session: AsyncSession, community_id: int, story_id: int) -> Story:
    story = await session.get(Story, story_id)
    if story is None or story.community_id != community_id:
        raise NotFound()
    return story


async def save_story(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: StoryInput,
    *,
    story_id: int | None = None,
    raw_photo: bytes | None = None,
    uploads_dir: Path | None = None,
    address: str | None = None,
    form_key: str | None = None,
) -> Story:
    """Writes a new story or changes one (its admins only); a photo, when given, replaces the old.
    `form_key` is the new story's form's (app.core.form_keys): its second sending writes nothing,
    no photo either, and answers the first one's story."""
    await community_for(session, actor, community_id, "admin")
    title, body, day = _clean(data)
    await _check_privacy(session, community_id, title, body)

    async def fill(story: Story) -> Story:
        story.title, story.body, story.happened_on = title, body, day
        story.updated_at = clock.now()
        if raw_photo is not None:
            assert uploads_dir is not None
            image = photos.clean(raw_photo)
            if not photos.is_stored(uploads_dir, FOLDER, story.photo, image):  # not sent twice
                story.photo = photos.write(uploads_dir, FOLDER, image)
        await session.flush()
        await audit.record(
            session,
            action="wall.story_saved" if story_id else "wall.story_written",
            actor_id=actor.user_id,
            community_id=community_id,
            target=f"story:{story.id}",
            address=address,
            photo=raw_photo is not None,
        )
        return story

    if story_id is not None:
        story = await story_in(session, community_id, story_id)
        # Locked first: the same change sent twice waits for the first, then stores no photo again.
        await session.refresh(story, with_for_update=True)
        return await fill(story)
    key = form_keys.clean(form_key)

    async def write() -> Story:
        story = Story(
            community_id=community_id,
            created_by=actor.user_id,
            form_key=key,
            title=title,
            body=body,
            happened_on=day,
        )
        session.add(story)
        await session.flush()  # the key is taken before the photo is stored: a twin waits here
        return await fill(story)

    return await form_keys.once(
        session, key, form_keys.finder(session, Story, "created_by", actor.user_id), write
    )


async def set_hidden(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    story_id: int,
    hidden: bool,
    address: str | None = None,
) -> Story:
    await community_for(session, actor, community_id, "admin")
    story = await story_in(session, community_id, story_id)
    story.hidden = hidden
    story.updated_at = clock.now()
    await session.flush()
    await audit.record(
        session,
        action="wall.story_hidden" if hidden else "wall.story_shown",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"story:{story.id}",
        address=address,
    )
    return story


async def delete_story(
    session: AsyncSession, actor: Actor, community_id: int, story_id: int, address: str | None = None
) -> None:
    """Deletes a story for good (the page asks first). Its photo file stays on disk, unreachable:
    removing it before the transaction commits could lose it for a story that stays."""
    await community_for(session, actor, community_id, "admin")
    story = await story_in(session, community_id, story_id)
    title = story.title
    await session.delete(story)
    await session.flush()
    await audit.record(
        session,
        action="wall.story_deleted",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"story:{story_id}",
        address=address,
        title=title,
    )


async def wall_of(session: AsyncSession, community_id: int) -> Wall:
    """The public wall: visible stories, the totals of the community's whole history and the
    partner units with an agreement for this year, by name."""
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound()
    first, last = rules.ever(clock.today(community.time_zone))
    scope = Scope(community.id, first, last, community.time_zone)
    names = [*TOTALS, "partner_ranking"]
    values = (await figures.compute(session, [scope], names))[community.id]
    thanked = [r.name for r in values.pop("partner_ranking", [])]
    visible = await stories_of(session, community_id, hidden_too=False)
    return Wall(community, visible, values, thanked, await wall.gather(session, community_id))


async def photo_of(session: AsyncSession, community_id: int, story_id: int, *, hidden_too: bool) -> Story:
    """A story's photo; a hidden story's only with `hidden_too` (for its admins)."""
    story = await story_in(session, community_id, story_id)
    if (story.hidden and not hidden_too) or not story.photo:
        raise NotFound()
    return story
