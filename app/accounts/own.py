"""What a person changes of their own account: its password and the name it shows. The only way
for an account that belongs to more than one community, to a street or to an organisation, which
no community's admin may manage (app.accounts.services.belongs_here_alone)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.accounts.services import check_display_name, check_password_strength, end_every_session
from app.core import audit
from app.core.errors import Invalid, NotFound
from app.core.i18n import lazy
from app.core.security import burn_password_check, hash_password, verify_password

WRONG_PASSWORD = lazy("That is not your current password.")


async def change_own_password(
    session: AsyncSession, user_id: int, current: str, new: str, address: str | None = None
) -> None:
    """A person changes their own password (the only way for an account that belongs to more
    than one community, to a street or to an organisation, which no community's admin may reset):
    the current one checked, the new one strong enough; every session and token of the account
    ends, a thief's too, and every worker is told before the answer. Audited."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is None or not user.password_hash:
        burn_password_check(current or "-")
        raise Invalid(WRONG_PASSWORD, field="current")
    if not verify_password(user.password_hash, current or "")[0]:
        raise Invalid(WRONG_PASSWORD, field="current")
    check_password_strength(new)
    user.password_hash = hash_password(new)
    await end_every_session(session, user.id)
    await audit.record(
        session, action="password.changed", actor_id=user.id, target=f"user:{user.id}", address=address
    )


async def rename_self(session: AsyncSession, user_id: int, name: str, address: str | None = None) -> None:
    """A person changes the name their account shows (the only way for an account that belongs to
    more than one community, to a street or to an organisation, whose name no community's admin
    may change). Audited."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound()
    name = check_display_name(name)
    if name == user.display_name:
        return
    before, user.display_name = user.display_name, name
    await session.flush()
    await audit.record(
        session,
        action="user.renamed",
        actor_id=user_id,
        target=f"user:{user_id}",
        address=address,
        before=before,
    )
