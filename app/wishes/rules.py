"""Pure decisions about wishes: who sees which name, and which step each status allows."""

from __future__ import annotations

KINDS = ("item", "service")
STATUSES = ("submitted", "published", "rejected", "claimed", "delivered")
# The statuses of a wish in the public pool (邻+圆梦池): waiting for someone, taken up, come true.
# Anyone who reads the community's wishes sees these; the others only their own side and the
# community's care roles.
IN_POOL = ("published", "claimed", "delivered")
# The same as SQL, for the statements that choose wishes by it (app.wishes.reading).
IN_POOL_SQL = "(" + ", ".join(f"'{status}'" for status in IN_POOL) + ")"
# The statuses in which a wish with a funding goal takes donations: in the pool and not yet come
# true (a wish come true, or rejected, is offered no more money).
TAKES_DONATIONS = ("published", "claimed")

# The only moves a wish makes (API.md): forward, and a claim released back to the pool.
MOVES: dict[str, dict[str, str]] = {
    "review": {"submitted": "published|rejected"},
    "claim": {"published": "claimed"},
    "release": {"claimed": "published"},
    "deliver": {"claimed": "delivered"},
    "thank": {"delivered": "delivered"},
}

# Where a step finds a wish past it, the step has already been done; anywhere else it conflicts.
_DONE_AFTER: dict[str, set[str]] = {
    "review": {"published", "rejected", "claimed", "delivered"},
    "claim": {"claimed", "delivered"},
    "release": {"published"},
    "deliver": {"delivered"},
    "thank": set(),
}


def refusal(step: str, status: str) -> str | None:
    """None when `step` may run on a wish in `status`, else the code of API.md: `already_done`
    when the wish is past the step, `conflict` when it has not reached it (or never will)."""
    if status in MOVES[step]:
        return None
    return "already_done" if status in _DONE_AFTER[step] else "conflict"


def mask_name(name: str) -> str:
    """杨依伯 -> 杨**: the family name and one star for each other character."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    return name[0] + "*" * (len(name) - 1)
