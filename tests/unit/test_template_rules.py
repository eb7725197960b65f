"""Templates show what their handler decided; they do not decide which community a page is for."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_picks_a_community_out_of_the_actors_roles() -> None:
    """ "My store orders" and "My vouchers" took the first of the person's communities by id
    (`(actor.roles|list|sort)[:1]`): a rule in a template, wrong for someone in several
    communities. The handler passes the community (the resident's home community is
    app.ledger.admin.community_of's)."""
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"actor\.roles\b", line)
    ]
    assert found == []
