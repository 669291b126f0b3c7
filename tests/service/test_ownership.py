"""Conversations belong to their owner, over real HTTP: the first answer carries a secret, follow-ups (JSON, SSE
and the OpenAI route) need it, and a missing or wrong one is the 404 of an unknown conversation. Also: atomic,
capped turn numbers under concurrent posts, and issuer filters in any case."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from medcite.config import Settings
from service import AnswerService

from .reviewing import QUESTION, Reviewing, reviewing

FOLLOW = "what about during pregnancy?"


def _secret(value: str) -> dict[str, str]:
    return {"X-Conversation-Secret": value}


def _follow(client: httpx.Client, conversation_id: str, headers: dict[str, str] | None = None,
            **extra: Any) -> httpx.Response:
    return client.post("/v1/answers", json={"question": FOLLOW, "conversation_id": conversation_id},
                       headers=headers or {}, **extra)


def test_only_the_secret_continues_a_conversation(client: httpx.Client) -> None:
    first = client.post("/v1/answers", json={"question": QUESTION}).json()
    secret, conversation = first["conversation_secret"], first["conversation_id"]
    assert len(secret) >= 43  # 256 random bits, URL-safe
    for value in (first["id"], conversation):
        assert uuid.UUID(value).version == 4  # 122 random bits
    unknown = _follow(client, "0" * 8)
    assert unknown.status_code == 404
    for headers in (None, _secret("wrong"), _secret(secret[:-1]), _secret("")):
        refused = _follow(client, conversation, headers)
        assert refused.status_code == 404, refused.text
        assert refused.json() == {"detail": unknown.json()["detail"].replace("0" * 8, conversation),
                                  "type": "NotFoundError"}
    follow = _follow(client, conversation, _secret(secret))
    assert follow.status_code == 200, follow.text
    assert follow.json()["conversation_id"] == conversation and follow.json()["conversation_secret"] is None
    assert "neuromyelitis" in follow.json()["rewritten_query"].lower()
    # An answer id shows that answer, never the conversation's secret.
    shown = client.get(f"/v1/answers/{first['id']}").json()
    assert shown["conversation_secret"] is None and shown["summary"] == first["summary"]


def test_the_stream_and_the_openai_route_need_the_secret_too(client: httpx.Client) -> None:
    first = client.post("/v1/answers", json={"question": QUESTION}).json()
    conversation, secret = first["conversation_id"], first["conversation_secret"]
    stream = {"Accept": "text/event-stream"}
    assert _follow(client, conversation, stream).status_code == 404
    with client.stream("POST", "/v1/answers", json={"question": FOLLOW, "conversation_id": conversation},
                       headers={**stream, **_secret(secret)}) as res:
        assert res.status_code == 200
        assert "event: done" in "".join(res.iter_text())
    chat = {"model": "medcite", "messages": [{"role": "user", "content": FOLLOW}],
            "medcite_conversation_id": conversation}
    refused = client.post("/v1/chat/completions", json=chat)
    assert refused.status_code == 404 and "unknown conversation" in refused.text
    reply = client.post("/v1/chat/completions", json=chat, headers=_secret(secret))
    assert reply.status_code == 200, reply.text
    assert reply.json()["medcite"]["conversation_id"] == conversation
    opened = client.post("/v1/chat/completions", json={**chat, "medcite_conversation_id": None}).json()
    assert len(opened["medcite"]["conversation_secret"]) >= 43
    # No route lists conversations.
    assert not [p for p in client.get("/openapi.json").json()["paths"] if "conversations" in p]


def test_issuer_and_specialty_filters_match_in_any_case(client: httpx.Client) -> None:
    def refs(filters: dict[str, list[str]]) -> list[str]:
        res = client.post("/v1/answers", json={"question": "How is epilepsy treated?", "filters": filters})
        assert res.status_code == 200, res.text
        return [r["doc_id"] for r in res.json()["references"]]

    catalog = refs({"issuer": ["NICE"], "specialty": ["neurology"]})
    assert catalog and all("nice" in d for d in catalog)
    assert refs({"issuer": ["nice"], "specialty": ["NEUROLOGY"]}) == catalog
    assert refs({"issuer": ["Nice", "NICE"]}) == refs({"issuer": ["NICE"]})


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory, corpus_settings: Settings,
           answer_service: AnswerService) -> Iterator[Reviewing]:
    with reviewing(corpus_settings, answer_service, tmp_path_factory.mktemp("turns"), max_turns=4) as setup:
        yield setup


def test_concurrent_follow_ups_get_distinct_turns_up_to_the_cap(capped: Reviewing, tmp_path: Path) -> None:
    first = capped.ask(filters={"specialty": ["neurology"]})
    conversation, secret = first["conversation_id"], first["conversation_secret"]

    def post(_: int) -> httpx.Response:
        with capped.client() as http:
            return _follow(http, conversation, _secret(secret))

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(post, range(6)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 200, 409, 409, 409], [r.text for r in results]
    for refused in (r for r in results if r.status_code == 409):
        assert refused.json()["type"] == "ConflictError" and "4 turns" in refused.json()["detail"]
    with capped.service.conversations.engine.connect() as db:
        turns = db.execute(text("SELECT turn FROM answers WHERE conversation_id = :c ORDER BY turn"),
                           {"c": conversation}).scalars().all()
    assert turns == [1, 2, 3, 4]
