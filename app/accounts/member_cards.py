"""Member cards (DESIGN.md §5): issuing a resident's phone card and printed card, printing them
for a building, revoking them, and the member a scanned or typed member code stands for. The
codes themselves are app.accounts.cards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import cards, rules
from app.accounts.models import MemberCard, Membership, User
from app.accounts.services import account_for, active_card, belongs_here_alone, issue_card, lock_cards
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid
from app.core.i18n import lazy
from app.core.rotating import window_end
from app.core.uow import Connection, Sql
from app.places.services import community_for


async def phone_card_code(session: AsyncSession, user_id: int) -> tuple[str, datetime]:
    card = await active_card(session, user_id, "phone")
    if card is None:  # the first time (an imported resident's): issued once, however many ask at once
        await lock_cards(session, user_id)
        card = await active_card(session, user_id, "phone") or await issue_card(session, user_id, "phone")
    now = clock.now()
    code, window = cards.phone_code(card.public_id, card.secret, now)
    # Shown until the window ends; accepted for one more window after that.
    return code, window_end(window)


def printed_card_allowed(user: User, membership: Membership) -> bool:
    return rules.may_hold_printed_card(
        has_phone=bool(user.phone), has_password=bool(user.password_hash), roles=membership.roles
    )


NO_PRINTED_CARD = lazy(
    "A printed card is only for a resident who does not log in with a phone, and never for staff or admins."
)


async def printed_card_for(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    reissue: bool = False,
    address: str | None = None,
) -> str:
    """The code of the resident's printed card (see `printed_card`)."""
    card = await printed_card(session, actor, community_id, user_id, reissue, address)
    return cards.printed_code(card.secret)


async def printed_card(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    reissue: bool = False,
    address: str | None = None,
) -> MemberCard:
    """The resident's printed card (issued on first use; `reissue` revokes the old one). Only for
    an account of this community alone that cannot log in with a phone, never staff or admins."""
    user, membership = await account_for(
        session, actor, community_id, user_id, "admin", "staff", "grid_worker"
    )
    if not printed_card_allowed(user, membership):
        raise Invalid(NO_PRINTED_CARD)
    card = None if reissue else await active_card(session, user_id, "printed")
    if card is None and not reissue:  # the first print: issued once, however many ask at once
        await lock_cards(session, user_id)
        card = await active_card(session, user_id, "printed")
    if card is None:
        card = await issue_card(session, user_id, "printed")
        await audit.record(
            session,
            action="card.printed_issued",
            actor_id=actor.user_id,
            community_id=community_id,
            target=f"user:{user_id}",
            address=address,
        )
    return card


async def printed_cards_for_building(
    session: AsyncSession, actor: Actor, community_id: int, building_id: int, address: str | None = None
) -> tuple[list[tuple[User, Membership, MemberCard]], int]:
    """The printed cards of a building's residents without a phone number, and of those who hold
    one already (existing cards are reused), and how many residents were left out (they have a
    phone number, are staff or admins, or their account also belongs elsewhere). A resident with
    a phone number who has no password yet (imported from a list) may hold a card too, printed
    from their own page: the building's sheet after an import of 2,000 households made one for
    every such resident, hundreds a building, for the few without a phone it is printed for."""
    await community_for(session, actor, community_id, "admin", "staff", "grid_worker")
    holds_one = (
        select(MemberCard.id)
        .where(MemberCard.user_id == User.id, MemberCard.kind == "printed", MemberCard.revoked_at.is_(None))
        .exists()
    )
    rows = (
        await session.execute(
            select(User, Membership, holds_one)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community_id, Membership.building_id == building_id)
            .order_by(Membership.room, User.display_name, User.id)
        )
    ).all()
    sheet: list[tuple[User, Membership, MemberCard]] = []
    for user, membership, held in rows:
        if (
            (user.phone is None or held)
            and printed_card_allowed(user, membership)
            and await belongs_here_alone(session, community_id, user.id)
        ):
            card = await printed_card(session, actor, community_id, user.id, address=address)
            sheet.append((user, membership, card))
    return sheet, len(rows) - len(sheet)


async def revoke_cards(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int, address: str | None = None
) -> None:
    """Revokes the printed card and re-keys the phone card (old screenshots stop working)."""
    await account_for(session, actor, community_id, user_id, "admin", "staff", "grid_worker")
    await session.execute(
        update(MemberCard)
        .where(MemberCard.user_id == user_id, MemberCard.kind == "printed", MemberCard.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    await issue_card(session, user_id, "phone")
    await audit.record(
        session,
        action="card.revoked",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"user:{user_id}",
        address=address,
    )


_PRINTED_CARD = Sql(
    "SELECT user_id, revoked_at FROM member_cards WHERE kind = 'printed' AND secret = :secret"
)
_TYPED_CARD = Sql(
    "SELECT user_id, revoked_at FROM member_cards WHERE kind = 'printed' AND public_id = :public_id"
)
_PHONE_CARD = Sql(
    "SELECT user_id, secret, revoked_at FROM member_cards WHERE kind = 'phone' AND public_id = :public_id"
)


async def resolve_member_code(conn: Connection, code: str) -> int:
    """The user id behind a member code, or a DomainError with code_invalid / code_expired."""
    parsed = cards.parse(code)
    if parsed is None:
        raise DomainError("code_invalid", 422)
    if parsed.kind in ("printed", "typed"):
        card = (
            await _PRINTED_CARD.fetchrow(conn, {"secret": parsed.secret})
            if parsed.kind == "printed"
            else await _TYPED_CARD.fetchrow(conn, {"public_id": parsed.public_id})
        )
        if card is None:
            raise DomainError("code_invalid", 422)
        if card["revoked_at"] is not None:
            raise DomainError(
                "code_invalid", 422, lazy("This card has been replaced. Please use the new card.")
            )
        return int(card["user_id"])
    card = await _PHONE_CARD.fetchrow(conn, {"public_id": parsed.public_id})
    if card is None:
        raise DomainError("code_invalid", 422)
    reason = cards.check_phone_code(parsed, card["secret"], clock.now())
    if reason is None and card["revoked_at"] is not None:
        reason = "code_invalid"
    if reason:
        raise DomainError(reason, 422)
    return int(card["user_id"])


# A code a person typed from a printed card and no card has is mistyped, not a bad QR code.
CARD_TYPED_WRONG = lazy(
    "The card's code you typed is not right. Check it against the card and type it again."
)


async def resolve_member_code_as(conn: Connection, code: str, *, typed: bool) -> int:
    """resolve_member_code, saying of an unknown code that was typed (not read by the camera)
    what to do about it: check it against the card and type it again."""
    try:
        return await resolve_member_code(conn, code)
    except DomainError as exc:
        if typed and exc.code == "code_invalid" and exc.detail is None:
            raise DomainError("code_invalid", exc.status_code, CARD_TYPED_WRONG) from exc
        raise
