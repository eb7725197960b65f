"""What micro-wishes count towards a partner unit's agreement (app.domains hands it over)."""

from __future__ import annotations

from app.wishes.services import count_delivered

COUNTERS = {"wishes": count_delivered}
