"""The import pages: the upload form with its sample files, the dry run's report and its
confirmation, the job's progress and the outcome (with the rejected rows as CSV and the new
members' cards to print)."""

from __future__ import annotations

import functools
from typing import Any

from litestar import Request, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.admin_pages import card_sheet
from app.core import exports, homes, paging, progress, uploads
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import gettext_for, lazy, request_lang
from app.core.web import client_address, error_message, form_data, optional_int, render, reopen_form
from app.imports import files, rules, services
from app.imports.models import ImportRow
from app.places.models import Community
from app.places.services import community_for

SHOWN_ERRORS = 200
# The imports page lists the community's imports this many a page, the newest first.
RUNS_PAGE = 10


@homes.part
async def _home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    part = homes.HomePart()
    if actor.has(community.id, *services.IMPORTERS):
        part.links.append((f"/admin/c/{community.id}/imports", lazy("Import residents")))
    return part


def _form_again(path_params: dict[str, Any]) -> str:
    return f"/admin/c/{int(path_params.get('community_id', 0))}/imports?too_large=1"


async def _index(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    error: str | None = None,
    status_code: int = 200,
    page: int | None = None,
) -> Template:
    community = await community_for(db_session, actor, community_id, *services.IMPORTERS)
    _ = gettext_for(request)
    total = await services.count_runs(db_session, community_id)
    at = paging.window(total, page, RUNS_PAGE)
    return render(
        request,
        "imports/index.html",
        status_code=status_code,
        community=community,
        runs=await services.recent(db_session, community_id, limit=RUNS_PAGE, offset=at.offset),
        runs_total=total,
        page=at.number,
        pages=at.pages,
        columns=[(c, rules.LABELS[c]) for c in rules.COLUMNS],
        max_rows=rules.MAX_ROWS,
        is_admin=actor.has(community_id, "admin"),
        error=error,
    )


@get("/admin/c/{community_id:int}/imports", include_in_schema=False)
async def imports_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    too_large: bool = False,
    page: str = "",
) -> Template:
    """Upload a file of residents; the sample files; the imports made, the newest first, a page at
    a time with their count."""
    if too_large:
        _ = gettext_for(request)
        return await _index(request, db_session, actor, community_id, str(_(uploads.TABLE_TOO_LARGE)), 413)
    return await _index(request, db_session, actor, community_id, page=optional_int(page))


@get("/admin/c/{community_id:int}/imports/sample/{file:str}", include_in_schema=False)
async def sample_file(
    request: Request, community_id: int, file: str, actor: Actor, db_session: AsyncSession
) -> Response:
    """The sample file, its header in the reader's language (either language is read back)."""
    await community_for(db_session, actor, community_id, *services.IMPORTERS)
    name, _dot, fmt = file.rpartition(".")
    if name != "residents" or fmt not in exports.FORMATS:
        raise NotFound()
    return Response(
        files.sample(fmt, request_lang(request)),
        media_type=exports.FORMATS[fmt],
        headers={"content-disposition": f'attachment; filename="{file}"', "cache-control": "no-store"},
    )


@post(
    "/admin/c/{community_id:int}/imports",
    include_in_schema=False,
    request_max_body_size=uploads.TABLE_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(_form_again)},
    middleware=[uploads.oversized_forms(_form_again, uploads.TABLE_REQUEST_LIMIT)],
)
async def upload(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    """The dry run: the file is read, staged and checked; its report is the run's page."""
    try:
        table = await uploads.read_table(request)
        run = await services.check_file(db_session, actor, community_id, table, client_address(request))
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _index(
            request, db_session, actor, community_id, error_message(request, exc), exc.status_code
        )
    return Redirect(f"/admin/c/{community_id}/imports/{run.id}", status_code=303)


def _sentences(request: Request, row: ImportRow) -> list[tuple[str, str]]:
    """A row's errors as (column label, sentence) in the reader's language."""
    _ = gettext_for(request)
    out = []
    for code in row.errors:
        column, message = rules.ERRORS.get(
            code, ("", lazy("Some of the information is missing or not valid."))
        )
        out.append((str(_(rules.LABELS[column])) if column else "", str(_(message, row=row.same_as or ""))))
    return out


async def _run_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    import_id: int,
    part: bool = False,
    error: str | None = None,
    status_code: int = 200,
    confirm_open: bool = False,
) -> Template:
    community, run = await services.run_of(db_session, actor, community_id, import_id)
    context: dict[str, Any] = {
        "community": community,
        "run": run,
        "percent": progress.percent(run.status, run.done_rows, run.total_rows),
        "error": error,
        "confirm_open": confirm_open,
    }
    if not part and run.status in ("checked", "done", "failed"):
        # One more than is shown, to know whether the page leaves any out.
        rejected = await services.rejected_rows(db_session, run, SHOWN_ERRORS + 1)
        context["rejected"] = [(row, _sentences(request, row)) for row in rejected[:SHOWN_ERRORS]]
        context["rejected_more"] = len(rejected) > SHOWN_ERRORS
        context["shown_errors"] = SHOWN_ERRORS
    if not part and run.status == "checked":
        context["forecast"] = await services.forecast(db_session, run)
    if run.status == "done":
        context["cards"] = len(await services.new_without_phone(db_session, run))
    return render(
        request,
        "imports/_progress.html" if part else "imports/run.html",
        status_code=status_code,
        **context,
    )


