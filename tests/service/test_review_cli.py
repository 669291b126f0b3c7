"""`medcite keys ...`, `medcite review ...` and `medcite audit export` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medcite.config import Settings
from service import AnswerService

from .reviewing import QUESTION, Reviewing, reviewing


@pytest.fixture(scope="module")
def rv(tmp_path_factory: pytest.TempPathFactory, corpus_settings: Settings,
       answer_service: AnswerService) -> Iterator[Reviewing]:
    with reviewing(corpus_settings, answer_service, tmp_path_factory.mktemp("review-cli")) as setup:
        yield setup


def medcite(rv: Reviewing, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, on the review server's database and the corpus index."""
    index = str(rv.service.settings.storage.index_dir)
    env = {**os.environ, "COLUMNS": "200", "MEDCITE_API__DATABASE_URL": rv.database_url, "MEDCITE_INDEX_DIR": index}
    return subprocess.run([sys.executable, "-m", "medcite.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_keys_created_listed_and_revoked_on_the_command_line(rv: Reviewing) -> None:
    made = medcite(rv, "keys", "create", "--role", "reviewer", "--name", "Dr CLI")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("mck_") and "not shown again" in made.stderr and key not in made.stderr
    with httpx.Client(base_url=rv.url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as http:
        assert http.get("/v1/reviews").status_code == 200
        listed = [json.loads(line) for line in medcite(rv, "keys", "list", "--json").stdout.splitlines()]
        mine = next(k for k in listed if k["name"] == "Dr CLI")
        assert mine["role"] == "reviewer" and not mine["revoked_at"] and key not in json.dumps(listed)
        revoked = medcite(rv, "keys", "revoke", "Dr CLI")
        assert revoked.returncode == 0 and mine["id"] in revoked.stdout
        assert http.get("/v1/reviews").status_code == 401


def test_review_commands_move_answers_and_record_the_actor(rv: Reviewing, tmp_path: Path) -> None:
    answer_id = rv.service.ask(QUESTION, filters=None).id
    refused = medcite(rv, "review", "approve", answer_id, "--as", "Dr CLI")
    assert refused.returncode == 2 and "allowed from submitted: under_review" in refused.stderr
    listed = [json.loads(line) for line in medcite(rv, "review", "list", "--state", "submitted", "--json").stdout
              .splitlines()]
    assert answer_id in {q["id"] for q in listed} and all(q["review_status"] == "submitted" for q in listed)
    steps = [("claim", "under_review", "Dr CLI"), ("request-changes", "changes_requested", None),
             ("claim", "under_review", "Dr CLI"), ("approve", "approved", "Dr CLI"), ("retract", "retracted", "Dr CLI")]
    for command, state, actor in steps:
        run = medcite(rv, "review", command, answer_id, "--note", f"{command} from the shell",
                      *(("--as", actor) if actor else ()))
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().endswith(f"→ {state} (by {actor})" if actor else ")")
    assert rv.service.get(answer_id).review_status.value == "retracted"
    trail = rv.service.workflow.store.audit(answer_id)
    assert [e.to_status.value for e in trail] == [s for _, s, _ in steps]
    assert trail[1].actor not in ("", "Dr CLI")  # no --as: the OS user
    shown = medcite(rv, "review", "show", answer_id)
    assert shown.returncode == 0 and QUESTION in shown.stdout and "allowed next: submitted" in shown.stdout
    assert "approve from the shell" in shown.stdout and "1." in shown.stdout
    out = tmp_path / "audit.jsonl"
    assert medcite(rv, "audit", "export", "--output", str(out)).returncode == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["actor"], e["to_status"], e["note"]) for e in exported if e["answer_id"] == answer_id] == [
        (e.actor, e.to_status.value, e.note) for e in trail]
