"""The invariants `jinlin ledger verify` checks (API.md) and a community admin's verify page
shows: the ledger's own (app.ledger.verify) and those that layers above register here at import
(money's, app.payments.checks; the vouchers' cash, app.circle.checks), found by the assembly
(app.domains.load_checks). Each check says how many rows it looked at and the offending ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class Check:
    name: str
    description: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# (session, community id or None for all) -> the checks it made
Checker = Callable[[AsyncSession, int | None], Awaitable[list[Check]]]
_checkers: list[Checker] = []


def checker(fn: Checker) -> Checker:
    """Registers `fn` (once) among the checks that run after the ledger's."""
    if fn not in _checkers:
        _checkers.append(fn)
    return fn


def registered() -> tuple[Checker, ...]:
    return tuple(_checkers)