@get("/admin/c/{community_id:int}/imports/{import_id:int}", include_in_schema=False)
async def run_page(
    request: Request,
    community_id: int,
    import_id: int,
    actor: Actor,
    db_session: AsyncSession,
    part: bool = False,
) -> Template:
    """The dry run's report and its confirmation; then the job's progress (htmx asks for
    `?part=1` every second; without JavaScript the page refreshes itself) and the outcome."""
    return await _run_page(request, db_session, actor, community_id, import_id, part)


@post("/admin/c/{community_id:int}/imports/{import_id:int}/start", include_in_schema=False)
async def start(
    request: Request, community_id: int, import_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    """Queues the checked file for the import job, once its admin said yes."""
    form = await form_data(request)
    if form.get("confirm") != "1":
        return await _run_page(request, db_session, actor, community_id, import_id, confirm_open=True)
    try:
        await services.confirm(db_session, actor, community_id, import_id, client_address(request))
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _run_page(
            request,
            db_session,
            actor,
            community_id,
            import_id,
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    return Redirect(f"/admin/c/{community_id}/imports/{import_id}", status_code=303)


# A rejected row's problem in the file of them, with its column, in the reader's punctuation.
WHERE_WRONG = lazy("%(column)s: %(problem)s")
# A row's problems one after the other, each ending in its own full stop: a space after an English
# one, none after a Chinese 。.
THEN = lazy("%(before)s %(after)s")


def _problems(_: Any, sentences: list[tuple[str, str]]) -> str:
    """A row's problems as the reader writes them one after the other, each with its column."""
    said = [
        str(_(WHERE_WRONG, column=column, problem=sentence)) if column else sentence
        for column, sentence in sentences
    ]
    return (
        functools.reduce(lambda before, after: str(_(THEN, before=before, after=after)), said) if said else ""
    )


@get("/admin/c/{community_id:int}/imports/{import_id:int}/rejected.csv", include_in_schema=False)
async def rejected_file(
    request: Request, community_id: int, import_id: int, actor: Actor, db_session: AsyncSession
) -> Response:
    """The rows that were (or would be) refused, as written, each with what is wrong with it."""
    community, run = await services.run_of(db_session, actor, community_id, import_id)
    _ = gettext_for(request)
    header = [
        str(_(lazy("Row"))),
        *(str(_(rules.LABELS[c])) for c in rules.COLUMNS),
        str(_(lazy("What is wrong"))),
    ]
    rows = [
        [
            row.row_no,
            row.phone_text,
            row.name,
            row.compound,
            row.building,
            row.roles_text,
            row.no_phone_text,
            _problems(_, _sentences(request, row)),
        ]
        for row in await services.rejected_rows(db_session, run)
    ]
    return Response(
        exports.to_csv(header, rows),
        media_type=exports.FORMATS["csv"],
        headers={
            "content-disposition": f'attachment; filename="c{community.id}-import-{run.id}-rejected.csv"',
            "cache-control": "no-store",
        },
    )


@post("/admin/c/{community_id:int}/imports/{import_id:int}/cards", include_in_schema=False)
async def print_cards(
    request: Request, community_id: int, import_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """An A4 sheet of printed cards for the members this import made who have no phone (POST:
    issuing a card is a state change)."""
    _community, run = await services.run_of(db_session, actor, community_id, import_id)
    if run.status != "done":
        raise NotFound()
    sheet, left_out = await card_sheet(
        db_session,
        actor,
        community_id,
        await services.new_without_phone(db_session, run),
        client_address(request),
    )
    community = await db_session.get(Community, community_id)
    _ = gettext_for(request)
    return render(
        request,
        "accounts/cards_print.html",
        community=community,
        cards=sheet,
        title=f"{_('Import residents')} #{run.id}",
        left_out=left_out,
    )


route_handlers = [imports_page, sample_file, upload, run_page, start, rejected_file, print_cards]
