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


async def reads_after_a_closed_past(
    db: Any, table: str, past: str, statement: uow.Sql
) -> list[dict[str, Any]]:
    """The nodes that read `table` in `statement`'s generic plan, made after `past` (an INSERT of
    many rows, all closed) was analysed: the planner then takes open rows for rare, as on a table
    analysed when nearly every row had been used. Everything is rolled back and the table analysed
    again (ANALYZE's figures are written in place and outlive a rollback)."""
    conn = await uow.connection_of(db)
    await conn.execute(past)
    await conn.execute(f"ANALYZE {table}")
    plan = await generic_plan(conn, statement)
    await db.rollback()
    await (await uow.connection_of(db)).execute(f"ANALYZE {table}")
    await db.rollback()
    return [n for n in nodes(plan) if n.get("Relation Name") == table and n["Node Type"] != "ModifyTable"]
