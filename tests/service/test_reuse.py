"""Approved answers are served again to the same question and audience, until a guideline they cite changes."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings
from service import AnswerService
from service.api import create_app
from service.conversations import ConversationStore
from service.keys import KeyStore, Role
from tests.sse import sse_events

from .conftest import ROOT, LiveServer
from .reviewing import QUESTION, Reviewing

DOCS = ("neurology/nmosd-international-2023.md", "neurology/migraine-ahs-2021.md", "respiratory/asthma-gina-2024.md")
NMOSD = "nmosd-international-2023"


@dataclass
class SmallIndex:
    rv: Reviewing
    corpus: Path
    settings: Settings
    embedder: SentenceTransformerEmbedder


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[SmallIndex]:
    """Three digests in a temp index, a service on it with its own database, and a reviewer key."""
    folder = tmp_path_factory.mktemp("reuse")
    corpus = folder / "corpus"
    corpus.mkdir()
    for doc in DOCS:
        shutil.copy(ROOT / "corpus" / doc, corpus)
    settings = Settings(index_dir=folder / "index")
    assert ingest_paths([corpus], settings=settings, embedder=embedder).ok
    database = folder / "answers.db"
    service = AnswerService(settings, index=Index.open(settings, embedder=embedder),
                            conversations=ConversationStore(f"sqlite:///{database}"))
    keys = {role: KeyStore(service.conversations.engine).create(role, f"{role.value} tester").key for role in Role}
    try:
        with LiveServer(create_app(settings, service=service)) as server:
            yield SmallIndex(Reviewing(server.url, keys, service, f"sqlite:///{database}"), corpus, settings, embedder)
    finally:
        service.close()


def _approve(rv: Reviewing, answer_id: str) -> None:
    with rv.client(Role.REVIEWER) as http:
        for status in ("under_review", "approved"):
            assert http.put(f"/v1/answers/{answer_id}/review", json={"status": status}).status_code == 200


def test_approved_answers_are_reused_until_a_cited_guideline_changes(small: SmallIndex) -> None:
    rv = small.rv
    first = rv.ask()
    again = rv.ask()
    assert again["id"] != first["id"] and not again["reused_from"]  # nothing approved yet: composed anew
    assert NMOSD in {r["doc_id"] for r in first["references"]}
    _approve(rv, first["id"])

    reused = rv.ask("  what is the TREATMENT for neuromyelitis   optica ?! ")
    assert reused["reused_from"] == first["id"] and reused["id"] != first["id"]
    assert reused["review_status"] == "approved" and reused["reviewed_by"] == "reviewer tester"
    assert reused["summary"] == first["summary"] and reused["references"] == first["references"]
    day = reused["reviewed_at"][:10]
    assert reused["last_updated"] == day and day in reused["pending_review"]
    assert reused["conversation_id"] != first["conversation_id"]  # the asker gets a conversation of their own
    assert reused["conversation_secret"] and reused["conversation_secret"] != first["conversation_secret"]
    follow = rv.ask("what about during pregnancy?", conversation_id=reused["conversation_id"],
                    secret=reused["conversation_secret"])
    assert not follow["reused_from"] and "neuromyelitis" in follow["rewritten_query"].lower()
    with rv.client() as http:
        assert http.get(f"/v1/answers/{reused['id']}").json()["reused_from"] == first["id"]
        assert http.post(f"/v1/answers/{reused['id']}/feedback", json={"rating": "unsafe"}).status_code == 201
    with rv.client(Role.REVIEWER) as http:
        refused = http.put(f"/v1/answers/{reused['id']}/review", json={"status": "retracted"})
        assert refused.status_code == 409 and first["id"] in refused.json()["detail"]
        queued = {q["id"]: q for q in http.get("/v1/reviews").json()}
        assert reused["id"] not in queued and queued[first["id"]]["unsafe"] == 1  # the copy's rating counts
        # ... and sends the approved original back to review, until a reviewer approves it again.
        assert queued[first["id"]]["review_status"] == "under_review"
        assert http.put(f"/v1/answers/{first['id']}/review", json={"status": "approved"}).status_code == 200

    # Another audience, a filter or a follow-up is not the same question.
    assert not rv.ask(audience="patient")["reused_from"]
    assert not rv.ask(filters={"specialty": ["neurology"]})["reused_from"]
    assert not rv.ask(QUESTION, conversation_id=first["conversation_id"],
                      secret=first["conversation_secret"])["reused_from"]
    with rv.client() as http:
        events = sse_events(http, "/v1/answers", {"question": QUESTION})
    kinds = [k for k, _ in events]
    assert kinds[0] == "references" and "sentence" in kinds and kinds[-1] == "done"
    assert json.loads(events[-1][1])["reused_from"] == first["id"]

    # The latest approval wins.
    _approve(rv, again["id"])
    assert rv.ask()["reused_from"] == again["id"]

    # Re-ingesting the same content changes nothing; changed content withdraws both approvals.
    assert ingest_paths([small.corpus], settings=small.settings, embedder=small.embedder).unchanged == len(DOCS)
    assert rv.ask()["reused_from"] == again["id"]
    digest = small.corpus / f"{NMOSD}.md"
    digest.write_text(digest.read_text() + "\n\nPlasma exchange should be considered early in severe attacks.\n")
    assert ingest_paths([small.corpus], settings=small.settings, embedder=small.embedder).updated == 1
    # The running service notices on reading: the first approval falls back, its copy follows it. It serves the
    # newly published generation once it has loaded it in the background (service/live.py), so poll, bounded.
    with rv.client(Role.REVIEWER) as http:
        deadline = time.monotonic() + 120
        status = http.get(f"/v1/answers/{first['id']}").json()["review_status"]
        while status != "submitted" and time.monotonic() < deadline:
            time.sleep(0.25)
            status = http.get(f"/v1/answers/{first['id']}").json()["review_status"]
        assert status == "submitted"
        assert http.get(f"/v1/answers/{reused['id']}").json()["review_status"] == "submitted"
        _assert_stale(http.get(f"/v1/answers/{first['id']}/audit").json()[-1])
    # A restarted service (as after a re-ingest, so its catalog is current) checks every approval at start.
    restarted = AnswerService(small.settings, index=Index.open(small.settings, embedder=small.embedder),
                              conversations=ConversationStore(rv.database_url))
    try:
        with LiveServer(create_app(small.settings, service=restarted)) as server:
            rv2 = Reviewing(server.url, rv.keys, restarted, rv.database_url)
            with rv2.client(Role.REVIEWER) as http:
                _assert_stale(http.get(f"/v1/answers/{again['id']}/audit").json()[-1])
            fresh = rv2.ask()
            assert not fresh["reused_from"] and fresh["review_status"] == "submitted"
    finally:
        restarted.close()


def _assert_stale(entry: dict[str, str]) -> None:
    assert (entry["action"], entry["actor"], entry["from_status"], entry["to_status"]) == (
        "stale", "medcite", "approved", "submitted")
    assert NMOSD in entry["note"] and "re-ingested with changes" in entry["note"]
