"""Forms people fill in are laid out alike: a form whose fields have labels is a `.form`, so each
label is bold and stands apart from the field above it (the wish form's and the ledger's labels
ran into the fields over them in plain text)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)


def test_every_form_with_labelled_fields_is_laid_out_as_a_form() -> None:
    loose = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in FORM.finditer(text):
            attributes, body = match.group(1), match.group(2)
            classes = re.search(r'class="([^"]*)"', attributes)
            names = set(classes.group(1).split()) if classes else set()
            # A filter bar (GET, .filters) lays its labels out its own way.
            if "<label for=" in body and not names & {"form", "filters"}:
                line = text[: match.start()].count("\n") + 1
                loose.append(f"{path.relative_to(TEMPLATES)}:{line}")
    assert loose == []
