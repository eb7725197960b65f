"""attempt_counters: one row per login phone, client address or join-code address

Failed logins were rows in login_failures, counted before each password check and written after
it: 64 simultaneous guesses all counted the same few rows, and 35 reached the password check
before the lock. An attempt now takes its place in the counter row with one conditional upsert
before the check (the row lock orders them), so at most the limit get through.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_attempt_counters")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_attempt_counters_attempts")),
    )
    op.drop_index("ix_login_failures_phone_at", table_name="login_failures")
    op.drop_index("ix_login_failures_address_at", table_name="login_failures")
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"], unique=False)
    op.create_index("ix_login_failures_phone_at", "login_failures", ["phone", "at"], unique=False)
    op.drop_table("attempt_counters")
