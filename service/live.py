"""The answer service of the published index generation, swapped for a new one when ingest publishes another."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ingest import Index
from ingest.generations import Stamp, stamp
from service.answering import AnswerService

log = logging.getLogger(__name__)


class LiveService:
    """Holds the AnswerService of one generation; `current()` notices a newly published one with one stat call.

    The new generation loads in a background thread while requests go on with the old one, then replaces it for
    the requests that start afterwards. A request keeps the service it started with, so it finishes on its
    generation; the old service is left to the garbage collector rather than closed under a running request."""

    def __init__(self, service: AnswerService) -> None:
        self._service = service
        self._root = Path(service.settings.storage.index_dir)
        self._stamp = stamp(self._root)
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None

    @property
    def generation(self) -> str:
        """The generation served now."""
        return self._service.index.generation

    def current(self) -> AnswerService:
        """The service for a request starting now (starts loading a new generation when one was published)."""
        seen = stamp(self._root)
        if seen != self._stamp:
            with self._lock:
                if seen != self._stamp and self._loader is None:
                    self._loader = threading.Thread(target=self._load, args=(seen,), name="medcite-generation",
                                                    daemon=True)
                    self._loader.start()
        return self._service

    def wait(self, timeout: float | None = None) -> None:
        """Block until a generation being loaded is in place (tests, start-up)."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)

    def _load(self, seen: Stamp | None) -> None:
        old = self._service
        loaded = False
        try:
            index = Index.open(old.settings, embedder=old.index.embedder)
            if index.generation == old.index.generation:
                index.close()
            else:
                fresh = AnswerService(old.settings, index=index, conversations=old.conversations)
                if old.composer is old.extractive and fresh.composer is not fresh.extractive:
                    # The LLM failed its start-up check in this process; the new generation does not retry it.
                    fresh.composer, fresh.rewriter, fresh.llm_status = fresh.extractive, fresh.rule_rewriter, \
                        old.llm_status
                else:
                    fresh.llm_status = old.llm_status
                self._service = fresh
                log.info("serving index generation %s (was %s)", index.generation, old.index.generation)
            loaded = True
        except Exception as exc:  # a bad publish must not stop the service: it keeps the generation it has
            log.error("cannot load the published index generation (%s); still serving %s; retrying on the next "
                      "request", exc, old.index.generation or "the working store")
        finally:
            with self._lock:
                if loaded:
                    self._stamp = seen
                self._loader = None
