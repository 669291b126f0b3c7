"""Property-based fuzzing of the whole OpenAPI schema with the schemathesis CLI against a real uvicorn server:
no 5xx, and every response matches the schema its route documents."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings
from service import AnswerService
from service.api import create_app
from service.keys import KeyStore, Role

from ..conftest import FIXTURES
from .conftest import LiveServer

# Bounded: at most this many generated requests per operation in the fuzzing phase (the coverage phase adds its own
# fixed set of boundary cases), with a fixed seed so a failure can be replayed with the same command.
MAX_EXAMPLES = 8
SEED = 15
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# Who fuzzes what: a reviewer every operation (its key opens the answer and review routes), anyone every operation
# without a key (401s must have the documented shape too), an admin the two routes only admins may read.
RUNS = {
    "reviewer": ("coverage,fuzzing", ()),
    "anonymous": ("fuzzing", ()),
    "admin": ("coverage,fuzzing", ("--include-path-regex", "^/v1/(audit|feedback)$")),
}


def fuzz_command(url: str, phases: str, *extra: str) -> list[str]:
    """The `schemathesis run` command line docs/operations.md documents."""
    exe = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    return [exe, "--no-color", "run", f"{url}/openapi.json", "--checks", CHECKS, "--phases", phases,
            "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1", "--request-timeout", "60",
            "--suppress-health-check", "all", *extra]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[
        tuple[str, dict[Role, str]]]:
    """A live server on the fixture corpus with its own answers' database, and a key of each role that signs in."""
    folder = tmp_path_factory.mktemp("fuzz")
    settings = Settings(index_dir=folder / "index")
    assert ingest_paths([FIXTURES / "corpus"], settings=settings, embedder=embedder).ok
    settings = settings.model_copy(update={"api": settings.api.model_copy(update={
        "ask_limit_per_address": "100000/minute"})})  # schemathesis asks far faster than a reader
    service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
    store = KeyStore(service.conversations.engine)
    keys = {role: store.create(role, f"fuzz {role.value}").key for role in (Role.REVIEWER, Role.ADMIN)}
    try:
        with LiveServer(create_app(settings, service=service)) as live:
            yield live.url, keys
    finally:
        service.close()


@pytest.mark.slow
@pytest.mark.parametrize("who", list(RUNS))
def test_every_operation_answers_within_its_documented_schema(
        who: str, fuzzed: tuple[str, dict[Role, str]]) -> None:
    url, keys = fuzzed
    phases, extra = RUNS[who]
    role = {"reviewer": Role.REVIEWER, "admin": Role.ADMIN}.get(who)
    auth = ("--header", f"Authorization: Bearer {keys[role]}") if role else ()
    res = subprocess.run(fuzz_command(url, phases, *extra, *auth), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-12000:] + res.stderr[-3000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", res.stdout)
    assert counts and int(counts[1]) > 0 and counts[1] == counts[2], res.stdout[-3000:]
