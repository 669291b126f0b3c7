"""Opening the answer service at start; while the Chroma server is down, retrying it in the background."""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI

from ingest import Index, SentenceTransformerEmbedder
from medcite.config import Settings
from medcite.errors import IndexStoreError, VectorStoreUnavailableError
from service.answering import AnswerService
from service.api.auth import Guard
from service.api.sites import SiteGate
from service.keys import KeyStore
from service.live import LiveService

log = logging.getLogger(__name__)


class Starter:
    """Puts a running AnswerService (and its key checks) on `app.state`, or says in `unavailable` why not.

    A worker started before its Chroma server does not stay down: it tries again every `retry_s` seconds in a
    thread until the server answers; meanwhile /readyz and the answer routes say 503 with the reason."""

    def __init__(self, app: FastAPI, settings: Settings, service: AnswerService | None, *, retry_s: float) -> None:
        self._app = app
        self._settings = settings
        self._given = service
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._embedder: SentenceTransformerEmbedder | None = None

    def start(self) -> None:
        """Open the service (blocking); on an unreachable vector store, keep trying in a background thread."""
        state = self._app.state
        state.service, state.unavailable = self._given, ""
        state.live = state.guard = state.sites = None
        if self._given is not None:
            self._serve(self._given)
            return
        try:
            self._serve(self._open())
        except VectorStoreUnavailableError as exc:
            self._unavailable(exc)
            self._thread = threading.Thread(target=self._retry, name="medcite-start", daemon=True)
            self._thread.start()
        except IndexStoreError as exc:
            log.error("serving without an index: %s", exc)
            state.unavailable = str(exc)

    def stop(self) -> None:
        """End the retries (at shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _open(self) -> AnswerService:
        # One embedder across attempts, so a retry does not load the model again.
        self._embedder = self._embedder or SentenceTransformerEmbedder(self._settings.embedding)
        service = AnswerService(self._settings, index=Index.open(self._settings, embedder=self._embedder))
        service.index.embedder.embed_query("warm up")  # load the model before the first user
        return service

    def _unavailable(self, exc: Exception) -> None:
        self._app.state.unavailable = f"{exc}; retrying every {self._retry_s:g} s"
        log.error("serving without an index until the vector store answers: %s", exc)

    def _retry(self) -> None:
        while not self._stop.wait(self._retry_s):
            try:
                service = self._open()
            except VectorStoreUnavailableError as exc:
                self._unavailable(exc)
                continue
            except Exception as exc:  # anything else will not mend by waiting: say it and stop trying
                log.error("serving without an index: %s", exc)
                self._app.state.unavailable = str(exc)
                return
            if self._stop.is_set():
                service.close()
                return
            self._serve(service)
            log.info("the vector store answers; serving index generation %s", service.index.generation or "-")
            return

    def _serve(self, service: AnswerService) -> None:
        """Wire a running service in; the LiveService goes last, since the routes look for it first."""
        state = self._app.state
        keys = KeyStore(service.conversations.engine)  # keys live beside the answers
        state.guard = Guard(keys, self._settings.review)
        state.sites = SiteGate(keys, self._settings.api)
        service.workflow.sweep()  # approvals of guidelines re-ingested since the last start fall back
        if service.settings.llm.provider != "none" and service.settings.llm.startup_check:
            service.check_llm()
        state.service = service
        state.unavailable = ""
        state.live = LiveService(service)
