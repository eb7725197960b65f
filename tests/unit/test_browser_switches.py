"""The browser tests' --disable-features repeats every feature Playwright disables (Chromium reads
only the last --disable-features on its command line): a Playwright upgrade that disables one more
fails here rather than quietly turning it back on."""

from __future__ import annotations

import re
from pathlib import Path

import playwright

from tests.chromium import CHROMIUM_ARGS, PLAYWRIGHT_DISABLED_FEATURES


def test_the_browser_keeps_what_playwright_disables() -> None:
    driver = Path(playwright.__file__).parent / "driver" / "package" / "lib"
    bundle = next(
        p for p in (driver / "coreBundle.js", driver / "server/chromium/chromiumSwitches.js") if p.exists()
    )
    block = re.search(r"disabledFeatures = \[(.*?)\]", bundle.read_text(encoding="utf-8"), re.S)
    assert block, f"no disabledFeatures list in {bundle}"
    theirs = set(re.findall(r'^\s*"(\w+)"', block.group(1), re.M))
    assert len(theirs) > 5, theirs
    ours = [arg for arg in CHROMIUM_ARGS if arg.startswith("--disable-features=")]
    assert len(ours) == 1
    assert theirs <= set(PLAYWRIGHT_DISABLED_FEATURES.split(",")), theirs - set(
        PLAYWRIGHT_DISABLED_FEATURES.split(",")
    )
    assert ours[0].removeprefix("--disable-features=").split(",")[-1] == "RenderDocument"
