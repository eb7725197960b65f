"""Every kind of transfer the demo writes has a name on the statement pages, not its raw code."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import demo
from app.ledger.pages import KIND_LABELS


async def test_every_demo_transfer_kind_has_a_label(engine, tmp_path):
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as s, s.begin():
        await demo.seed(s, uploads_dir=tmp_path)
    async with maker() as s:
        kinds = set((await s.execute(text("SELECT DISTINCT kind FROM ledger_transfers"))).scalars())
    assert "circle_voucher" in kinds
    assert kinds - set(KIND_LABELS) == set()
