"""Debian's chromium driven by Playwright, and what the page tests check on every page:
axe-core finds no violation, nothing is wider than the viewport, a screenshot is kept.

Never ``playwright install``: the browser is /usr/bin/chromium. Without CI a missing
browser or package skips; with CI it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "e2e" / "screenshots"


def missing(*modules: str) -> str | None:
    """Why the browser tests cannot run here, or None."""
    import importlib.util

    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    if not os.path.exists(CHROMIUM):
        return f"chromium is not installed ({CHROMIUM})"
    return None


def launched(*modules: str) -> Iterator[object]:
    """A headless chromium for a module's tests (skip, or fail with CI, when missing)."""
    reason = missing("playwright", *modules)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageCheck:
    """Check and photograph every page a test visits, at the phone's width and the desktop's."""

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.seen: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        for size in (PHONE, WIDE):
            page.set_viewport_size(size)
            label = f"{name} at {size['width']} px ({page.url})"
            width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], f"{label} scrolls sideways: {width}"
            results = self.axe.run(page)
            assert results.violations_count == 0, f"{label}:\n" + "\n".join(
                f"{v['id']} ({v['impact']}): {v['help']}: "
                + "; ".join(n["html"][:160] for n in v["nodes"][:3])
                for v in results.response["violations"])
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}.png"),
                            full_page=True)
        self.seen.append(name)
