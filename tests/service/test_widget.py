"""The embeddable widget in a real headless Chromium against the live uvicorn server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[Any]:
    """A Playwright page in Debian's Chromium (Playwright's own browser download cannot work offline)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: scripts/setup.sh should have installed it")
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        yield page
        browser.close()


def test_widget_asks_cites_and_follows_up(page: Any, live_url: str, tmp_path: Path) -> None:
    page.goto(f"{live_url}/static/demo.html")
    page.select_option(".mc-role", "clinician")
    page.fill(".mc-input", "What is the treatment for neuromyelitis optica?")
    page.click(".mc-send")
    page.wait_for_selector(".mc-answer .mc-summary", timeout=60_000)
    answer = page.locator(".mc-answer").first
    assert "methylprednisolone" in answer.locator(".mc-summary").inner_text().lower()
    assert "pending human review" in answer.locator(".mc-banner").inner_text()
    assert answer.locator(".mc-status .mc-current").inner_text() == "Submitted"
    # every citation link points at a reference rendered in the same answer
    hrefs = answer.locator(".mc-cite").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs
    for href in set(hrefs):
        assert answer.locator(href).count() == 1, href
    assert "NEMOS" in answer.locator(".mc-references").inner_text()
    assert page.locator(".mc-label").inner_text() == "Have a follow-up question?"

    page.fill(".mc-input", "what about during pregnancy?")
    page.click(".mc-send")
    page.wait_for_function("document.querySelectorAll('.mc-answer').length === 2", timeout=60_000)
    second = page.locator(".mc-answer").nth(1)
    assert "pregnan" in second.inner_text().lower() or "postpartum" in second.inner_text().lower()
    page.screenshot(path=str(tmp_path / "widget.png"), full_page=True)

    page.fill(".mc-input", "")
    page.click(".mc-send")
    assert "Please type a question" in page.locator(".mc-error").inner_text()
