"""Site keys and origins, CORS, question limits, and the pages' headers, over real HTTP to a live uvicorn."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medcite.config import Settings
from medcite.errors import InvalidInputError
from service import AnswerService
from service.api import create_app
from service.keys import KeyStore, Role, parse_origin
from service.tables import open_engine

from .conftest import LiveServer

SITE = "https://intranet.example"
OTHER = "https://other.example"
QUESTION = "What is the treatment for neuromyelitis optica?"


@pytest.fixture(scope="module")
def keys(answer_service: AnswerService) -> Iterator[dict[str, str]]:
    """Site keys in the corpus service's database: one for SITE, one listing no origins, one for OTHER."""
    store = KeyStore(answer_service.conversations.engine)
    made = {"site": store.create(Role.SITE, "sites test intranet", [SITE + "/"]),
            "empty": store.create(Role.SITE, "sites test empty"),
            "other": store.create(Role.SITE, "sites test other", [OTHER])}
    yield {name: new.key for name, new in made.items()}
    for new in made.values():
        store.revoke(new.info.id)


def _ask(http: httpx.Client, origin: str | None = None, key: str | None = None) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return http.post("/v1/answers", json={"question": QUESTION}, headers=headers)


def _refused(res: httpx.Response) -> str:
    assert res.status_code == 403, res.text
    body = res.json()
    assert set(body) == {"detail", "type"} and body["type"] == "OriginRefusedError", body
    assert not [h for h in res.headers if h.lower().startswith("access-control-")], res.headers
    assert "x-medcite-origin-refused" not in res.headers
    detail: str = body["detail"]
    return detail


def test_origins_are_normalised_and_only_site_keys_take_them(tmp_path: Path) -> None:
    assert parse_origin("HTTPS://Intranet.Example:8443/") == "https://intranet.example:8443"
    for bad in ("intranet.example", "ftp://x.example", "https://x.example/path", "https://u:p@x.example", "*"):
        with pytest.raises(InvalidInputError, match="not an origin"):
            parse_origin(bad)
    store = KeyStore(open_engine(f"sqlite:///{tmp_path / 'k.db'}"))
    with pytest.raises(InvalidInputError, match="only site keys take origins"):
        store.create(Role.REVIEWER, "Dr O", [SITE])
    site = store.create(Role.SITE, "portal", [SITE, SITE + "/", OTHER])
    assert site.info.origins == (SITE, OTHER)
    assert store.verify(site.key).origins == (SITE, OTHER)
    assert store.site_origins() == {SITE, OTHER}
    store.revoke("portal")
    assert store.site_origins() == set()


def test_keys_create_takes_repeatable_origins_on_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "MEDCITE_API__DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "MEDCITE_INDEX_DIR": str(tmp_path / "index")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "medcite.cli", "keys", *args], capture_output=True, text=True,
                              timeout=120, env=env)

    made = run("create", "--role", "site", "--name", "portal", "--origin", SITE, "--origin", OTHER)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("mck_")
    listed = run("list", "--json")
    assert f'"origins": ["{SITE}", "{OTHER}"]' in listed.stdout, listed.stdout
    refused = run("create", "--role", "reviewer", "--name", "Dr R", "--origin", SITE)
    assert refused.returncode == 2 and refused.stderr.strip().count("\n") == 0
    assert "only site keys take origins" in refused.stderr
    bad = run("create", "--role", "site", "--name", "typo", "--origin", "intranet.example")
    assert bad.returncode == 2 and "https://host" in bad.stderr
    empty = run("create", "--role", "site", "--name", "nobody")
    assert empty.returncode == 0 and "answers no one" in empty.stderr


def test_a_site_key_answers_only_its_own_origins(client: httpx.Client, keys: dict[str, str]) -> None:
    ok = _ask(client, SITE, keys["site"])
    assert ok.status_code == 200, ok.text
    assert ok.headers["access-control-allow-origin"] == SITE
    assert "Retry-After" in ok.headers["access-control-expose-headers"]
    assert "does not list it" in _refused(_ask(client, OTHER, keys["site"]))
    assert "without an Origin header" in _refused(_ask(client, None, keys["site"]))  # curl cannot borrow a site key
    assert "answers no one" in _refused(_ask(client, SITE, keys["empty"]))
    answer_id = ok.json()["id"]
    reading = {"Authorization": f"Bearer {keys['site']}"}
    assert client.get(f"/v1/answers/{answer_id}", headers=reading).status_code == 200  # stored answers are public
    assert "does not list it" in _refused(client.get(f"/v1/answers/{answer_id}", headers={**reading, "Origin": OTHER}))
    # an origin in the body is no origin: the schema refuses unknown fields, the header decides
    body = client.post("/v1/answers", json={"question": QUESTION, "origin": SITE},
                       headers={"Origin": OTHER, "Authorization": f"Bearer {keys['site']}"})
    assert "does not list it" in _refused(body)


def test_keyless_browsers_on_foreign_origins_are_refused(client: httpx.Client, live_url: str) -> None:
    assert _ask(client).status_code == 200  # servers and curl send no Origin
    assert _ask(client, live_url).status_code == 200  # medcite's own pages
    assert "without its site key" in _refused(_ask(client, "https://anywhere.example"))
    assert "without its site key" in _refused(_ask(client, SITE))  # a site's origin still needs its key


