"""/metrics, request ids and the request log, over real HTTP."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingest import Index, SentenceTransformerEmbedder
from medcite.config import LLMSettings, Settings
from medcite.logs import RequestIdFilter, log_config
from service import AnswerService
from service.api import create_app
from tests.llm_servers import Reply, ScriptedLLM
from tests.service.conftest import LiveServer

COVERED = "What is the treatment for neuromyelitis optica?"
OUTSIDE = "How do I change the oil in my car?"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by (name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture()
def fresh(corpus_settings: Settings, answer_service: AnswerService) -> Iterator[str]:
    """A new app (so its metrics start at zero) on the session's service."""
    with LiveServer(create_app(corpus_settings, service=answer_service)) as live:
        yield live.url


def test_metrics_count_requests_by_route_template_answers_abstentions_and_index(
        fresh: str, answer_service: AnswerService) -> None:
    with httpx.Client(base_url=fresh, timeout=60) as http:
        assert http.post("/v1/answers", json={"question": COVERED}).status_code == 200
        assert http.post("/v1/answers", json={"question": OUTSIDE}).json()["abstained"]
        assert http.get("/v1/answers/no-such-answer").status_code == 404
        assert http.post("/v1/answers", json={"question": ""}).status_code == 422
        res = http.get("/metrics")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    found = samples(res.text)
    assert value(found, "medcite_http_requests_total", method="POST", route="/v1/answers", status="200") == 2
    assert value(found, "medcite_http_requests_total", method="POST", route="/v1/answers", status="422") == 1
    # The template, not the raw path, labels the request.
    assert value(found, "medcite_http_requests_total", method="GET", route="/v1/answers/{answer_id}",
                 status="404") == 1
    assert value(found, "medcite_http_request_duration_seconds_count", method="POST", route="/v1/answers",
                 status="200") == 2
    assert value(found, "medcite_answer_stage_seconds_count", stage="retrieve") == 2
    assert value(found, "medcite_answer_stage_seconds_count", stage="compose") == 2
    assert value(found, "medcite_abstentions_total") == 1
    assert value(found, "medcite_llm_calls_total") == 0
    documents, chunks = answer_service.index.store.count()
    assert value(found, "medcite_index_chunks") == chunks > 0
    assert value(found, "medcite_index_documents") == documents
    fingerprint = answer_service.index.store.fingerprint()
    assert value(found, "medcite_index_generation_info", fingerprint=fingerprint) == 1


def test_llm_calls_failures_and_fallbacks_are_counted(corpus_settings: Settings,
                                                      embedder: SentenceTransformerEmbedder) -> None:
    with ScriptedLLM("openai", default=Reply(status=500, error="model crashed")) as llm:
        settings = corpus_settings.model_copy(update={"llm": LLMSettings(
            provider="openai", model="scripted", base_url=llm.base_url, timeout_s=5.0, startup_check=False,
            rewrite_followups=False)})
        service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
        try:
            with LiveServer(create_app(settings, service=service)) as live, \
                    httpx.Client(base_url=live.url, timeout=60) as http:
                answer = http.post("/v1/answers", json={"question": COVERED}).json()
                found = samples(http.get("/metrics").text)
        finally:
            service.close()
    assert "LLM fallback" in answer["composer"]
    assert value(found, "medcite_llm_calls_total") == 1
    assert value(found, "medcite_llm_failures_total") == 1
    assert value(found, "medcite_llm_fallbacks_total") == 1


def test_request_ids_are_echoed_or_generated(fresh: str) -> None:
    given = httpx.get(f"{fresh}/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = httpx.get(f"{fresh}/healthz").headers["x-request-id"]
    assert len(made) == 32 and made != httpx.get(f"{fresh}/healthz").headers["x-request-id"]
    # An id that could forge log lines is replaced.
    forged = httpx.get(f"{fresh}/healthz", headers={"X-Request-ID": "bad id; x=1"}).headers["x-request-id"]
    assert forged != "bad id; x=1" and len(forged) == 32


@pytest.fixture()
def json_log() -> Iterator[io.StringIO]:
    """Log lines as `medcite serve` writes them (its formatter and request-id filter), captured from the root."""
    from pythonjsonlogger.json import JsonFormatter

    config = log_config(json_lines=True)["formatters"]["main"]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter(config["fmt"], rename_fields=config["rename_fields"]))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize("log_questions", [False, True])
def test_questions_are_logged_only_when_enabled(corpus_settings: Settings, answer_service: AnswerService,
                                                json_log: io.StringIO, log_questions: bool) -> None:
    settings = corpus_settings.model_copy(
        update={"api": corpus_settings.api.model_copy(update={"log_questions": log_questions})})
    question = f"What is the treatment for neuromyelitis optica {'with' if log_questions else 'without'} logging?"
    with LiveServer(create_app(settings, service=answer_service)) as live:
        res = httpx.post(f"{live.url}/v1/answers", json={"question": question}, headers={"X-Request-ID": "rq-42"},
                         timeout=60)
    assert res.status_code == 200
    lines = json_log.getvalue().splitlines()
    mine = [line for line in lines if '"request_id": "rq-42"' in line]
    assert any('"message": "answered"' in line for line in mine)
    assert any('"route": "/v1/answers"' in line and '"status": 200' in line for line in mine)
    assert any(question in line for line in lines) is log_questions
