"""The progress of long work a job does while a person waits on its page (an export, an import):
one way to record it and one way to show it.

The job records its progress in short transactions of its own (`beside`), beside the work's own,
so the page sees it advance. The page includes the `progress_bar` macro of
templates/_progress.html: a bar that htmx asks for again every second while the work is queued
or running (the page's `?part=1` fragment), with a plain refresh for a browser without
JavaScript (`noscript_refresh`), and what the caller puts in it once the work is done.

How far something is toward a goal (an agreement's commitment, a funding goal) is shown through
`percent_of`, rounded to the nearest: 2 of 3 is 67 %, not 66 %."""

from __future__ import annotations

import math
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.sql import Executable

# The states of a piece of work a job does; a page polls while it is in one of WAITING.
WAITING = ("queued", "running")


async def beside(engine: AsyncEngine, statement: Executable) -> None:
    """Runs `statement` (a progress update) in a short transaction of its own."""
    async with async_sessionmaker(engine)() as session, session.begin():
        await session.execute(statement)


def percent(status: str, done: int, total: int) -> int:
    """How far the work is, 0 to 100; done is 100 whatever the counts say."""
    if status == "done":
        return 100
    if total <= 0:
        return 0
    return max(0, min(100, 100 * done // total))


def percent_of(done: int | Fraction, whole: int | Fraction) -> int:
    """`done` as a whole percentage of `whole`, rounded to the nearest (a half up): 2 of 3 is 67.
    Nearly there is never shown as there: 199 of 200 is 99, not 100; past the goal it goes on
    (3 of 2 is 150), for the caller to cap where a bar needs it. 0 when there is no whole."""
    if whole <= 0:
        return 0
    exact = Fraction(done) * 100 / Fraction(whole)
    rounded = math.floor(exact + Fraction(1, 2))
    return 99 if rounded >= 100 > exact else rounded
