"""The money API: donations to a wish's or a project's funding goal, Stripe's webhook, and the
JSON endpoints of the offline test Stripe (app.payments.fake), which answer only while the app
uses it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.errors import DomainError, ErrorBody, error_responses
from app.core.settings import Settings
from app.core.web import database
from app.payments import fake, gateway, services, stripe_events
from app.payments.schemas import DonationIn, DonationOut

_DONATION_RESPONSES = {
    **error_responses(409),
    503: ResponseSpec(
        data_container=ErrorBody,
        description="Online payments are not set up (`payments_off`)",
        generate_examples=False,
    ),
}


async def _donation(
    request: Request,
    settings: Settings,
    actor: Actor,
    db: AsyncSession,
    kind: str,
    target_id: int,
    data: DonationIn,
) -> DonationOut:
    donation = await services.donate(
        db,
        settings,
        actor,
        kind,
        target_id,
        amount_cents=data.amount_cents,
        key=data.idempotency_key,
        display_name=data.display_name or "",
        show_name=bool(data.display_name),
        back_url=f"{str(request.base_url).rstrip('/')}/fund/{kind}/{target_id}",
    )
    return DonationOut(donation_id=donation.id, checkout_url=donation.checkout_url)


@post(
    "/api/v1/wishes/{wish_id:int}/donations", tags=["money"], status_code=201, responses=_DONATION_RESPONSES
)
async def api_donate_to_wish(
    request: Request,
    wish_id: int,
    data: JSONBody[DonationIn],
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
) -> DonationOut:
    """A donation to the wish's funding goal: pay at `checkout_url` (Stripe Checkout)."""
    return await _donation(request, settings, actor, db_session, "wish", wish_id, data)


@post(
    "/api/v1/projects/{project_id:int}/donations",
    tags=["money"],
    status_code=201,
    responses=_DONATION_RESPONSES,
)
async def api_donate_to_project(
    request: Request,
    project_id: int,
    data: JSONBody[DonationIn],
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
) -> DonationOut:
    """A donation to the project's funding goal: pay at `checkout_url` (Stripe Checkout)."""
    return await _donation(request, settings, actor, db_session, "project", project_id, data)


@post("/stripe/webhook", include_in_schema=False, status_code=200)
async def stripe_webhook(request: Request, settings: Settings, db_session: AsyncSession) -> dict[str, Any]:
    """Verified over the raw body, stored once by the event's id and acknowledged at once; a job
    (app.payments.jobs) applies it."""
    config = gateway.config_for(settings)
    if config is None:
        raise DomainError("payments_off", 503)
    payload = await request.body()
    try:
        event = gateway.verify_event(payload, request.headers.get("stripe-signature"), config.webhook_secret)
    except gateway.BadSignature:
        raise DomainError("validation_error", 400, "The Stripe signature does not verify.") from None
    await stripe_events.store_event(db_session, event, payload.decode("utf-8"))
    return {"received": True}


# ---------------------------------------------------------------- the offline test Stripe


def _offline(request: Request, settings: Settings) -> gateway.PaymentConfig:
    """The offline test Stripe answers only while the app uses it, and only its own key."""
    config = gateway.config_for(settings)
    if config is None or not config.offline:
        raise fake.FakeError(404, "Unrecognized request URL.")
    if request.headers.get("authorization", "") != f"Bearer {gateway.OFFLINE_API_KEY}":
        raise fake.FakeError(401, "Invalid API Key provided.")
    return config


def _stripe_answer(
    body: dict[str, Any], status: int = 200, background: BackgroundTask | None = None
) -> Response[Any]:
    return Response(body, status_code=status, media_type="application/json", background=background)


async def _fake_call(request: Request, settings: Settings, work: Any) -> Response[Any]:
    try:
        config = _offline(request, settings)
        return await work(config)
    except fake.FakeError as exc:
        return _stripe_answer(exc.body(), exc.status)


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    return fake.unflatten([(k, str(v)) for k, v in form.multi_items()])


@post(gateway.OFFLINE_PATH + "/v1/checkout/sessions", include_in_schema=False, status_code=200)
async def fake_create_session(request: Request, settings: Settings) -> Response[Any]:
    async def work(config: gateway.PaymentConfig) -> Response[Any]:
        params = await _form(request)
        async with database(request).unit_of_work() as db:
            body = await fake.create_session(db, config, params, request.headers.get("idempotency-key"))
        return _stripe_answer(body)

    return await _fake_call(request, settings, work)


@get(gateway.OFFLINE_PATH + "/v1/checkout/sessions", include_in_schema=False)
async def fake_list_sessions(request: Request, settings: Settings) -> Response[Any]:
    async def work(config: gateway.PaymentConfig) -> Response[Any]:
        params = fake.unflatten([(k, v) for k, v in request.query_params.items()])
        async with database(request).unit_of_work() as db:
            return _stripe_answer(await fake.list_sessions(db, params))

    return await _fake_call(request, settings, work)


@get(gateway.OFFLINE_PATH + "/v1/checkout/sessions/{session_id:str}", include_in_schema=False)
async def fake_get_session(request: Request, settings: Settings, session_id: str) -> Response[Any]:
    async def work(config: gateway.PaymentConfig) -> Response[Any]:
        async with database(request).unit_of_work() as db:
            return _stripe_answer(await fake.get_session(db, session_id))

    return await _fake_call(request, settings, work)


@post(gateway.OFFLINE_PATH + "/v1/refunds", include_in_schema=False, status_code=200)
async def fake_refund(request: Request, settings: Settings) -> Response[Any]:
    async def work(config: gateway.PaymentConfig) -> Response[Any]:
        params = await _form(request)
        async with database(request).unit_of_work() as db:
            refund, event = await fake.refund(db, params, request.headers.get("idempotency-key"))
        # Stripe tells the webhook after it answers; so does the fake, once its row is committed.
        task = BackgroundTask(fake.send, config, event) if event else None
        return _stripe_answer(refund, background=task)

    return await _fake_call(request, settings, work)


route_handlers = [
    api_donate_to_wish,
    api_donate_to_project,
    stripe_webhook,
    fake_create_session,
    fake_list_sessions,
    fake_get_session,
    fake_refund,
]
