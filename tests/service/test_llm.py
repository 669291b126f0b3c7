"""LLM composition through LangChain's real clients against local servers that speak the OpenAI and Anthropic
protocols, checked through medcite's real HTTP API: verification catches each bad sentence, failures fall back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ingest import Index, SentenceTransformerEmbedder
from medcite.config import LLMSettings, Settings
from service import AnswerService
from service.api import create_app
from service.verify import polarity
from tests.llm_servers import Reply, ScriptedLLM
from tests.sse import sse_events

from .conftest import LiveServer

QUESTION = "What is the treatment for neuromyelitis optica?"
_PASSAGE = re.compile(r"^\[(\d+)\] [^\n]*\n(.+?)(?=\n\n\[\d+\] |\Z)", re.MULTILINE | re.DOTALL)


def passages(body: dict[str, Any]) -> dict[int, str]:
    """The numbered passages of the prompt medcite sent (OpenAI or Anthropic request body)."""
    messages = body.get("messages", [])
    text = "\n".join(m["content"] if isinstance(m["content"], str) else
                     " ".join(p.get("text", "") for p in m["content"]) for m in messages)
    return {int(n): p.strip() for n, p in _PASSAGE.findall(text.split("Passages:", 1)[-1])}


def sentence_with(body: dict[str, Any], word: str, plain: bool = False) -> tuple[str, int]:
    """A sentence of the prompt's passages naming `word` (with no negation when plain), and its passage number."""
    for n, text in passages(body).items():
        for s in re.split(r"(?<=[.!?])\s+", text):
            if word.casefold() in s.casefold() and len(s.split()) >= 6 and not (plain and polarity(s)):
                return s, n
    raise AssertionError(f"no passage names {word}")


def draft(*items: tuple[str, list[int]], key_points: tuple[tuple[str, list[int]], ...] = ()) -> dict[str, Any]:
    return {"summary": [{"text": t, "citations": c} for t, c in items],
            "key_points": [{"text": t, "citations": c} for t, c in key_points]}


def is_prompt(body: dict[str, Any]) -> bool:
    return "Passages:" in json.dumps(body)


class Harness:
    """A live medcite with an LLM composer pointed at a scripted protocol server."""

    def __init__(self, llm: ScriptedLLM, url: str) -> None:
        self.llm = llm
        self.url = url
        self.answer: Callable[[dict[str, Any]], Reply] = lambda body: Reply(text="ready")

    def respond(self, body: dict[str, Any]) -> Reply:
        if not is_prompt(body):
            return Reply(text="ready")
        return self.answer(body)

    def ask(self, **extra: Any) -> dict[str, Any]:
        res = httpx.post(f"{self.url}/v1/answers", json={"question": QUESTION, **extra}, timeout=60)
        assert res.status_code == 200, res.text
        return dict(res.json())


def _harness(protocol: str, corpus_settings: Settings, embedder: SentenceTransformerEmbedder,
             **llm: Any) -> Iterator[Harness]:
    server = ScriptedLLM(protocol)  # type: ignore[arg-type]
    with server:
        harness = Harness(server, "")
        server.responder = harness.respond
        settings = corpus_settings.model_copy(update={
            "llm": LLMSettings(provider=protocol, model="scripted", base_url=server.base_url,  # type: ignore[arg-type]
                               **{"timeout_s": 5.0, **llm}),
            "retrieval": corpus_settings.retrieval.model_copy(update={"top_k": 4}),
        })
        service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
        with LiveServer(create_app(settings, service=service)) as live:
            harness.url = live.url
            yield harness
        service.close()


