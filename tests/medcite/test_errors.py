"""The exception tree's two edges: each MedciteError becomes one HTTP problem, and one CLI line with exit 2."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from medcite import errors
from medcite.errors import MedciteError
from service.api.errors import REFUSED_HEADER, install
from tests.service.conftest import LiveServer

CASES: list[tuple[MedciteError, int]] = [
    (errors.InvalidInputError("the question is empty"), 422),
    (errors.NotFoundError("no answer abc"), 404),
    (errors.RetrievalError("bad filter"), 400),
    (errors.IndexMissingError("no index"), 503),
    (errors.IndexMismatchError("other model"), 503),
    (errors.VectorStoreUnavailableError("Chroma is down"), 503),
    (errors.ConflictError("approved answers cannot be edited"), 409),
    (errors.AuthenticationError("no key"), 401),
    (errors.PermissionDeniedError("reviewers only"), 403),
    (errors.OriginRefusedError("origin not listed"), 403),
    (errors.RateLimitedError("slow down", retry_after=7), 429),
    (errors.CorpusError("unreadable"), 500),  # never raised by a request: a server fault
    (errors.LLMError("the model timed out"), 500),
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = FastAPI()
    install(app)
    raising = {type(exc).__name__: exc for exc, _ in CASES}

    @app.get("/raise/{name}")
    def raise_it(name: str) -> None:
        raise raising[name]

    @app.get("/v1/models/{name}")  # an OpenAI-compatible path
    def raise_openai(name: str) -> None:
        raise raising[name]

    with LiveServer(app) as server:
        yield server.url


@pytest.mark.parametrize(("exc", "status"), CASES, ids=[type(e).__name__ for e, _ in CASES])
def test_each_error_is_one_documented_problem(url: str, exc: MedciteError, status: int) -> None:
    name = type(exc).__name__
    response = httpx.get(f"{url}/raise/{name}", timeout=30)
    assert response.status_code == status
    assert response.json() == {"detail": str(exc), "type": name}
    # Only a refused origin tells the CORS middleware (not installed here; the app's strips it) to add no headers.
    assert (REFUSED_HEADER in response.headers) == isinstance(exc, errors.OriginRefusedError)
    if status == 401:
        assert response.headers["www-authenticate"] == 'Bearer realm="medcite"'
    if isinstance(exc, errors.RateLimitedError | errors.VectorStoreUnavailableError):
        assert response.headers["retry-after"] == str(exc.retry_after)


def test_openai_paths_get_openai_shaped_errors(url: str) -> None:
    response = httpx.get(f"{url}/v1/models/InvalidInputError", timeout=30)
    assert response.status_code == 400  # OpenAI clients expect 400 for a bad request
    error = response.json()["error"]
    assert error["message"] == "the question is empty" and error["type"] == "invalid_request_error"
    assert error["code"] == "InvalidInputError"
    assert httpx.get(f"{url}/v1/models/IndexMissingError", timeout=30).json()["error"]["type"] == "server_error"


def test_a_cli_error_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    from medcite.cli import main

    monkeypatch.setattr(sys, "argv", ["medcite", "review", "list", "--state", "pondering"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["medcite: error: unknown state 'pondering'; states: submitted, under_review, approved, "
                   "changes_requested, retracted"]


def test_a_settings_error_reaches_the_cli_as_one_line(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from medcite.cli import main
    from medcite.config import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("MEDCITE_API__ASK_LIMIT_PER_ADDRESS", "lots")
    monkeypatch.setattr(sys, "argv", ["medcite", "review", "list"])
    try:
        with pytest.raises(SystemExit) as stopped:
            main()
    finally:
        get_settings.cache_clear()
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("medcite: error:") and "'lots' is not a rate limit" in err[0]
