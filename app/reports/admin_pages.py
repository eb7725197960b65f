"""The admin's page of the results wall's stories: write one (with a photo), change it, hide it from
the public wall or show it again, and delete it after a confirmation. One page with query
parameters (`?edit=`, `?delete=`) rather than a page per story."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, exports, form_keys, photos, progress, uploads
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.figures import Scope
from app.core.i18n import gettext_for, lazy, request_lang
from app.core.rendering import currency_of
from app.core.settings import Settings
from app.core.web import (
    client_address,
    form_data,
    optional_int,
    refusal_words,
    render,
    reopen_form,
)
from app.places.services import community_for
from app.reports import exporting, rules, services, stories
from app.reports.models import ExportRun
from app.reports.pages import From, To, _period, _quick

DONE = {
    "written": lazy("The story is on the wall."),
    "saved": lazy("The story was saved."),
    "hidden": lazy("The story is hidden from the public wall."),
    "shown": lazy("The story is on the public wall again."),
    "deleted": lazy("The story was deleted."),
}


def form_again(path_params: dict[str, object]) -> str:
    """The form a too-large photo came from, asked to say why."""
    story = path_params.get("story_id")
    edit = f"&edit={story}" if story is not None else ""
    return f"/admin/c/{path_params.get('community_id')}/wall?photo=too_large{edit}"


async def _page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    edit: int | None = None,
    delete: int | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    photo_error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    community = await community_for(db_session, actor, community_id, "admin")
    editing = await stories.story_in(db_session, community_id, edit) if edit else None
    deleting = await stories.story_in(db_session, community_id, delete) if delete else None
    return render(
        request,
        "reports/stories.html",
        status_code=status_code,
        community=community,
        stories=await stories.stories_of(db_session, community_id, hidden_too=True),
        editing=editing,
        deleting=deleting,
        form=form or {},
        form_key=form_keys.new(),
        error=error,
        photo_error=photo_error,
        notice=notice,
        photo_url=stories.photo_url,
        max_photo_bytes=photos.MAX_BYTES,
    )


@get("/admin/c/{community_id:int}/wall", include_in_schema=False)
async def stories_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    edit: str | None = None,
    delete: str | None = None,
    done: str = "",
    photo: str = "",
) -> Template:
    too_large = photo == "too_large"
    return await _page(
        request,
        db_session,
        actor,
        community_id,
        edit=optional_int(edit),
        delete=optional_int(delete),
        notice=gettext_for(request)(DONE[done]) if done in DONE else None,
        photo_error=gettext_for(request)(photos.TOO_LARGE) if too_large else None,
        status_code=422 if too_large else 200,
    )


async def _save(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
    story_id: int | None,
) -> Template | Redirect:
    form = await form_data(request)
    try:
        raw = await uploads.read_photo(request)
        story = await stories.save_story(
            db_session,
            actor,
            community_id,
            stories.StoryInput(form.get("title", ""), form.get("body", ""), form.get("happened_on", "")),
            story_id=story_id,
            raw_photo=raw,
            uploads_dir=settings.uploads_dir,
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _page(
            request,
            db_session,
            actor,
            community_id,
            edit=story_id,
            form=form,
            status_code=exc.status_code,
            **refusal_words(request, exc),
        )
    done = "saved" if story_id else "written"
    return Redirect(f"/admin/c/{community_id}/wall?done={done}#story-{story.id}", status_code=303)


@post(
    "/admin/c/{community_id:int}/wall/stories",
    include_in_schema=False,
    request_max_body_size=uploads.PHOTO_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(form_again)},
    middleware=[uploads.oversized_forms(form_again)],
)
async def write_story(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    return await _save(request, community_id, actor, db_session, settings, None)


@post(
    "/admin/c/{community_id:int}/wall/stories/{story_id:int}",
    include_in_schema=False,
    request_max_body_size=uploads.PHOTO_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(form_again)},
    middleware=[uploads.oversized_forms(form_again)],
)
async def edit_story(
    request: Request,
    community_id: int,
    story_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
) -> Template | Redirect:
    return await _save(request, community_id, actor, db_session, settings, story_id)


@post("/admin/c/{community_id:int}/wall/stories/{story_id:int}/hidden", include_in_schema=False)
async def hide_story(
    request: Request, community_id: int, story_id: int, actor: Actor, db_session: AsyncSession
) -> Redirect:
    hidden = (await form_data(request)).get("hidden") == "1"
    await stories.set_hidden(db_session, actor, community_id, story_id, hidden, client_address(request))
    done = "hidden" if hidden else "shown"
    return Redirect(f"/admin/c/{community_id}/wall?done={done}#story-{story_id}", status_code=303)


@post("/admin/c/{community_id:int}/wall/stories/{story_id:int}/delete", include_in_schema=False)
async def delete_story(
    request: Request, community_id: int, story_id: int, actor: Actor, db_session: AsyncSession
) -> Redirect:
    await stories.delete_story(db_session, actor, community_id, story_id, client_address(request))
    return Redirect(f"/admin/c/{community_id}/wall?done=deleted", status_code=303)


# ---------------------------------------------------------------- exports


@get("/admin/c/{community_id:int}/exports", include_in_schema=False)
async def exports_page(
    request: Request,
    community_id: int,
    actor: Actor,
    report_session: AsyncSession,
    db_session: AsyncSession,
    first: From = None,
    last: To = None,
) -> Template:
    community = await community_for(report_session, actor, community_id, *services.READERS)
    today = clock.today(community.time_zone)
    first_day, last_day, error = _period(request, first, last, today)
    return render(
        request,
        "reports/exports.html",
        # Read on the primary, where a run made a moment ago already is.
        runs=[(run, _run_label(run)) for run in await exporting.runs_of(db_session, actor, community.id)],
        run_states=exporting.STATES,
        status_code=422 if error else 200,
        community=community,
        exports=exports.offered(actor, community.id),
        first=first_day,
        last=last_day,
        error=error,
        quick=_quick(today),
    )


def _run_label(run: ExportRun) -> str:
    found = exports.find(run.name)
    return found.label if found else run.name


@get("/admin/c/{community_id:int}/exports/{file:str}", include_in_schema=False)
async def export_file(
    request: Request,
    community_id: int,
    file: str,
    actor: Actor,
    db_session: AsyncSession,
    report_session: AsyncSession,
    first: From = None,
    last: To = None,
) -> Response | Redirect:
    """The file itself, made while the admin waits, or a run of it made by a job when it is long;
    each export is audited (on the primary). An export with contact details is for the roles it
    names only (403 for the others)."""
    community = await community_for(report_session, actor, community_id, *services.READERS)
    name, _dot, fmt = file.rpartition(".")
    found = exports.find(name)
    if found is None or fmt not in exports.FORMATS:
        raise NotFound()
    found.require(actor, community.id)
    first_day, last_day = rules.period(first, last, clock.today(community.time_zone))
    scope = Scope(community.id, first_day, last_day, community.time_zone)
    rows = await found.fn(report_session, scope)
    if len(rows) > exporting.INLINE_ROWS:
        await exports.record_taken(
            db_session,
            actor_id=actor.user_id,
            export=found,
            scope=scope,
            fmt=fmt,
            rows=len(rows),
            address=client_address(request),
        )
        run = await exporting.start(db_session, actor, found, fmt, scope, request_lang(request))
        return Redirect(f"/admin/c/{community.id}/exports/runs/{run.id}", status_code=303)
    return await exports.taken_file(
        db_session,
        actor=actor,
        export=found,
        scope=scope,
        fmt=fmt,
        rows=rows,
        gettext=gettext_for(request),
        currency=currency_of(request),
        address=client_address(request),
    )


@get("/admin/c/{community_id:int}/exports/runs/{run_id:int}", include_in_schema=False)
async def export_run_page(
    request: Request,
    community_id: int,
    run_id: int,
    actor: Actor,
    db_session: AsyncSession,
    part: bool = False,
) -> Template:
    """An export being made: its progress (htmx asks for `?part=1` every second; without
    JavaScript the page refreshes itself), then its download link, or why it could not be made."""
    community = await community_for(db_session, actor, community_id, *services.READERS)
    run = await exporting.run_of(db_session, actor, community_id, run_id)
    found = exports.find(run.name)
    return render(
        request,
        "reports/_export_progress.html" if part else "reports/export_run.html",
        community=community,
        run=run,
        label=found.label if found else run.name,
        percent=progress.percent(run.status, run.done_rows, run.total_rows),
        failures=exporting.FAILURES,
    )


@get("/admin/c/{community_id:int}/exports/runs/{run_id:int}/file", include_in_schema=False)
async def export_run_file(community_id: int, run_id: int, actor: Actor, db_session: AsyncSession) -> Response:
    await community_for(db_session, actor, community_id, *services.READERS)
    run = await exporting.run_of(db_session, actor, community_id, run_id)
    if run.status != "done" or run.body is None:
        raise NotFound()
    return exports.download(run.body, run.fmt, run.filename)


route_handlers = [
    stories_page,
    write_story,
    edit_story,
    hide_story,
    delete_story,
    exports_page,
    export_file,
    export_run_page,
    export_run_file,
]
