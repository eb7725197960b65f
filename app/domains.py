"""The domains that make up the app, in one list: routes, models and background hooks."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import click

from app.core.changes import ChangeFeed
from app.core.settings import Settings

# Order matters only for readability; each domain registers its own routes.
DOMAINS = [
    "core",
    "places",
    "accounts",
    "notices",
    "ledger",
    "events",
    "scans",
    "store",
    "partners",
    "wishes",
    "reports",
    "circle",
    "imports",
    # After the domains whose funding goals its demo gives money to.
    "payments",
]


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


# A domain's routes, in the layout of STYLE.md: its JSON API, its pages, and its admin pages
# where they have a module of their own.
ROUTE_MODULES = ("api", "pages", "admin_pages")


def controller_modules() -> list[ModuleType]:
    modules = []
    for domain in DOMAINS:
        for part in ROUTE_MODULES:
            module = _optional(f"app.{domain}.{part}")
            if module is not None:
                modules.append(module)
    return modules


def load_scan_handlers() -> None:
    """Imports every domain's ``scan_handlers`` module, which registers its code kinds with
    app.scans.scanning (the scan entry, which names no domain)."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.scan_handlers")


def load_figures() -> None:
    """Imports every domain's ``figures`` module (the ledger's too), which registers its named
    figures with app.core.figures for the dashboards, the stats API and the exports."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.figures")


def load_exports() -> None:
    """Imports every domain's ``exports`` module (the ledger's too), which registers its
    spreadsheet exports with app.core.exports."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.exports")


def load_ledger_words() -> None:
    """Imports every domain's ``ledger_words`` module, which registers with app.ledger.words how
    the transfers of its kinds are put into words (the ledger names no domain)."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.ledger_words")


def load_checks() -> None:
    """Imports every domain's ``checks`` module, which registers with app.core.checks what
    `jinlin ledger verify` and the admin's verify page check beside the ledger (money's: each
    payment against its contributions)."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.checks")


def worker_memos(feed: ChangeFeed) -> dict[str, Any]:
    """The app's state entries in which each worker remembers a domain's hot rows while `feed`
    tells it of their changes (`app.<domain>.memos.remember(feed)`)."""
    state: dict[str, Any] = {}
    for domain in DOMAINS:
        module = _optional(f"app.{domain}.memos")
        if module is not None:
            state.update(module.remember(feed))
    return state


def load_funding_targets() -> None:
    """Imports every domain's ``funding`` module, which registers its funding targets (a wish,
    a project) with app.payments.targets, and its ``cash`` module, which registers what a paid,
    expired or refunded Checkout does to what it sells (a voucher) with app.payments.kinds (the
    money seam names no domain)."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.funding")
        _optional(f"app.{domain}.cash")


def import_models() -> None:
    """Imports every domain's models so Base.metadata knows all tables (Alembic, tests)."""
    importlib.import_module("app.core.audit")
    for domain in DOMAINS:
        _optional(f"app.{domain}.models")


def _hooks(kind: str, settings: Settings) -> list[Callable[..., Any]]:
    hooks: list[Callable[..., Any]] = []
    for domain in DOMAINS:
        module = _optional(f"app.{domain}.jobs")
        hook = getattr(module, kind, None) if module else None
        if hook is not None:
            hooks.append(hook(settings))
    return hooks


def load_jobs() -> None:
    """Imports every domain's ``jobs`` module, which registers its periodic jobs with
    app.core.jobs (`jinlin serve` through the start-up hooks, `jinlin worker` directly)."""
    load_funding_targets()  # the payments' job applies Checkouts to what domains sell
    for domain in DOMAINS:
        _optional(f"app.{domain}.jobs")


def cli_groups() -> list[click.Group]:
    """Each domain's ``jinlin`` commands (`app.<domain>.cli.group`)."""
    groups = []
    for domain in DOMAINS:
        module = _optional(f"app.{domain}.cli") if domain != "core" else None
        if module is not None:
            groups.append(module.group)
    return groups


def startup_hooks(settings: Settings) -> list[Callable[..., Any]]:
    return _hooks("on_startup", settings)


def shutdown_hooks(settings: Settings) -> list[Callable[..., Any]]:
    return _hooks("on_shutdown", settings)


def demo_modules() -> list[ModuleType]:
    """Domains that add to the demo district (`app.<domain>.demo.seed(session, community_id)`)."""
    modules = []
    for domain in DOMAINS:
        module = _optional(f"app.{domain}.demo")
        if module is not None:
            modules.append(module)
    return modules


def register_partner_progress() -> None:
    """Imports every domain's ``partner_progress`` module, which registers with
    app.core.organisations what it counts towards partner units' agreements (micro-wishes: the
    wishes a unit delivered), so that the partners count it without either domain naming the
    other."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.partner_progress")


def connect_organisations() -> None:
    """Imports every domain's ``answers`` module, which answers app.core.organisations' questions
    about organisations (the partners': home community, this year's agreement, members,
    providers); micro-wishes and the service circle only ask, so no domain names another."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.answers")


def register_office_parts() -> None:
    """Imports every domain's ``partner_office`` module, which registers with
    app.core.organisations its section of an organisation's office page, so neither domain
    names the other."""
    for domain in DOMAINS:
        _optional(f"app.{domain}.partner_office")
