"""The store's scan kinds, registered with app.scans.scanning at import (controllers imports this):

- "JP1" and "digits": a pickup code (QR) or its 8 digits. The API (`preview=False`) hands over at
  once; a preview (or a scan from the counter scanner page, context "counter") shows the resident,
  the item and a big "Hand over" button that posts to /store/orders/{id}/hand-over.
- "member@counter": a member code scanned at the counter without an event: the holder's open
  orders to hand over and a link to place an order for them.
"""

from __future__ import annotations

from typing import Any

from app.accounts.member_cards import resolve_member_code
from app.core.authz import Actor
from app.core.codes import typed_code
from app.core.uow import Connection
from app.scans import scanning
from app.scans import services as scan_log
from app.store import orders

PICKUP_TEMPLATE = "store/_scan_pickup.html"
MEMBER_TEMPLATE = "store/_scan_member.html"


def _data(pickup: orders.Pickup) -> dict[str, Any]:
    return {
        "order_id": pickup.order_id,
        "community_id": pickup.community_id,
        "user_id": pickup.user_id,
        "display_name": pickup.resident,
        "item": pickup.item,
        "quantity": pickup.quantity,
        "points": pickup.points,
    }


@scanning.handler("JP1", "digits", repeats=True)
async def pickup_scan(
    conn: Connection, actor: Actor, request: scanning.ScanRequest, log: scanning.ScanLog
) -> scanning.ScanOutcome:
    pickup, handed_with = await orders.pickup_for_code(conn, actor, typed_code(request.code))
    # The counter scanner page (context "counter") shows the goods first, with a big button.
    if request.preview or request.context == "counter":
        if not (handed_with and request.idempotency_key and handed_with == request.idempotency_key):
            await orders.check_pickup(conn, pickup)
        return scanning.ScanOutcome("pickup_ready", _data(pickup), template=PICKUP_TEMPLATE)
    done = await orders.hand_over(
        conn, actor, pickup.order_id, scan_key=request.idempotency_key, address=request.address
    )
    # In the handler's savepoint (scanning.dispatch): a key used for another scan takes it back.
    await scan_log.claim_key(conn, actor, request)
    return scanning.ScanOutcome("picked_up", _data(done), template=PICKUP_TEMPLATE)


@scanning.handler("member@counter")
async def member_scan(
    conn: Connection, actor: Actor, request: scanning.ScanRequest, log: scanning.ScanLog
) -> scanning.ScanOutcome:
    user_id = await resolve_member_code(conn, request.code)
    user, communities, open_orders = await orders.member_at_counter(conn, actor, user_id)
    return scanning.ScanOutcome(
        "member_orders",
        {
            "user_id": user["id"],
            "display_name": user["display_name"],
            "community_id": communities[0],
            "communities": communities,
            "orders": [
                {
                    "order_id": o.order_id,
                    "item": o.item,
                    "quantity": o.quantity,
                    "points": o.points,
                    "community_id": o.community_id,
                }
                for o in open_orders
            ],
        },
        template=MEMBER_TEMPLATE,
    )
