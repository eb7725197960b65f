"""One entry for every scan (API.md `POST /api/v1/scans`): the code tells its kind, and the
domain that owns that kind decides. Domains register handlers at import time:

    @scanning.handler("JE1", atomic=True)     # event kiosk codes
    @scanning.handler("member@event", atomic=True)  # a member code scanned with an event_id
    @scanning.handler("member@counter")       # a member code scanned at the store counter
    @scanning.handler("JP1", "digits")        # pickup codes and their 8 digits

A handler gets the request's connection (app.core.uow), the actor, the scan and its ScanLog, and
returns a ScanOutcome; refusals are raised as DomainError with the codes of API.md. The scan is
logged either way: the caller writes the log row unless the handler wrote it in its own
statement (`ScanLog.written`). A refusal must leave nothing else behind, so a handler runs
inside a savepoint that a refusal rolls back, in a transaction with its log row, unless it is
registered `atomic`: its writes are all or nothing already (one statement, or a transaction of
its own), so the scan needs neither (docs/architecture.md: one statement is its own
transaction), and the scan path spares their four round trips.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.core.authz import Actor
from app.core.codes import typed_code
from app.core.errors import DomainError
from app.core.i18n import lazy
from app.core.uow import Connection


@dataclass(frozen=True)
class ScanRequest:
    code: str
    event_id: int | None = None
    action: str | None = None  # "checkin" | "checkout"
    idempotency_key: str | None = None
    # "counter" when the store counter scans a member card; None otherwise.
    context: str | None = None
    # Pages may ask to see what a scan would do before confirming (e.g. a pickup hand-over).
    preview: bool = False
    address: str | None = None

    def __post_init__(self) -> None:
        # Every typed-code path builds a ScanRequest: the code is read as the person meant it
        # ("9171 9784", full-width digits) once, here, before its kind is told.
        object.__setattr__(self, "code", typed_code(self.code))


@dataclass
class ScanOutcome:
    result: str  # "checked_in", "checked_out", "picked_up", ...
    data: dict[str, Any] = field(default_factory=dict)
    # A partial template that shows this outcome on the scanner page (domain-owned).
    template: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"result": self.result, **self.data}


@dataclass
class ScanLog:
    """A scan's row in the scan log. The use case that decides the scan may write it in its own
    statement (app.scans.services.log_cte), success or refusal, and then sets `written`; whatever
    it leaves unwritten the caller writes afterwards."""

    actor: Actor
    request: ScanRequest
    written: bool = False
    # What the handler learnt before it decided (the event a kiosk code names), for the row of
    # a refusal; an outcome's own data and the request's event_id come first.
    facts: dict[str, Any] = field(default_factory=dict)


ScanHandler = Callable[..., Awaitable[ScanOutcome]]
_HANDLERS: dict[str, list[ScanHandler]] = {}
_ATOMIC: set[str] = set()
_REPEATS: dict[str, bool] = {}
TYPED_WRONG = lazy("The code you typed is not right. Check it and type it again.")


def typed_refusal(exc: DomainError) -> DomainError:
    """A typed code that is not known is a mistyped one, not a bad QR code: the scanner page and
    a shop's page say so instead of 二维码无效 and "Please scan again" (a refusal with words of
    its own keeps them)."""
    if exc.code == "code_invalid" and exc.detail is None:
        return DomainError("code_invalid", exc.status_code, TYPED_WRONG, **exc.extra)
    return exc


# What a handler of a shared kind (8 typed digits: a pickup, a voucher) raises when the code is
# not one of its own for this scanner; the next handler of the kind is asked then.
_NOT_MINE = ("code_invalid", "forbidden", "not_found")

DIGITS = re.compile(r"^[0-9]{8}$")
# Typed digits that no open code has, but that a code of this scanner's was used with this long
# ago or less (shown again, or typed by a second person at the counter), are answered "already
# used", not "check the digits": one window for every kind that shares the 8 digits.
TYPED_AGAIN_WITHIN = timedelta(days=7)
# Typed digits are one of 10^8 numbers: someone who types numbers at random would, in time, hit
# the open vouchers of their shop or the orders waiting at their counter. A scanner's wrong typed
# digits (the scan log's code_invalid) are counted: past TYPED_DIGITS_TRIES within
# app.core.codes.TYPED_DIGITS_WINDOW, typed digits are refused (rate_limited) until the window has
# moved on; a QR code scanned, which no one guesses, is not.
TYPED_DIGITS_TRIES = 20


def handler(*kinds: str, atomic: bool = False, repeats: bool = False) -> Callable[[ScanHandler], ScanHandler]:
    """Registers a code kind's handler. Several domains may share a kind ("digits": the 8 digits
    of a pickup code and of a voucher look alike): each is asked in turn, in a savepoint of its
    own, until one does not refuse with `code_invalid`, `forbidden` or `not_found`.

    `repeats`: the handler itself answers a scan sent again with the idempotency key of the one
    that succeeded as it answered that one (the key kept on its own row: a pickup's, a
    voucher's), and claims the key with app.scans.services' `claim_key` so that it serves no other
    scan. For the other kinds the scan entry keeps the answer (app.scans.services)."""

    def register(fn: ScanHandler) -> ScanHandler:
        for kind in kinds:
            handlers = _HANDLERS.setdefault(kind, [])
            if fn not in handlers:
                handlers.append(fn)
            if atomic:
                _ATOMIC.add(kind)
            _REPEATS[kind] = _REPEATS.get(kind, True) and repeats
        return fn

    return register


def answers_repeats(request: ScanRequest) -> bool:
    """Whether every handler of the scan's kind answers a repeat of its key itself (`handler`'s
    `repeats`); a scan refused before any handler runs changes nothing, so it needs no kept answer."""
    if not request.code or len(request.code) > 200:
        return True
    return _REPEATS.get(kind_of(request), True)


ScanSetup = Callable[[Any], AbstractContextManager[None]]
_SETUPS: list[ScanSetup] = []


def setup(fn: ScanSetup) -> ScanSetup:
    """Registers `fn(app_state)`, a context manager around every scan that gives a domain's
    handlers what they need of the app (its secret, this worker's memory of hot rows)."""
    _SETUPS.append(fn)
    return fn


@contextmanager
def prepared(state: Any) -> Iterator[None]:
    with ExitStack() as stack:
        for fn in _SETUPS:
            stack.enter_context(fn(state))
        yield


EventPage = Callable[[Any, Actor, int, bool], Awaitable[Any]]
_EVENT_PAGE: list[EventPage] = []


def event_page(fn: EventPage) -> EventPage:
    """Registers `fn(session, actor, event_id, scanner)`, which loads the event a scanner page
    is opened for (`/scan?event_id=`) and, with `scanner`, refuses in words whoever may not scan
    members in or out there. The domain that owns events registers it."""
    _EVENT_PAGE[:] = [fn]
    return fn


async def event_for_page(session: Any, actor: Actor, event_id: int | None, *, scanner: bool = False) -> Any:
    if event_id is None or not _EVENT_PAGE:
        return None
    return await _EVENT_PAGE[0](session, actor, event_id, scanner)


def atomic(request: ScanRequest) -> bool:
    """Whether the scan's handler is all or nothing by itself (one statement, or a transaction
    of its own), so that the scan and its log row need no transaction around them; so is a scan
    refused before any handler runs (its log row is one statement)."""
    if not request.code or len(request.code) > 200:
        return True
    kind = kind_of(request)
    handlers = _HANDLERS.get(kind)
    return not handlers or (len(handlers) == 1 and kind in _ATOMIC)


def kind_of(request: ScanRequest) -> str:
    code = request.code.strip().upper()
    if DIGITS.match(code):
        return "digits"
    prefix = code.split("-", 1)[0]
    # A member card's typed code may come without its dashes (JC1EYMPP3EH5V).
    if prefix in ("JM1", "JC1") or code.startswith("JC1"):
        if request.event_id is not None:
            return "member@event"
        return "member@counter"
    return prefix


async def dispatch(conn: Connection, actor: Actor, request: ScanRequest, log: ScanLog) -> ScanOutcome:
    if not request.code or len(request.code) > 200:
        raise DomainError("code_invalid", 422)
    kind = kind_of(request)
    handlers = _HANDLERS.get(kind)
    if not handlers:
        raise DomainError("code_invalid", 422)
    if len(handlers) == 1 and kind in _ATOMIC:
        return await handlers[0](conn, actor, request, log)
    refusals: list[DomainError] = []
    for handler_fn in handlers:
        try:
            async with conn.transaction():  # a savepoint: a refusal takes back what the handler wrote
                return await handler_fn(conn, actor, request, log)
        except DomainError as exc:
            if len(handlers) == 1 or exc.code not in _NOT_MINE:
                raise
            refusals.append(exc)
    # Nobody's code: the most telling refusal (a wrong number before "not for you").
    raise next((r for r in refusals if r.code == "code_invalid"), refusals[0])
