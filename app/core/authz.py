"""Who is asking, and what they may do. Checked in services, not only in templates."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.errors import Forbidden

STAFF_ROLES = frozenset({"staff", "admin"})
CARE_ROLES = frozenset({"grid_worker", "staff", "admin"})


@dataclass(frozen=True)
class Actor:
    user_id: int
    display_name: str
    # community_id -> roles held there
    roles: dict[int, frozenset[str]] = field(default_factory=dict)
    # community ids a street admin oversees (all communities of their streets)
    street_communities: frozenset[int] = frozenset()
    street_ids: frozenset[int] = frozenset()

    def roles_in(self, community_id: int) -> frozenset[str]:
        roles = self.roles.get(community_id, frozenset())
        if "admin" in roles:
            roles = roles | STAFF_ROLES
        return roles

    def has(self, community_id: int, *wanted: str) -> bool:
        held = self.roles_in(community_id)
        if "street_admin" in wanted and community_id in self.street_communities:
            return True
        return any(role in held for role in wanted)

    def require(self, community_id: int, *wanted: str) -> None:
        if not self.has(community_id, *wanted):
            raise Forbidden()

    def is_member(self, community_id: int) -> bool:
        return community_id in self.roles

    @property
    def admin_of(self) -> list[int]:
        return sorted(c for c in self.roles if "admin" in self.roles[c])

    @property
    def staff_of(self) -> list[int]:
        return sorted(c for c in self.roles if self.roles[c] & STAFF_ROLES)

    @property
    def care_of(self) -> list[int]:
        return sorted(c for c in self.roles if self.roles[c] & CARE_ROLES)
