"""Medical review over real HTTP: every transition allowed and refused, the audit trail, edits, queue, feedback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import text

from medcite.config import Settings
from service import AnswerService
from service.keys import Role
from service.models import ReviewStatus as S
from service.review import TRANSITIONS

from .reviewing import Reviewing, reviewing

# Answers asked with a filter are never reused, so every test gets fresh answers to move around.
FILTERED: dict[str, Any] = {"filters": {"specialty": ["neurology"]}}
# The moves that bring a new answer into each state.
PATH = {
    S.SUBMITTED: [],
    S.UNDER_REVIEW: [S.UNDER_REVIEW],
    S.APPROVED: [S.UNDER_REVIEW, S.APPROVED],
    S.CHANGES_REQUESTED: [S.UNDER_REVIEW, S.CHANGES_REQUESTED],
    S.RETRACTED: [S.UNDER_REVIEW, S.APPROVED, S.RETRACTED],
}


@pytest.fixture(scope="module")
def rv(tmp_path_factory: pytest.TempPathFactory, corpus_settings: Settings,
       answer_service: AnswerService) -> Iterator[Reviewing]:
    with reviewing(corpus_settings, answer_service, tmp_path_factory.mktemp("review")) as setup:
        yield setup


def _answer_in(rv: Reviewing, state: S) -> str:
    answer_id: str = rv.ask(**FILTERED)["id"]
    with rv.client(Role.REVIEWER) as http:
        for step in PATH[state]:
            res = http.put(f"/v1/answers/{answer_id}/review", json={"status": step.value})
            assert res.status_code == 200, res.text
    return answer_id


@pytest.mark.parametrize("state", list(S))
def test_each_state_allows_only_its_moves(rv: Reviewing, state: S) -> None:
    answer_id = _answer_in(rv, state)
    allowed = TRANSITIONS[state]
    with rv.client(Role.REVIEWER) as http:
        for target in S:
            if target in allowed:
                continue
            res = http.put(f"/v1/answers/{answer_id}/review", json={"status": target.value})
            assert res.status_code == 409, (state, target, res.text)
            detail = res.json()["detail"]
            assert res.json()["type"] == "ConflictError"
            assert f"allowed from {state.value}: {', '.join(s.value for s in allowed)}" in detail, detail
        assert http.get(f"/v1/answers/{answer_id}").json()["review_status"] == state.value
        for target in allowed:
            fresh = answer_id if target == allowed[0] else _answer_in(rv, state)
            res = http.put(f"/v1/answers/{fresh}/review", json={"status": target.value, "note": "checked"})
            assert res.status_code == 200, (state, target, res.text)
            assert res.json()["review_status"] == target.value


def test_submitted_cannot_jump_to_approved(rv: Reviewing) -> None:
    answer_id = rv.ask(**FILTERED)["id"]
    with rv.client(Role.REVIEWER) as http:
        res = http.put(f"/v1/answers/{answer_id}/review", json={"status": "approved"})
        assert res.status_code == 409
        assert res.json()["detail"] == ("cannot move an answer from submitted to approved; "
                                        "allowed from submitted: under_review")
        assert http.put(f"/v1/answers/{answer_id}/review", json={"status": "published"}).status_code == 422
        assert http.put("/v1/answers/nope/review", json={"status": "under_review"}).status_code == 404


def test_approval_names_the_reviewer_and_date(rv: Reviewing) -> None:
    answer_id = _answer_in(rv, S.APPROVED)
    with rv.client() as http:
        answer = http.get(f"/v1/answers/{answer_id}").json()
    assert answer["review_status"] == "approved" and answer["reviewed_by"] == "reviewer tester"
    day = answer["reviewed_at"][:10]
    assert "reviewer tester" in answer["pending_review"] and day in answer["pending_review"]
    assert "pending" not in answer["pending_review"]
    assert answer["last_updated"] == max(day, str(max(r["year"] for r in answer["references"])))


def test_audit_trail_records_every_move_and_is_append_only(rv: Reviewing) -> None:
    answer_id = _answer_in(rv, S.SUBMITTED)
    seen: list[dict[str, Any]] = []
    with rv.client(Role.REVIEWER) as http:
        for step, note in ((S.UNDER_REVIEW, "mine"), (S.APPROVED, "sound"), (S.RETRACTED, "outdated dose")):
            http.put(f"/v1/answers/{answer_id}/review", json={"status": step.value, "note": note})
            trail = http.get(f"/v1/answers/{answer_id}/audit").json()
            assert trail[: len(seen)] == seen  # earlier entries never change
            seen = trail
    assert [(e["from_status"], e["to_status"], e["note"]) for e in seen] == [
        ("submitted", "under_review", "mine"), ("under_review", "approved", "sound"),
        ("approved", "retracted", "outdated dose")]
    assert {e["actor"] for e in seen} == {"reviewer tester"} and all(e["at"] and e["action"] == "transition"
                                                                      for e in seen)
    engine = rv.service.conversations.engine
    for sql in ("UPDATE audit_log SET note = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with rv.client(Role.ADMIN) as http:
        res = http.get("/v1/audit")
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/x-ndjson")
    exported = [json.loads(line) for line in res.text.splitlines()]
    assert [e for e in exported if e["answer_id"] == answer_id] == seen
    assert [e["id"] for e in exported] == sorted(e["id"] for e in exported)


def _sentences(rv: Reviewing, answer_id: str) -> list[dict[str, Any]]:
    with rv.client(Role.REVIEWER) as http:
        view = http.get(f"/v1/reviews/{answer_id}")
    assert view.status_code == 200, view.text
    sentences: list[dict[str, Any]] = view.json()["sentences"]
    return sentences


def test_reviewer_view_puts_each_sentence_beside_its_quotes(rv: Reviewing) -> None:
    answer_id = _answer_in(rv, S.SUBMITTED)
    sentences = _sentences(rv, answer_id)
    assert [s["number"] for s in sentences] == list(range(1, len(sentences) + 1))
    for s in sentences:
        assert s["quotes"] and {q["number"] for q in s["quotes"]} <= set(s["citations"])
        assert s["quotes"][0]["matches"] and s["quotes"][0]["text"] == s["text"]  # extractive: quoted verbatim
    with rv.client(Role.REVIEWER) as http:
        view = http.get(f"/v1/reviews/{answer_id}").json()
    assert view["allowed_transitions"] == ["under_review"] and view["answer"]["id"] == answer_id


def test_edits_must_stay_supported_and_keep_the_original(rv: Reviewing) -> None:
    answer_id = _answer_in(rv, S.UNDER_REVIEW)
    # A plainer wording of a guideline sentence stays supported by the passage it quotes.
    first = next((s for s in _sentences(rv, answer_id) if " should be " in s["text"]), None)
    assert first is not None, "the NMOSD answer has no 'should be' sentence to reword"
    n, original = first["number"], first["text"]
    edited = original.replace(" should be ", " is ", 1)
    with rv.client(Role.REVIEWER) as http:
        for body, words in [
            ({"sentences": [{"number": n, "text": "Eculizumab cures migraine in children."}]},
             f"sentence {n} ('Eculizumab cures migraine in children.') is not supported"),
            ({"sentences": [{"number": n, "text": original, "citations": [99]}]}, "cites [99]"),
            ({"sentences": [{"number": 999, "text": original}]}, "sentence 999 does not exist"),
        ]:
            res = http.put(f"/v1/answers/{answer_id}/text", json=body)
            assert res.status_code == 422, res.text
            assert words in res.json()["detail"], res.json()
        res = http.put(f"/v1/answers/{answer_id}/text", json={"sentences": [{"number": n, "text": edited}],
                                                             "note": "plainer"})
        assert res.status_code == 200, res.text
        texts = [s["text"] for s in _sentences(rv, answer_id)]
        assert texts[n - 1] == edited and original not in texts
        view = http.get(f"/v1/reviews/{answer_id}").json()
        assert [(e["number"], e["before_text"], e["after_text"]) for e in view["edits"]] == [(n, original, edited)]
        entry = view["audit"][-1]
        assert entry["action"] == "edit" and entry["id"] == view["edits"][0]["audit_id"]
        assert entry["note"] == f"edited sentence {n}: plainer" and entry["actor"] == "reviewer tester"
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), \
                rv.service.conversations.engine.begin() as conn:
            conn.execute(text("UPDATE answer_edits SET before_text = ''"))
        http.put(f"/v1/answers/{answer_id}/review", json={"status": "approved"})
        res = http.put(f"/v1/answers/{answer_id}/text", json={"sentences": [{"number": 1, "text": original}]})
        assert res.status_code == 409 and "retract it" in res.json()["detail"]


def test_every_role_boundary_on_every_protected_route(rv: Reviewing) -> None:
    answer_id = _answer_in(rv, S.SUBMITTED)
    edit = {"sentences": [{"number": 1, "text": _sentences(rv, answer_id)[0]["text"]}]}
    routes = [  # (method, path, body, roles admitted)
        ("PUT", f"/v1/answers/{answer_id}/review", {"status": "under_review"}, {Role.REVIEWER}),
        ("PUT", f"/v1/answers/{answer_id}/text", edit, {Role.REVIEWER}),
        ("GET", f"/v1/answers/{answer_id}/audit", None, {Role.REVIEWER, Role.ADMIN}),
        ("GET", "/v1/reviews", None, {Role.REVIEWER, Role.ADMIN}),
        ("GET", f"/v1/reviews/{answer_id}", None, {Role.REVIEWER, Role.ADMIN}),
        ("GET", "/v1/feedback", None, {Role.REVIEWER, Role.ADMIN}),
        ("GET", "/v1/audit", None, {Role.ADMIN}),
    ]
    for method, path, body, admitted in routes:
        with rv.client() as http:
            res = http.request(method, path, json=body)
            assert res.status_code == 401, (path, res.text)
            assert res.headers["www-authenticate"].startswith("Bearer") and res.json()["type"] == "AuthenticationError"
        for role in Role:
            with rv.client(role) as http:
                res = http.request(method, path, json=body)
            if role in admitted:
                assert res.status_code == 200, (path, role, res.text)
            else:
                assert res.status_code == 403, (path, role, res.text)
                assert res.json()["type"] == "PermissionDeniedError" and "www-authenticate" not in res.headers
    # Anonymous readers ask, read and rate; with any key or none.
    for role in (None, *Role):
        with rv.client(role) as http:
            assert http.get(f"/v1/answers/{answer_id}").status_code == 200
            assert http.post(f"/v1/answers/{answer_id}/feedback", json={"rating": "helpful"}).status_code == 201
    assert rv.ask(**FILTERED)["review_status"] == "submitted"


def test_feedback_is_stored_and_unsafe_answers_are_flagged_in_the_queue(rv: Reviewing) -> None:
    answer_id = _answer_in(rv, S.SUBMITTED)
    with rv.client() as http:
        res = http.post(f"/v1/answers/{answer_id}/feedback", json={"rating": "unsafe", "comment": " wrong dose "})
        assert res.status_code == 201 and res.json()["comment"] == "wrong dose"
        cap = rv.service.settings.review.max_comment_chars
        assert http.post(f"/v1/answers/{answer_id}/feedback",
                         json={"rating": "unsafe", "comment": "x" * (cap + 1)}).status_code == 422
        assert http.post(f"/v1/answers/{answer_id}/feedback", json={"rating": "meh"}).status_code == 422
        assert http.post("/v1/answers/nope/feedback", json={"rating": "helpful"}).status_code == 404
    with rv.client(Role.ADMIN) as http:
        listed = http.get("/v1/feedback", params={"answer_id": answer_id}).json()
        assert [(f["rating"], f["comment"]) for f in listed] == [("unsafe", "wrong dose")]
        assert all(f["rating"] == "unsafe" for f in http.get("/v1/feedback", params={"rating": "unsafe"}).json())
    with rv.client(Role.REVIEWER) as http:
        queue = {q["id"]: q for q in http.get("/v1/reviews", params={"state": "submitted"}).json()}
        assert queue[answer_id]["flagged_unsafe"] and queue[answer_id]["unsafe"] == 1
        flagged = http.get("/v1/reviews", params={"unsafe": True}).json()
        assert answer_id in {q["id"] for q in flagged} and all(q["flagged_unsafe"] for q in flagged)


def test_queue_lists_oldest_first_with_filters(rv: Reviewing) -> None:
    neuro = _answer_in(rv, S.SUBMITTED)
    patient = rv.ask("How is high blood pressure treated?", audience="patient")["id"]
    with rv.client(Role.REVIEWER) as http:
        listed = http.get("/v1/reviews", params={"state": "submitted"}).json()
        assert [q["created_at"] for q in listed] == sorted(q["created_at"] for q in listed)
        assert {neuro, patient} <= {q["id"] for q in listed} and all(q["review_status"] == "submitted"
                                                                      for q in listed)
        doc = listed[[q["id"] for q in listed].index(neuro)]["guidelines"][0]
        by_doc = http.get("/v1/reviews", params={"guideline": doc}).json()
        assert neuro in {q["id"] for q in by_doc} and all(doc in q["guidelines"] for q in by_doc)
        by_topic = http.get("/v1/reviews", params={"topic": "NEUROMYELITIS"}).json()
        assert neuro in {q["id"] for q in by_topic} and patient not in {q["id"] for q in by_topic}
        patients = http.get("/v1/reviews", params={"audience": "patient"}).json()
        assert patient in {q["id"] for q in patients} and all(q["audience"] == "patient" for q in patients)
        assert http.get("/v1/reviews", params={"state": "done"}).status_code == 422
        assert len(http.get("/v1/reviews", params={"limit": 1}).json()) == 1


def test_wrong_revoked_and_malformed_keys_get_401(rv: Reviewing) -> None:
    from service.keys import KeyStore

    store = KeyStore(rv.service.conversations.engine)
    doomed = store.create(Role.REVIEWER, "leaving reviewer")
    key_id = doomed.info.id
    with rv.client(key=doomed.key) as http:
        assert http.get("/v1/reviews").status_code == 200
    store.revoke("leaving reviewer")
    for key in (doomed.key, doomed.key[:-2] + "xx", f"mck_{key_id}_short", "sk-openai-style-key"):
        with rv.client(key=key) as http:
            res = http.get("/v1/reviews")
        assert res.status_code == 401 and res.json()["detail"] == "invalid or revoked API key", key
    with rv.client() as http:
        res = http.get("/v1/reviews", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert res.status_code == 401 and "Bearer" in res.json()["detail"]
