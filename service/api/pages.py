"""medcite's own pages (home, answer, editorial policy) and the widget script; server-side rendered by Jinja2.

Autoescaping is on for every template, so questions, passages, titles and generated text are only ever text;
links are made only from http(s) URLs. Pages carry a CSP without inline script.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader

from medcite.config import Settings
from medcite.errors import NotFoundError
from service.api.deps import ServiceDep
from service.api.schemas import AnswerOut
from service.models import Audience, ReviewStatus

router = APIRouter(include_in_schema=False)
SERVICE = Path(__file__).resolve().parent.parent
TEMPLATES = SERVICE / "templates"
WIDGET = SERVICE / "static" / "widget.js"
WIDGET_VERSION = 1  # the widget's contract (attributes, events it reads); /widget.v1.js caches for a day
DEFAULT_POLICY = TEMPLATES / "editorial_policy.txt"
STEPS = [(ReviewStatus.SUBMITTED, "Submitted"), (ReviewStatus.UNDER_REVIEW, "Under review"),
         (ReviewStatus.APPROVED, "Approved")]
STATUS_NOTES = {
    ReviewStatus.CHANGES_REQUESTED: "A reviewer asked for changes to this answer; it is pending review again.",
    ReviewStatus.RETRACTED: "This answer was retracted by a reviewer. Do not rely on it.",
}


def http_url(value: str) -> str:
    """The URL when it is http(s), else '' (no javascript:, data: or relative links from the corpus)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False)
    env.filters["http_url"] = http_url
    return env


def _headers(settings: Settings) -> dict[str, str]:
    ancestors = " ".join(settings.api.frame_ancestors) or "'none'"
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
           f"form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}")
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin"}


def _page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    html = _templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=_headers(request.app.state.settings))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, q: str = Query("", max_length=2000), about: str = Query("", max_length=2000),
         audience: Audience = "clinician") -> HTMLResponse:
    """Ask through the inline widget; `q` asks at once (the answer page's follow-up box lands here)."""
    return _page(request, "home.html", question=q.strip(), about=about.strip(), audience=audience,
                 version=WIDGET_VERSION)


@router.get("/answers/{answer_id}", response_class=HTMLResponse)
async def answer_page(request: Request, answer_id: str, service: ServiceDep) -> HTMLResponse:
    """A stored answer as a standalone page in the reference layout."""
    try:
        answer = AnswerOut.from_answer(await run_in_threadpool(service.get, answer_id))
    except NotFoundError as exc:
        return _page(request, "not_found.html", status=404, detail=str(exc))
    return _page(request, "answer.html", a=answer, steps=STEPS, status_note=STATUS_NOTES.get(answer.review_status, ""))


@router.get("/editorial-policy", response_class=HTMLResponse)
def editorial_policy(request: Request) -> HTMLResponse:
    """The editorial policy: the file named by api.editorial_policy_file, else the shipped one."""
    path = request.app.state.settings.api.editorial_policy_file or DEFAULT_POLICY
    text = Path(path).read_text(encoding="utf-8")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return _page(request, "policy.html", paragraphs=paragraphs)


def _widget(max_age: int) -> FileResponse:
    return FileResponse(WIDGET, media_type="text/javascript; charset=utf-8", headers={
        "Cache-Control": f"public, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",  # host pages on other origins load it
    })


@router.get("/widget.js")
def widget() -> FileResponse:
    """The widget, latest version: cached for five minutes (revalidated by ETag)."""
    return _widget(300)


@router.get(f"/widget.v{WIDGET_VERSION}.js")
def widget_versioned() -> FileResponse:
    """The widget at its versioned URL: cached for a day; a breaking change gets a new version number."""
    return _widget(86_400)
