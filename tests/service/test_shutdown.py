"""`medcite serve` as a real process: JSON logs on stderr, and SIGTERM lets an open stream finish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medcite.config import Settings
from tests.llm_servers import Reply, ScriptedLLM
from tests.service.conftest import free_port, wait_for_http

QUESTION = "What is the treatment for neuromyelitis optica?"


def serve(index_dir: Path, port: int, *extra: str, log: Path,
          env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`medcite serve` on 127.0.0.1:port in a new process, stderr written to `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "medcite.cli", "serve", "--index", str(index_dir), "--host", "127.0.0.1",
         "--port", str(port), *extra],
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
             **(env or {})},
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )


@pytest.fixture()
def slow_llm() -> Iterator[ScriptedLLM]:
    """An LLM server that takes 4 s per reply, so an answer is still in flight when SIGTERM comes."""
    with ScriptedLLM("openai", default=Reply(text="not a draft", delay_s=4.0)) as llm:
        yield llm


def test_sigterm_lets_an_open_stream_finish_and_logs_are_json_lines(corpus_settings: Settings,
                                                                    slow_llm: ScriptedLLM, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    proc = serve(corpus_settings.storage.index_dir, port, "--llm", f"openai:scripted@{slow_llm.base_url}", log=log,
                 env={"MEDCITE_LLM__STARTUP_CHECK": "false", "MEDCITE_LLM__REWRITE_FOLLOWUPS": "false"})
    url = f"http://127.0.0.1:{port}"
    events: list[str] = []
    try:
        wait_for_http(f"{url}/readyz", proc, timeout=120)

        def stream() -> None:
            with httpx.stream("POST", f"{url}/v1/answers", json={"question": QUESTION}, timeout=60,
                              headers={"accept": "text/event-stream", "x-request-id": "stream-1"}) as res:
                events.extend(line.split(":", 1)[1].strip() for line in res.iter_lines()
                              if line.startswith("event:"))

        reader = threading.Thread(target=stream)
        reader.start()
        deadline = time.monotonic() + 60
        while not slow_llm.requests:  # the answer is now waiting on the model
            assert time.monotonic() < deadline and reader.is_alive(), "the answer never reached the LLM"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        reader.join(timeout=60)
        # uvicorn re-raises the signal once it has shut down gracefully, so the exit is "killed by SIGTERM".
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert events and events[-1] == "done", events
    assert "sentence" in events  # the extractive fallback streamed its sentences after the signal
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{")]
    assert not not_json, not_json[:5]  # every line is one JSON object
    records = [json.loads(line) for line in lines]
    mine = [r for r in records if r.get("request_id") == "stream-1"]
    assert any(r["message"] == "answered" for r in mine)
    assert any(r["message"] == "request" and r["route"] == "/v1/answers" and r["status"] == 200 for r in mine)
    assert all(QUESTION not in line for line in lines)
