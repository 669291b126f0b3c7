"""Helpers of the widget's browser tests: host web sites on their own origins, the embedding tag, screenshots."""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .conftest import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
NMO = "What is the treatment for neuromyelitis optica?"
HOSTILE_CSS = """<style>
body * { display: none !important; font-size: 3px !important; color: red !important; position: static !important; }
div, section, button, textarea, p, a, li, ol, ul, h2, h3, h4 { visibility: hidden !important; margin: 90px !important; }
medcite-widget { opacity: 0 !important; transform: scale(0) !important; }
</style>"""
HOSTILE_DOC = """---
id: hostile-nmosd
title: "Hostile <img src=x onerror=\\"window.__pwned=1;document.title='pwned'\\"> NMOSD digest"
issuer: "Hostile <b>Society</b>"
year: 2024
version: "<script>window.__pwned=1</script>"
url: "javascript:window.__pwned=1;document.title='pwned'"
topics: ["neuromyelitis optica", "NMOSD"]
specialty: neurology
evidence_scheme: "fixture"
status: digest-pending-review
---
# Hostile digest: neuromyelitis optica treatment

## Acute attacks <script>window.__pwned=1</script>
Acute neuromyelitis optica attacks are treated with intravenous methylprednisolone 1 g daily for 3 to 5 days \
<script>window.__pwned=1;document.title='pwned'</script>. Plasma exchange is added for severe neuromyelitis \
optica attacks <img src=x onerror="window.__pwned=1;document.title='pwned'">.

## Relapse prevention
Eculizumab, ravulizumab, inebilizumab and satralizumab prevent neuromyelitis optica relapses \
<a href="javascript:window.__pwned=1">see javascript:window.__pwned=1</a>.
"""


def shot(page: Any, name: str, tmp_path: Path, **options: Any) -> None:
    """A screenshot in the test's folder, and in $MEDCITE_SCREENSHOTS when set."""
    page.screenshot(path=str(tmp_path / f"{name}.png"), **options)
    keep = os.environ.get("MEDCITE_SCREENSHOTS")
    if keep:
        page.screenshot(path=str(Path(keep) / f"{name}.png"), **options)


class HostSite:
    """A host web site on its own origin: static pages in a folder, served by the standard library."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, name: str, body: str) -> str:
        """Write a host page and return its URL."""
        html = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host page</title>' \
               f'<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>{body}</body></html>'
        (self.folder / name).write_text(html, encoding="utf-8")
        return f"{self.origin}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def tag(api: str, key: str, **attrs: str) -> str:
    """The one embedding tag."""
    extra = "".join(f' data-{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<script src="{api}/widget.v1.js" data-site-key="{key}"{extra} async></script>'


def shadow(page: Any) -> Any:
    """The widget's shadow root as a JS handle (Playwright's CSS locators pierce open shadow roots)."""
    return page.locator("medcite-widget")


def open_and_ask(page: Any, question: str) -> Any:
    widget = shadow(page)
    launcher = widget.locator(".mc-launcher")
    if launcher.count() and launcher.get_attribute("aria-expanded") == "false":
        launcher.click()
    widget.locator(".mc-input").fill(question)
    count = widget.locator(".mc-answer[data-answer-id]").count()
    widget.locator(".mc-send").click()
    page.wait_for_function(
        "n => document.querySelector('medcite-widget').shadowRoot.querySelectorAll('.mc-answer[data-answer-id]')"
        ".length > n", arg=count)
    return widget.locator(".mc-answer[data-answer-id]").nth(count)


WATCH_STREAM = """() => { const root = document.querySelector('medcite-widget').shadowRoot; window.__streamed = 0;
  new MutationObserver(() => { const a = root.querySelector('.mc-answer[data-state=streaming]');
    if (a && a.querySelector('.mc-sentence')) window.__streamed += 1; })
    .observe(root, {subtree: true, childList: true}); }"""
