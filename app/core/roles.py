"""The roles a person holds and their labels: below everything that shows or checks them
(app.core.authz, every page's `role_label`, the memberships' CHECK)."""

from __future__ import annotations

COMMUNITY_ROLES = ("resident", "volunteer", "grid_worker", "staff", "admin")
STREET_ROLES = ("street_admin",)


def _l(message: str) -> str:
    return message


# English labels (translated where shown); extraction keyword `_l`.
ROLE_LABELS = {
    "resident": _l("Resident"),
    "volunteer": _l("Volunteer"),
    "grid_worker": _l("Grid worker"),
    "staff": _l("Staff"),
    "admin": _l("Admin"),
    "street_admin": _l("Street admin"),
}
