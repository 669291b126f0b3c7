"""`medcite purge` as an operator runs it: old conversations go, approved answers and the audit trail stay."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.conversations import ConversationStore, new_secret
from service.models import ReviewStatus as S
from service.review import QueueFilter
from service.workflow import ReviewWorkflow

from .stored import make_answer


def _medcite(database: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "MEDCITE_API__RETENTION_DAYS"}
    environment.update({"MEDCITE_API__DATABASE_URL": database, **env})
    return subprocess.run([sys.executable, "-m", "medcite.cli", "purge", *args], capture_output=True, text=True,
                          timeout=120, env=environment)


def test_purge_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'answers.db'}"
    store = ConversationStore(url)
    long_ago = (datetime.now(UTC) - timedelta(days=10)).isoformat(timespec="seconds")
    old, approved, recent = (make_answer(q, created_at=at) for q, at in (
        ("What treats NMOSD?", long_ago), ("What is NMOSD?", long_ago), ("What is MOGAD?", "")))
    for answer in (old, approved, recent):
        store.save(answer, "nmosd", new_conversation=True, secret=new_secret())
    workflow = ReviewWorkflow(store, hashes=lambda: {"nmosd-guideline": "h"})
    for step in (S.UNDER_REVIEW, S.APPROVED):
        workflow.transition(approved.id, step, actor="Dr Tester")
    store.close()

    missing = _medcite(url)
    assert missing.returncode == 2 and "--days" in missing.stderr and "RETENTION_DAYS" in missing.stderr
    assert _medcite(url, "--days", "0").returncode != 0
    dry = _medcite(url, "--days", "7", "--dry-run")
    assert dry.returncode == 0 and "would delete 1 conversations and 1 answers" in dry.stdout
    assert "kept 1 approved" in dry.stdout
    done = _medcite(url, MEDCITE_API__RETENTION_DAYS="7")  # the setting is the default
    assert done.returncode == 0 and "deleted 1 conversations and 1 answers" in done.stdout, done.stderr

    store = ConversationStore(url)
    try:
        kept = {a.answer_id for a in store.reviews.queue(QueueFilter())}
        assert kept == {approved.id, recent.id}
        assert len(store.reviews.audit(approved.id)) == 2
    finally:
        store.close()
