"""The imports' JSON API: the same dry run, confirmation and job as the pages, for an operator's
script (the file as base64 in JSON)."""

from __future__ import annotations

import base64
import binascii

from litestar import Request, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import uploads
from app.core.authz import Actor
from app.core.errors import Invalid
from app.core.i18n import gettext_for
from app.core.web import client_address
from app.imports import rules, services
from app.imports.models import ImportRun
from app.imports.schemas import ImportCounts, ImportOut, ImportRequest, RowError

SHOWN_ERRORS = 200


async def _out(request: Request, session: AsyncSession, run: ImportRun) -> ImportOut:
    _ = gettext_for(request)
    if run.status == "checked":
        found = await services.forecast(session, run)
        counts = ImportCounts(found.created, found.joined, found.unchanged, found.rejected, found.total)
    else:
        counts = ImportCounts(run.created, run.joined, run.unchanged, run.rejected, run.total_rows)
    errors = [
        RowError(
            row.row_no, rules.ERRORS[code][0], code, str(_(rules.ERRORS[code][1], row=row.same_as or ""))
        )
        for row in await services.rejected_rows(session, run, SHOWN_ERRORS)
        for code in row.errors
        if code in rules.ERRORS
    ]
    return ImportOut(run.id, run.status, run.total_rows, run.done_rows, counts, errors)  # type: ignore[arg-type]


@post("/api/v1/communities/{community_id:int}/imports", tags=["community admin"], status_code=201)
async def api_import(
    community_id: int, data: JSONBody[ImportRequest], actor: Actor, db_session: AsyncSession, request: Request
) -> ImportOut:
    """A file of residents (columns phone, name, compound, building, roles, no_phone; a header in
    Chinese or English), checked row by row; with `dry_run: false` its import is queued too."""
    try:
        raw = base64.b64decode(data.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(uploads.TABLE_UNKNOWN, field="content_base64") from exc
    if len(raw) > uploads.TABLE_MAX_BYTES:
        raise Invalid(uploads.TABLE_TOO_LARGE, field="content_base64")
    table = uploads.TableFile(uploads.sniff_table(raw), raw, data.filename or "residents.csv")
    address = client_address(request)
    run = await services.check_file(db_session, actor, community_id, table, address)
    if not data.dry_run:
        run = await services.confirm(db_session, actor, community_id, run.id, address)
    return await _out(request, db_session, run)


@get("/api/v1/communities/{community_id:int}/imports/{import_id:int}", tags=["community admin"])
async def api_import_run(
    community_id: int, import_id: int, actor: Actor, db_session: AsyncSession, request: Request
) -> ImportOut:
    """An import: its status and progress, and its counts (the forecast until it is confirmed)."""
    _community, run = await services.run_of(db_session, actor, community_id, import_id)
    return await _out(request, db_session, run)


@post(
    "/api/v1/communities/{community_id:int}/imports/{import_id:int}/start",
    tags=["community admin"],
    status_code=200,
)
async def api_import_start(
    community_id: int, import_id: int, actor: Actor, db_session: AsyncSession, request: Request
) -> ImportOut:
    """Queues a checked file's import (once: again is 409 `already_done`)."""
    run = await services.confirm(db_session, actor, community_id, import_id, client_address(request))
    return await _out(request, db_session, run)


route_handlers = [api_import, api_import_run, api_import_start]
