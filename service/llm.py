"""LLM backends through LangChain: OpenAI-compatible servers, Anthropic and Ollama's native API.

The provider packages are imported when a model is built, never at import time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medcite.config import LLMSettings
from medcite.errors import InvalidInputError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

log = logging.getLogger(__name__)

_SPEC = re.compile(r"^(?P<provider>openai|anthropic|ollama|none)(?::(?P<model>[^@]*))?(?:@(?P<url>\S+))?$")
PROVIDERS = ("openai", "anthropic", "ollama", "none")


@dataclass(frozen=True, slots=True)
class LLMStatus:
    """What the start-up check found: which composer answers and whether the model replied."""

    composer: str
    provider: str = "none"
    model: str = ""
    ok: bool | None = None  # None: no LLM configured or not checked
    detail: str = ""


def apply_spec(settings: LLMSettings, spec: str) -> LLMSettings:
    """Settings with `PROVIDER:MODEL@URL` (the CLI's --llm) applied; unknown shapes are an InvalidInputError."""
    match = _SPEC.match(spec.strip())
    if not match:
        raise InvalidInputError(f"--llm {spec!r} is not PROVIDER:MODEL@URL with PROVIDER one of {', '.join(PROVIDERS)}")
    update: dict[str, Any] = {"provider": match["provider"]}
    if match["model"]:
        update["model"] = match["model"]
    if match["url"]:
        update["base_url"] = match["url"]
    merged = settings.model_dump() | update
    try:
        return LLMSettings.model_validate(merged)
    except ValueError as exc:
        raise InvalidInputError(f"--llm {spec!r}: {exc}") from exc


def chat_model(settings: LLMSettings) -> BaseChatModel:
    """The configured chat model; one retry at most, so a dead server falls back quickly."""
    key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
    if settings.provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.model,
            base_url=settings.base_url,
            api_key=key,  # type: ignore[arg-type]
            timeout=settings.timeout_s,
            max_retries=0,
            max_tokens=settings.max_tokens,  # type: ignore[call-arg]
            temperature=settings.temperature,
            use_responses_api=False,
        )
    if settings.provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        return ChatAnthropic(  # type: ignore[call-arg]
            model=settings.model,
            base_url=settings.base_url,
            api_key=key,  # type: ignore[arg-type]
            timeout=settings.timeout_s,
            max_retries=0,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )
    if settings.provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.model,
            base_url=settings.base_url,
            num_predict=settings.max_tokens,
            temperature=settings.temperature,
            client_kwargs={"timeout": settings.timeout_s},
        )
    raise InvalidInputError("no LLM is configured (llm.provider is none)")


def structured(model: BaseChatModel, schema: dict[str, Any], settings: LLMSettings) -> Runnable[Any, Any] | None:
    """The model bound to return `schema` through the backend's structured output; None means plain text."""
    method = settings.structured
    if method == "text":
        return None
    if method == "auto":
        method = "function_calling" if settings.provider == "anthropic" else "json_schema"
    try:
        return model.with_structured_output(schema, method=method)  # type: ignore[arg-type]
    except (NotImplementedError, ValueError, TypeError) as exc:
        log.warning("structured output (%s) unavailable for %s: %s; using the text parser", method,
                    settings.provider, exc)
        return None


def check(model: BaseChatModel) -> str:
    """A one-word round trip; raises whatever the client raises when the server does not answer."""
    from langchain_core.messages import HumanMessage

    reply = model.invoke([HumanMessage("Reply with the single word: ready")])
    return str(reply.content).strip()[:80]
