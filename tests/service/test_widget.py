"""The one-tag widget in a real headless Chromium, embedded by host pages on other origins (127.0.0.1, other ports).

Set MEDCITE_SCREENSHOTS to a folder to keep the screenshots (docs/ holds one of each).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings
from service import AnswerService
from service.api import create_app
from service.keys import KeyStore, Role

from .browsing import (
    CHROMIUM,
    FLAGS,
    HOSTILE_CSS,
    HOSTILE_DOC,
    NMO,
    WATCH_STREAM,
    HostSite,
    open_and_ask,
    shadow,
    shot,
    tag,
)
from .conftest import LiveServer, free_port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (Playwright's own browser download cannot work offline)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: scripts/setup.sh should have installed it")
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HostSite, HostSite]]:
    """Two host sites: one the site key lists, one it does not."""
    allowed, stranger = (HostSite(tmp_path_factory.mktemp(n)) for n in ("host", "stranger"))
    yield allowed, stranger
    allowed.close()
    stranger.close()


@pytest.fixture(scope="module")
def site_key(answer_service: AnswerService, hosts: tuple[HostSite, HostSite]) -> Iterator[str]:
    store = KeyStore(answer_service.conversations.engine)
    new = store.create(Role.SITE, "widget test host", [hosts[0].origin])
    yield new.key
    store.revoke(new.info.id)



def test_embedded_widget_streams_cites_follows_up_and_switches_audience(
        page: Any, live_url: str, hosts: tuple[HostSite, HostSite], site_key: str, tmp_path: Path) -> None:
    url = hosts[0].page("plain.html", "<h1>Hospital intranet</h1>" + tag(live_url, site_key, audience="clinician"))
    page.goto(url)
    widget = shadow(page)
    widget.locator(".mc-launcher").click()
    page.evaluate(WATCH_STREAM)
    answer = open_and_ask(page, NMO)
    assert page.evaluate("window.__streamed") > 0, "no sentence was shown before the answer was complete"
    assert "methylprednisolone" in answer.locator(".mc-summary").inner_text().lower()
    assert answer.locator(".mc-question").inner_text() == NMO
    assert "pending human review" in answer.locator(".mc-banner").inner_text()
    assert answer.locator(".mc-status .mc-current").inner_text() == "Submitted"
    assert answer.locator(".mc-updated").inner_text().startswith("Last updated: ")
    assert answer.locator(".mc-key-points h4").count() >= 1 and answer.locator(".mc-disclaimer").inner_text()
    refs = answer.locator(".mc-references > li")
    assert refs.count() >= 1 and "NEMOS" in answer.locator(".mc-references").inner_text()
    for href in answer.locator(".mc-references a[href]").evaluate_all("els => els.map(e => e.href)"):
        assert href.startswith(("http://", "https://")), href
    # a citation highlights, focuses and scrolls to its reference
    cite = answer.locator(".mc-cite").first
    number = cite.get_attribute("data-ref")
    cite.click()
    ref = answer.locator(f'.mc-references > li[data-number="{number}"]')
    assert "mc-highlight" in (ref.get_attribute("class") or "")
    assert page.evaluate("document.querySelector('medcite-widget').shadowRoot.activeElement.dataset.number") == number
    # the passage is collapsed until asked for
    toggle = ref.locator(".mc-toggle").first
    passage = ref.locator(".mc-passage").first
    assert not passage.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert passage.is_visible() and toggle.get_attribute("aria-expanded") == "true" and passage.inner_text()
    assert widget.locator(".mc-label").inner_text() == "Have a follow-up question?"
    widget.locator(".mc-panel").evaluate("e => { e.scrollTop = 0; }")
    shot(page, "widget", tmp_path)
    # follow-up in the same conversation
    second = open_and_ask(page, "what about during pregnancy?")
    assert second.get_attribute("data-answer-id") != answer.get_attribute("data-answer-id")
    text = second.inner_text().lower()
    assert "pregnan" in text or "postpartum" in text or "delivery" in text, text
    # switching audience re-asks the last question for that reader
    before = widget.locator(".mc-answer[data-answer-id]").count()
    widget.locator(".mc-role-patient").check()
    page.wait_for_function("n => document.querySelector('medcite-widget').shadowRoot"
                           ".querySelectorAll('.mc-answer[data-answer-id]').length > n", arg=before)
    third = widget.locator(".mc-answer[data-answer-id]").nth(before)
    assert third.locator(".mc-question").inner_text() == "what about during pregnancy?"
    assert third.locator(".mc-disclaimer").inner_text() != second.locator(".mc-disclaimer").inner_text()
    # an empty question is refused in the widget
    widget.locator(".mc-input").fill("")
    widget.locator(".mc-send").click()
    assert "Please type a question" in widget.locator(".mc-error").inner_text()


def test_hostile_host_css_does_not_break_the_widget(page: Any, live_url: str, hosts: tuple[HostSite, HostSite],
                                                    site_key: str, tmp_path: Path) -> None:
    url = hosts[0].page("hostile.html", HOSTILE_CSS + "<div><p>Host content</p></div>" + tag(live_url, site_key))
    page.goto(url)
    widget = shadow(page)
    assert widget.locator(".mc-launcher").is_visible()
    answer = open_and_ask(page, NMO)
    assert answer.locator(".mc-summary").is_visible()
    size = answer.locator(".mc-summary").evaluate("e => getComputedStyle(e).fontSize")
    color = answer.locator(".mc-summary").evaluate("e => getComputedStyle(e).color")
    assert size == "15px" and color != "rgb(255, 0, 0)", (size, color)
    box = widget.locator(".mc-panel").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    # the widget's own CSS stays inside: the host's paragraph keeps the host's rules
    assert page.locator("p").first.evaluate("e => getComputedStyle(e).color") == "rgb(255, 0, 0)"


def test_a_host_the_site_key_does_not_list_is_refused(page: Any, live_url: str, hosts: tuple[HostSite, HostSite],
                                                      site_key: str) -> None:
    url = hosts[1].page("stranger.html", "<h1>Somebody else</h1>" + tag(live_url, site_key))
    page.goto(url)
    widget = shadow(page)
    widget.locator(".mc-launcher").click()
    widget.locator(".mc-input").fill(NMO)
    widget.locator(".mc-send").click()
    error = widget.locator(".mc-error")
    error.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('medcite-widget').shadowRoot"
                           ".querySelector('.mc-error').textContent.length > 0")
    assert "not allowed to use the medcite service" in error.inner_text()
    assert widget.locator(".mc-answer").count() == 0


def test_an_unreachable_service_is_reported(page: Any, hosts: tuple[HostSite, HostSite]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    script = (Path(__file__).resolve().parents[2] / "service" / "static" / "widget.js").read_text(encoding="utf-8")
    (hosts[0].folder / "copy.js").write_text(script, encoding="utf-8")
    page.goto(hosts[0].page("dead.html", f'<script src="{hosts[0].origin}/copy.js" data-api="{dead}" async></script>'))
    answer_error = shadow(page).locator(".mc-error")
    shadow(page).locator(".mc-launcher").click()
    shadow(page).locator(".mc-input").fill(NMO)
    shadow(page).locator(".mc-send").click()
    page.wait_for_function("() => document.querySelector('medcite-widget').shadowRoot"
                           ".querySelector('.mc-error').textContent.length > 0")
    assert "cannot be reached" in answer_error.inner_text()


def test_rate_limited_readers_are_told_when_to_come_back(page: Any, corpus_settings: Settings,
                                                         answer_service: AnswerService,
                                                         hosts: tuple[HostSite, HostSite], site_key: str) -> None:
    api = corpus_settings.api.model_copy(update={"ask_limit_per_site": "1/hour"})
    with LiveServer(create_app(corpus_settings.model_copy(update={"api": api}), service=answer_service)) as server:
        page.goto(hosts[0].page("limited.html", tag(server.url, site_key)))
        open_and_ask(page, NMO)
        widget = shadow(page)
        widget.locator(".mc-input").fill("what about during pregnancy?")
        widget.locator(".mc-send").click()
        page.wait_for_function("() => document.querySelector('medcite-widget').shadowRoot"
                               ".querySelector('.mc-error').textContent.length > 0")
        message = widget.locator(".mc-error").inner_text()
    assert message.startswith("Too many questions right now. Please try again in ") and "seconds" in message, message
    assert widget.locator(".mc-answer").count() == 1


def test_360px_and_keyboard_only(browser: Any, live_url: str, hosts: tuple[HostSite, HostSite], site_key: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(hosts[0].page("phone.html", "<p>Phone host</p>" + tag(live_url, site_key)))
        widget = shadow(page)
        widget.locator(".mc-launcher").wait_for()
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('medcite-widget').shadowRoot.activeElement.className") \
            == "mc-launcher"
        page.keyboard.press("Enter")
        assert widget.locator(".mc-panel").is_visible()
        assert page.evaluate("document.querySelector('medcite-widget').shadowRoot.activeElement.id") == "mc-input"
        box = widget.locator(".mc-panel").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        page.keyboard.type(NMO)
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('medcite-widget').shadowRoot"
                               ".querySelector('.mc-answer[data-answer-id]')")
        active = "document.querySelector('medcite-widget').shadowRoot.activeElement"
        for _ in range(80):  # back from the question box through the answer to its last citation
            page.keyboard.press("Shift+Tab")
            if page.evaluate(f"{active}.className") == "mc-cite":
                break
        assert page.evaluate(f"{active}.className") == "mc-cite"
        page.keyboard.press("Enter")
        assert page.evaluate(f"{active}.dataset.number")
        for _ in range(6):  # Tab reaches the reference's passage toggle
            page.keyboard.press("Tab")
            if page.evaluate(f"{active}.className") == "mc-toggle":
                break
        assert page.evaluate(f"{active}.className") == "mc-toggle"
        page.keyboard.press("Space")
        assert page.evaluate(f"{active}.getAttribute('aria-expanded')") == "true"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.keyboard.press("Escape")
        assert not widget.locator(".mc-panel").is_visible()
        assert page.evaluate(f"{active}.className") == "mc-launcher"
    finally:
        context.close()


def test_answer_page_and_abstention_on_the_home_page(page: Any, live_url: str, tmp_path: Path) -> None:
    page.goto(f"{live_url}/?q=What+is+the+treatment+for+kuru%3F")
    widget = shadow(page)
    page.wait_for_function("() => { const r = document.querySelector('medcite-widget');"
                           "return r && r.shadowRoot.querySelector('.mc-answer[data-answer-id]'); }")
    answer = widget.locator(".mc-answer[data-answer-id]").first
    assert answer.get_attribute("data-state") == "abstained"
    assert answer.locator(".mc-not-covered h4").inner_text() == "Not covered"
    topics = answer.locator(".mc-topic")
    assert topics.count() >= 1
    shot(page, "abstention", tmp_path, full_page=True)
    topic = topics.first.inner_text()
    topics.first.click()
    page.wait_for_function("() => document.querySelector('medcite-widget').shadowRoot"
                           ".querySelectorAll('.mc-answer[data-answer-id]').length === 2")
    assert widget.locator(".mc-answer[data-answer-id]").nth(1).locator(".mc-question").inner_text() == topic
    # the standalone page of an answer
    page.goto(f"{live_url}/?q=" + NMO.replace(" ", "+"))
    page.wait_for_function("() => { const r = document.querySelector('medcite-widget');"
                           "return r && r.shadowRoot.querySelector('.mc-answer[data-state=answered]'); }")
    answer_id = widget.locator(".mc-answer[data-answer-id]").first.get_attribute("data-answer-id")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_url}/answers/{answer_id}")
    assert page.locator("h1.question").inner_text() == NMO
    page.locator(".cite").first.click()
    assert page.evaluate("location.hash").startswith("#ref-")
    page.locator(".passage summary").first.click()
    assert page.locator(".passage blockquote").first.is_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors
    shot(page, "answer-page", tmp_path, full_page=True)


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    """A server over a corpus of one hostile document."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "hostile-nmosd.md").write_text(HOSTILE_DOC, encoding="utf-8")
    settings = Settings(index_dir=folder / "index")
    report = ingest_paths([folder / "corpus"], settings=settings, embedder=embedder)
    assert report.ok, report.failures
    service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
    with LiveServer(create_app(settings, service=service)) as server:
        yield server.url
    service.close()


