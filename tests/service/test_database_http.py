"""One end-to-end pass over real HTTP on each database (SQLite and a real PostgreSQL): ask, follow up with the
conversation's secret, review to approval, reuse, an unsafe rating sending the answer back, the audit trail."""

from __future__ import annotations

from pathlib import Path

from medcite.config import Settings
from service import AnswerService
from service.keys import Role

from .reviewing import QUESTION, reviewing


def test_review_workflow_end_to_end(database_url: str, tmp_path: Path, corpus_settings: Settings,
                                    answer_service: AnswerService) -> None:
    with reviewing(corpus_settings, answer_service, tmp_path, database_url=database_url) as rv:
        assert rv.service.conversations.engine.dialect.name == database_url.split(":")[0].split("+")[0]
        first = rv.ask()
        follow = rv.ask("what about during pregnancy?", conversation_id=first["conversation_id"],
                        secret=first["conversation_secret"])
        assert "neuromyelitis" in follow["rewritten_query"].lower()
        answer_id = first["id"]
        with rv.client(Role.REVIEWER) as http:
            assert http.put(f"/v1/answers/{answer_id}/review", json={"status": "approved"}).status_code == 409
            for step in ("under_review", "approved"):
                res = http.put(f"/v1/answers/{answer_id}/review", json={"status": step, "note": f"to {step}"})
                assert res.status_code == 200, res.text
            assert res.json()["reviewed_by"] == "reviewer tester"
        reused = rv.ask(QUESTION.upper())
        assert reused["reused_from"] == answer_id and reused["review_status"] == "approved"
        with rv.client() as http:
            rated = http.post(f"/v1/answers/{reused['id']}/feedback",
                              json={"rating": "unsafe", "comment": "the dose looks wrong"})
            assert rated.status_code == 201, rated.text
            assert http.get(f"/v1/answers/{answer_id}").json()["review_status"] == "under_review"
            assert not rv.ask(QUESTION)["reused_from"]  # no longer approved, so no longer served
        with rv.client(Role.REVIEWER) as http:
            trail = http.get(f"/v1/answers/{answer_id}/audit").json()
        assert [(e["actor"], e["action"], e["to_status"]) for e in trail] == [
            ("reviewer tester", "transition", "under_review"), ("reviewer tester", "transition", "approved"),
            ("feedback", "flag", "under_review")]
        assert "the dose looks wrong" in trail[-1]["note"]
