"""ledger: accounts, immutable transfers, holds, policies; procrastinate's job queue schema

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:10:00

The job queue (procrastinate, PostgreSQL only) gets its schema here rather than at run time,
so every process finds it ready. It is procrastinate's own ``schema.sql`` of the locked version
(3.10.x); a later procrastinate upgrade adds its migration files as new Alembic revisions.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

IMMUTABLE_FUNCTION = """
CREATE FUNCTION ledger_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger transfers are append-only: % refused (post a reversing transfer instead)', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
"""

PROCRASTINATE_TABLES = [
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
]
PROCRASTINATE_FUNCTIONS = [
    "procrastinate_defer_jobs_v1",
    "procrastinate_defer_periodic_job_v2",
    "procrastinate_fetch_job_v2",
    "procrastinate_finish_job_v1",
    "procrastinate_cancel_job_v1",
    "procrastinate_retry_job_v1",
    "procrastinate_retry_job_v2",
    "procrastinate_notify_queue_job_inserted_v1",
    "procrastinate_notify_queue_abort_job_v1",
    "procrastinate_trigger_function_status_events_insert_v1",
    "procrastinate_trigger_function_status_events_update_v1",
    "procrastinate_trigger_function_scheduled_events_v1",
    "procrastinate_trigger_abort_requested_events_procedure_v1",
    "procrastinate_unlink_periodic_defers_v1",
    "procrastinate_register_worker_v1",
    "procrastinate_unregister_worker_v1",
    "procrastinate_update_heartbeat_v1",
    "procrastinate_prune_stalled_workers_v1",
]
PROCRASTINATE_TYPES = [
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
]


def _procrastinate_schema() -> str:
    import procrastinate

    return (Path(procrastinate.__file__).parent / "sql" / "schema.sql").read_text()


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("held", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('wallet', 'issuing', 'store', 'expiry')", name=op.f("ck_ledger_accounts_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'wallet') = (user_id IS NOT NULL)", name=op.f("ck_ledger_accounts_wallet_has_user")
        ),
        sa.CheckConstraint(
            "balance >= 0 OR kind = 'issuing'", name=op.f("ck_ledger_accounts_balance_not_negative")
        ),
        sa.CheckConstraint(
            "held >= 0 AND held <= balance OR kind = 'issuing'",
            name=op.f("ck_ledger_accounts_held_within_balance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
    )
    op.create_index(op.f("ix_ledger_accounts_user_id"), "ledger_accounts", ["user_id"], unique=False)
    op.create_index(
        "uq_ledger_accounts_wallet",
        "ledger_accounts",
        ["community_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    op.create_index(
        "uq_ledger_accounts_system",
        "ledger_accounts",
        ["community_id", "kind"],
        unique=True,
        postgresql_where=sa.text("user_id IS NULL"),
    )

    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("debit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_transfers_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id", name=op.f("ck_ledger_transfers_distinct_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfers")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transfers_idempotency_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_transfers_reverses_id")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_ledger_transfers_hold_id")),
    )
    op.create_index("ix_ledger_transfers_debit", "ledger_transfers", ["debit_account_id", "id"])
    op.create_index("ix_ledger_transfers_credit", "ledger_transfers", ["credit_account_id", "id"])
    op.create_index("ix_ledger_transfers_community", "ledger_transfers", ["community_id", "id"])
    op.execute(IMMUTABLE_FUNCTION)
    op.execute(
        "CREATE TRIGGER ledger_transfers_no_update_delete BEFORE UPDATE OR DELETE ON ledger_transfers "
        "FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable()"
    )
    op.execute(
        "CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfers_immutable()"
    )

    op.create_table(
        "ledger_holds",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("debit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.Column("void_reason", sa.String(length=500), server_default="", nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_holds_amount_positive")),
        sa.CheckConstraint("status IN ('pending', 'posted', 'voided')", name=op.f("ck_ledger_holds_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_holds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_holds_idempotency_key")),
    )
    op.create_index(
        "ix_ledger_holds_pending_expiry",
        "ledger_holds",
        ["expires_at"],
        postgresql_where=sa.text("status = 'pending' AND expires_at IS NOT NULL"),
    )
    op.create_index("ix_ledger_holds_debit", "ledger_holds", ["debit_account_id", "status"])

    op.create_table(
        "ledger_policies",
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("expiry_months", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "expiry_months IS NULL OR expiry_months BETWEEN 1 AND 120", name=op.f("ck_ledger_policies_months")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_ledger_policies")),
    )

    # procrastinate's schema: run through the driver's cursor so its `%` and `:` stay literal.
    cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(_procrastinate_schema())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS " + ", ".join(PROCRASTINATE_TABLES) + " CASCADE")
    for name in PROCRASTINATE_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name} CASCADE")
    for name in PROCRASTINATE_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {name} CASCADE")
    op.drop_table("ledger_policies")
    op.drop_index("ix_ledger_holds_debit", table_name="ledger_holds")
    op.drop_index("ix_ledger_holds_pending_expiry", table_name="ledger_holds")
    op.drop_table("ledger_holds")
    op.execute("DROP TRIGGER IF EXISTS ledger_transfers_no_truncate ON ledger_transfers")
    op.execute("DROP TRIGGER IF EXISTS ledger_transfers_no_update_delete ON ledger_transfers")
    op.drop_table("ledger_transfers")
    op.execute("DROP FUNCTION IF EXISTS ledger_transfers_immutable()")
    op.drop_index("uq_ledger_accounts_system", table_name="ledger_accounts")
    op.drop_index("uq_ledger_accounts_wallet", table_name="ledger_accounts")
    op.drop_index(op.f("ix_ledger_accounts_user_id"), table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
