"""Audit entries: who did what, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base
from app.core.uow import Connection, Sql, connection_of, json_param


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        # The redemptions audited before migration 0047, which the view audit_trail leaves out of
        # its redemptions by target (migration 0054): no row written now enters it.
        Index(
            "ix_audit_entries_redeemed_target",
            "target",
            postgresql_where=text("action = 'circle.voucher_redeemed'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # No foreign key (migration 0043): a counter's redemptions all share-locked its scanner's row.
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


_COLUMNS = "audit_entries (community_id, actor_id, action, target, data, address, created_at)"
_INSERT = Sql(
    f"INSERT INTO {_COLUMNS} "  # noqa: S608 - no input in it
    "VALUES (CAST(:community AS bigint), CAST(:actor AS bigint), CAST(:action AS varchar), "
    "CAST(:target AS varchar), CAST(:data AS jsonb), CAST(:address AS varchar), now())"
)


def insert_from(sources: str, *, community_id: str, action: str, target: str, data: str) -> str:
    """The audit row's INSERT for a hot path's own statement: one row per row of the FROM list
    `sources`, the community, action, target and data as SQL expressions over it; the actor and
    the address from the parameters `:actor` and `:address`."""
    return (
        f"INSERT INTO {_COLUMNS} SELECT {community_id}, CAST(:actor AS bigint), {action}, {target}, "  # noqa: S608
        f"{data}, CAST(:address AS varchar), now() FROM {sources}"
    )


async def record(
    db: AsyncSession | Connection,
    *,
    action: str,
    actor_id: int | None,
    community_id: int | None = None,
    target: str = "",
    address: str | None = None,
    **data: Any,
) -> None:
    """One audit row, written in the caller's transaction: a page's session or a hot path's
    connection."""
    conn = await connection_of(db) if isinstance(db, AsyncSession) else db
    await _INSERT.execute(
        conn,
        {
            "community": community_id,
            "actor": actor_id,
            "action": action,
            "target": target,
            "data": json_param(data),
            "address": address,
        },
    )
