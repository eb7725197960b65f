"""The browser tests' Chromium: which binary, its switches, and one a test process (`THIS_PROCESS`,
which tests/conftest.py's `browser` fixture hands out)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import pytest

# Debian's chromium-headless-shell (the old headless mode, Blink without the browser's UI around
# it) where it is installed, as .ci/run does: measured side by side with the CPU recorder on the
# every-page walk, a visit costs about 70 ms of CPU in all against 100 with the full browser's
# headless mode (200 against 240 with axe and a screenshot), and the browser tests together 238
# CPU-s against 349; it renders with the same engine. Else the full browser, `chromium`;
# JINLIN_CHROMIUM names another.
CHROMIUM = os.environ.get("JINLIN_CHROMIUM") or next(
    (path for path in ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium") if Path(path).exists()),
    "/usr/bin/chromium",
)
# Playwright adds its own switches too (--disable-extensions, --disable-renderer-backgrounding,
# --mute-audio, --disable-features=...,OptimizationHints,MediaRouter and more). Measured side by
# side with the CPU recorder on the every-page walk, these cut nothing and are left out:
# --disable-gpu-rasterization (rasterisation is in software already), --in-process-gpu,
# --disable-site-isolation-trials, --disable-client-side-phishing-detection, Translate among the
# disabled features, and --js-flags=--no-opt.
# A navigation keeps its frame's document host (RenderDocument off, as Chromium did before it):
# the page's document, style, layout and pixels are the same. Measured by sampling the CPU of
# Chromium's processes over the admin's 81 pages (the every-page walk's visit with its measuring
# script), A/B alternated three times: 47 – 53 ms of CPU a visit against 62 – 67 with a new host
# for every document. (--disable-threaded-compositing cut it to 40 ms, but Chromium can then take
# no screenshot.) Chromium reads only the last --disable-features, so this one repeats the list
# Playwright passes (its chromiumSwitches.ts, playwright as locked; checked by
# tests/unit/test_browser_switches.py) and adds RenderDocument to it.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,"
    "HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,ThirdPartyStoragePartitioning,"
    "AvoidCorsURLLoaderRestartOnRedirect,TcpPortRandomizationWin,OptimizationHints,"
    "NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch,msForceBrowserSignIn,"
    "msEdgeUpdateLaunchServicesPreferredVersion"
)
CHROMIUM_ARGS = [
    f"--disable-features={PLAYWRIGHT_DISABLED_FEATURES},RenderDocument",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


class Chromium:
    """Debian's headless Chromium (CHROMIUM) through sync Playwright (never a downloaded
    browser), one a test process: started when a test first needs it, and kept for the tests
    after it: starting Playwright's driver and Chromium again for each module cost about 0.3 CPU-s
    a start (six browser files in one process: 31.2 CPU-s against 29.9 with one start).

    While sync Playwright runs, its event loop is the thread's running loop, and no other loop
    can run in the thread (asyncio.run in a sync fixture cannot either): it is stopped before a
    test of another module that does not use it, before a test that runs on the event loop (an
    async test, or one with an async fixture: `pytest_runtest_setup`), and before the async
    fixtures of the whole session end (a finalizer of the session, added at each start after
    theirs)."""

    def __init__(self) -> None:
        self.playwright: Any = None
        self.browser: Any = None
        self.module: Any = None  # of the last test that used it
        self.args: list[str] = []

    def get(self, request: pytest.FixtureRequest) -> Any:
        self.module = request.module
        # A test module may add switches of its own (CHROMIUM_EXTRA_ARGS): a browser started
        # without them is started again with them, and the next module's without.
        args = [*CHROMIUM_ARGS, *getattr(request.module, "CHROMIUM_EXTRA_ARGS", ())]
        if self.browser is not None and (not self.browser.is_connected() or self.args != args):
            self.stop()  # it crashed or was closed, or has other switches: a new one
        if self.browser is None:
            from playwright.sync_api import sync_playwright  # lazily: only the browser tests start it

            if not Path(CHROMIUM).exists():
                pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium-headless-shell (.ci/run does)")
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
            self.args = args
            request.session.addfinalizer(self.stop)
        return self.browser

    def stop(self) -> None:
        browser, playwright, self.browser, self.playwright = self.browser, self.playwright, None, None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


THIS_PROCESS = Chromium()


def _runs_on_the_loop(item: pytest.Item) -> bool:
    """Whether the test, or a fixture it uses, is a coroutine (runs on the event loop)."""
    if inspect.iscoroutinefunction(getattr(item, "obj", None)):
        return True
    info = getattr(item, "_fixtureinfo", None)
    return info is not None and any(
        inspect.iscoroutinefunction(d.func) or inspect.isasyncgenfunction(d.func)
        for defs in info.name2fixturedefs.values()
        for d in defs
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if THIS_PROCESS.browser is None:
        return
    uses_it = "browser" in getattr(item, "fixturenames", ())
    if _runs_on_the_loop(item) or not (uses_it or getattr(item, "module", None) is THIS_PROCESS.module):
        THIS_PROCESS.stop()