@pytest.fixture(scope="module")
def openai_llm(corpus_settings: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[Harness]:
    yield from _harness("openai", corpus_settings, embedder, timeout_s=3.0)


@pytest.fixture(scope="module")
def anthropic_llm(corpus_settings: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[Harness]:
    yield from _harness("anthropic", corpus_settings, embedder)


def _texts(answer: dict[str, Any]) -> list[str]:
    return [s["text"] for s in answer["summary_sentences"]] + [i["text"] for k in answer["key_points"]
                                                               for i in k["items"]]


def test_readyz_reports_the_llm_composer_after_its_startup_check(openai_llm: Harness) -> None:
    ready = httpx.get(f"{openai_llm.url}/readyz").json()
    assert ready["composer"] == "llm"
    assert ready["llm"] == {"provider": "openai", "model": "scripted", "ok": True,
                            "detail": "answered the start-up check"}


def test_a_good_cited_answer_keeps_every_sentence_with_exact_spans(openai_llm: Harness) -> None:
    def good(body: dict[str, Any]) -> Reply:
        first, n = sentence_with(body, "methylprednisolone")
        return Reply(json=draft((first, [n])))

    openai_llm.answer = good
    answer = openai_llm.ask()
    assert answer["composer"] == "llm" and not answer["abstained"]
    assert "methylprednisolone" in answer["summary"].casefold()
    assert answer["verification"]["checked"] == 1 and answer["verification"]["removed"] == []
    ref = answer["references"][0]
    assert ref["number"] == 1 and answer["summary_sentences"][0]["citations"] == [1]
    assert ref["doc_id"].startswith("nmosd-") and ref["spans"]
    # The structured reply was requested through the backend's JSON-schema support.
    assert openai_llm.llm.requests[-1]["response_format"]["type"] == "json_schema"


def test_verification_removes_out_of_range_wrong_dose_unsupported_and_negated_sentences(openai_llm: Harness) -> None:
    seen: dict[str, str] = {}

    def mixed(body: dict[str, Any]) -> Reply:
        assert len(passages(body)) == 4  # top_k = 4: the model sees four passages
        good, n = sentence_with(body, "methylprednisolone")
        seen["good"] = good
        seen["range"] = "Plasma exchange is an option for severe NMOSD attacks."
        seen["dose"] = re.sub(r"[.]$", "", good) + " at 5000 mg weekly."
        seen["claim"] = "High-dose oral vitamin C cures neuromyelitis optica within a week."
        negatable, m = sentence_with(body, " is ", plain=True)
        seen["negated"] = negatable.replace(" is ", " is not ", 1)
        return Reply(json=draft((good, [n]), (seen["range"], [9]), (seen["dose"], [n]), (seen["claim"], [n]),
                                (seen["negated"], [m])))

    openai_llm.answer = mixed
    answer = openai_llm.ask()
    kept = _texts(answer)
    assert seen["good"] in kept
    for bad in ("range", "dose", "claim", "negated"):
        assert seen[bad] not in kept, bad
    removed = {r["text"]: r["reason"] for r in answer["verification"]["removed"]}
    assert "no passage that exists" in removed[seen["range"]]
    assert "5000 mg" in removed[seen["dose"]]
    assert seen["claim"] in removed
    assert "negation" in removed[seen["negated"]]
    assert answer["verification"]["out_of_range_citations"] == 1
    numbers = {r["number"] for r in answer["references"]}
    assert all(set(s["citations"]) <= numbers and s["citations"] for s in answer["summary_sentences"])
    assert any("left out" in note for note in answer["notes"])


def test_a_reply_slower_than_the_timeout_falls_back_to_the_extractive_answer(openai_llm: Harness) -> None:
    openai_llm.answer = lambda body: Reply(json=draft(("Too late.", [1])), delay_s=8.0)
    answer = openai_llm.ask()
    assert answer["composer"] == "extractive (LLM fallback)" and not answer["abstained"]
    assert "did not answer in time" in answer["notes"][0]
    assert "methylprednisolone" in json.dumps(answer).casefold()


def test_malformed_output_falls_back_and_never_returns_a_5xx(openai_llm: Harness) -> None:
    openai_llm.answer = lambda body: Reply(text="I am not able to format that {as json")
    answer = openai_llm.ask()
    assert answer["composer"] == "extractive (LLM fallback)"
    assert answer["summary_sentences"] and "could not be used" in answer["notes"][0]


def test_a_server_error_falls_back(openai_llm: Harness) -> None:
    openai_llm.answer = lambda body: Reply(status=500, error="model crashed")
    answer = openai_llm.ask()
    assert answer["composer"] == "extractive (LLM fallback)" and "failed" in answer["notes"][0]


def test_abstentions_never_call_the_llm(openai_llm: Harness) -> None:
    before = len(openai_llm.llm.requests)
    res = httpx.post(f"{openai_llm.url}/v1/answers", json={"question": "How do I treat tinea pedis?"}, timeout=60)
    assert res.json()["abstained"]
    assert len(openai_llm.llm.requests) == before


def test_streaming_sends_only_verified_sentences(openai_llm: Harness) -> None:
    bad = "Oral vitamin C megadoses replace plasma exchange in NMOSD attacks."

    def streamed(body: dict[str, Any]) -> Reply:
        good, n = sentence_with(body, "methylprednisolone")
        other, m = sentence_with(body, "plasma exchange")
        return Reply(json=draft((good, [n]), (bad, [n]), key_points=((other, [m]),)))

    openai_llm.answer = streamed
    with httpx.Client(base_url=openai_llm.url, timeout=60) as client:
        events = sse_events(client, "/v1/answers", {"question": QUESTION})
    assert openai_llm.llm.requests[-1]["stream"] is True
    sentences = [json.loads(d)["sentence"]["text"] for k, d in events if k == "sentence"]
    final = json.loads(events[-1][1])
    assert events[-1][0] == "done" and sentences == _texts(final)
    assert bad not in "".join(d for _, d in events[:-1])
    assert [r["text"] for r in final["verification"]["removed"]] == [bad]


def test_followups_are_rewritten_by_the_llm(openai_llm: Harness) -> None:
    first = openai_llm.ask()
    openai_llm.answer = lambda body: Reply(json=draft((passages(body)[1].split(". ")[0] + ".", [1])))
    openai_llm.llm.responder = lambda body: (Reply(text="What is the treatment of NMOSD in pregnancy?")
                                             if "standalone" in json.dumps(body) else openai_llm.respond(body))
    try:
        res = httpx.post(f"{openai_llm.url}/v1/answers", timeout=60,
                         json={"question": "and during pregnancy?", "conversation_id": first["conversation_id"]},
                         headers={"X-Conversation-Secret": first["conversation_secret"]})
    finally:
        openai_llm.llm.responder = openai_llm.respond
    assert res.json()["rewritten_query"] == "What is the treatment of NMOSD in pregnancy?"


def test_anthropic_backend_answers_through_tool_use(anthropic_llm: Harness) -> None:
    def good(body: dict[str, Any]) -> Reply:
        first, n = sentence_with(body, "methylprednisolone")
        return Reply(json=draft((first, [n])))

    anthropic_llm.answer = good
    answer = anthropic_llm.ask()
    assert answer["composer"] == "llm" and answer["verification"]["supported"] == 1
    assert anthropic_llm.llm.requests[-1]["tools"]


def test_a_failed_startup_check_means_extractive_answers_and_readyz_says_why(
        corpus_settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    from .conftest import free_port

    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    settings = corpus_settings.model_copy(update={"llm": LLMSettings(provider="openai", model="m", base_url=dead)})
    service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
    try:
        with LiveServer(create_app(settings, service=service)) as live:
            ready = httpx.get(f"{live.url}/readyz").json()
            answer = httpx.post(f"{live.url}/v1/answers", json={"question": QUESTION}, timeout=60).json()
    finally:
        service.close()
    assert ready["ready"] and ready["composer"] == "extractive"
    assert ready["llm"]["ok"] is False and "could not be reached" in ready["llm"]["detail"]
    assert answer["composer"] == "extractive" and answer["summary_sentences"]
