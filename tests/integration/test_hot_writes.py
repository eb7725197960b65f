"""What PostgreSQL writes for each hot request beside its rows: the index entries (every index of
every table a scan, an order or a voucher's purchase or redemption writes) and the foreign-key
checks (each a probe and a share lock on the referenced row). Read from the database at head, so
that an index or a foreign key added to one of these tables is a decision made here, with the
reader it serves (docs/scaling.md, "PostgreSQL's share of a hot request"; migration 0043)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Each index and the statements that read it.
INDEXES = {
    "scans": {
        "pk_scans": "the primary key",
        "ix_scans_wrong_digits": "a scanner's wrong typed digits (partial: no entry for a QR code)",
    },
    # A scan sent with an idempotency key (API.md) keeps its answer for a repeat: one more row
    # and one more index entry for every keyed check-in, check-out or wish delivery.
    "scan_replies": {
        "pk_scan_replies": "a scan sent again with its key: the first answer, by scanner and key",
    },
    "event_checkins": {
        "pk_event_checkins": "a check-out's update and lock",
        "uq_event_checkins_event_id": "a person's stays at an event (check-in, check-out)",
        "uq_event_checkins_one_open": "one open stay per person (a check-in's race)",
        "ix_event_checkins_user_id": "a person's events",
        "ix_event_checkins_community_id_checked_in_at": "the figures, the home page, exports",
        "ix_event_checkins_community_id_checked_out_at": "the figures, a partner's progress",
        "ix_event_checkins_queue": "the approval queue",
    },
    "ledger_accounts": {
        "pk_ledger_accounts": "a wallet's update by id",
        "uq_ledger_accounts_wallet": "a member's wallet in a community",
        "uq_ledger_accounts_system": "a community's issuing, store, expiry and settled accounts",
        "uq_ledger_accounts_provider": "a provider's account in a community",
    },
    "ledger_holds": {
        "pk_ledger_holds": "posting and voiding a hold",
        "uq_ledger_holds_idempotency_key": "a repeated hold",
        "ix_ledger_holds_pending_expiry": "the expiry job",
    },
    "ledger_transfers": {
        "pk_ledger_transfers": "a transfer by id",
        "uq_ledger_transfers_idempotency_key": "a repeated transfer",
        "uq_ledger_transfers_hold_id": "a hold posts once",
        "uq_ledger_transfers_reverses_id": "a transfer is reversed once",
        "ix_ledger_transfers_debit": "an account's statement",
        "ix_ledger_transfers_credit": "an account's statement",
        "ix_ledger_transfers_community": "the community's ledger, figures",
    },
    "store_orders": {
        "pk_store_orders": "an order by id",
        "uq_store_orders_user_id_key": "a repeated order",
        "uq_store_orders_pickup_secret": "a pickup scan",
        "ix_store_orders_held_digits": "typed pickup digits",
        "ix_store_orders_held_expiry": "the expiry job",
        "ix_store_orders_community_id_status": "the counter's lists",
        "ix_store_orders_user_id_item_id": "a per-resident limit, a person's orders",
    },
    "store_stock_moves": {
        "pk_store_stock_moves": "the primary key",
        "ix_store_stock_moves_item_id_id": "an item's stock history",
        "uq_store_stock_moves_form_key": "a restock form sent twice (partial: no entry for an order)",
    },
    "circle_vouchers": {
        "pk_circle_vouchers": "a voucher by id",
        "uq_circle_vouchers_secret": "a redemption by QR code",
        "uq_circle_vouchers_user_id_key": "a repeated purchase, a person's vouchers",
        "ix_circle_vouchers_held_digits": "a redemption by typed digits",
        "ix_circle_vouchers_held_expiry": "the expiry job",
        "ix_circle_vouchers_offer_id_created_at": "a monthly quota and limit",
        "ix_circle_vouchers_organisation_id_redeemed_at": "a provider's day and statements",
        "ix_circle_vouchers_closed_digits": (
            "typed digits that no open voucher has (partial: a voucher enters it once, when it closes)"
        ),
    },
    "audit_entries": {
        "pk_audit_entries": "the primary key",
        "ix_audit_entries_community_id": "the community's audit page",
        "ix_audit_entries_redeemed_target": (
            "the circle's log, asking for redemptions audited before migration 0047"
            " (partial: no row written now enters it)"
        ),
    },
}

# The foreign keys left on them: none. Each check share-locked a row that every request of a
# kind shares (the event of a check-in, the scanner of a redemption).
FOREIGN_KEYS: dict[str, set[str]] = {table: set() for table in INDEXES}


async def test_the_hot_tables_have_the_indexes_their_readers_need_and_no_more(db: AsyncSession):
    rows = (
        await db.execute(
            text(
                "SELECT c.relname AS table, i.relname AS index FROM pg_index x "
                "JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE c.relname = ANY(:tables) AND c.relnamespace = current_schema()::regnamespace"
            ),
            {"tables": list(INDEXES)},
        )
    ).all()
    found: dict[str, set[str]] = {table: set() for table in INDEXES}
    for table, index in rows:
        found[table].add(index)
    assert found == {table: set(indexes) for table, indexes in INDEXES.items()}


async def test_the_hot_tables_check_no_foreign_key(db: AsyncSession):
    rows = (
        await db.execute(
            text(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid::regclass::text = ANY(:tables)"
            ),
            {"tables": list(INDEXES)},
        )
    ).all()
    found: dict[str, set[str]] = {table: set() for table in INDEXES}
    for table, name in rows:
        found[table].add(name)
    assert found == FOREIGN_KEYS


async def test_a_check_in_and_a_redemption_fire_no_trigger(db: AsyncSession):
    """Neither hot table has a trigger of its own (a change notification, an audit): a trigger
    added to one is a cost to every request, so it is decided here."""
    rows = (
        await db.execute(
            text(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY(:tables)"
            ),
            {
                "tables": [
                    "scans",
                    "event_checkins",
                    "circle_vouchers",
                    "ledger_holds",
                    "ledger_accounts",
                    "audit_entries",
                ]
            },
        )
    ).all()
    assert rows == []
