"""create_app(): the only place that assembles the application."""

from __future__ import annotations

import gc
from pathlib import Path

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from app import domains
from app.accounts.actor_cache import ActorCache
from app.accounts.services import actor_for_token
from app.core import clock, edge, errors, figures, money, rendering
from app.core.assets import StaticAssets
from app.core.authz import Actor
from app.core.changes import ChangeFeed, hear_after_commit
from app.core.database import ENGINE_OPTIONS, PAGE_POOL, resolve_database_url
from app.core.replica import ReportsDatabase, provide_report_session
from app.core.security import security_headers
from app.core.settings import Settings, get_settings
from app.core.uow import Database, before_send
from app.core.web import (
    SMALL_ANSWER,
    before_request,
    provide_actor,
    provide_connection,
    provide_optional_actor,
)
from app.ledger.words import duration_words, transfer_words
from app.notices.pages import unread_badge

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = Path(__file__).resolve().parent / "static"
# The static files' versions, computed once when the process starts (app.core.assets).
ASSETS = StaticAssets(STATIC)


def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["transfer_words"] = transfer_words  # what a transfer was for, in the page's language
    env.filters["duration"] = duration_words  # 135 minutes read as 2 h 15 min, in the page's language
    # Minutes shown as hours by the one rule of every figure of hours (to a tenth, rounded down),
    # and minutes by key as hours that add up to the hours of their sum.
    env.filters["hours"] = lambda minutes: f"{figures.hours(minutes):.1f}"
    env.filters["hours_parts"] = figures.hours_parts
    # gettext/ngettext come from each page's context (the request's language).
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    # Every time a page shows goes through this one filter (the community's time zone).
    env.filters["local"] = clock.local_filter
    # Typed opening hours and service times, each time range in them kept whole on a narrow line.
    env.filters["time_ranges"] = clock.time_ranges
    # Every amount of money a page shows, and the currency's name in labels (app.core.money).
    env.globals["money"] = money.money_in_page
    env.globals["currency_name"] = money.currency_in_page
    env.globals["hundredths_name"] = money.hundredths_in_page
    # A static file's address with its version: `{{ static('app.css') }}`.
    env.globals["static"] = ASSETS.url
    return env


def route_handlers() -> list:
    domains.load_scan_handlers()
    domains.load_funding_targets()
    handlers: list = []
    for module in domains.controller_modules():
        handlers.extend(module.route_handlers)
    for handler in handlers:
        if any(path.startswith("/api/v1/") for path in handler.paths):
            errors.document_errors(handler)
    return handlers


def _settle_gc() -> None:
    """Moves what start-up made (modules, routes, templates) out of the collector's reach, and
    lets the youngest generation grow before a collection: a request makes a few thousand
    short-lived objects, and collecting every 700 allocations cost the scans API a measurable
    share of its CPU."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


# Libraries that log each routine step at INFO: the job worker three lines for every run of a
# job (several a minute), Stripe's client and httpx every call. At WARNING their failures still reach
# the log, and the app's own lines and a request's errors are not buried under them.
QUIET_LOGGERS = {
    name: {"level": "WARNING", "propagate": True} for name in ("procrastinate", "httpx", "stripe")
}


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    url = resolve_database_url(settings.database_url, settings.data_dir)
    db_config = SQLAlchemyAsyncConfig(
        connection_string=url,
        engine_config=EngineConfig(**{**ENGINE_OPTIONS, **PAGE_POOL}),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        set_default_exception_handler=False,
    )

    database = Database(url)
    reports = ReportsDatabase(url, settings.database_replica_url)  # dashboards and exports
    changes = ChangeFeed(url)
    # A logout or a rights change answers once this worker has heard its notification.
    db_config.before_send_handler = hear_after_commit(
        changes, before_send(db_config.session_scope_key), db_config.session_scope_key
    )
    actors = ActorCache(changes)

    async def find_actor(token: str, kind: str) -> Actor | None:
        return await actor_for_token(database, settings, token, kind, actors)

    domains.load_ledger_words()
    domains.load_checks()  # the admin's verify page checks the money too

    def provide_settings() -> Settings:
        return settings

    domains.register_partner_progress()
    domains.load_figures()
    domains.load_exports()
    domains.register_office_parts()
    domains.connect_organisations()
    rendering.page_facts(unread_badge)  # the unread count beside the inbox link of every page

    return Litestar(
        route_handlers=[
            *route_handlers(),
            create_static_files_router(
                path="/static",
                directories=[STATIC],
                name="static",
                send_as_attachment=False,
                include_in_schema=False,
                middleware=[ASSETS.caching],  # a year for a versioned address
            ),
        ],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "actor": Provide(provide_actor),
            "maybe_actor": Provide(provide_optional_actor),
            "conn": Provide(provide_connection),
            "report_session": Provide(provide_report_session),
        },
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="jl_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=["/api/", "/healthz", "/readyz", "/stripe/webhook", "/offline-stripe/v1/"],
        ),
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(template_environment()),
        ),
        exception_handlers=errors.exception_handlers,
        request_class=edge.EdgeRequest,
        before_request=before_request,
        before_send=[security_headers],
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, exclude_opt_key=SMALL_ANSWER),
        openapi_config=OpenAPIConfig(
            title="Jinlin API",
            version="1.0.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        logging_config=LoggingConfig(
            log_exceptions="debug", disable_stack_trace={404, 401, 403, 409, 422}, loggers={**QUIET_LOGGERS}
        ),
        request_max_body_size=12 * 1024 * 1024,
        on_startup=[database.open, changes.start, *domains.startup_hooks(settings), _settle_gc],
        on_shutdown=[*domains.shutdown_hooks(settings), changes.stop, database.close, reports.dispose],
        state=State(
            {
                "settings": settings,
                "database": database,
                "reports": reports,
                "actors": actors,
                "find_actor": find_actor,
                **domains.worker_memos(changes),
                "db_config": db_config,
            }
        ),
        debug=False,
    )
