"""Prometheus metrics of one app, in a registry the app holds (the multiprocess directory when workers > 1)."""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from service.models import Answer
from service.texts import LLM_FALLBACK

# Answers take from milliseconds (abstentions) to tens of seconds (a slow LLM).
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_FALLBACK_PREFIX = LLM_FALLBACK.split("(", 1)[0]


class Metrics:
    """Request, answer, LLM and index metrics.

    With several uvicorn workers each is its own process; prometheus-client's multiprocess mode (the environment
    variable PROMETHEUS_MULTIPROC_DIR naming an empty folder shared by the workers) sums their values when any of
    them is scraped."""

    def __init__(self) -> None:
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        r = self.registry = CollectorRegistry()
        self.requests = Counter("medcite_http_requests", "HTTP requests by route template and status.",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("medcite_http_request_duration_seconds", "HTTP request latency (to the last byte).",
                                 ["method", "route", "status"], buckets=_SECONDS, registry=r)
        self.stages = Histogram("medcite_answer_stage_seconds", "Time per answer in retrieval and in composition.",
                                ["stage"], buckets=_SECONDS, registry=r)
        self.answers = Counter("medcite_answers", "Answers given, by composer.", ["composer"], registry=r)
        self.abstentions = Counter("medcite_abstentions", "Answers that abstained (question not covered).",
                                   registry=r)
        self.llm_calls = Counter("medcite_llm_calls", "Answers composed by calling the configured LLM.", registry=r)
        self.llm_failures = Counter("medcite_llm_failures", "LLM calls that failed or gave nothing usable.",
                                    registry=r)
        self.llm_fallbacks = Counter("medcite_llm_fallbacks",
                                     "Answers composed extractively although an LLM is configured.", registry=r)
        self.index_documents = Gauge("medcite_index_documents", "Documents in the served index generation.",
                                     multiprocess_mode="mostrecent", registry=r)
        self.index_chunks = Gauge("medcite_index_chunks", "Chunks in the served index generation.",
                                  multiprocess_mode="mostrecent", registry=r)
        self.index_generation = Gauge("medcite_index_generation_info",
                                      "1 for the index generation served (labelled by its chunk-set fingerprint).",
                                      ["fingerprint"], multiprocess_mode="mostrecent", registry=r)
        self._generation = ""

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request and its latency."""
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def observe_answer(self, answer: Answer, *, llm_configured: bool) -> None:
        """Stage timings, abstention and LLM use of one answer (from what the core put on it)."""
        for stage in ("retrieve", "compose"):
            if stage in answer.timings_ms:
                self.stages.labels(stage).observe(answer.timings_ms[stage] / 1000)
        self.answers.labels(answer.composer or "none").inc()
        if answer.abstained:
            self.abstentions.inc()
        if not llm_configured or not answer.timings_ms or answer.trace.gate_abstained:
            return  # reused approved answers and gate abstentions never reach a composer
        failed = any(note.startswith(_FALLBACK_PREFIX) for note in answer.notes)
        called = answer.composer == "llm" or "LLM fallback" in answer.composer
        if called:
            self.llm_calls.inc()
        if failed:
            self.llm_failures.inc()
        if answer.composer != "llm":
            self.llm_fallbacks.inc()

    def set_index(self, fingerprint: str, documents: int, chunks: int) -> None:
        """The index generation this process serves."""
        if self._generation and self._generation != fingerprint:
            self.index_generation.labels(self._generation).set(0)
        self._generation = fingerprint
        self.index_generation.labels(fingerprint).set(1)
        self.index_documents.set(documents)
        self.index_chunks.set(chunks)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type; every worker's values in multiprocess mode."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged), CONTENT_TYPE_LATEST