def test_cors_allows_site_origins_and_never_review_moves(client: httpx.Client, keys: dict[str, str]) -> None:
    want = {"Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-conversation-secret"}
    allowed = client.options("/v1/answers", headers={"Origin": SITE, **want})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == SITE
    assert "X-Conversation-Secret" in allowed.headers["access-control-allow-headers"]
    stranger = client.options("/v1/answers", headers={"Origin": "https://anywhere.example", **want})
    assert stranger.status_code == 400 and "access-control-allow-origin" not in stranger.headers
    review = client.options("/v1/answers/x/review", headers={"Origin": SITE, "Access-Control-Request-Method": "PUT"})
    assert review.status_code == 400 and "method" in review.text


@pytest.fixture(scope="module")
def limited(corpus_settings: Settings, answer_service: AnswerService) -> Iterator[str]:
    """A server with tiny question limits: three per address, one per site key."""
    api = corpus_settings.api.model_copy(update={"ask_limit_per_address": "3/minute", "ask_limit_per_site": "1/minute"})
    with LiveServer(create_app(corpus_settings.model_copy(update={"api": api}), service=answer_service)) as server:
        yield server.url


def test_questions_are_limited_per_site_key_and_per_address(limited: str, keys: dict[str, str]) -> None:
    with httpx.Client(base_url=limited, timeout=60) as http:
        assert _ask(http, SITE, keys["site"]).status_code == 200
        site = _ask(http, SITE, keys["site"])
        assert site.status_code == 429 and "sites test intranet" in site.json()["detail"]
        assert int(site.headers["retry-after"]) > 0 and site.headers["access-control-allow-origin"] == SITE
        assert _ask(http, OTHER, keys["other"]).status_code == 200  # another site is not held back
        address = _ask(http)
        assert address.status_code == 429 and address.json() == {
            "detail": "too many questions from this address; try again later", "type": "RateLimitedError"}
        assert int(address.headers["retry-after"]) > 0


def test_pages_send_security_headers_and_no_inline_script(client: httpx.Client) -> None:
    home = client.get("/", params={"q": '"><script>alert(1)</script>'})
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp and "unsafe-inline" not in csp
    assert home.headers["x-content-type-options"] == "nosniff" and home.headers["referrer-policy"]
    assert "<script>alert" not in home.text and "&lt;script&gt;alert(1)" in home.text
    assert 'src="/widget.v1.js"' in home.text and "<script>" not in home.text  # every script has a src
    followup = client.get("/", params={"q": "and in pregnancy?", "about": QUESTION, "audience": "patient"})
    assert f"Follow-up to “{QUESTION}”" in followup.text and 'data-question="and in pregnancy?"' in followup.text
    assert 'data-audience="patient"' in followup.text
    policy = client.get("/editorial-policy")
    assert policy.status_code == 200 and "audit trail" in policy.text and policy.headers["content-security-policy"]


def test_widget_script_is_cached_at_a_versioned_url(client: httpx.Client) -> None:
    latest, versioned = client.get("/widget.js"), client.get("/widget.v1.js")
    assert latest.status_code == versioned.status_code == 200
    assert latest.content == versioned.content and b"attachShadow" in latest.content
    assert latest.headers["content-type"].startswith("text/javascript")
    assert latest.headers["cache-control"] == "public, max-age=300" and latest.headers["etag"]
    assert versioned.headers["cache-control"] == "public, max-age=86400"
    assert b"innerHTML" not in latest.content and b"insertAdjacentHTML" not in latest.content


def test_answer_page_renders_the_reference_layout(client: httpx.Client) -> None:
    answer = client.post("/v1/answers", json={"question": QUESTION}).json()
    page = client.get(f"/answers/{answer['id']}")
    assert page.status_code == 200 and page.headers["content-security-policy"]
    html = page.text
    for part in ("Review status", "Submitted", "Under review", "Approved", "Last updated", 'href="/editorial-policy"',
                 "Professional medical disclaimer", "Have a follow-up question?", "<summary>show ", 'id="ref-1"'):
        assert part in html, part
    assert 'aria-current="step">Submitted' in html and answer["pending_review"] in html
    assert html.index("From the guidelines") < html.index("References") < html.index("disclaimer")
    missing = client.get("/answers/not-an-answer")
    assert missing.status_code == 404 and "Not found" in missing.text


def test_the_editorial_policy_comes_from_the_configured_file(corpus_settings: Settings, answer_service: AnswerService,
                                                             tmp_path: Path) -> None:
    policy = tmp_path / "policy.txt"
    policy.write_text("Our reviewers <b>sign</b> every answer.\n\nSecond paragraph.", encoding="utf-8")
    api = corpus_settings.api.model_copy(update={"editorial_policy_file": policy, "frame_ancestors": [SITE]})
    with LiveServer(create_app(corpus_settings.model_copy(update={"api": api}), service=answer_service)) as server:
        page = httpx.get(f"{server.url}/editorial-policy", timeout=30)
    assert "Our reviewers &lt;b&gt;sign&lt;/b&gt; every answer." in page.text
    assert "<p>Second paragraph.</p>" in page.text
    assert f"frame-ancestors {SITE}" in page.headers["content-security-policy"]
