"""Load test: locust (bench/locustfile.py) against `medcite serve --workers 2` on loopback, embedded and server mode.
Usage: .venv/bin/python bench/load.py [--users 32 --spawn-rate 8 --time 2m] [--write docs/benchmarks.md]
Pass criterion: 0 errors and requests/s >= 80 % of (2 cores / CPU seconds per answer measured single-threaded)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

# bench/ holds ingest.py: drop this folder from the path so `import ingest` finds the package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings, StorageSettings
from service import AnswerService

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
       "MEDCITE_API__ASK_LIMIT_PER_ADDRESS": "1000000/minute", "MEDCITE_API__ASK_LIMIT_PER_SITE": "1000000/minute"}
CORES = 2


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Poll url until it answers 200; exit if the process dies or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"load: {proc.args[0]} exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit(f"load: {url} did not answer within {timeout:.0f} s")


@contextmanager
def running(cmd: list[str], ready: str, log: Path, env: dict[str, str] | None = None) -> Iterator[psutil.Process]:
    """Run cmd until the block ends; yields its process once `ready` answers 200."""
    proc = subprocess.Popen(cmd, env={**os.environ, **ENV, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=log.open("wb"))
    try:
        wait_ready(ready, proc)
        yield psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def tree_cpu(procs: list[psutil.Process]) -> float:
    """CPU seconds used so far by these processes and their children."""
    total = 0.0
    for top in procs:
        for p in [top, *top.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    return total


def cpu_per_answer(settings: Settings, n: int) -> float:
    """CPU seconds per answer: n sequential first questions in this process, one thread (torch and ONNX Runtime)."""
    import torch

    torch.set_num_threads(1)
    one = settings.embedding.model_copy(update={"threads": 1})  # ONNX Runtime takes its threads from the settings
    embedder = SentenceTransformerEmbedder(one)
    service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
    try:
        pool = runpy.run_path(str(ROOT / "bench" / "load_questions.py"))["first_questions"]()
        rng = random.Random(7)
        for q in pool[:3]:  # warm-up: caches, first-call allocations
            service.ask(q)
        t0 = time.process_time()
        for _ in range(n):
            service.ask(rng.choice(pool))
        return (time.process_time() - t0) / n
    finally:
        service.close()
        torch.set_num_threads(CORES)


def locust(url: str, out: Path, users: int, rate: int, duration: str) -> dict[str, float]:
    """Run bench/locustfile.py headless against url; the aggregated row of its stats CSV."""
    prefix = out / "locust"
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "-u", str(users), "-r",
           str(rate), "-t", duration, "--host", url, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=(out / "locust.log").open("wb"))
    rows = list(csv.DictReader((out / "locust_stats.csv").open()))
    agg = next(r for r in rows if r["Name"] == "Aggregated")
    if float(agg["Failure Count"]):  # the temp folder goes away at the end: show what failed now
        print((out / "locust_failures.csv").read_text(), flush=True)
    return {"requests": float(agg["Request Count"]), "failures": float(agg["Failure Count"]),
            "p50": float(agg["50%"]), "p95": float(agg["95%"]), "rps": float(agg["Requests/s"])}


def load_run(mode: str, index_dir: Path, out: Path, args: argparse.Namespace, extra: list[psutil.Process],
             env: dict[str, str]) -> dict[str, Any]:
    """One locust run against a fresh 2-worker server; load average and server CPU before and after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "medcite.cli", "serve", "--index", str(index_dir), "--host", "127.0.0.1", "--port",
           str(port), "--workers", "2"]
    with running(cmd, f"{url}/readyz", out / f"serve-{mode}.log", env) as server:
        before, cpu0 = os.getloadavg(), tree_cpu([server, *extra])
        stats = locust(url, out, args.users, args.spawn_rate, args.time)
        after, cpu1 = os.getloadavg(), tree_cpu([server, *extra])
    (out / "locust_stats.csv").rename(out / f"locust-{mode}.csv")
    return {"mode": mode, **stats, "load_before": before, "load_after": after,
            "server_cpu_per_request": (cpu1 - cpu0) / max(stats["requests"], 1)}


