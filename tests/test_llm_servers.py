"""ScriptedLLM speaks the OpenAI and Anthropic wire protocols well enough for LangChain's real clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.exceptions import ModelAPIError, ModelTimeoutError
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from tests.llm_servers import LLMProtocol, Reply, ScriptedLLM, split_text

TEXT = "Metformin is the usual first-line drug for type 2 diabetes in adults."
ANSWER = {"answer": "Start metformin unless contraindicated.", "citations": ["nice-ng28", "ada-2025"]}


class Answer(BaseModel):
    answer: str
    citations: list[str]


def chat_for(llm: ScriptedLLM, **kwargs: Any) -> BaseChatModel:
    """LangChain's real client for the server's protocol (no retries, short timeout unless overridden)."""
    options: dict[str, Any] = {"api_key": "test", "base_url": llm.base_url, "max_retries": 0, "timeout": 5.0}
    options.update(kwargs)
    if llm.protocol == "openai":
        return ChatOpenAI(model="gpt-4o-mini", use_responses_api=False, **options)
    return ChatAnthropic(model="claude-sonnet-4-5", max_tokens=1024, **options)


@pytest.fixture(scope="module", params=["openai", "anthropic"])
def shared(request: pytest.FixtureRequest) -> Iterator[ScriptedLLM]:
    protocol: LLMProtocol = request.param
    with ScriptedLLM(protocol) as llm:
        yield llm


@pytest.fixture()
def llm(shared: ScriptedLLM) -> Iterator[ScriptedLLM]:
    """One server per protocol for the module, emptied before each test."""
    shared.reset()
    shared.default = None
    shared.responder = None
    yield shared


@pytest.fixture(scope="module")
def openai_llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM("openai") as server:
        yield server


@pytest.fixture(scope="module")
def anthropic_llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM("anthropic") as server:
        yield server


@pytest.fixture()
def oai(openai_llm: ScriptedLLM) -> ScriptedLLM:
    openai_llm.reset()
    return openai_llm


@pytest.fixture()
def ant(anthropic_llm: ScriptedLLM) -> ScriptedLLM:
    anthropic_llm.reset()
    return anthropic_llm


# ------------------------------------------------------------------------------------------------ both protocols


def test_base_url_shape(llm: ScriptedLLM) -> None:
    assert llm.url == f"http://127.0.0.1:{llm.port}"
    assert llm.base_url == (llm.url + "/v1" if llm.protocol == "openai" else llm.url)


def test_invoke_returns_scripted_text(llm: ScriptedLLM) -> None:
    llm.script(Reply(text=TEXT))
    message = chat_for(llm).invoke("What is first-line for type 2 diabetes?")
    assert message.content == TEXT
    assert message.usage_metadata and message.usage_metadata["output_tokens"] > 0
    assert llm.pending == 0


def test_stream_yields_several_chunks(llm: ScriptedLLM) -> None:
    llm.script(Reply(text=TEXT))
    pieces = [chunk.content for chunk in chat_for(llm).stream("first-line?")]
    texts = [p for p in pieces if isinstance(p, str) and p]
    assert len(texts) == len([p for p in pieces if p]), "text streams as plain string chunks"
    assert len(texts) >= 3
    assert "".join(texts) == TEXT
    assert llm.requests[-1]["stream"] is True


def test_stream_uses_explicit_chunks(llm: ScriptedLLM) -> None:
    llm.script(Reply(chunks=["Met", "formin", "."]))
    texts = [c.content for c in chat_for(llm).stream("x") if c.content]
    assert texts == ["Met", "formin", "."]


def test_delay_longer_than_timeout_raises(llm: ScriptedLLM) -> None:
    llm.script(Reply(text="too late", delay_s=1.5))
    timeout_error = openai.APITimeoutError if llm.protocol == "openai" else anthropic.APITimeoutError
    with pytest.raises(timeout_error) as caught:
        chat_for(llm, timeout=0.2).invoke("slow?")
    assert isinstance(caught.value, ModelTimeoutError)


def test_server_error_surfaces(llm: ScriptedLLM) -> None:
    llm.script(Reply(status=500, error="upstream exploded"))
    with pytest.raises(ModelAPIError) as caught:
        chat_for(llm).invoke("hi")
    error_class = openai.InternalServerError if llm.protocol == "openai" else anthropic.InternalServerError
    assert isinstance(caught.value, error_class)
    assert caught.value.status_code == 500
    assert "upstream exploded" in str(caught.value)
    body = caught.value.body
    assert isinstance(body, dict)
    error = body if llm.protocol == "openai" else body["error"]  # the openai SDK unwraps {"error": ...}
    assert error["message"] == "upstream exploded"
    assert error["type"] == ("server_error" if llm.protocol == "openai" else "api_error")


def test_requests_record_the_messages(llm: ScriptedLLM) -> None:
    llm.script("one", "two")
    chat = chat_for(llm)
    chat.invoke([SystemMessage("Answer only from the cited passages."), HumanMessage("Dose of metformin?")])
    chat.invoke("second question")
    assert len(llm.requests) == 2
    first = llm.requests[0]
    assert first["model"] == ("gpt-4o-mini" if llm.protocol == "openai" else "claude-sonnet-4-5")
    if llm.protocol == "openai":
        assert first["messages"] == [
            {"role": "system", "content": "Answer only from the cited passages."},
            {"role": "user", "content": "Dose of metformin?"},
        ]
    else:
        assert first["system"] == "Answer only from the cited passages."
        assert first["messages"] == [{"role": "user", "content": "Dose of metformin?"}]
        assert first["max_tokens"] == 1024
    assert llm.requests[1]["messages"][-1]["content"] == "second question"


def test_default_then_exhaustion(llm: ScriptedLLM) -> None:
    chat = chat_for(llm)
    llm.script("scripted")
    llm.default = Reply(text="OK")
    assert chat.invoke("a").content == "scripted"
    assert chat.invoke("startup check").content == "OK"
    llm.default = None
    with pytest.raises(ModelAPIError, match="no scripted reply left for request #3"):
        chat.invoke("unexpected")


def test_responder_answers_from_the_prompt(llm: ScriptedLLM) -> None:
    def respond(body: dict[str, Any]) -> Reply:
        prompt = body["messages"][-1]["content"]
        return Reply(text="yes" if "metformin" in prompt else "no")

    llm.responder = respond
    chat = chat_for(llm)
    assert chat.invoke("is metformin first line?").content == "yes"
    assert chat.invoke("is insulin first line?").content == "no"
    llm.script("scripted wins")
    assert chat.invoke("metformin").content == "scripted wins"


def test_models_endpoint_and_unknown_route(llm: ScriptedLLM) -> None:
    models = httpx.get(f"{llm.url}/v1/models").json()
    assert models["data"][0]["id"] in ("gpt-4o-mini", "claude-sonnet-4-5")
    missing = httpx.post(f"{llm.url}/v1/nowhere", json={})
    assert missing.status_code == 404
    assert "no route" in (missing.json()["error"]["message"])


# ------------------------------------------------------------------------------------------------------- OpenAI


def test_openai_structured_json_schema(oai: ScriptedLLM) -> None:
    oai.script(Reply(json=ANSWER))
    result = chat_for(oai).with_structured_output(Answer, method="json_schema").invoke("q")
    assert result == Answer(**ANSWER)
    response_format = oai.requests[-1]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Answer"
    assert response_format["json_schema"]["strict"] is True
    assert "tools" not in oai.requests[-1]


def test_openai_structured_function_calling(oai: ScriptedLLM) -> None:
    oai.script(Reply(json=ANSWER))
    result = chat_for(oai).with_structured_output(Answer, method="function_calling").invoke("q")
    assert result == Answer(**ANSWER)
    body = oai.requests[-1]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Answer"}}
    assert body["tools"][0]["function"]["name"] == "Answer"
    assert body["parallel_tool_calls"] is False


def test_openai_structured_json_mode(oai: ScriptedLLM) -> None:
    oai.script(Reply(json=ANSWER))
    assert chat_for(oai).with_structured_output(Answer, method="json_mode").invoke("q") == Answer(**ANSWER)
    assert oai.requests[-1]["response_format"] == {"type": "json_object"}


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # langchain dumps the SDK's events
def test_openai_structured_streaming(oai: ScriptedLLM) -> None:
    oai.script(Reply(json=ANSWER), Reply(json=ANSWER))
    chat = chat_for(oai)
    assert list(chat.with_structured_output(Answer, method="json_schema").stream("q"))[-1] == Answer(**ANSWER)
    assert list(chat.with_structured_output(Answer, method="function_calling").stream("q"))[-1] == Answer(**ANSWER)
    assert [body["stream"] for body in oai.requests] == [True, True]


def test_openai_tool_call_streams_in_pieces(oai: ScriptedLLM) -> None:
    oai.script(Reply(json=ANSWER))
    chunks = list(chat_for(oai).bind_tools([Answer], tool_choice="Answer").stream("q"))
    pieces = [tc for chunk in chunks for tc in chunk.tool_call_chunks]  # type: ignore[attr-defined]
    assert len(pieces) >= 3  # the name first, then the arguments in several pieces
    assert pieces[0]["name"] == "Answer"
    message = chunks[0]
    for chunk in chunks[1:]:
        message += chunk  # type: ignore[assignment]
    assert message.tool_calls[0]["args"] == ANSWER  # type: ignore[attr-defined]


def test_openai_plain_tool_call_and_text_when_not_forced(oai: ScriptedLLM) -> None:
    def lookup(guideline_id: str) -> str:
        """Look a guideline up."""
        return guideline_id

    chat = chat_for(oai).bind_tools([lookup])
    oai.script(Reply(text="No tool needed."), Reply(json={"guideline_id": "nice-ng28"}))
    assert chat.invoke("q").content == "No tool needed."
    call = chat.invoke("q").tool_calls[0]
    assert (call["name"], call["args"]) == ("lookup", {"guideline_id": "nice-ng28"})


def test_openai_stream_usage_only_when_asked(oai: ScriptedLLM) -> None:
    oai.script(TEXT, TEXT)
    assert all(c.usage_metadata is None for c in chat_for(oai).stream("q"))
    assert "stream_options" not in oai.requests[-1]
    chunks = list(chat_for(oai, stream_usage=True).stream("q"))
    assert oai.requests[-1]["stream_options"] == {"include_usage": True}
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert len(usage) == 1 and usage[0]["total_tokens"] > 0


def test_openai_api_key_checked() -> None:
    with ScriptedLLM("openai", api_key="sekret", default=Reply(text="OK")) as llm:
        assert chat_for(llm, api_key="sekret").invoke("hi").content == "OK"
        with pytest.raises(openai.AuthenticationError):
            chat_for(llm, api_key="wrong").invoke("hi")


# ---------------------------------------------------------------------------------------------------- Anthropic


def test_anthropic_structured_output_uses_forced_tool(ant: ScriptedLLM) -> None:
    ant.script(Reply(json=ANSWER))
    assert chat_for(ant).with_structured_output(Answer).invoke("q") == Answer(**ANSWER)
    body = ant.requests[-1]
    assert body["tool_choice"] == {"type": "tool", "name": "Answer"}
    assert body["tools"][0]["name"] == "Answer"
    assert "input_schema" in body["tools"][0]


def test_anthropic_structured_output_streams_tool_input(ant: ScriptedLLM) -> None:
    ant.script(Reply(json=ANSWER))
    partials = list(chat_for(ant).with_structured_output(Answer).stream("q"))
    assert partials and partials[-1] == Answer(**ANSWER)


def test_anthropic_structured_json_schema(ant: ScriptedLLM) -> None:
    ant.script(Reply(json=ANSWER))
    assert chat_for(ant).with_structured_output(Answer, method="json_schema").invoke("q") == Answer(**ANSWER)
    assert ant.requests[-1]["output_config"]["format"]["type"] == "json_schema"


def test_anthropic_tool_use_message_shape(ant: ScriptedLLM) -> None:
    ant.script(Reply(text="Let me check.", json=ANSWER, tool="Answer"))
    message = chat_for(ant).bind_tools([Answer]).invoke("q")
    assert message.response_metadata["stop_reason"] == "tool_use"
    assert message.content[0] == {"type": "text", "text": "Let me check."}  # type: ignore[index]
    assert message.tool_calls[0]["args"] == ANSWER


def test_anthropic_count_tokens(ant: ScriptedLLM) -> None:
    chat = chat_for(ant)
    assert isinstance(chat, ChatAnthropic)
    assert chat.get_num_tokens_from_messages([HumanMessage("hello world")]) > 0


# -------------------------------------------------------------------------------------------------------- units


@pytest.mark.parametrize("text", ["", "one", "  lead and trail  ", "a b c d e f g", "x\n\ny  z"])
def test_split_text_round_trips(text: str) -> None:
    assert "".join(split_text(text)) == text


def test_reply_validation() -> None:
    assert Reply(error="boom").http_status == 500
    assert Reply(status=429).error_message == "scripted HTTP 429"
    assert Reply(chunks=["a", "b"]).text == "ab"
    with pytest.raises(ValueError, match="chunks join"):
        Reply(text="abc", chunks=["a", "b"])
