"""Every composed statement of the hot paths, read whole: its final SQL, as PostgreSQL receives
it, is kept in tests/unit/sql/<name>.sql, one CTE a line. A change to a shared piece (the ledger's
transfer insert, the wallet-covers rule, the scan log row) shows here in every statement it
reaches. After a deliberate change: JINLIN_UPDATE_SQL=1 pytest tests/unit/test_composed_sql.py,
then read the diff."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from app.circle import redeeming, vouchers
from app.core.uow import Sql
from app.events import checkins
from app.ledger import holds, transfers
from app.store import placing

SNAPSHOTS = Path(__file__).parent / "sql"

COMPOSED: dict[str, Sql] = {
    "check_in": checkins.CHECK_IN,
    "check_in_logged": checkins.CHECK_IN_LOGGED,
    "check_out": checkins.CHECK_OUT,
    "check_out_logged": checkins.CHECK_OUT_LOGGED,
    "place_order_in_one": placing._PLACE_IN_ONE,
    "reserve_and_insert_order": placing._RESERVE_AND_INSERT,
    "award_known": transfers._AWARD_KNOWN,
    "award_audited": transfers._AWARD_AUDITED,
    "credit_wallet": transfers._CREDIT_WALLET,
    "debit_wallet": transfers._DEBIT_WALLET,
    "insert_reversal": transfers._INSERT_REVERSAL,
    "hold": holds._HOLD,
    "post_hold": holds._POST_HOLD,
    "buy_voucher_in_one": vouchers._BUY_IN_ONE,
    "redeem_voucher_in_one": redeeming._REDEEM_IN_ONE,
}


def _readable(sql: str) -> str:
    one_line = re.sub(r"\s+", " ", sql).strip()
    return re.sub(r"\), (\w+) AS \(", r"),\n\1 AS (", one_line) + "\n"


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_composed_statement_reads_as_kept(name: str) -> None:
    path = SNAPSHOTS / f"{name}.sql"
    text = _readable(COMPOSED[name].text)
    if os.environ.get("JINLIN_UPDATE_SQL") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot yet: JINLIN_UPDATE_SQL=1 to write {path.name}"
    assert text == path.read_text(encoding="utf-8")


def test_each_transfer_insert_is_the_ledgers_one() -> None:
    """The transfer's column list is written once (ledger.transfers.insert_transfer)."""
    columns = "(idempotency_key, community_id, debit_account_id, credit_account_id, amount, kind, "
    for name, statement in COMPOSED.items():
        for found in re.findall(r"INSERT INTO ledger_transfers \(([^)]*)\)", statement.text):
            assert f"({found})".startswith(columns), name
