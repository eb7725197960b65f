"""test_every_page.py's walk in English: every page of every role in both modes, in a file of its
own so that the test workers (`--dist loadfile`) share the suite's longest walk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ROLES, World
from tests.browser.test_every_page import CHROMIUM_EXTRA_ARGS as CHROMIUM_EXTRA_ARGS  # the walk's Chromium
from tests.browser.test_every_page import LANGS, MODES, walk_every_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGS[1:])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_accessible(
    app: Any, world: World, browser: Any, artifacts: Path, role: str, mode: str, lang: str
) -> None:
    walk_every_page(app, world, browser, artifacts, role, mode, lang)
