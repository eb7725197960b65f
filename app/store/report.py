"""The store's monthly report: per item over a period, the orders placed by how they ended, the
pickups of the period and their points, goods in and the stock now. The report page, its files
and the store's export read `report_rows`; the dashboards' figures (app.store.figures) count
pickups by the same SQL (`standing_pickups`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger import services as ledger


def standing_pickups(order: str, lo: str, hi: str) -> str:
    """SQL: the order `order` (an alias of store_orders) was handed over within [lo, hi) and its
    points stand (an admin's reversal of the pickup's transfer gave them back): what the dashboards'
    orders picked up and turnover count, and the monthly report's pickup columns, so that the
    report's pickups of a month add up to the dashboard's."""
    return (
        f"{order}.status = 'picked_up' AND {order}.picked_up_at >= {lo} AND {order}.picked_up_at < {hi} "
        f"AND {ledger.not_reversed(order + '.transfer_id')}"
    )


@dataclass
class ReportRow:
    """One item over a period. Two ways of counting its orders, each named for what it counts:
    the orders placed in the period by how they ended (`ordered`, of them `picked_up`,
    `cancelled`, `expired`; one still held is in none of the three), and the pickups of the period
    whenever their order was placed (`orders_picked_up`, `items_picked_up`, `turnover`), which are
    the dashboards' orders picked up and love supermarket turnover."""

    item_id: int
    name: str
    ordered: int
    picked_up: int
    cancelled: int
    expired: int
    orders_picked_up: int
    items_picked_up: int
    turnover: int
    restocked: int
    donated: int
    stock: int


_REPORT = (
    "SELECT i.id, i.name, i.stock, "  # noqa: S608 - the store's and the ledger's own fragments, no input
    "COALESCE(SUM(o.quantity) FILTER (WHERE o.id IS NOT NULL), 0), "
    "COALESCE(SUM(o.quantity) FILTER (WHERE o.status = 'picked_up'), 0), "
    "COALESCE(SUM(o.quantity) FILTER (WHERE o.status = 'cancelled'), 0), "
    "COALESCE(SUM(o.quantity) FILTER (WHERE o.status = 'expired'), 0), "
    "p.orders, p.items, p.points, "
    "(SELECT COALESCE(SUM(m.delta), 0) FROM store_stock_moves m WHERE m.item_id = i.id "
    " AND m.kind = 'restock' AND m.created_at >= :s AND m.created_at < :e), "
    "(SELECT COALESCE(SUM(m.delta), 0) FROM store_stock_moves m WHERE m.item_id = i.id "
    " AND m.kind = 'donation' AND m.created_at >= :s AND m.created_at < :e) "
    "FROM store_items i LEFT JOIN store_orders o ON o.item_id = i.id "
    "AND o.created_at >= :s AND o.created_at < :e "
    "CROSS JOIN LATERAL (SELECT count(*) AS orders, COALESCE(SUM(q.quantity), 0) AS items, "
    f" COALESCE(SUM(q.points), 0) AS points FROM store_orders q WHERE q.item_id = i.id "
    f" AND {standing_pickups('q', ':s', ':e')}) p "
    "WHERE i.community_id = :c GROUP BY i.id, p.orders, p.items, p.points ORDER BY i.display_order, i.id"
)


async def report_rows(
    session: AsyncSession, community_id: int, start: datetime, end: datetime
) -> list[ReportRow]:
    """Per item over the instants [start, end) (the month's days in the community's time zone):
    the orders placed by how they ended, the pickups and their points, goods in, and the stock
    now (the monthly report's rows and the store's export)."""
    rows = (await session.execute(text(_REPORT), {"c": community_id, "s": start, "e": end})).all()
    return [
        ReportRow(
            item_id=int(r[0]),
            name=str(r[1]),
            stock=int(r[2]),
            ordered=int(r[3]),
            picked_up=int(r[4]),
            cancelled=int(r[5]),
            expired=int(r[6]),
            orders_picked_up=int(r[7]),
            items_picked_up=int(r[8]),
            turnover=int(r[9]),
            restocked=int(r[10]),
            donated=int(r[11]),
        )
        for r in rows
    ]
