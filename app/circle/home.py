"""The service circle's share of the home page (app.core.homes): its tile for residents, the
admin's pending offers, and the shop page for the members of each provider."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle.models import Offer
from app.core import homes, organisations
from app.core.authz import Actor
from app.core.i18n import lazy


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    cid = community.id
    part = homes.HomePart(
        tiles=[
            homes.Tile(f"/circle/c/{cid}", lazy("15-minute service circle"), "circle", 35),
            homes.Tile("/circle/me/vouchers", lazy("My vouchers"), "qr", 45),
        ]
    )
    if actor.has(cid, "grid_worker"):
        # Scanning a resident's card to buy for them is a grid worker's main job: a first-screen tile.
        part.tiles.append(homes.Tile(f"/circle/c/{cid}/for-resident", lazy("Buy for a resident"), "card", 2))
    elif actor.has(cid, "staff", "admin"):
        part.links.append((f"/circle/c/{cid}/for-resident", lazy("Service circle: buy for a resident")))
    if actor.has(cid, "admin"):
        pending = await session.scalar(
            select(func.count())
            .select_from(Offer)
            .where(Offer.community_id == cid, Offer.status == "pending")
        )
        part.panels.append(
            homes.Panel(
                "today",
                lazy("Today"),
                figures=[
                    homes.Figure(
                        lazy("Service offers to approve"),
                        int(pending or 0),
                        f"/circle/admin/c/{cid}",
                        attention=bool(pending),
                        order=50,
                        unit=lazy("services"),
                    )
                ],
                order=10,
            )
        )
        part.links.append((f"/circle/admin/c/{cid}", lazy("Service circle: providers and offers")))
        part.links.append((f"/circle/admin/c/{cid}/statements", lazy("Service circle: monthly statements")))
    return part


@homes.account_part
async def home_shop(session: AsyncSession, actor: Actor) -> list[homes.Panel]:
    """The shop page of each provider the person acts for, even if they live in no community."""
    mine = await organisations.acts_for(session, actor.user_id)
    shops = await organisations.providers(session, sorted(mine))
    if not shops:
        return []
    return [
        homes.Panel(
            "circle_shops",
            lazy("My service shop"),
            [homes.Entry(ref.name, "", f"/circle/shop/{ref.id}") for ref in shops.values()],
            action=(f"/circle/shop/{next(iter(shops))}", lazy("Scan a voucher")),
            order=6,
        )
    ]