def report(runs: list[dict[str, Any]], cpu_s: float, args: argparse.Namespace) -> str:
    """Markdown section with the machine, each run and the pass criterion."""
    settings = Settings().embedding
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    target = 0.8 * CORES / cpu_s
    lines = ["## Load", "", "Command (from the repository root):", "", "```",
             f".venv/bin/python bench/load.py --users {args.users} --spawn-rate {args.spawn_rate} --time {args.time}"
             " --write docs/benchmarks.md", "```", "",
             f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores "
             f"({cpu.group(1).strip() if cpu else 'unknown CPU'}), Python {platform.python_version()}; "
             f"bundled corpus index; `medcite serve --workers 2` on 127.0.0.1, {args.users} locust users "
             f"(spawn {args.spawn_rate}/s, {args.time}; JSON answers, SSE streams, follow-ups with the secret) on the "
             "same machine.", "",
             f"Embedding backend {settings.backend} {settings.precision}. CPU per answer, single-threaded (one "
             f"torch / ONNX Runtime thread, {args.answers} sequential first questions "
             f"in-process, `time.process_time`): **{cpu_s * 1000:.0f} ms** → criterion "
             f"{CORES} ÷ {cpu_s:.3f} s × 80 % = **{target:.1f} req/s**.", "",
             "| Mode | requests | errors | p50 (ms) | p95 (ms) | req/s | server CPU s / request "
             "| load avg before → after (1/5/15 min) | pass |", "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        ok = r["failures"] == 0 and r["rps"] >= target
        la = " → ".join(" / ".join(f"{x:.2f}" for x in r[k]) for k in ("load_before", "load_after"))
        lines.append(f"| {r['mode']} | {r['requests']:.0f} | {r['failures']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} "
                     f"| {r['rps']:.1f} | {r['server_cpu_per_request']:.3f} | {la} | {'yes' if ok else 'no'} |")
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace (or append) the `## Load` section of doc."""
    text = doc.read_text(encoding="utf-8")
    start = text.find("\n## Load\n")
    if start < 0:
        doc.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        return
    end = text.find("\n## ", start + 1)
    rest = text[end:] if end >= 0 else ""
    doc.write_text(text[: start + 1] + section + rest, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--spawn-rate", type=int, default=8)
    parser.add_argument("--time", default="2m")
    parser.add_argument("--answers", type=int, default=60, help="sequential answers timed for CPU s per answer")
    parser.add_argument("--modes", default="embedded,server")
    parser.add_argument("--write", type=Path, help="replace the Load section of this Markdown file")
    args = parser.parse_args()
    if not (BIN / "locust").exists():
        sys.exit("load: locust is not installed; run `.venv/bin/pip install -e '.[dev]'`")
    embedder = SentenceTransformerEmbedder(Settings().embedding)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="medcite-load-") as tmp:
        out = Path(tmp)
        embedded = Settings(index_dir=out / "index-embedded")
        if not ingest_paths([ROOT / "corpus"], settings=embedded, embedder=embedder).ok:
            sys.exit("load: the bundled corpus did not ingest")
        cpu_s = cpu_per_answer(embedded, args.answers)
        print(f"CPU per answer: {cpu_s * 1000:.1f} ms", flush=True)
        if "embedded" in args.modes:
            runs.append(load_run("embedded", embedded.storage.index_dir, out, args, [], {}))
            print(runs[-1], flush=True)
        if "server" in args.modes:
            port = free_port()
            chroma = str(shutil.which("chroma") or BIN / "chroma")
            url = f"http://127.0.0.1:{port}"
            cmd = [chroma, "run", "--path", str(out / "chroma-data"), "--host", "127.0.0.1", "--port", str(port)]
            with running(cmd, f"{url}/api/v2/heartbeat", out / "chroma.log") as server:
                settings = Settings(index_dir=out / "index-server", storage=StorageSettings(chroma_url=url))
                if not ingest_paths([ROOT / "corpus"], settings=settings, embedder=embedder).ok:
                    sys.exit("load: the bundled corpus did not ingest into the Chroma server")
                runs.append(load_run("server", settings.storage.index_dir, out, args, [server],
                                     {"MEDCITE_STORAGE__CHROMA_URL": url}))
                print(runs[-1], flush=True)
        section = report(runs, cpu_s, args)
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
