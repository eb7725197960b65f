"""ledger accounts of service-circle providers and a settled account; compounds' locations

A provider of the 15-minute service circle receives the points of the vouchers it redeems on an
account of its own, one per organisation and community (`kind = 'provider'`, naming the
organisation); closing a month's statement moves them on to the community's `settled` account.
Both are system accounts: no cached balance, derived from the transfers (DESIGN.md §4). The
unique index of system accounts now leaves provider accounts out, since a community has many.

Compounds get a location (lat/lng), from which residents' distances to providers are measured.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _check(table: str, name: str, condition: str, *, new: bool = False) -> None:
    """(Re)places the check constraint named as the models' naming convention names it."""
    if not new:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS ck_{table}_{name}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_{name} CHECK ({condition})")


def upgrade() -> None:
    op.add_column("ledger_accounts", sa.Column("organisation_id", sa.BigInteger(), nullable=True))
    _check("ledger_accounts", "kind", "kind IN ('wallet', 'issuing', 'store', 'expiry', 'provider', 'settled')")
    _check("ledger_accounts", "provider_has_organisation", "(kind = 'provider') = (organisation_id IS NOT NULL)")
    op.drop_index("uq_ledger_accounts_system", table_name="ledger_accounts")
    op.create_index(
        "uq_ledger_accounts_system",
        "ledger_accounts",
        ["community_id", "kind"],
        unique=True,
        postgresql_where=sa.text("user_id IS NULL AND organisation_id IS NULL"),
    )
    op.create_index(
        "uq_ledger_accounts_provider",
        "ledger_accounts",
        ["community_id", "organisation_id"],
        unique=True,
        postgresql_where=sa.text("organisation_id IS NOT NULL"),
    )
    op.add_column("compounds", sa.Column("lat", sa.Float(), nullable=True))
    op.add_column("compounds", sa.Column("lng", sa.Float(), nullable=True))
    _check("compounds", "lat", "lat IS NULL OR (lat >= -90 AND lat <= 90)", new=True)
    _check("compounds", "lng", "lng IS NULL OR (lng >= -180 AND lng <= 180)", new=True)


def downgrade() -> None:
    op.drop_column("compounds", "lng")
    op.drop_column("compounds", "lat")
    op.execute("DELETE FROM ledger_accounts WHERE kind IN ('provider', 'settled')")
    op.drop_index("uq_ledger_accounts_provider", table_name="ledger_accounts")
    op.drop_index("uq_ledger_accounts_system", table_name="ledger_accounts")
    op.create_index(
        "uq_ledger_accounts_system",
        "ledger_accounts",
        ["community_id", "kind"],
        unique=True,
        postgresql_where=sa.text("user_id IS NULL"),
    )
    op.execute("ALTER TABLE ledger_accounts DROP CONSTRAINT ck_ledger_accounts_provider_has_organisation")
    _check("ledger_accounts", "kind", "kind IN ('wallet', 'issuing', 'store', 'expiry')")
    op.drop_column("ledger_accounts", "organisation_id")
