"""How an organisation's category reads on the partners' pages: a code of the circle's known
categories in the reader's words (app.circle.rules), any other text as it is (a partner's
category such as 医疗机构 is not a provider's, so it is not matched by its words here); and on a
provider's office page, the way to its shop page. Registered with app.core.organisations when the
assembly imports this module (app.domains.register_office_parts), so neither domain names the
other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import rules
from app.core import organisations
from app.core.i18n import lazy


@organisations.category_words_by
def category_words(stored: str, gettext: Callable[[str], str]) -> str:
    known = stored.strip().lower() in rules.SERVICE_CATEGORIES
    return rules.service_category(stored).words(gettext) if known else stored


@dataclass(frozen=True)
class OfficeSection:
    template: str
    context: dict[str, Any]


@organisations.office_part("provider")
async def shop(
    session: AsyncSession, actor: Any, organisation_id: int, communities: list[int]
) -> OfficeSection | None:
    """A provider's members find its shop page from the office page too (scanning vouchers, the
    day's redemptions, the month's settlement): the office page showed a barber its agreements
    and resources but no way to its shop."""
    found = (await organisations.providers(session, [organisation_id])).get(organisation_id)
    if found is None:
        return None
    return OfficeSection(
        "partners/_office_section.html",
        {
            "title": lazy("Service shop: vouchers and settlement"),
            "entries": [(found.name, f"/circle/shop/{found.id}")],
            "empty": lazy("No services yet."),
        },
    )
