"""What the partners' pages share: the labels of their choices, the success lines, the page
with both, and reading their forms' dates, counts and chosen ids."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request
from litestar.response import Template

from app.core import form_keys, organisations
from app.core.errors import Invalid
from app.core.i18n import gettext_for, lazy
from app.core.web import optional_int, render
from app.partners import progress

# The categories offered in the forms (any other may be typed): (value, label msgid).
CATEGORIES = [
    ("medical", lazy("Health and medical care")),
    ("elderly", lazy("Care for the elderly")),
    ("legal", lazy("Legal advice")),
    ("repair", lazy("Repairs")),
    ("cleaning", lazy("Cleaning and environment")),
    ("education", lazy("Education and children")),
    ("culture", lazy("Culture and sport")),
    ("venue", lazy("Rooms and venues")),
    ("funding", lazy("Money and goods")),
    ("other", lazy("Other")),
]
CATEGORY_LABELS = dict(CATEGORIES)
COMMITMENT_LABELS = {
    "wishes": lazy("Wishes delivered"),
    "volunteer_hours": lazy("Volunteer hours (hours)"),
    "resources": lazy("Resources listed"),
    "projects": lazy("Projects joined"),
}
KIND_LABELS = {"partner": lazy("Partner unit"), "provider": lazy("Service provider")}
STATUS_LABELS = {
    "open": lazy("Open"),
    "in_progress": lazy("In progress"),
    "done": lazy("Done"),
    "followed_up": lazy("Followed up"),
    "available": lazy("Not used yet"),
    "used": lazy("In a project"),
    "matched": lazy("In a project"),
    "pending": lazy("Waiting for confirmation"),
    "confirmed": lazy("Confirmed"),
    "rejected": lazy("Not confirmed"),
}
# Who an admin may make a project's owner from the community's own people.
OWNER_ROLES = ["admin", "staff", "grid_worker", "volunteer"]
SAVED = {
    "organisation": lazy("The organisation was created."),
    "agreement": lazy("The agreement was saved."),
    "member": lazy("The member was added."),
    "member_removed": lazy("The member was removed. They no longer act for the organisation."),
    "admin": lazy("The member is now an admin of the organisation too."),
    "left": lazy("You left the organisation."),
    "resource": lazy("The resource was listed."),
    "need": lazy("The need was listed."),
    "project": lazy("The project was created."),
    "step": lazy("The project moved on."),
    "task": lazy("The task list was updated."),
    "registration": lazy("Your registration was sent. The community's admin will confirm it."),
    "decided": lazy("The registration was decided."),
}


def labels() -> dict[str, Any]:
    return {
        "categories": CATEGORIES,
        "category_labels": CATEGORY_LABELS,
        "commitment_labels": COMMITMENT_LABELS,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "commitments": progress.COMMITMENTS,
    }


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    gettext = gettext_for(request)
    saved = request.query_params.get("saved", "")
    context.setdefault("notice", gettext(SAVED[saved]) if saved in SAVED else None)
    context.setdefault("error", None)
    context.setdefault("form_key", form_keys.new())  # the creating forms' key (app.core.form_keys)
    context.setdefault("category_words", lambda stored: organisations.category_words(stored, gettext))
    return render(request, template, status_code=status_code, **labels(), **context)


def parse_date(value: str | None, field_name: str) -> date:
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise Invalid(lazy("Please choose a date."), field=field_name) from exc
    if not 2000 <= day.year <= 2100:
        raise Invalid(lazy("Please choose a date between 2000 and 2100."), field=field_name)
    return day


def count(form: dict[str, str], name: str) -> int:
    value = form.get(name, "").strip()
    if not value:
        return 0
    number = optional_int(value)
    if number is None or not 0 <= number <= 2**31 - 1:
        raise Invalid(lazy("Please enter whole numbers."), field=name)
    return number


def one_id(form: dict[str, str], name: str) -> int:
    number = optional_int(form.get(name))
    if number is None or number < 1:
        raise Invalid(lazy("Please choose one."), field=name)
    return number


def ids(values: list[str]) -> list[int]:
    found = [optional_int(v) for v in values]
    return [v for v in found if v is not None and v >= 1]
