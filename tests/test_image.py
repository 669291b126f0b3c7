"""The container image's recipe: hadolint on the Dockerfile, and its steps run outside Docker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_dockerfile_passes_hadolint() -> None:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    res = subprocess.run([exe, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_compose_runs_two_workers_on_a_chroma_server_and_postgres_with_named_volumes() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"medcite", "chroma", "postgres"} <= set(services)
    serve = services["medcite"]["command"]
    assert serve[serve.index("--workers") + 1] == "2"
    env = services["medcite"]["environment"]
    assert env["MEDCITE_STORAGE__CHROMA_URL"] == "http://chroma:8000"
    assert env["MEDCITE_API__DATABASE_URL"].startswith("postgresql+psycopg://")
    named = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in named, volume


@pytest.mark.slow
def test_image_steps_build_the_corpus_index_and_pass_the_healthcheck() -> None:
    res = subprocess.run(["bash", str(ROOT / "scripts" / "image_steps.sh"), str(Path(sys.executable).parents[1])],
                         capture_output=True, text=True, timeout=1500)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "image-steps: HEALTHCHECK passes" in res.stdout and res.stdout.rstrip().endswith("image-steps: ok")
    if os.geteuid() == 0:  # the runtime steps run as the image's unprivileged user, as the USER line says
        assert "run as uid 10001" in res.stdout, res.stdout
