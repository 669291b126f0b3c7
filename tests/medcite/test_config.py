"""Settings refuse bad values when they load, from arguments and from MEDCITE_ environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medcite.config import Settings


@pytest.mark.parametrize(("env", "message"), [
    ({"MEDCITE_STORAGE__CHROMA_URL": "chroma:8000"}, "chroma_url must start with http:// or https://"),
    ({"MEDCITE_API__ASK_LIMIT_PER_ADDRESS": "lots"}, "is not a rate limit like '10/minute'"),
    ({"MEDCITE_REVIEW__FEEDBACK_LIMIT": "5 per fortnight"}, "is not a rate limit like '10/minute'"),
    ({"MEDCITE_ANSWERABILITY__REQUIRE_ASK_EVIDENCE": '["dose", "horoscope"]'}, "unknown asks ['horoscope']"),
    ({"MEDCITE_LLM__PROVIDER": "openai"}, "llm.model is required for provider openai"),
    ({"MEDCITE_API__FRAME_ANCESTORS": '["https://a.example; script-src *"]'}, "frame_ancestors"),
    ({"MEDCITE_API__PORT": "70000"}, "less than or equal to 65535"),
])
def test_bad_values_are_refused_with_what_to_fix(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                 message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("(", r"\(")):
        Settings()


def test_good_values_load_into_their_sections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDCITE_STORAGE__CHROMA_URL", "http://127.0.0.1:8001")
    monkeypatch.setenv("MEDCITE_API__ASK_LIMIT_PER_ADDRESS", "10/minute")
    monkeypatch.setenv("MEDCITE_LLM__PROVIDER", "ollama")
    monkeypatch.setenv("MEDCITE_LLM__MODEL", "llama3.1:8b")
    monkeypatch.setenv("MEDCITE_INDEX_DIR", str(tmp_path / "idx"))
    settings = Settings()
    assert settings.storage.chroma_url == "http://127.0.0.1:8001"
    assert settings.api.ask_limit_per_address == "10/minute"
    assert (settings.llm.provider, settings.llm.model) == ("ollama", "llama3.1:8b")
    assert settings.storage.index_dir == tmp_path / "idx"  # the MEDCITE_INDEX_DIR shortcut
    assert settings.with_index(tmp_path / "other").storage.index_dir == tmp_path / "other"
    assert Settings(storage={"chroma_url": ""}).storage.chroma_url is None  # empty means embedded Chroma
