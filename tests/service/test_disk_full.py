"""Disk full while writing conversations: the answer still returns with a note, the error is logged, and the
store is whole afterwards. The database sits on a small real tmpfs when this process may mount one (root);
otherwise the engine refuses INSERTs with SQLite's own "database or disk is full" error."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from medcite.config import Settings
from service import AnswerService
from service.answering import NOT_SAVED
from service.api import create_app
from tests.service.conftest import LiveServer

QUESTION = "How are acute NMOSD attacks treated?"


class Disk:
    """A folder whose free space can be used up and given back."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)],
                                 capture_output=True, check=False)
        self.real = mounted.returncode == 0
        self.full = False

    def attach(self, engine: Any) -> None:
        """Without a real tmpfs, make the engine fail INSERTs the way SQLite does on a full disk."""
        if self.real:
            return

        @event.listens_for(engine, "before_cursor_execute")
        def _refuse(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if self.full and statement.lstrip().upper().startswith("INSERT"):
                raise sqlite3.OperationalError("database or disk is full")

    def fill(self) -> None:
        self.full = True
        if self.real:
            with (self.folder / "filler").open("wb") as out:
                try:
                    while True:
                        out.write(b"\0" * 65536)
                        out.flush()
                except OSError:
                    pass

    def free(self) -> None:
        self.full = False
        (self.folder / "filler").unlink(missing_ok=True)

    def close(self) -> None:
        if self.real:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)


@pytest.fixture()
def disk(tmp_path: Path) -> Iterator[Disk]:
    d = Disk(tmp_path / "disk")
    yield d
    d.close()


@pytest.mark.slow
def test_a_full_disk_still_answers_logs_the_error_and_keeps_what_was_stored(
        disk: Disk, corpus_settings: Settings, answer_service: AnswerService,
        caplog: pytest.LogCaptureFixture) -> None:
    api = corpus_settings.api.model_copy(update={"database_url": f"sqlite:///{disk.folder / 'conversations.sqlite'}",
                                                 "ask_limit_per_address": "100000/minute"})
    settings = corpus_settings.model_copy(update={"api": api})
    service = AnswerService(settings, index=answer_service.index, retriever=answer_service.retriever)
    disk.attach(service.conversations.engine)
    try:
        with LiveServer(create_app(settings, service=service)) as live, \
                httpx.Client(base_url=live.url, timeout=60) as http:
            first = http.post("/v1/answers", json={"question": QUESTION})
            assert first.status_code == 200, first.text
            assert NOT_SAVED not in first.json()["notes"]

            disk.fill()
            with caplog.at_level(logging.ERROR, logger="service.answering"):
                refused = http.post("/v1/answers", json={"question": QUESTION})
            assert refused.status_code == 200, refused.text
            body = refused.json()
            assert body["references"] and body["summary"]
            assert NOT_SAVED in body["notes"]
            assert any(body["id"] in r.getMessage() and "full" in r.getMessage() for r in caplog.records)
            assert http.get(f"/v1/answers/{body['id']}").status_code == 404  # nothing half-written

            disk.free()
            again = http.get(f"/v1/answers/{first.json()['id']}")
            assert again.status_code == 200 and again.json()["summary"] == first.json()["summary"]
            later = http.post("/v1/answers", json={"question": QUESTION})
            assert later.status_code == 200 and NOT_SAVED not in later.json()["notes"]
            assert http.get(f"/v1/answers/{later.json()['id']}").status_code == 200
        with sqlite3.connect(disk.folder / "conversations.sqlite") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        service.conversations.close()
