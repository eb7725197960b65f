"""The process's own routes: health and readiness, the language and elder-mode switches."""

from __future__ import annotations

from litestar import Request, Response, get, head, post
from litestar.response import Redirect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import MESSAGES
from app.core.i18n import ELDER_COOKIE, LANG_COOKIE, LANGS, gettext_for
from app.core.settings import Settings
from app.core.web import safe_next

YEAR = 60 * 60 * 24 * 365


@get("/healthz", include_in_schema=True, sync_to_thread=False, tags=["health"])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["health"])
async def readyz(request: Request, db_session: AsyncSession) -> Response:
    if not await _database_answers(db_session):
        # A monitor reads `status`; the rest is API.md's error shape, as every 5xx answer has.
        detail = gettext_for(request)(MESSAGES["unavailable"])
        unready = {"status": "unavailable", "status_code": 503, "code": "unavailable", "detail": detail}
        return Response(unready, status_code=503)
    return Response({"status": "ready"})


# A load balancer or monitor may ask with HEAD (RFC 9110: a server that answers GET answers
# HEAD): the same status, no body.
@head("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz_head() -> None:
    return None


@head("/readyz", include_in_schema=False)
async def readyz_head(db_session: AsyncSession) -> Response[None]:
    return Response(None, status_code=200 if await _database_answers(db_session) else 503)


async def _database_answers(db_session: AsyncSession) -> bool:
    try:
        await db_session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False
    return True


@post("/prefs/lang", include_in_schema=False)
async def set_lang(request: Request, settings: Settings) -> Redirect:
    form = await request.form()
    lang = str(form.get("lang", ""))
    response = Redirect(safe_next(str(form.get("next", "/"))), status_code=303)
    if lang in LANGS:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=YEAR, httponly=True, samesite="lax", secure=settings.secure_cookies
        )
    return response


@post("/prefs/elder", include_in_schema=False)
async def set_elder(request: Request, settings: Settings) -> Redirect:
    form = await request.form()
    on = str(form.get("elder", "0")) == "1"
    response = Redirect(safe_next(str(form.get("next", "/"))), status_code=303)
    response.set_cookie(
        ELDER_COOKIE,
        "1" if on else "0",
        max_age=YEAR,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


route_handlers = [healthz, readyz, healthz_head, readyz_head, set_lang, set_elder]
