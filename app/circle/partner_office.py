"""How an organisation's category reads on the partners' pages: a code of the circle's known
categories in the reader's words (app.circle.rules), any other text as it is (a partner's
category such as 医疗机构 is not a provider's, so it is not matched by its words here). Registered with
app.core.organisations when the assembly imports this module (app.domains.register_office_parts),
so neither domain names the other."""

from __future__ import annotations

from collections.abc import Callable

from app.circle import rules
from app.core import organisations


@organisations.category_words_by
def category_words(stored: str, gettext: Callable[[str], str]) -> str:
    known = stored.strip().lower() in rules.SERVICE_CATEGORIES
    return rules.service_category(stored).words(gettext) if known else stored
