"""Helpers of the review tests: an AnswerService on the corpus index with its own database, keys of every role,
and a real uvicorn server in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from medcite.config import ReviewSettings, Settings
from service import AnswerService
from service.api import create_app
from service.conversations import ConversationStore
from service.keys import KeyStore, Role

from .conftest import LiveServer

QUESTION = "What is the treatment for neuromyelitis optica?"


@dataclass
class Reviewing:
    """A running review server: its URL, a key per role, and the service behind it."""

    url: str
    keys: dict[Role, str]
    service: AnswerService
    database_url: str

    def client(self, role: Role | None = None, key: str | None = None) -> httpx.Client:
        """A client sending the key of `role` (or `key`), or none."""
        token = key or (self.keys[role] if role else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)

    def ask(self, question: str = QUESTION, secret: str | None = None, **extra: Any) -> dict[str, Any]:
        """A new answer, asked anonymously (a follow-up sends its conversation's `secret`)."""
        headers = {"X-Conversation-Secret": secret} if secret else {}
        with self.client() as http:
            res = http.post("/v1/answers", json={"question": question, **extra}, headers=headers)
            assert res.status_code == 200, res.text
            answer: dict[str, Any] = res.json()
            return answer


def review_service(settings: Settings, shared: AnswerService, database: Path | str, *,
                   max_turns: int = 50) -> AnswerService:
    """An AnswerService over the shared index and retriever, storing answers in its own database (a SQLite
    file, or any SQLAlchemy URL)."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    return AnswerService(settings, index=shared.index, retriever=shared.retriever,
                         conversations=ConversationStore(url, max_turns=max_turns))


@contextmanager
def reviewing(corpus_settings: Settings, shared: AnswerService, folder: Path,
              failures: str = "1000/minute", *, database_url: str | None = None,
              max_turns: int = 50) -> Iterator[Reviewing]:
    """A review server with a key of each role; the shared index is left open for the session."""
    settings = corpus_settings.model_copy(update={"review": ReviewSettings(auth_failure_limit=failures)})
    url = database_url or f"sqlite:///{folder / 'answers.db'}"
    service = review_service(settings, shared, url, max_turns=max_turns)
    store = KeyStore(service.conversations.engine)
    keys = {role: store.create(role, f"{role.value} tester").key for role in Role}
    try:
        with LiveServer(create_app(settings, service=service)) as server:
            yield Reviewing(server.url, keys, service, url)
    finally:
        service.conversations.close()  # not service.close(): the index belongs to the session
