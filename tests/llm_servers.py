"""Scriptable local LLM servers that speak the OpenAI chat-completions and Anthropic messages wire protocols.

Tests point LangChain's real clients (``ChatOpenAI``, ``ChatAnthropic``) at a ``ScriptedLLM`` running on
127.0.0.1 and decide, reply by reply, what the "model" answers::

    with ScriptedLLM("openai", default=Reply(text="OK")) as llm:
        llm.script(Reply(text="Hello there, clinician."), Reply(json={"answer": "x"}))
        chat = ChatOpenAI(model="gpt-4o-mini", base_url=llm.base_url, api_key="test", use_responses_api=False)
        assert chat.invoke("hi").content == "Hello there, clinician."
        assert llm.requests[0]["messages"][-1]["content"] == "hi"

Which reply answers a request: the next scripted one (FIFO), else ``responder(body)``, else ``default``; with none
of those the server answers HTTP 500 with ``x-should-retry: false`` so an unexpected call fails fast and loudly.

How a reply is rendered depends on what the request asked for (see ``Reply``): forced tool use becomes a tool call
carrying ``reply.json``; a JSON response format (OpenAI ``response_format``, Anthropic ``output_config.format``)
becomes ``json.dumps(reply.json)`` as the text; otherwise the text is ``reply.text`` (or the JSON dumped when only
``json`` was given).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["JSONDict", "LLMProtocol", "Reply", "Responder", "ScriptedLLM", "split_text"]

JSONDict = dict[str, Any]
LLMProtocol = Literal["openai", "anthropic"]
Responder = Callable[[JSONDict], "Reply"]

_OPENAI_ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_STARTUP_TIMEOUT_S = 10.0
_SHUTDOWN_TIMEOUT_S = 5.0


@dataclass
class Reply:
    """One scripted model reply.

    ``text``: the assistant's text. ``json``: a structured object, sent as a tool call when the request forces a tool
    (or offers tools and the reply has no text), as JSON text when the request asks for a JSON response format, else
    as JSON text only when ``text`` is empty. ``delay_s``: sleep before answering (client timeouts). ``status`` /
    ``error``: answer with an HTTP error in the provider's error shape (``error`` alone means 500; a status >= 400
    alone gets a generic message). ``chunks``: how ``text`` is split when streamed (must join to ``text``; given
    alone it defines ``text``); by default text and JSON stream in ~3-word pieces. ``tool``: which offered tool to
    call when the request does not name one (default: the first).
    """

    text: str = ""
    json: JSONDict | None = None
    delay_s: float = 0.0
    status: int = 200
    error: str = ""
    chunks: list[str] | None = None
    tool: str = ""

    def __post_init__(self) -> None:
        if self.chunks is not None:
            joined = "".join(self.chunks)
            if not self.text:
                self.text = joined
            elif joined != self.text:
                raise ValueError(f"chunks join to {joined!r}, not to text {self.text!r}")
        if self.delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status {self.status} is not an HTTP status")

    @property
    def http_status(self) -> int:
        """The status actually sent: ``status``, or 500 when only ``error`` is set."""
        if self.status >= 400:
            return self.status
        return 500 if self.error else self.status

    @property
    def is_error(self) -> bool:
        return self.http_status >= 400

    @property
    def error_message(self) -> str:
        return self.error or f"scripted HTTP {self.http_status}"

    def text_pieces(self, fallback: str | None = None) -> list[str]:
        """Streaming pieces of ``fallback`` (the text actually sent) or of ``text``."""
        if fallback is not None and fallback != self.text:
            return split_text(fallback)
        if self.chunks is not None:
            return [c for c in self.chunks if c]
        return split_text(self.text)


def split_text(text: str, words: int = 3) -> list[str]:
    """Split ``text`` into pieces of about ``words`` words that join back to exactly ``text``."""
    if not text:
        return []
    tokens = re.findall(r"\s*\S+\s*", text) or [text]  # every character lands in exactly one token
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


def _uid(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def _estimate_tokens(value: Any) -> int:
    """A rough token count (~words and punctuation) of every string inside ``value``."""
    if isinstance(value, str):
        return len(re.findall(r"\w+|[^\w\s]", value))
    if isinstance(value, dict):
        return sum(_estimate_tokens(v) for v in value.values())
    if isinstance(value, list):
        return sum(_estimate_tokens(v) for v in value)
    return 0


def _sse(data: JSONDict | str, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else jsonlib.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


# --------------------------------------------------------------------------------------------------- OpenAI shapes


def _openai_tool_names(body: JSONDict) -> list[str]:
    names = []
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type", "function") == "function":
            name = (tool.get("function") or {}).get("name")
            if name:
                names.append(str(name))
    return names


def _openai_tool_to_call(body: JSONDict, reply: Reply) -> str | None:
    """The tool name the reply should call, or None for a plain message."""
    names = _openai_tool_names(body)
    if not names:
        return None
    choice = body.get("tool_choice")
    forced = choice == "required"
    if choice == "none":
        return None
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            return str((choice.get("function") or {}).get("name") or names[0])
        if kind == "allowed_tools":
            allowed = choice.get("allowed_tools") or {}
            allowed_names = [
                str((t.get("function") or {}).get("name") or t.get("name"))
                for t in allowed.get("tools") or []
                if isinstance(t, dict)
            ]
            names = allowed_names or names
            forced = allowed.get("mode") == "required"
    if reply.tool:
        return reply.tool
    if forced or (reply.json is not None and not reply.text):
        return names[0]
    return None


def _openai_wants_json(body: JSONDict) -> bool:
    response_format = body.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") in ("json_schema", "json_object")


def _reply_text(reply: Reply, wants_json: bool) -> str:
    if reply.json is not None and (wants_json or not reply.text):
        return jsonlib.dumps(reply.json)
    return reply.text


def _openai_usage(body: JSONDict, completion_text: str) -> JSONDict:
    prompt = max(1, _estimate_tokens(body.get("messages")))
    completion = _estimate_tokens(completion_text)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _openai_error(status: int, message: str) -> JSONDict:
    kind, code = _OPENAI_ERROR_TYPES.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@dataclass(frozen=True)
class _OpenAIPlan:
    content: str | None
    pieces: list[str]
    tool_name: str | None
    arguments: str

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_name else "stop"


def _openai_plan(body: JSONDict, reply: Reply) -> _OpenAIPlan:
    tool_name = _openai_tool_to_call(body, reply)
    if tool_name:
        arguments = jsonlib.dumps(reply.json if reply.json is not None else {})
        content = reply.text or None
        return _OpenAIPlan(content, reply.text_pieces() if content else [], tool_name, arguments)
    text = _reply_text(reply, _openai_wants_json(body))
    return _OpenAIPlan(text, reply.text_pieces(text), None, "")


def _openai_completion(body: JSONDict, plan: _OpenAIPlan) -> JSONDict:
    message: JSONDict = {"role": "assistant", "content": plan.content, "refusal": None, "annotations": []}
    if plan.tool_name:
        message["tool_calls"] = [
            {
                "id": _uid("call_"),
                "type": "function",
                "function": {"name": plan.tool_name, "arguments": plan.arguments},
            }
        ]
    return {
        "id": _uid("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model") or "scripted"),
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": plan.finish_reason}],
        "usage": _openai_usage(body, (plan.content or "") + plan.arguments),
    }


def _openai_chunks(body: JSONDict, plan: _OpenAIPlan) -> Iterable[bytes]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base: JSONDict = {
        "id": _uid("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": str(body.get("model") or "scripted"),
        "system_fingerprint": None,
    }

    def chunk(delta: JSONDict, finish_reason: str | None = None) -> bytes:
        data = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if include_usage:
            data["usage"] = None
        return _sse(data)

    yield chunk({"role": "assistant", "content": "" if plan.content is not None else None, "refusal": None})
    for piece in plan.pieces:
        yield chunk({"content": piece})
    if plan.tool_name:
        call_start = {"index": 0, "id": _uid("call_"), "type": "function"}
        yield chunk({"tool_calls": [{**call_start, "function": {"name": plan.tool_name, "arguments": ""}}]})
        for piece in split_text(plan.arguments):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
    yield chunk({}, plan.finish_reason)
    if include_usage:
        yield _sse({**base, "choices": [], "usage": _openai_usage(body, (plan.content or "") + plan.arguments)})
    yield _sse("[DONE]")


# ------------------------------------------------------------------------------------------------ Anthropic shapes


def _anthropic_tool_names(body: JSONDict) -> list[str]:
    names = []
    for tool in body.get("tools") or []:
        # Client tools carry an input_schema; server tools (web_search_...) have a versioned type and none.
        if isinstance(tool, dict) and tool.get("name") and ("input_schema" in tool or tool.get("type") == "custom"):
            names.append(str(tool["name"]))
    return names


def _anthropic_tool_to_call(body: JSONDict, reply: Reply) -> str | None:
    names = _anthropic_tool_names(body)
    if not names:
        return None
    choice = body.get("tool_choice") or {}
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "none":
        return None
    if kind == "tool":
        return str(choice.get("name") or names[0])
    if reply.tool:
        return reply.tool
    if kind == "any" or (reply.json is not None and not reply.text):
        return names[0]
    return None


def _anthropic_wants_json(body: JSONDict) -> bool:
    fmt = (body.get("output_config") or {}).get("format") or body.get("output_format")
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def _anthropic_input_tokens(body: JSONDict) -> int:
    return max(1, _estimate_tokens(body.get("messages")) + _estimate_tokens(body.get("system")))


def _anthropic_usage(input_tokens: int, output_tokens: int) -> JSONDict:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }


def _anthropic_error(status: int, message: str) -> JSONDict:
    kind = _ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": _uid("req_")}


@dataclass(frozen=True)
class _AnthropicPlan:
    text: str
    pieces: list[str]
    tool_name: str | None
    tool_input: JSONDict

    @property
    def stop_reason(self) -> str:
        return "tool_use" if self.tool_name else "end_turn"

    @property
    def output_tokens(self) -> int:
        return max(1, _estimate_tokens(self.text) + _estimate_tokens(jsonlib.dumps(self.tool_input)))


def _anthropic_plan(body: JSONDict, reply: Reply) -> _AnthropicPlan:
    tool_name = _anthropic_tool_to_call(body, reply)
    if tool_name:
        tool_input = reply.json if reply.json is not None else {}
        return _AnthropicPlan(reply.text, reply.text_pieces(), tool_name, tool_input)
    text = _reply_text(reply, _anthropic_wants_json(body))
    return _AnthropicPlan(text, reply.text_pieces(text), None, {})


def _anthropic_message_shell(body: JSONDict, message_id: str) -> JSONDict:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": str(body.get("model") or "scripted"),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }


def _anthropic_message(body: JSONDict, plan: _AnthropicPlan) -> JSONDict:
    content: list[JSONDict] = []
    if plan.text or not plan.tool_name:
        content.append({"type": "text", "text": plan.text})
    if plan.tool_name:
        content.append({"type": "tool_use", "id": _uid("toolu_"), "name": plan.tool_name, "input": plan.tool_input})
    return {
        **_anthropic_message_shell(body, _uid("msg_")),
        "content": content,
        "stop_reason": plan.stop_reason,
        "usage": _anthropic_usage(_anthropic_input_tokens(body), plan.output_tokens),
    }


def _anthropic_events(body: JSONDict, plan: _AnthropicPlan) -> Iterable[bytes]:
    input_tokens = _anthropic_input_tokens(body)
    shell = _anthropic_message_shell(body, _uid("msg_"))
    yield _sse(
        {"type": "message_start", "message": {**shell, "usage": _anthropic_usage(input_tokens, 1)}}, "message_start"
    )
    yield _sse({"type": "ping"}, "ping")
    index = 0
    if plan.text or not plan.tool_name:
        start = {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
        yield _sse(start, "content_block_start")
        for piece in plan.pieces:
            delta = {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}
            yield _sse(delta, "content_block_delta")
        yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
        index += 1
    if plan.tool_name:
        block = {"type": "tool_use", "id": _uid("toolu_"), "name": plan.tool_name, "input": {}}
        yield _sse({"type": "content_block_start", "index": index, "content_block": block}, "content_block_start")
        for piece in split_text(jsonlib.dumps(plan.tool_input)):
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield _sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
        yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
    message_delta = {
        "type": "message_delta",
        "delta": {"stop_reason": plan.stop_reason, "stop_sequence": None},
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": plan.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    yield _sse(message_delta, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")


# ------------------------------------------------------------------------------------------------------ the server


class ScriptedLLM:
    """A local HTTP server speaking one LLM provider protocol, answering from a script.

    ``protocol``: "openai" (``POST /v1/chat/completions``, ``GET /v1/models``) or "anthropic"
    (``POST /v1/messages``, ``POST /v1/messages/count_tokens``, ``GET /v1/models``). ``default``: the reply when
    nothing is scripted and there is no responder. ``responder``: decides a reply from the request body when nothing
    is scripted. ``api_key``: when set, requests with another key get the provider's 401. ``models``: ids listed by
    ``GET /v1/models``. Start with ``start()`` or ``with``; ``requests`` holds every POSTed JSON body, in order.
    """

    def __init__(
        self,
        protocol: LLMProtocol = "openai",
        *,
        default: Reply | None = None,
        responder: Responder | None = None,
        api_key: str | None = None,
        models: Iterable[str] = (),
    ) -> None:
        if protocol not in ("openai", "anthropic"):
            raise ValueError(f"unknown protocol {protocol!r}; expected 'openai' or 'anthropic'")
        self.protocol: LLMProtocol = protocol
        self.default: Reply | None = default
        self.responder: Responder | None = responder
        self.api_key = api_key
        self.models = list(models) or (["gpt-4o-mini"] if protocol == "openai" else ["claude-sonnet-4-5"])
        self.requests: list[JSONDict] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # ----------------------------------------------------------------------------------------------- scripting

    def script(self, *replies: Reply | str) -> Self:
        """Queue replies (a bare string means ``Reply(text=...)``), answered in order."""
        with self._lock:
            self._queue.extend(Reply(text=r) if isinstance(r, str) else r for r in replies)
        return self

    @property
    def pending(self) -> int:
        """How many scripted replies are still queued."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Drop queued replies and recorded requests (the default and responder stay)."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def _next_reply(self, body: JSONDict) -> Reply | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return self.responder(body)
        return self.default

    # ------------------------------------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("ScriptedLLM is not started")
        return self._port

    @property
    def url(self) -> str:
        """The server root, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What the client's ``base_url`` should be: ``.../v1`` for openai, the root for anthropic."""
        return f"{self.url}/v1" if self.protocol == "openai" else self.url

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("ScriptedLLM is already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(), log_level="warning", access_log=False, lifespan="off", http="h11", loop="asyncio"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="ScriptedLLM", daemon=True)
        self._closing.clear()
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.close()
                sock.close()
                raise RuntimeError("ScriptedLLM server did not start")
            time.sleep(0.005)
        return self

    def close(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._closing.set()
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT_S)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_SHUTDOWN_TIMEOUT_S)
        self._server = self._thread = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "stopped"
        return f"ScriptedLLM({self.protocol!r}, {where}, pending={self.pending}, requests={len(self.requests)})"

    # ----------------------------------------------------------------------------------------------- HTTP app

    def _app(self) -> Starlette:
        if self.protocol == "openai":
            routes = [
                Route("/v1/chat/completions", self._openai_chat, methods=["POST"]),
                Route("/v1/models", self._openai_models, methods=["GET"]),
            ]
        else:
            routes = [
                Route("/v1/messages", self._anthropic_messages, methods=["POST"]),
                Route("/v1/messages/count_tokens", self._anthropic_count_tokens, methods=["POST"]),
                Route("/v1/models", self._anthropic_models, methods=["GET"]),
            ]
        routes.append(Route("/{path:path}", self._not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
        return Starlette(routes=routes)

    def _error(self, status: int, message: str, *, retry: bool | None = None) -> JSONResponse:
        body = _openai_error(status, message) if self.protocol == "openai" else _anthropic_error(status, message)
        headers = {} if retry is None else {"x-should-retry": "true" if retry else "false"}
        return JSONResponse(body, status_code=status, headers=headers)

    def _authorized(self, request: Request) -> bool:
        if self.api_key is None:
            return True
        bearer = request.headers.get("authorization", "")
        keys = {bearer.removeprefix("Bearer ").strip(), request.headers.get("x-api-key", "")}
        return self.api_key in keys

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._closing.is_set() and (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.05))

    async def _read_body(self, request: Request) -> JSONDict | Response:
        """The request's JSON object, recorded in ``requests``, or a 400 response."""
        try:
            body = await request.json()
        except ValueError:
            return self._error(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return self._error(400, "request body must be a JSON object")
        self.requests.append(body)
        return body

    async def _receive(self, request: Request) -> tuple[JSONDict, Reply] | Response:
        """Read and record the body, pick the reply and wait its delay; or the error response to send."""
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        if not self._authorized(request):
            return self._error(401, "invalid x-api-key" if self.protocol == "anthropic" else "Incorrect API key")
        try:
            reply = self._next_reply(body)
        except Exception as exc:  # a broken responder must fail the request, not hang the client
            return self._error(500, f"ScriptedLLM responder failed: {exc!r}", retry=False)
        if reply is None:
            n = len(self.requests)
            return self._error(500, f"ScriptedLLM: no scripted reply left for request #{n}", retry=False)
        await self._sleep(reply.delay_s)
        if reply.is_error:
            return self._error(reply.http_status, reply.error_message)
        return body, reply

    @staticmethod
    def _stream(events: Iterable[bytes]) -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            for event in events:
                yield event

        return StreamingResponse(gen(), media_type="text/event-stream", headers=_SSE_HEADERS)

    async def _openai_chat(self, request: Request) -> Response:
        received = await self._receive(request)
        if isinstance(received, Response):
            return received
        body, reply = received
        plan = _openai_plan(body, reply)
        if body.get("stream"):
            return self._stream(_openai_chunks(body, plan))
        return JSONResponse(_openai_completion(body, plan))

    async def _openai_models(self, request: Request) -> Response:
        created = int(time.time())
        data = [{"id": m, "object": "model", "created": created, "owned_by": "scripted"} for m in self.models]
        return JSONResponse({"object": "list", "data": data})

    async def _anthropic_messages(self, request: Request) -> Response:
        received = await self._receive(request)
        if isinstance(received, Response):
            return received
        body, reply = received
        plan = _anthropic_plan(body, reply)
        if body.get("stream"):
            return self._stream(_anthropic_events(body, plan))
        return JSONResponse(_anthropic_message(body, plan))

    async def _anthropic_count_tokens(self, request: Request) -> Response:
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        return JSONResponse({"input_tokens": _anthropic_input_tokens(body)})

    async def _anthropic_models(self, request: Request) -> Response:
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in self.models
        ]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last})

    async def _not_found(self, request: Request) -> Response:
        return self._error(404, f"ScriptedLLM ({self.protocol}) has no route {request.method} {request.url.path}")
