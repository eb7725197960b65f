"""An import of residents (migration 0028): the run, and the file's rows staged beside it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base


class ImportRun(Base):
    """One uploaded file: `checked` once its rows are staged and checked (the dry run), `queued`
    when an admin confirmed it, `running` while the job imports it, then `done` (or `failed`);
    `expired` when its staged rows were cleared. The counts are the outcome once done."""

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('checked', 'queued', 'running', 'done', 'failed', 'expired')", name="status"
        ),
        CheckConstraint("kind IN ('csv', 'xlsx')", name="kind"),
        Index("ix_import_runs_status", "status", postgresql_where="status IN ('queued', 'running')"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200), server_default="")
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), server_default="checked")
    total_rows: Mapped[int] = mapped_column(Integer, server_default="0")
    done_rows: Mapped[int] = mapped_column(Integer, server_default="0")
    created: Mapped[int] = mapped_column(Integer, server_default="0")
    joined: Mapped[int] = mapped_column(Integer, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Recorded with every chunk; a running import not heard of for a while is run again
    # (migration 0030).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")


class ImportRow(Base):
    """A row of the file as written (the texts, for the report) and as read (phone, roles,
    places), with the codes of what is wrong with it, and once imported its person and outcome
    (`created`, `joined`, `unchanged`, `rejected`). Unlogged: a working copy of the file."""

    __tablename__ = "import_rows"
    __table_args__ = (PrimaryKeyConstraint("run_id", "row_no"), {"prefixes": ["UNLOGGED"]})

    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"))
    row_no: Mapped[int] = mapped_column(Integer)
    phone_text: Mapped[str] = mapped_column(String(200), server_default="")
    name: Mapped[str] = mapped_column(String(200), server_default="")
    compound: Mapped[str] = mapped_column(String(200), server_default="")
    building: Mapped[str] = mapped_column(String(200), server_default="")
    roles_text: Mapped[str] = mapped_column(String(200), server_default="")
    no_phone_text: Mapped[str] = mapped_column(String(200), server_default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    no_phone: Mapped[bool] = mapped_column(Boolean, server_default="false")
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}")
    compound_id: Mapped[int | None] = mapped_column(BigInteger)
    building_id: Mapped[int | None] = mapped_column(BigInteger)
    errors: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    same_as: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(String(10))
