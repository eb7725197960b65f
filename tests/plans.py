"""PostgreSQL's plans of the app's statements, for the tests that hold a statement to an index:
the plan a pooled connection settles on, and its nodes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from app.core import uow


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A plan's node and every node under it."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


async def generic_plan(conn: Any, statement: uow.Sql) -> dict[str, Any]:
    """The plan a pooled connection settles on (generic after five runs), for any values. Inside
    the caller's transaction: plan_cache_mode is set for it alone."""
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.execute("PREPARE plan_read AS " + statement.text)
    found = await conn.fetchval(
        "EXPLAIN (FORMAT JSON) EXECUTE plan_read(" + ", ".join(["NULL"] * len(set(statement.names))) + ")"
    )
    await conn.execute("DEALLOCATE plan_read")
    return (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