def test_a_hostile_corpus_document_runs_nothing(page: Any, hostile_url: str) -> None:
    page.goto(f"{hostile_url}/?q=" + NMO.replace(" ", "+"))
    widget = shadow(page)
    page.wait_for_function("() => { const r = document.querySelector('medcite-widget');"
                           "return r && r.shadowRoot.querySelector('.mc-answer[data-answer-id]'); }")
    answer = widget.locator(".mc-answer[data-answer-id]").first
    assert answer.get_attribute("data-state") == "answered", answer.inner_text()
    for toggle in answer.locator(".mc-toggle").all():
        toggle.click()
    text = answer.inner_text()
    assert "<script>" in text or "<img" in text, text  # the markup arrives, and shows as text
    assert answer.locator("script, img, [onerror]").count() == 0
    assert answer.locator(".mc-references a").count() == 0  # a javascript: URL is no link
    page.wait_for_load_state("networkidle")  # an injected image would have failed to load by now
    assert page.evaluate("window.__pwned") is None and page.title() == "medcite: ask a clinical question"
    answer_id = answer.get_attribute("data-answer-id")
    page.goto(f"{hostile_url}/answers/{answer_id}")
    assert page.locator("main script, main img, [onerror]").count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    assert "<script>" in page.locator("main").inner_text() or "<img" in page.locator("main").inner_text()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__pwned") is None and page.title().endswith("· medcite")
