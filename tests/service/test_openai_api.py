"""The OpenAI-compatible endpoint, used by the OpenAI Python SDK and LangChain's ChatOpenAI unchanged."""

from __future__ import annotations

import httpx
import pytest
from langchain_openai import ChatOpenAI
from openai import NotFoundError, OpenAI

QUESTION = "What is the treatment for neuromyelitis optica?"


def _sdk(live_url: str) -> OpenAI:
    return OpenAI(base_url=f"{live_url}/v1", api_key="unused", max_retries=0, timeout=60)


def test_models_lists_medcite(live_url: str) -> None:
    assert [m.id for m in _sdk(live_url).models.list()] == ["medcite"]


def test_the_openai_sdk_gets_a_cited_answer_with_all_three_citation_fields(live_url: str) -> None:
    reply = _sdk(live_url).chat.completions.create(model="medcite", messages=[{"role": "user", "content": QUESTION}])
    content = reply.choices[0].message.content or ""
    assert "methylprednisolone" in content.casefold() and "**References**" in content and "[1]" in content
    extra = reply.model_extra or {}
    refs = extra["references"]
    assert extra["citations"] and len(extra["citations"]) == len(refs)
    assert refs[0]["number"] == 1 and refs[0]["doc_id"].startswith("nmosd-") and refs[0]["spans"]
    notes = reply.choices[0].message.annotations or []
    assert notes and all(a.type == "url_citation" for a in notes)
    for a in notes:  # every annotation points at a marker of the content
        assert content[a.url_citation.start_index:a.url_citation.end_index] in {f"[{r['number']}]" for r in refs}
        assert a.url_citation.url in extra["citations"]


def test_streaming_through_the_sdk_ends_with_citations_before_done(live_url: str) -> None:
    chunks = list(_sdk(live_url).chat.completions.create(
        model="medcite", messages=[{"role": "user", "content": QUESTION}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    last = chunks[-1]
    extra = last.model_extra or {}
    assert last.choices[0].finish_reason == "stop"
    assert extra["citations"] and extra["references"] and "methylprednisolone" in text.casefold()
    plain = _sdk(live_url).chat.completions.create(model="medcite", messages=[{"role": "user", "content": QUESTION}])
    assert text == plain.choices[0].message.content  # streamed pieces add up to the same reply


def test_an_abstention_streams_with_empty_citation_fields(live_url: str) -> None:
    chunks = list(_sdk(live_url).chat.completions.create(
        model="medcite", messages=[{"role": "user", "content": "How do I treat tinea pedis?"}], stream=True))
    extra = chunks[-1].model_extra or {}
    assert extra["citations"] == [] and extra["references"] == []
    assert "Not covered" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_langchain_chatopenai_works_unchanged_streamed_and_not(live_url: str) -> None:
    chat = ChatOpenAI(model="medcite", base_url=f"{live_url}/v1", api_key="unused",  # type: ignore[arg-type]
                      use_responses_api=False, max_retries=0, timeout=60)
    reply = chat.invoke(QUESTION)
    assert "[1]" in str(reply.content) and "References" in str(reply.content)
    streamed = "".join(str(c.content) for c in chat.stream(QUESTION))
    assert streamed == reply.content


def test_earlier_messages_are_the_conversation(live_url: str) -> None:
    reply = httpx.post(f"{live_url}/v1/chat/completions", timeout=60, json={
        "model": "medcite",
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": QUESTION},
                     {"role": "assistant", "content": "..."},
                     {"role": "user", "content": "and during pregnancy?"}]}).json()
    assert "neuromyelitis" in reply["medcite"]["rewritten_query"]
    assert any(r["doc_id"].startswith("nmosd-") for r in reply["references"])


def test_user_field_continues_a_stored_conversation(live_url: str) -> None:
    body = {"model": "medcite", "user": "clinic-42-user-7",
            "messages": [{"role": "user", "content": QUESTION}]}
    first = httpx.post(f"{live_url}/v1/chat/completions", json=body, timeout=60).json()
    body["messages"] = [{"role": "user", "content": "and during pregnancy?"}]
    second = httpx.post(f"{live_url}/v1/chat/completions", json=body, timeout=60).json()
    assert first["medcite"]["conversation_id"] == second["medcite"]["conversation_id"]
    assert any(r["doc_id"].startswith("nmosd-") for r in second["references"])


def test_metadata_sets_audience_and_bad_input_gets_openai_errors(live_url: str) -> None:
    reply = httpx.post(f"{live_url}/v1/chat/completions", timeout=60, json={
        "model": "medcite", "messages": [{"role": "user", "content": "What is high blood pressure?"}],
        "metadata": {"audience": "patient", "filters": '{"issuer": ["ACC/AHA"]}'}}).json()
    assert reply["medcite"]["audience"] == "patient"
    assert all(r["issuer"] == "ACC/AHA" for r in reply["references"])
    for bad, where in (({"messages": []}, "messages"),
                       ({"messages": [{"role": "system", "content": "hi"}]}, "user message"),
                       ({"messages": [{"role": "user", "content": "q"}], "metadata": {"audience": "robot"}},
                        "audience")):
        res = httpx.post(f"{live_url}/v1/chat/completions", json={"model": "medcite", **bad}, timeout=30)
        assert res.status_code == 400, res.text
        assert where in res.json()["error"]["message"] and res.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(NotFoundError, match="unknown conversation"):
        _sdk(live_url).chat.completions.create(model="medcite", messages=[{"role": "user", "content": "q"}],
                                               extra_body={"medcite_conversation_id": "nope"})
